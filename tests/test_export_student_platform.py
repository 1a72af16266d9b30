"""The exporter's table of onnxruntime clients that lowercase differently, and the word variants
that even it out (no JavaScript needed here; tests/test_export_student_web.py runs the clients)."""

from __future__ import annotations

import numpy as np
import pytest
from js_support import UNICODE14_TEXTS, unicode14_student

from edge_distill.exporters import platform_ops
from edge_distill.exporters.platform_ops import PlatformMismatch, check_table, lower_alternatives, word_variants
from edge_distill.exporters.student import export_bytes
from edge_distill.exporters.student_graph import word_keys
from edge_distill.exporters.student_parity import adversarial_texts, measure_parity
from edge_distill.runtime.base import open_session
from edge_distill.runtime.student import StudentClassifier
from edge_distill.toolkit.features import word_ranges


def _client(lower: dict[int, int]) -> dict[str, dict]:
    return {"x": {"measured_on": "test", "lower": lower, "word_added": (), "word_removed": ()}}


def test_the_measured_table_is_sound():
    check_table(word_ranges())
    web = platform_ops.CLIENTS["onnxruntime-web"]["lower"]
    assert len(web) == 69 and all(cp == out for cp, out in web.items())
    assert platform_ops.CLIENTS["onnxruntime-node"]["lower"] == {}
    alts = lower_alternatives()
    assert alts["\U00010597"] == {"\U00010570"} and alts["ⱟ"] == {"Ⱟ"} and alts["ⓐ"] == {"Ⓐ"}


def test_word_variants_cover_every_spelling():
    words = ["ab", "ⱟa", "ⱟⱟ", "𐖗x"]
    got = sorted(word_variants(words))
    assert got == sorted([("Ⱟa", 1), ("Ⱟⱟ", 2), ("ⱟⰯ", 2), ("ⰯⰯ", 2), ("\U00010570x", 3)])
    keys, digits = word_keys(words)
    assert keys[:4] == words and list(digits) == [1, 2, 3, 4, 2, 3, 3, 3, 4]
    assert word_keys(words, lowercase=False) == (words, pytest.approx(np.arange(1, 5)))


def test_too_many_spellings_are_refused():
    with pytest.raises(PlatformMismatch, match="drop it from the vocabulary"):
        word_variants(["ⱟ" * 9])


@pytest.mark.parametrize(
    ("lower", "match"),
    [
        ({0x2C2F: 0x21}, "word class changes"),  # a word letter would become punctuation
        ({0x2C2F: 0x61}, "also occurs in reference-lowercased text"),  # 'a' is a real lowercase letter
        ({0x2C2F: 0x2C2F, 0xA7C0: 0x2C2F}, "already stands for"),  # one spelling for two letters
    ],
)
def test_tables_that_cannot_be_evened_out_are_refused(lower, match):
    with pytest.raises(PlatformMismatch, match=match):
        check_table(word_ranges(), _client(lower))


def test_word_class_differences_are_refused():
    table = _client({})
    table["x"]["word_added"] = (0x24B6,)
    with pytest.raises(PlatformMismatch, match="word class differs"):
        check_table(word_ranges(), table)


def test_a_word_class_holding_nul_or_its_stand_in_is_refused():
    with pytest.raises(PlatformMismatch, match="U\\+0000 or U\\+0001"):
        check_table(((0x01, 0x01), *word_ranges()), _client({}))


def test_variants_leave_the_python_answers_exact():
    """The extra keys never match in the reference: parity with scikit-learn is unchanged."""
    model = unicode14_student(3)
    data = export_bytes(model, check_ops=False)
    sess, meta = open_session(data, "u.onnx", threads=1)
    clf = StudentClassifier.from_session("u.onnx", sess, meta)
    texts = adversarial_texts(model.vocabulary) + UNICODE14_TEXTS + [t.upper() for t in UNICODE14_TEXTS]
    assert measure_parity(clf, model.pipeline(), texts).ok
