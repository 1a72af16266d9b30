"""The student's text features: TF-IDF over word n-grams, defined so ONNX can match it exactly.

scikit-learn's defaults cannot be reproduced bit for bit by an ONNX graph: ``str.lower`` maps
U+0130 to two code points, and ``\\w`` depends on the Python's Unicode version while
onnxruntime's RE2 has its own. So the analyzer here is spelled out:

1. :func:`runtime.base.sanitize` (lone surrogates -> U+FFFD), as the runtime does;
2. per-code-point simple lowercase (what onnxruntime's ``StringNormalizer`` does);
3. HTML line breaks (``<br />``) become separators, as in :func:`runtime.textclean.clean_text`;
4. tokens are runs of 2+ "word" code points, the word class being an explicit list of ranges
   (letters, numbers, underscore) taken from this Python's Unicode database at fit time and
   stored with the model, so the exporter writes the very same class into the graph.

The result is a plain :class:`sklearn.feature_extraction.text.TfidfVectorizer` whose
``preprocessor`` and ``token_pattern`` are these definitions.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from edge_distill.runtime.base import sanitize
from edge_distill.runtime.extras import require_extra
from edge_distill.runtime.textclean import BR_PATTERN as BR_LOWER
from edge_distill.toolkit.options import FEATURE_DEFAULTS as FEATURE_DEFAULTS  # the settings' defaults
from edge_distill.toolkit.options import RECIPES as RECIPES  # the baseline and the student take both
from edge_distill.toolkit.options import FeatureConfig as FeatureConfig  # the student's settings, typed

require_extra("train", "TF-IDF features")  # once, here: the baseline, the student and the exporters build on them

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

#: The line-break rule of runtime.textclean (``BR_PATTERN``), for already-lowercased text.
_BR_LOWER = re.compile(BR_LOWER)
_BR_ANY_CASE = re.compile(BR_LOWER, re.IGNORECASE)

#: the inverse regularisation strengths every linear model here is tuned over (baseline CV,
#: the student's --tune and its per-data-set settings selection)
C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)

#: a character n-gram feature's name is this mark, then its characters: no word n-gram starts with
#: it (``#`` is no word code point), so the two kinds share one vocabulary without clashing
CHAR_MARK = "#"
#: what stands around each run of alphabet characters in a character n-gram (and in its name)
CHAR_EDGE = " "


@functools.cache
def word_ranges() -> tuple[tuple[int, int], ...]:
    """Code point ranges of letters (L*), numbers (N*) and ``_`` in this Python's Unicode data."""
    ranges: list[list[int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp))[0] in "LN" or cp == 0x5F:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return tuple((a, b) for a, b in ranges)


def python_class(ranges: Sequence[Sequence[int]]) -> str:
    """The ranges as the body of a Python ``re`` character class."""
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


def re2_class(ranges: Sequence[Sequence[int]]) -> str:
    """The ranges as the body of an RE2 character class (onnxruntime's regex engine)."""
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


@functools.cache
def lower_table() -> dict[int, int]:
    """Per-code-point simple lowercase: ``str.lower`` where it gives one code point, else the
    simple mapping (only U+0130 -> 'i' in current Unicode). Surrogates are left alone."""
    table = {}
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        low = chr(cp).lower()
        if len(low) == 1 and low != chr(cp):
            table[cp] = ord(low)
        elif len(low) > 1:
            table[cp] = ord(low[0])  # U+0130: 'i' + combining dot; the simple mapping is 'i'
    return table


def lowered(text: str, lowercase: bool = True) -> str:
    """``text`` sanitized and, if ``lowercase``, lowercased per code point (the graph's StringNormalizer)."""
    text = sanitize(text)
    return text.translate(lower_table()) if lowercase else text


class Normalizer:
    """The student's preprocessor: sanitize, lowercase per code point, line breaks to spaces."""

    def __init__(self, lowercase: bool = True) -> None:
        self.lowercase = lowercase
        self._br = _BR_LOWER if lowercase else _BR_ANY_CASE

    def __call__(self, text: str) -> str:
        return self._br.sub(" ", lowered(text, self.lowercase))

    def __repr__(self) -> str:
        return f"Normalizer(lowercase={self.lowercase})"


def make_vectorizer(ranges: Sequence[Sequence[int]] | None = None, lowercase: bool = True, **settings: Any):
    """A TfidfVectorizer with the exportable analyzer and ``settings`` (:meth:`FeatureConfig.settings`)
    over :data:`FEATURE_DEFAULTS` (word n-grams; :func:`toolkit.char_features.student_vectorizer`
    adds character n-grams)."""
    unknown = set(settings) - set(FEATURE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown feature settings {sorted(unknown)}; known: {sorted(FEATURE_DEFAULTS)}")
    opts = {**FEATURE_DEFAULTS, **settings}
    if opts.pop("char_ngram_range") is not None:
        raise ValueError("character n-grams come from toolkit.char_features.student_vectorizer")
    opts["ngram_range"] = tuple(opts["ngram_range"])
    ranges = word_ranges() if ranges is None else ranges
    vec = TfidfVectorizer(
        preprocessor=Normalizer(lowercase),
        lowercase=False,
        token_pattern=f"[{python_class(ranges)}]{{2,}}",
        dtype=__import__("numpy").float64,
        **opts,
    )
    vec.word_ranges_ = tuple(tuple(r) for r in ranges)  # kept with the model: the exporter needs it
    return vec
