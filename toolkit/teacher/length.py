"""The teacher's maximum length, chosen from the texts it will read.

IMDB reviews run past 512 tokens, SST-2 sentences and TREC questions stay under 64: one
fixed maximum either truncates long texts or (wherever inputs are padded to the maximum)
wastes compute on short ones. :func:`choose_max_length` takes the token length that covers a
quantile of the labeled texts, counted exactly as the teacher's encoder counts them (cleaned,
special tokens included), rounded up to a multiple of 8 and capped by the model.

Measure it on a data set (lengths, the choice, and a timed forward pass at the chosen length
against 512)::

    python -m edge_distill.toolkit.teacher.length --data ../shared/data/sst2 --time 500
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from edge_distill.runtime.truncation import TeacherEncoder
from edge_distill.toolkit.data import load_splits

#: transformers' "no limit" sentinel for ``model_max_length`` is ~1e30; anything above this is no limit
_NO_LIMIT = 1 << 20


def _backend(tokenizer):
    """A ``tokenizers.Tokenizer`` from a transformers fast tokenizer (or the backend itself)."""
    return getattr(tokenizer, "backend_tokenizer", tokenizer)


def token_lengths(tokenizer, texts: Sequence[str]) -> np.ndarray:
    """Each text's length in teacher tokens, special tokens included, before any truncation."""

    encoder = TeacherEncoder(_backend(tokenizer), _NO_LIMIT, "head")
    return np.asarray([len(r) for r in encoder.encode(list(texts))], np.int64)


def model_limit(tokenizer, model=None) -> int | None:
    """The longest input the model takes: its position embeddings, else the tokenizer's limit."""
    limits = [getattr(getattr(model, "config", None), "max_position_embeddings", None)]
    limits.append(getattr(tokenizer, "model_max_length", None))
    known = [int(v) for v in limits if isinstance(v, (int, float)) and 0 < v < _NO_LIMIT]
    return min(known) if known else None


def choose_max_length(
    tokenizer,
    texts: Sequence[str],
    *,
    cap: int = 512,
    quantile: float = 0.99,
    multiple: int = 8,
    model_max_length: int | None = None,
) -> int:
    """The token length covering ``quantile`` of ``texts``, rounded up to ``multiple``, capped.

    The cap is the smallest of ``cap``, ``model_max_length`` and the tokenizer's own limit.
    Rounding to a multiple of 8 keeps tensor shapes friendly to matrix kernels.
    """
    if not texts:
        raise ValueError("no texts to measure the teacher's length on")
    if not 0 < quantile <= 1 or multiple < 1 or cap < 1:
        raise ValueError(f"need 0 < quantile <= 1, multiple >= 1 and cap >= 1 (got {quantile}, {multiple}, {cap})")
    lengths = token_lengths(tokenizer, texts)
    need = int(np.quantile(lengths, quantile, method="higher"))
    rounded = int(math.ceil(need / multiple) * multiple)
    limits = [cap, model_max_length, model_limit(tokenizer)]
    return min(rounded, *(v for v in limits if v is not None))


def length_profile(tokenizer, texts: Sequence[str], max_length: int) -> dict[str, Any]:
    """Quantiles of the token lengths and the share of texts ``max_length`` truncates (for records)."""
    lengths = token_lengths(tokenizer, texts)
    q = np.quantile(lengths, [0.5, 0.9, 0.99])
    return {
        "n": len(lengths),
        "p50": int(q[0]),
        "p90": int(q[1]),
        "p99": int(q[2]),
        "max": int(lengths.max()),
        "max_length": int(max_length),
        "share_truncated": float(np.mean(lengths > max_length)),
    }


def _time_forward(model, tokenizer, texts: Sequence[str], max_length: int, fixed: bool, repeats: int = 3) -> float:
    """Seconds (best of ``repeats``) for a forward pass over ``texts`` (length-sorted batches, as labeling)."""
    import torch

    from edge_distill.toolkit.teacher.inference import torch_logits

    encoder = TeacherEncoder(_backend(tokenizer), max_length, "head+tail", tokenizer.pad_token_id)
    rows = encoder.encode(texts)
    if fixed:  # what a static-shape pipeline does: every row padded to max_length
        rows = [r + [encoder.pad_id] * (max_length - len(r)) for r in rows]
    best = float("inf")
    for _ in range(repeats):  # the best of a few: the machine is shared
        t0 = time.perf_counter()
        with torch.inference_mode():
            torch_logits(model, encoder, rows)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--labeled", type=int, default=1000, help="labeled texts the length is chosen on")
    p.add_argument("--time", type=int, default=0, metavar="N", help="time a forward pass over N texts")
    p.add_argument("--fixed", type=int, default=64, metavar="N", help="texts for the padded-to-512 timing")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    import torch

    from edge_distill.toolkit.teacher.backbone import DEFAULT_MODEL, load_classifier, load_tokenizer

    torch.set_num_threads(args.threads)
    splits = load_splits(args.data, n_labeled=args.labeled, n_unlabeled=0, n_test=0, seed=0, n_validation=0)
    tok = load_tokenizer(DEFAULT_MODEL)
    chosen = choose_max_length(tok, splits.labeled.texts)
    out: dict[str, Any] = {"data": args.data, "chosen": length_profile(tok, splits.labeled.texts, chosen)}
    if args.time:
        model = load_classifier(DEFAULT_MODEL, splits.label_names).eval()
        texts = splits.labeled.texts[: args.time]
        out["seconds"] = {
            f"dynamic_{chosen}": round(_time_forward(model, tok, texts, chosen, False), 2),
            "dynamic_512": round(_time_forward(model, tok, texts, 512, False), 2),
        }
        few = texts[: args.fixed]
        for length in sorted({chosen, 512}):
            out["seconds"][f"padded_{length}_{len(few)}_texts"] = round(_time_forward(model, tok, few, length, True), 2)
        out["threads"] = args.threads
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
