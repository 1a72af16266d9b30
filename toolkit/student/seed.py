"""The seed notebook's student, reproduced exactly: word 1-3-gram counts + linear regression.

CountVectorizer(ngram_range=(1, 3)) with scikit-learn's default analyzer, LinearRegression on
the teacher's logit (two classes: the logit difference; K > 2: every logit), sigmoid (softmax)
of the prediction. It is the reference the distillation is measured against; it is not
exportable (the default analyzer's ``str.lower`` and ``\\w`` are not reproducible in ONNX, and
the unregularized fit interpolates its 5,000 texts).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_distill.toolkit.student.linear_logit import SEED_SETTINGS, LinearLogitClassifier, seed_vectorizer
from edge_distill.toolkit.student.model import StudentModel, vocabulary_list


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
