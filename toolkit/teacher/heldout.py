"""Labeled texts the teacher never trained on, for the export's int8 gate and for model choice.

Redraws the splits exactly as training did (from the ``data`` block of ``training.json``) and
returns labeled texts of the training pool in none of the labeled, test and validation sets
(falling back to the validation set when none is left). Never the test split, so no choice
is tuned on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_distill.toolkit.data import Corpus, DataError, dedup_key, load_dataset, make_splits, split_roles


def heldout_texts(data: dict[str, Any], n: int, seed: int = 1234, source: str | None = None) -> Corpus:
    """Up to ``n`` labeled texts outside the labeled, test and validation sets (seeded draw).

    Where that leaves nothing (e.g. all of a validation split is the validation set), the
    validation set itself is used: it is held out from fine-tuning and is not the test set.
    """
    src = source or (data or {}).get("data")
    if not data or not src:
        raise DataError("the teacher's training.json records no data source; pass --data to the export")
    names = data.get("label_names")
    dataset = load_dataset(
        src,
        text_field=data.get("text_field", "text"),
        label_field=data.get("label_field", "label"),
        label_names=tuple(names) if names else None,
    )
    splits = make_splits(
        dataset,
        n_labeled=data.get("labeled"),
        n_unlabeled=0,
        n_test=data.get("test"),
        seed=data.get("seed", 0),
        stratify=data.get("stratify", True),
        test_split=data.get("test_split"),
        n_validation=data.get("validation"),
    )
    roles = split_roles(dataset, data.get("test_split"))
    pool = dataset[roles.train]
    used = {dedup_key(t) for t in splits.labeled.texts + splits.test.texts + splits.validation.texts}
    free = [i for i in range(len(pool)) if dedup_key(pool.texts[i]) not in used]
    if not free:
        if len(splits.validation):
            return splits.validation.take(np.arange(min(n, len(splits.validation))))
        raise DataError(f"{src}: no labeled texts left outside the labeled and test sets")
    pick = np.random.default_rng(seed).permutation(np.asarray(free, np.int64))[:n]
    return pool.take(np.sort(pick))


#: the name earlier callers use (the texts are not always reviews)
heldout_reviews = heldout_texts
