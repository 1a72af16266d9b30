"""The seed notebook's estimators: CountVectorizer 1-3-grams and a linear regression on the
teacher's logit, read as a classifier. Reference only (not exportable); used by
:func:`toolkit.student.seed.fit_seed` and to rebuild a saved seed student's pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LinearRegression

from edge_distill.toolkit.student.objectives import scores

SEED_SETTINGS: dict[str, Any] = {"ngram_range": [1, 3]}


def seed_vectorizer(**settings: Any):
    """The seed's CountVectorizer (default analyzer)."""
    opts = {**SEED_SETTINGS, **settings}
    return CountVectorizer(ngram_range=tuple(opts["ngram_range"]))


class LinearLogitClassifier(ClassifierMixin, BaseEstimator):
    """Linear scores read as logits: sigmoid for one score column, softmax for K."""

    def __init__(self, n_classes: int = 2) -> None:
        self.n_classes = n_classes

    @classmethod
    def from_weights(cls, coef: np.ndarray, intercept: np.ndarray, n_classes: int) -> LinearLogitClassifier:
        clf = cls(n_classes)
        clf.coef_, clf.intercept_ = np.atleast_2d(coef), np.atleast_1d(intercept)
        clf.classes_ = np.arange(n_classes)
        return clf

    def fit(self, X, logits: np.ndarray) -> LinearLogitClassifier:
        """LinearRegression on the logit difference (two classes) or on all K logits."""
        z = np.asarray(logits, np.float64)
        target = z[:, 1] - z[:, 0] if z.shape[1] == 2 else z
        reg = LinearRegression().fit(X, target)
        return self.from_weights(reg.coef_, reg.intercept_, z.shape[1])

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        return scores(self, X)

    def predict(self, X) -> np.ndarray:
        s = self.decision_function(X)
        return (s[:, 0] > 0).astype(np.int64) if s.shape[1] == 1 else s.argmax(axis=1)
