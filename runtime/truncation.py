"""Turning review text into teacher input ids: the one implementation every stage shares.

Training, labeling, the export parity gate and the runtime all call :class:`TeacherEncoder`,
so the teacher sees the same ids everywhere. A text is cleaned with :func:`clean_text`, split
into word pieces without special tokens, cut to the budget ``max_length - specials`` and then
wrapped in the tokenizer's own special tokens (``[CLS] ... [SEP]`` for BERT).

Truncation strategies for reviews longer than the budget:

- ``head``: keep the first tokens (what most fine-tuning scripts do).
- ``head+tail``: keep the first quarter of the budget from the start and the rest from the end
  (Sun et al., 2019, "How to Fine-Tune BERT for Text Classification?" found 128 + 382 best for
  IMDB): a review's verdict is often in its last sentences.

Depends only on numpy, ``tokenizers`` and :mod:`runtime.textclean`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from edge_distill.runtime.base import sanitize
from edge_distill.runtime.textclean import clean_text

STRATEGIES = ("head", "head+tail")
#: share of the budget head+tail keeps from the start of the text
HEAD_SHARE = 0.25


def truncate_ids(ids: Sequence[int], budget: int, strategy: str) -> list[int]:
    """``ids`` cut to at most ``budget`` tokens by ``strategy`` (unchanged when they fit)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown truncation strategy {strategy!r}; expected one of {STRATEGIES}")
    if budget < 0:
        raise ValueError(f"token budget must be >= 0, got {budget}")
    ids = list(ids)
    if len(ids) <= budget:
        return ids
    if strategy == "head" or budget < 2:
        return ids[:budget]
    head = max(1, int(budget * HEAD_SHARE))
    tail = budget - head
    return ids[:head] + ids[len(ids) - tail :]


@dataclass(frozen=True)
class Batch:
    """Padded model inputs (int64 ``[B, T]``) in the order of the texts given."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray

    def feeds(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """The arrays a model with these input names takes."""
        return {n: getattr(self, n) for n in names}


class TeacherEncoder:
    """Clean, tokenize, truncate and pad texts for the teacher.

    ``tokenizer`` is a ``tokenizers.Tokenizer`` (a transformers fast tokenizer's
    ``backend_tokenizer`` or one read from ``tokenizer.json``); its own truncation and padding
    are switched off on a private copy so only ``strategy`` decides what is kept.
    """

    def __init__(self, tokenizer, max_length: int, strategy: str = "head", pad_id: int | None = None) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown truncation strategy {strategy!r}; expected one of {STRATEGIES}")
        tok = Tokenizer.from_str(tokenizer.to_str())  # private copy: never mutate the caller's
        tok.no_truncation()
        tok.no_padding()
        self.tokenizer = tok
        self.strategy = strategy
        probe = tok.encode("a", add_special_tokens=True)
        content = [i for i, s in enumerate(probe.special_tokens_mask) if not s]
        if not content:
            raise ValueError("the tokenizer turns 'a' into special tokens only; cannot find its template")
        first, last = content[0], content[-1]
        self.prefix = list(probe.ids[:first])
        self.suffix = list(probe.ids[last + 1 :])
        self.type_id = int(probe.type_ids[first]) if probe.type_ids else 0
        n_special = len(self.prefix) + len(self.suffix)
        if max_length <= n_special:
            raise ValueError(f"max_length {max_length} leaves no room beside {n_special} special tokens")
        self.max_length = int(max_length)
        self.budget = self.max_length - n_special
        self.pad_id = _pad_id(tok) if pad_id is None else int(pad_id)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (special tokens included, not padded)."""
        if not texts:
            return []
        encs = self.tokenizer.encode_batch([clean_text(sanitize(t)) for t in texts], add_special_tokens=False)
        return [self.prefix + truncate_ids(e.ids, self.budget, self.strategy) + self.suffix for e in encs]

    def pad(self, rows: Sequence[Sequence[int]]) -> Batch:
        """Right-pad ``rows`` to the longest one (dynamic padding)."""
        width = max((len(r) for r in rows), default=0)
        ids = np.full((len(rows), width), self.pad_id, np.int64)
        mask = np.zeros((len(rows), width), np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        types = np.where(mask == 1, self.type_id, 0).astype(np.int64)
        return Batch(ids, mask, types)


def _pad_id(tok) -> int:
    """The tokenizer's padding token id, else 0 (padded positions are masked out anyway)."""
    for name in ("[PAD]", "<pad>", "<|padding|>"):
        tid = tok.token_to_id(name)
        if tid is not None:
            return int(tid)
    return 0


def length_sorted_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[np.ndarray]:
    """Indices grouped into batches of similar length (longest first), for inference.

    Sorting by length keeps padding small; ``max_tokens`` caps ``rows x longest row`` so a
    batch of long texts does not blow up memory. Ties are broken by position, so the result
    is deterministic.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.lexsort((np.arange(len(lengths)), -np.asarray(lengths, dtype=np.int64)))
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        longest = int(lengths[order[start]])
        size = batch_size
        if max_tokens is not None and longest > 0:
            size = max(1, min(batch_size, max_tokens // longest))
        batches.append(order[start : start + size])
        start += size
    return batches
