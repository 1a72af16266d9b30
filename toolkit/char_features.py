"""Character n-grams beside the word n-grams, defined so the student's ONNX graph matches them exactly.

Short texts carry few words, and a word seen once in 1,000 labels says little; its pieces
(``"wh"``, ``"ing "``) recur. The character n-grams are a block normalised on its own: under one
norm over words and characters together, a text's many character n-grams drown its words.

The definition (what the graph computes):

1. the text is sanitized and lowercased as for words (:func:`toolkit.features.lowered`);
2. every character outside the *alphabet* separates runs. The alphabet is fitted: the
   characters (no whitespace, no U+0000/U+0001) seen in the fit texts, the most frequent first,
   at most as many as keep a ``hi``-gram's key within int64 (:func:`max_alphabet`);
3. each run ``r`` gives the n-grams of ``CHAR_EDGE + r + CHAR_EDGE`` of exactly ``n``
   characters, for ``n`` in ``char_ngram_range`` (1-grams: ``r``'s characters only, as the edge
   alone would also count every separator in the graph); a feature is named ``CHAR_MARK`` + them.

HTML line breaks stay in the text here (``<br />`` gives the runs ``<br`` and ``/>``): the
graph has no regex replacement, and the definition is what both sides compute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from edge_distill.runtime.extras import require_extra

require_extra("train", "character n-gram features")  # before scikit-learn and SciPy, for a clear message

from scipy import sparse  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from edge_distill.toolkit.features import CHAR_EDGE, CHAR_MARK, FEATURE_DEFAULTS, lowered, make_vectorizer  # noqa: E402

INT64_MAX = np.iinfo(np.int64).max
#: what JavaScript clients put for NUL, and the graph's padding: never alphabet characters
NOT_ALPHABET = frozenset("\x00\x01")


def max_alphabet(hi: int) -> int:
    """The largest alphabet whose ``hi``-gram keys fit int64: digits 1..A, the edge A + 1, base A + 2."""
    a = round(INT64_MAX ** (1 / hi))
    while (a + 1) ** hi > INT64_MAX:
        a -= 1
    while (a + 2) ** hi <= INT64_MAX:
        a += 1
    return a - 1


def fit_alphabet(texts: Iterable[str], hi: int, lowercase: bool = True) -> str:
    """The characters of the fit texts that make runs (no whitespace), by document frequency
    (ties by code point), at most :func:`max_alphabet`; returned sorted."""
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(lowered(text, lowercase)))
    usable = [(-n, c) for c, n in df.items() if not c.isspace() and c not in NOT_ALPHABET]
    return "".join(sorted(c for _, c in sorted(usable)[: max_alphabet(hi)]))


class CharAnalyzer:
    """A text's character n-gram names (see the module docstring); picklable, for scikit-learn."""

    def __init__(self, alphabet: str, ngram_range: Sequence[int], lowercase: bool = True) -> None:
        self.alphabet, self.ngram_range, self.lowercase = alphabet, tuple(ngram_range), lowercase
        self._keep = frozenset(alphabet)

    def runs(self, text: str) -> list[str]:
        """The runs of alphabet characters of ``text``, in order."""
        keep = self._keep
        return "".join(c if c in keep else " " for c in lowered(text, self.lowercase)).split()

    def __call__(self, text: str) -> list[str]:
        lo, hi = self.ngram_range
        out = []
        for run in self.runs(text):
            padded = f"{CHAR_EDGE}{run}{CHAR_EDGE}"
            for n in range(lo, hi + 1):
                grams = run if n == 1 else (padded[i : i + n] for i in range(len(padded) - n + 1))
                out.extend(CHAR_MARK + g for g in grams)
        return out

    def __repr__(self) -> str:
        return f"CharAnalyzer({len(self.alphabet)} characters, ngram_range={self.ngram_range})"


def block_normalize(X, norm: str | None, n_word: int):
    """``X`` with its first ``n_word`` columns and the rest normalised each on its own (an empty
    block adds nothing), so one block's norm never scales the other."""
    X = sparse.csr_matrix(X)
    if norm is None:
        return X
    if not 0 < n_word < X.shape[1]:  # one block: no copies
        return normalize(X, norm=norm)
    blocks = [b for b in (X[:, :n_word], X[:, n_word:]) if b.shape[1]]
    return sparse.hstack([normalize(b, norm=norm) for b in blocks], format="csr")


def char_names_split(vocabulary: Sequence[str]) -> int:
    """How many word features lead ``vocabulary``; every character feature must follow them."""
    n_word = sum(not name.startswith(CHAR_MARK) for name in vocabulary)
    if any(name.startswith(CHAR_MARK) for name in vocabulary[:n_word]):
        raise ValueError("character n-gram features must follow every word n-gram in the vocabulary")
    return n_word


