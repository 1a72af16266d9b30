"""The seed notebook's student, reproduced exactly: word 1-3-gram counts + linear regression.

CountVectorizer(ngram_range=(1, 3)) with scikit-learn's default analyzer, LinearRegression on
the teacher's logit (two classes: the logit difference; K > 2: every logit), sigmoid (softmax)
of the prediction. It is the reference the distillation is measured against; it is not
exportable (the default analyzer's ``str.lower`` and ``\\w`` are not reproducible in ONNX, and
the unregularized fit interpolates its 5,000 texts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edge_distill.toolkit.extras import require
from edge_distill.toolkit.student.model import StudentModel, vocabulary_list
from edge_distill.toolkit.student.objectives import scores

_base = require("sklearn.base", "the seed recipe")

SEED_SETTINGS: dict[str, Any] = {"ngram_range": [1, 3]}


def seed_vectorizer(**settings: Any):
    """The seed's CountVectorizer (default analyzer)."""
    text = require("sklearn.feature_extraction.text", "the seed recipe")
    opts = {**SEED_SETTINGS, **settings}
    return text.CountVectorizer(ngram_range=tuple(opts["ngram_range"]))


class LinearLogitClassifier(_base.ClassifierMixin, _base.BaseEstimator):
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
        lm = require("sklearn.linear_model", "the seed recipe")
        z = np.asarray(logits, np.float64)
        target = z[:, 1] - z[:, 0] if z.shape[1] == 2 else z
        reg = lm.LinearRegression().fit(X, target)
        return self.from_weights(reg.coef_, reg.intercept_, z.shape[1])

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        return scores(self, X)

    def predict(self, X) -> np.ndarray:
        s = self.decision_function(X)
        return (s[:, 0] > 0).astype(np.int64) if s.shape[1] == 1 else s.argmax(axis=1)


def fit_seed(texts: Sequence[str], logits: np.ndarray, label_names: Sequence[str]) -> StudentModel:
    """The seed notebook's student on ``texts`` and their teacher ``logits``."""
    vec = seed_vectorizer()
    X = vec.fit_transform(texts)
    clf = LinearLogitClassifier(len(label_names)).fit(X, logits)
    return StudentModel(
        vocabulary_list(vec.vocabulary_),
        np.zeros(0),
        clf.coef_,
        clf.intercept_,
        tuple(label_names),
        dict(SEED_SETTINGS),
        (),
        "seed",
        {},
    )
