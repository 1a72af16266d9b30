"""Property tests: on any Python ``str`` the exported student answers like its scikit-learn reference.

The promise (README "Guarantees"): for every ``str`` (any code point, NUL, combining marks,
right-to-left marks, lone surrogates, up to 100k characters) ``runtime.load(...).predict_proba``
equals the :class:`StudentModel` pipeline within 1e-6, on the documented definition that a lone
surrogate is U+FFFD and nothing else changes; probabilities are finite and sum to 1, the label is
the reference's argmax, and nothing raises. Hypothesis draws the texts; ``derandomize=True``
makes every run draw the same 10,000 cases, so CI is reproducible. Each property counts the
cases it ran, so a run that silently drew fewer fails.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from student_support import MIXED, NEGATIVE, NEUTRAL, POSITIVE, fitted_student

from edge_distill import runtime
from edge_distill.exporters.student import export_student
from edge_distill.runtime.base import sanitize

TOLERANCE = 1e-6
#: characters that break text pipelines, beside the student's own words
TRICKY = [
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\x0b",
    "\x85",
    "\u2028",
    "\u3000",
    "\u00a0",
    "_",
    "'",
    ",",
    "\u0301",
    "\u0308",
    "\u0345",
    "\u202b",
    "\u202c",
    "\u200f",
    "\u200e",
    "\u200d",
    "\u200b",
    "\ufeff",
    "\ud800",
    "\udfff",
    "\ud83d",
    "\ude00",
    "\ud83d\ude00",
    "<br />",
    "<BR>",
    "<br/>",
    "<br",
    "İ",
    "ς",
    "Σ",
    "ß",
    "ẞ",
    "ǅ",
    "ﬁ",
    "😀",
    "👍🏽",
    "\U0010ffff",
    "\uffff",
    "\ufffd",
    "日本",
    "العربية",
    "עברית",
    "0",
    "10",
]
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # every code point, surrogates included
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
PIECE = st.one_of(
    st.sampled_from(POSITIVE + NEGATIVE + MIXED + NEUTRAL),
    st.sampled_from(POSITIVE + NEGATIVE + MIXED + NEUTRAL).map(str.upper),
    st.sampled_from(TRICKY),
    st.text(ANY_CHAR, max_size=6),
    SURROGATE,
)
#: a text: the student's words (so features fire) mixed with arbitrary code points
TEXT = st.one_of(st.lists(PIECE, max_size=30).map("".join), st.text(ANY_CHAR, max_size=60))


def _long(parts: tuple[str, int]) -> str:
    """``parts[0]`` repeated to exactly ``parts[1]`` characters (Hypothesis draws long text slowly)."""
    seed, n = parts
    seed = seed or "x"
    return (seed * (n // len(seed) + 1))[:n]


LONG_TEXT = st.tuples(
    st.lists(PIECE, min_size=1, max_size=30).map("".join),
    st.one_of(st.integers(1_000, 100_000), st.integers(90_000, 100_000)),  # often near the 100k bound
).map(_long)


def _settings(n: int) -> Callable:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


def fffd(text: str) -> str:
    """The documented definition, written independently of :func:`runtime.base.sanitize`."""
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


@pytest.fixture(
    scope="module", params=[(2, ()), (3, ()), (2, (2, 5)), (3, (1, 4))], ids=["k2", "k3", "k2-chars", "k3-chars"]
)
def pair(request, tmp_path_factory):
    """A loaded student artifact and its scikit-learn reference pipeline (2 and 3 classes: the
    graph scores a binary model with one weight row, a multiclass one with K; word n-grams, and
    word and character n-grams, whose graph splits the text into code points)."""
    k, chars = request.param
    model = fitted_student(k, **({"char_ngram_range": chars} if chars else {}))
    path = tmp_path_factory.mktemp(f"student{k}") / "student.onnx"
    export_student(model, path, check_ops=False)
    return runtime.load(path, threads=1, kind="student"), model.pipeline()


def check(clf, pipe, batch: list[str]) -> None:
    """The runtime's answer to ``batch`` against the reference on the U+FFFD-replaced texts."""
    labels, proba = clf.predict_with_proba(batch)
    clean = [fffd(t) for t in batch]
    ref = pipe[-1].predict_proba(pipe[:-1].transform(clean))
    assert proba.dtype == np.float32 and proba.shape == ref.shape
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1, dtype=np.float64), 1.0, atol=TOLERANCE)
    worst = float(np.abs(proba.astype(np.float64) - ref).max())
    assert worst <= TOLERANCE, (worst, [ascii(t[:200]) for t in batch])
    assert labels == [clf.labels[i] for i in ref.argmax(axis=1)]
    assert [sanitize(t) for t in batch] == clean


def test_any_text_matches_the_reference(pair):
    clf, pipe = pair
    ran = []

    @_settings(3000)
    @given(text=TEXT)
    def prop(text: str) -> None:
        ran.append(1)
        check(clf, pipe, [text])

    prop()
    assert len(ran) >= 3000


def test_any_batch_matches_the_reference(pair):
    """Batches of mixed lengths: padding to the longest text of the call changes nothing."""
    clf, pipe = pair
    ran = []

    @_settings(1750)
    @given(batch=st.lists(TEXT, min_size=1, max_size=8))
    def prop(batch: list[str]) -> None:
        ran.append(1)
        check(clf, pipe, batch)

    prop()
    assert len(ran) >= 1750


def test_long_texts_match_the_reference(pair):
    clf, pipe = pair
    ran = []

    @_settings(250)
    @given(text=LONG_TEXT, short=TEXT)
    def prop(text: str, short: str) -> None:
        ran.append(1)
        assert 1_000 <= len(text) <= 100_000
        check(clf, pipe, [text, short])

    prop()
    assert len(ran) >= 250