class WordCharVectorizer(TransformerMixin, BaseEstimator):
    """Word n-grams (``words``, a :func:`make_vectorizer` TfidfVectorizer) then character n-grams,
    each block with its own norm. Fitted attributes: ``alphabet_``, ``vocabulary_``, ``idf_``."""

    def __init__(self, words: TfidfVectorizer, char_ngram_range: Sequence[int], alphabet: str | None = None) -> None:
        self.words, self.char_ngram_range = words, tuple(char_ngram_range)
        self.norm = words.norm
        self.alphabet_ = alphabet
        words.set_params(norm=None)
        self.word_ranges_, self.preprocessor = words.word_ranges_, words.preprocessor

    def _chars(self, alphabet: str) -> TfidfVectorizer:
        keep = ("min_df", "max_df", "max_features", "binary", "sublinear_tf", "use_idf", "smooth_idf")
        opts = {k: v for k, v in self.words.get_params().items() if k in keep}
        lowercase = self.preprocessor.lowercase
        analyzer = CharAnalyzer(alphabet, self.char_ngram_range, lowercase)  # lowercases itself
        return TfidfVectorizer(analyzer=analyzer, lowercase=False, norm=None, **opts)

    @property
    def use_idf(self) -> bool:
        return self.words.use_idf

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "vocabulary_")

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return f"WordCharVectorizer(ngram_range={self.words.ngram_range}, char_ngram_range={self.char_ngram_range})"

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {**self.words.get_params(), "norm": self.norm, "char_ngram_range": self.char_ngram_range}

    def set_params(self, norm: str | None = None) -> WordCharVectorizer:
        self.norm = norm
        return self

    def fit_transform(self, texts: Sequence[str], y=None):
        texts = list(texts)
        self.alphabet_ = fit_alphabet(texts, self.char_ngram_range[1], self.preprocessor.lowercase)
        self.chars = self._chars(self.alphabet_)
        raw = sparse.hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts)], format="csr")
        self._fitted()
        return block_normalize(raw, self.norm, self.n_word_)

    def fit(self, texts: Sequence[str], y=None) -> WordCharVectorizer:
        self.fit_transform(texts)
        return self

    def transform(self, texts: Sequence[str]):
        texts = list(texts)
        raw = sparse.hstack([self.words.transform(texts), self.chars.transform(texts)], format="csr")
        return block_normalize(raw, self.norm, self.n_word_)

    def _fitted(self) -> None:
        self.n_word_ = len(self.words.vocabulary_)
        self.vocabulary_ = {**self.words.vocabulary_}
        self.vocabulary_.update({k: self.n_word_ + i for k, i in self.chars.vocabulary_.items()})
        self.idf_ = np.concatenate([_idf(self.words), _idf(self.chars)])

    def with_vocabulary(self, vocabulary: Sequence[str], idf: np.ndarray) -> WordCharVectorizer:
        """Fitted to a fixed vocabulary (words first, then characters) and its idf, as a saved model is."""
        n_word = char_names_split(vocabulary)
        if not 0 < n_word < len(vocabulary):
            raise ValueError("a word-and-character vectorizer needs both word and character n-grams")
        self.chars = self._chars(self.alphabet_ or "")
        fix_vocabulary(self.words, vocabulary[:n_word], idf[:n_word])
        fix_vocabulary(self.chars, vocabulary[n_word:], idf[n_word:])
        self._fitted()
        return self


def _idf(vec: TfidfVectorizer) -> np.ndarray:
    return vec.idf_ if vec.use_idf else np.ones(len(vec.vocabulary_))


def fix_vocabulary(vec: TfidfVectorizer, names: Sequence[str], idf: np.ndarray) -> None:
    """Fit ``vec`` to the fixed vocabulary ``names`` with ``idf``."""
    vec.set_params(vocabulary={w: i for i, w in enumerate(names)})
    with np.errstate(divide="ignore"):  # a fixed vocabulary: this only sets up the transformer
        vec.fit([""])
    if vec.use_idf:
        vec.idf_ = np.asarray(idf, np.float64)


def student_vectorizer(ranges: Sequence[Sequence[int]] | None = None, lowercase: bool = True, **settings: Any):
    """The student's vectorizer: :func:`make_vectorizer`'s word n-grams, and with a
    ``char_ngram_range`` a :class:`WordCharVectorizer` adding character n-grams."""
    char_range = settings.pop("char_ngram_range", FEATURE_DEFAULTS["char_ngram_range"])
    words = make_vectorizer(ranges, lowercase, **settings)
    return words if char_range is None else WordCharVectorizer(words, char_range)
