"""The baseline every distilled model must beat: a linear model on the labeled set alone.

Two recipes:
- ``tfidf`` (default): the student's exportable TF-IDF features (:mod:`toolkit.features`) and
  logistic regression whose ``C`` is chosen by stratified cross-validation on the labeled set
  itself, so nothing outside the training data is looked at.
- ``seed``: the seed notebook's setup, CountVectorizer(ngram_range=(1, 3)) + LogisticRegression
  with scikit-learn's defaults (0.79 on 1,000 IMDB test reviews with 1,000 labels).
Both see :func:`runtime.textclean.clean_text` output, like every other model.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.runtime.extras import require
from edge_distill.runtime.textclean import clean_text
from edge_distill.toolkit.data import Corpus
from edge_distill.toolkit.evaluate import classification_metrics
from edge_distill.toolkit.features import C_GRID, RECIPES, make_vectorizer


@dataclass
class Baseline:
    """A fitted baseline pipeline and what was chosen while fitting it."""

    recipe: str
    pipeline: Any
    label_names: tuple[str, ...]
    chosen: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities for raw texts."""
        return self.pipeline.predict_proba([clean_text(t) for t in texts])

    def predict(self, texts: list[str]) -> np.ndarray:
        """Class ids for raw texts."""
        return self.predict_proba(texts).argmax(axis=1)


def fit_baseline(labeled: Corpus, recipe: str = "tfidf", random_state: int = 0, cv: int = 5) -> Baseline:
    """Fit the baseline ``recipe`` on a labeled corpus."""
    if recipe not in RECIPES:
        raise DataError(f"unknown baseline recipe {recipe!r}; choose from {RECIPES}")
    if not labeled.is_labeled:
        raise DataError("the baseline needs a fully labeled corpus")
    if len(np.unique(labeled.labels)) < 2:
        raise DataError("the labeled set holds a single class; a classifier needs at least two")
    require("sklearn", "the baseline")
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    texts = [clean_text(t) for t in labeled.texts]
    y = labeled.labels
    if recipe == "seed":
        pipe = Pipeline([("vec", CountVectorizer(ngram_range=(1, 3))), ("clf", LogisticRegression())])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipe.fit(texts, y)
        notes = sorted({type(w.message).__name__ for w in caught})
        return Baseline(recipe, pipe, labeled.label_names, {"warnings": notes})

    # The vectorizer is fitted once on all labeled texts (it never sees a label), then C is
    # chosen by stratified CV of the classifier alone: 5x faster than refitting the features.
    vec = make_vectorizer()
    features = vec.fit_transform(texts)
    folds = min(cv, int(np.bincount(y).min()))
    if folds < 2:
        clf = LogisticRegression(C=10.0, max_iter=2000, random_state=random_state).fit(features, y)
        chosen: dict[str, Any] = {"C": 10.0, "cv": "too few texts per class for CV; C=10"}
    else:
        search = GridSearchCV(
            LogisticRegression(max_iter=2000, random_state=random_state),
            {"C": list(C_GRID)},
            cv=StratifiedKFold(folds, shuffle=True, random_state=random_state),
            scoring="accuracy",
        ).fit(features, y)
        clf = search.best_estimator_
        scores = search.cv_results_["mean_test_score"]
        chosen = {
            "C": float(search.best_params_["C"]),
            "cv_folds": folds,
            "cv_accuracy": {str(c): round(float(s), 4) for c, s in zip(C_GRID, scores, strict=True)},
        }
    return Baseline(recipe, Pipeline([("vec", vec), ("clf", clf)]), labeled.label_names, chosen)


@dataclass
class BaselineResult:
    """A baseline's choices and test metrics (what ``baseline.json`` holds)."""

    recipe: str
    label_names: list[str]
    chosen: dict[str, Any]
    n_features: int
    n_labeled: int
    fit_seconds: float
    predict_seconds: float
    metrics: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)  # how the splits were drawn
    path: str | None = None  # baseline.json, once written
    predictions: str | None = None  # the test probabilities (.npz), once written

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (``--json`` and ``baseline.json``); paths only once written."""
        return {k: v for k, v in asdict(self).items() if v is not None or k not in ("path", "predictions")}


def run_baseline(
    labeled: Corpus,
    test: Corpus,
    recipe: str = "tfidf",
    random_state: int = 0,
) -> tuple[BaselineResult, np.ndarray]:
    """Fit on ``labeled``, evaluate on ``test``: the result and the test probabilities (kept so
    every model can be compared on the same texts)."""
    if not len(test):
        raise DataError("the baseline is measured on test texts: --test must be at least 1 (or 'all')")
    t0 = time.perf_counter()
    model = fit_baseline(labeled, recipe, random_state)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba = model.predict_proba(test.texts)
    predict_s = time.perf_counter() - t0
    vec = model.pipeline.named_steps["vec"]
    result = BaselineResult(
        recipe=recipe,
        label_names=list(labeled.label_names),
        chosen=model.chosen,
        n_features=len(vec.vocabulary_),
        n_labeled=len(labeled),
        fit_seconds=round(fit_s, 3),
        predict_seconds=round(predict_s, 3),
        metrics=classification_metrics(test.labels, proba.argmax(axis=1), labeled.label_names, proba),
    )
    return result, proba
