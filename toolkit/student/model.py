"""The fitted student as plain data, and the scikit-learn pipeline it stands for.

A :class:`StudentModel` is everything needed to score a text: the feature names (n-grams as
space-joined words), their idf, the linear weights, the analyzer settings and the word-class
ranges. :meth:`StudentModel.pipeline` rebuilds an equivalent scikit-learn pipeline, the
reference the ONNX export is checked against. Nothing here is pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from edge_distill.toolkit.char_features import char_names_split, fix_vocabulary, student_vectorizer
from edge_distill.toolkit.features import FEATURE_DEFAULTS, RECIPES
from edge_distill.toolkit.student.linear_logit import LinearLogitClassifier, seed_vectorizer


@dataclass
class StudentModel:
    """A linear model over word n-gram features (and character n-grams, named ``#...``, after them).

    ``coef`` is ``[1, F]`` for two classes (score of class 1, as scikit-learn stores it) and
    ``[K, F]`` otherwise; ``intercept`` matches its first dimension. ``settings`` are the
    :func:`toolkit.features.make_vectorizer` settings (``recipe`` ``seed``: CountVectorizer's);
    ``char_alphabet`` the characters that make runs for the character n-grams
    (:mod:`toolkit.char_features`), empty without them.
    """

    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    label_names: tuple[str, ...]
    settings: dict[str, Any]
    word_ranges: tuple[tuple[int, int], ...] = ()
    recipe: str = "tfidf"
    info: dict[str, Any] = field(default_factory=dict)
    char_alphabet: str = ""

    def __post_init__(self) -> None:
        self.idf = np.asarray(self.idf, np.float64)
        self.coef = np.atleast_2d(np.asarray(self.coef, np.float64))
        self.intercept = np.atleast_1d(np.asarray(self.intercept, np.float64))
        n_feat, k = len(self.vocabulary), len(self.label_names)
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; known: {RECIPES}")
        if k < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {list(self.label_names)}")
        rows = 1 if k == 2 else k
        if self.coef.shape != (rows, n_feat) or self.intercept.shape != (rows,):
            raise ValueError(
                f"coef {self.coef.shape} / intercept {self.intercept.shape} do not fit {n_feat} features "
                f"and {k} classes (expected ({rows}, {n_feat}) / ({rows},))"
            )
        if self.recipe == "tfidf" and self.idf.shape != (n_feat,):
            raise ValueError(f"idf has shape {self.idf.shape}, expected ({n_feat},)")
        if len(set(self.vocabulary)) != n_feat:
            raise ValueError("repeated feature names in the vocabulary")
        if self.recipe == "tfidf" and self.n_word_features < n_feat and not self.char_alphabet:
            raise ValueError("character n-gram features without a character alphabet")

    @property
    def n_word_features(self) -> int:
        """How many word n-grams lead the vocabulary (the rest are character n-grams)."""
        return char_names_split(self.vocabulary) if self.recipe == "tfidf" else self.n_features

    @property
    def n_features(self) -> int:
        """How many n-gram features the model has."""
        return len(self.vocabulary)

    def vectorizer(self):
        """The fitted scikit-learn vectorizer (TfidfVectorizer; CountVectorizer for ``seed``)."""
        if self.recipe == "seed":
            vec = seed_vectorizer(**self.settings)
            vec.set_params(vocabulary={w: i for i, w in enumerate(self.vocabulary)})
            vec.fit([])
            return vec
        settings = {k: v for k, v in self.settings.items() if k not in ("lowercase", "char_ngram_range")}
        lowercase = self.settings.get("lowercase", True)
        if self.n_word_features < self.n_features:
            char_range = self.settings["char_ngram_range"]
            vec = student_vectorizer(self.word_ranges, lowercase, char_ngram_range=char_range, **settings)
            vec.alphabet_ = self.char_alphabet
            return vec.with_vocabulary(self.vocabulary, self.idf)
        vec = student_vectorizer(self.word_ranges, lowercase, **settings)
        fix_vocabulary(vec, self.vocabulary, self.idf)
        return vec

    def classifier(self):
        """The fitted linear classifier (LogisticRegression; a linear-logit one for ``seed``)."""
        if self.recipe == "seed":
            return LinearLogitClassifier.from_weights(self.coef, self.intercept, len(self.label_names))
        clf = LogisticRegression()
        clf.classes_ = np.arange(len(self.label_names))
        clf.coef_ = self.coef.copy()
        clf.intercept_ = self.intercept.copy()
        clf.n_features_in_ = self.n_features
        return clf

    def pipeline(self):
        """A scikit-learn pipeline equivalent to this model (the parity reference)."""
        return Pipeline([("features", self.vectorizer()), ("classifier", self.classifier())])


def vocabulary_list(vocabulary: dict[str, int]) -> list[str]:
    """A fitted ``vocabulary_`` dict as a list indexed by feature id."""
    out = [""] * len(vocabulary)
    for term, i in vocabulary.items():
        out[i] = term
    return out


def model_from_fitted(
    vectorizer,
    classifier,
    label_names: Sequence[str],
    info: dict[str, Any] | None = None,
    columns: np.ndarray | None = None,
) -> StudentModel:
    """The plain data of a fitted vectorizer (from :func:`toolkit.features.make_vectorizer`) and
    a fitted linear classifier with ``coef_``/``intercept_`` (over the vectorizer's ``columns``)."""
    params = vectorizer.get_params()
    settings = {k: params[k] for k in FEATURE_DEFAULTS if k in params}
    settings["ngram_range"] = list(settings["ngram_range"])
    if settings.get("char_ngram_range") is not None:
        settings["char_ngram_range"] = list(settings["char_ngram_range"])
    settings["lowercase"] = bool(getattr(vectorizer.preprocessor, "lowercase", True))
    vocabulary = vocabulary_list(vectorizer.vocabulary_)
    idf = vectorizer.idf_ if getattr(vectorizer, "use_idf", False) else np.ones(len(vocabulary))
    if columns is not None:
        vocabulary, idf = [vocabulary[i] for i in columns], idf[columns]
    return StudentModel(
        vocabulary,
        idf,
        classifier.coef_,
        classifier.intercept_,
        tuple(label_names),
        settings,
        tuple(getattr(vectorizer, "word_ranges_", ())),
        "tfidf",
        dict(info or {}),
        getattr(vectorizer, "alphabet_", None) or "",
    )
