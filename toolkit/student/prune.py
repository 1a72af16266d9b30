"""Vocabulary pruning to a budget: keep the n-grams that matter most to the fitted model.

An n-gram's importance is its largest weight magnitude times its idf times its document
frequency: roughly how much it moves the score, on average, over the training texts. The
budget is a feature count or a byte size of the exported ONNX file, estimated from the tables
the graph stores (see :func:`estimated_onnx_bytes`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_distill.toolkit.features import CHAR_MARK

#: metadata, regex of the word class and graph nodes: a fixed cost of the file
ONNX_OVERHEAD = 48_000


def feature_importance(coef: np.ndarray, idf: np.ndarray, doc_freq: np.ndarray) -> np.ndarray:
    """max_k |coef[k, j]| * idf[j] * df[j] for every feature j."""
    return np.abs(coef).max(axis=0) * idf * doc_freq


def estimated_onnx_bytes(vocabulary: Sequence[str], n_rows: int) -> int:
    """The size of the exported student: word table (names + ids), n-gram keys and ids, and the
    float64 table (idf*coef and the norm's column, per block: words, and characters when any),
    plus the fixed :data:`ONNX_OVERHEAD`."""
    word_features = [f for f in vocabulary if not f.startswith(CHAR_MARK)]
    words = {w for f in word_features for w in f.split(" ")}
    word_bytes = sum(len(w.encode("utf-8")) + 2 + 8 for w in words)
    chars = {c for f in vocabulary if f.startswith(CHAR_MARK) for c in f[len(CHAR_MARK) :]}
    blocks = 1 + (len(word_features) < len(vocabulary))
    alphabet_bytes = sum(len(c.encode("utf-8")) + 2 + 8 for c in chars)
    return ONNX_OVERHEAD + word_bytes + alphabet_bytes + len(vocabulary) * (8 + 8 + blocks * 8 * (n_rows + 1))


def features_within(order: np.ndarray, vocabulary: Sequence[str], n_rows: int, max_bytes: int) -> int:
    """The largest n such that the top-n features of ``order`` fit in ``max_bytes``."""
    lo, hi = 0, len(order)
    while lo < hi:  # the estimate only grows with n
        mid = (lo + hi + 1) // 2
        if estimated_onnx_bytes([vocabulary[i] for i in order[:mid]], n_rows) <= max_bytes:
            lo = mid
        else:
            hi = mid - 1
    return lo


def select_features(
    coef: np.ndarray,
    idf: np.ndarray,
    doc_freq: np.ndarray,
    vocabulary: Sequence[str],
    *,
    max_features: int | None = None,
    max_bytes: int | None = None,
) -> np.ndarray:
    """Sorted ids of the features to keep under both budgets (all of them without a budget)."""
    order = np.argsort(-feature_importance(coef, idf, doc_freq), kind="stable")
    n = len(order)
    if max_features is not None:
        n = min(n, max_features)
    if max_bytes is not None:
        n = min(n, features_within(order, vocabulary, coef.shape[0], max_bytes))
    if n == 0:
        raise ValueError(f"a budget of {max_bytes} bytes / {max_features} features leaves no feature")
    return np.sort(order[:n])
