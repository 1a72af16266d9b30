"""Training batches: shuffled, but grouped by length so dynamic padding wastes little."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bucketed_batches(
    lengths: Sequence[int],
    batch_size: int,
    rng: np.random.Generator,
    bucket_batches: int = 20,
) -> list[np.ndarray]:
    """Indices in batches of similar length, in a random order that ``rng`` fixes.

    Shuffle all rows, cut them into buckets of ``bucket_batches`` batches, sort each bucket by
    length, cut it into batches, then shuffle the batch order. Each epoch sees new batches
    (randomness for SGD) while padding stays close to what a full sort gives.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    lengths = np.asarray(lengths, dtype=np.int64)
    order = rng.permutation(len(lengths))
    bucket = batch_size * max(1, bucket_batches)
    batches: list[np.ndarray] = []
    for start in range(0, len(order), bucket):
        chunk = order[start : start + bucket]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    perm = rng.permutation(len(batches))
    return [batches[i] for i in perm]
