"""The student's training rows, and the score of predictions on held-out rows.

The vectorizer is fitted once without normalisation (:func:`fit_features`), so tuning, pruning and
the settings search reuse the raw TF-IDF matrix: normalising a column subset gives exactly what
a vectorizer restricted to those columns computes. Both the fit (:mod:`toolkit.student.distill`)
and the choice of settings (:mod:`toolkit.student.selection`) use these, so they live below both.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_distill.runtime.extras import require
from edge_distill.toolkit.char_features import block_normalize, student_vectorizer


@dataclass
class Features:
    """The fitted vectorizer and the raw (unnormalised) TF-IDF of the training texts. Rows of other texts
    come from :meth:`transform`, not from the vectorizer's own (fitted without a norm, it may give raw rows)."""

    vectorizer: Any
    raw: Any  # csr [n, F]
    n_word: int  # word n-grams lead the columns; character n-grams (if any) follow, normalised apart

    @property
    def norm(self) -> str | None:
        return self.vectorizer.norm

    def rows(self, columns: np.ndarray | None = None):
        """Normalised training rows, restricted to ``columns``."""
        return self._normalize(self.raw, columns)

    def transform(self, texts: Sequence[str], columns: np.ndarray | None = None):
        """Normalised rows of other texts, restricted to ``columns``. The raw rows come from a shallow copy
        set to no norm (it shares the fitted vocabulary and idf): the shared vectorizer is never changed, so
        threads may call this at once."""
        raw = copy.copy(self.vectorizer).set_params(norm=None).transform(texts)
        return self._normalize(raw, columns)

    def _normalize(self, raw, columns: np.ndarray | None):
        """``raw`` (restricted to ``columns``) with each block normalised on its own."""
        if columns is None:
            return block_normalize(raw, self.norm, self.n_word)
        return block_normalize(raw[:, columns], self.norm, int(np.sum(np.asarray(columns) < self.n_word)))


def fit_features(texts: Sequence[str], settings: dict[str, Any]) -> Features:
    """Fit the exportable TF-IDF vectorizer on ``texts``; keep the raw matrix."""
    vec = student_vectorizer(**settings)
    norm = vec.norm
    vec.set_params(norm=None)
    raw = vec.fit_transform(texts).tocsr()
    vec.set_params(norm=norm)
    return Features(vec, raw, getattr(vec, "n_word_", raw.shape[1]))


def evaluate(proba: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 of probabilities against gold labels."""
    metrics = require("sklearn.metrics", "evaluation")
    pred = proba.argmax(axis=1)
    return {
        "n": len(y),
        "accuracy": float(metrics.accuracy_score(y, pred)),
        "macro_f1": float(metrics.f1_score(y, pred, average="macro")),
    }
