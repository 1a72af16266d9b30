"""The bad-input table: each odd input has one defined answer, through the Python API and the CLI.

Python API (``runtime.load(...).predict`` / ``predict_proba``): a refused input is a TypeError
whose message names the problem and, for an item, its position; an accepted one answers like
the same texts in a plain list. CLI (``edge-distill predict``): one stderr line per bad record
("stdin:LINE: problem"), exit 2 (answers stop at the first bad record) or, with ``--skip-bad``,
exit 3 with every good record answered and tagged with its line.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from student_support import fitted_student

from edge_distill import runtime
from edge_distill.exporters.student import export_student
from edge_distill.runtime.base import Classifier
from edge_distill.toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]
TEN_MB = "great film, awful plot. " * (10 * 2**20 // 24)


@pytest.fixture(scope="module")
def model():
    return fitted_student(3)


@pytest.fixture(scope="module")
def artifact(model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("inputs") / "student.onnx"
    export_student(model, out, check_ops=False)
    return out


@pytest.fixture(scope="module")
def clf(artifact):
    return runtime.load(artifact, threads=1, kind="student")


def _gen(items):
    yield from items


# ---------------------------------------------------------------- Python API: refused inputs

REFUSED = {
    "None": (lambda: None, r"sequence of str, got NoneType"),
    "int": (lambda: 3, r"sequence of str, got int 3"),
    "float-nan": (lambda: float("nan"), r"sequence of str, got float nan"),
    "bytes": (lambda: b"a text", r"got bytes; decode bytes to str first"),
    "bytearray": (lambda: bytearray(b"a text"), r"got bytearray; decode bytes to str first"),
    "bare-str": (lambda: "a text", r"got str; wrap a single text in a list"),
    "dict": (lambda: {"text": "great"}, r"got dict"),
    "set": (lambda: {"great", "awful"}, r"got set; a set has no order"),
    "list-with-int": (lambda: ["great", 1], r"texts\[1\] is int 1, expected str"),
    "list-with-nan": (lambda: ["great", "awful", float("nan")], r"texts\[2\] is float nan, expected str"),
    "list-with-None": (lambda: [None], r"texts\[0\] is NoneType None, expected str"),
    "list-with-bytes": (lambda: ["great", b"awful"], r"texts\[1\] is bytes, expected str"),
    "nested-list": (lambda: ["great", ["awful"]], r"texts\[1\] is list, expected str"),
    "numpy-2d": (lambda: np.array([["great", "awful"]]), r"must be 1-D, got an array of shape \(1, 2\)"),
    "numpy-0d": (lambda: np.array("great"), r"must be 1-D, got an array of shape \(\)"),
    "numpy-object-with-None": (lambda: np.array(["great", None], dtype=object), r"texts\[1\] is NoneType"),
    "numpy-object-with-float": (lambda: np.array(["great", 2.5], dtype=object), r"texts\[1\] is float 2.5"),
    "numpy-numbers": (lambda: np.arange(3), r"texts\[0\] is int64 0"),
    "generator-with-int": (lambda: _gen(["great", "awful", 7]), r"texts\[2\] is int 7"),
}


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_with_proba"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_input_is_a_type_error_naming_the_problem(clf, case, method):
    make, message = REFUSED[case]
    with pytest.raises(TypeError, match=message):
        getattr(clf, method)(make())


def test_the_teacher_shares_the_same_checks():
    """The teacher inherits the one validating entry point instead of re-implementing it."""
    from edge_distill.runtime.teacher import TeacherClassifier

    assert TeacherClassifier.predict_proba is Classifier.predict_proba
    assert TeacherClassifier.predict is Classifier.predict


# ---------------------------------------------------------------- Python API: accepted inputs

TEXTS = ["great wonderful film", "awful boring waste", "meh average"]
ACCEPTED = {
    "list": lambda: list(TEXTS),
    "tuple": lambda: tuple(TEXTS),
    "generator": lambda: _gen(TEXTS),
    "numpy-unicode-1d": lambda: np.array(TEXTS),
    "numpy-object-1d": lambda: np.array(TEXTS, dtype=object),
    "numpy-str-items": lambda: [np.str_(t) for t in TEXTS],
    "dict-keys-view": lambda: dict.fromkeys(TEXTS).keys(),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_accepted_containers_answer_like_a_list(clf, case):
    want = clf.predict_proba(list(TEXTS))
    np.testing.assert_array_equal(clf.predict_proba(ACCEPTED[case]()), want)
    assert clf.predict(ACCEPTED[case]()) == clf.predict(list(TEXTS))


@pytest.mark.parametrize(
    "empty", [[], (), np.array([], dtype=object), _gen([])], ids=["list", "tuple", "numpy", "generator"]
)
def test_an_empty_batch_is_an_empty_result(clf, empty):
    proba = clf.predict_proba(empty)
    assert proba.shape == (0, 3) and proba.dtype == np.float32
    assert clf.predict([]) == [] and clf.predict_with_proba([])[0] == []


def _reference(model, texts):
    pipe = model.pipeline()
    return pipe[-1].predict_proba(pipe[:-1].transform(texts))


def test_empty_and_whitespace_only_texts_are_the_no_word_answer(clf, model):
    """No token at all: the model's prior (intercept only), identical for every blank text."""
    blanks = ["", " ", "\t\n\r\f\v", "\u3000\u00a0\u2028\u2029\u0085", " " * 10_000]
    proba = clf.predict_proba(blanks)
    assert np.isfinite(proba).all() and np.all(proba == proba[0])
    assert np.abs(proba - _reference(model, blanks)).max() <= 1e-6
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-6)


def test_a_10_mb_text_is_answered_like_the_reference(clf, model):
    assert len(TEN_MB) >= 10 * 10**6
    labels, proba = clf.predict_with_proba([TEN_MB, "awful"])
    ref = _reference(model, [TEN_MB, "awful"])
    assert np.isfinite(proba).all() and np.abs(proba - ref).max() <= 1e-6
    assert labels == [clf.labels[i] for i in ref.argmax(axis=1)]


# ---------------------------------------------------------------- CLI


def _cli(capsys, monkeypatch, artifact, stdin: bytes, *flags: str) -> tuple[int, list[dict], list[str]]:
    """Run ``edge-distill predict`` in-process with ``stdin`` as raw bytes."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main(["predict", str(artifact), *flags])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err.splitlines()


GOOD = b'{"text": "great wonderful film"}\n'
BAD_LINES = {
    "invalid-utf8": (b"\xff\xfe broken\n", r"^edge-distill: error: stdin:2: not valid UTF-8 \(byte 0xff at byte 1"),
    "invalid-utf8-in-json": (b'{"text": "caf\xe9"}\n', r"stdin:2: not valid UTF-8 \(byte 0xe9 at byte 14"),
    "not-json": (b"this is not json\n", r"stdin:2: not valid JSON \(Expecting value\); use --plain"),
    "truncated-json": (b'{"text": "great\n', r"stdin:2: not valid JSON \(Unterminated string"),
    "no-text-field": (b'{"review": "great"}\n', r"stdin:2: no 'text' field \(keys: \['review'\]\)"),
    "text-null": (b'{"text": null}\n', r"stdin:2: field 'text' is null, expected a string"),
    "text-number": (b'{"text": 3}\n', r"stdin:2: field 'text' is a number, expected a string"),
    "not-an-object": (b'["great"]\n', r"stdin:2: expected a JSON object with a string 'text' field, got an array"),
    "json-string": (b'"great"\n', r"stdin:2: expected a JSON object .* got a string"),
    "deep-nesting": (b"[" * 100_000 + b"]" * 100_000 + b"\n", r"stdin:2: not readable JSON \(RecursionError"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_cli_bad_record_stops_with_one_line_naming_it(capsys, monkeypatch, artifact, clf, case):
    bad, message = BAD_LINES[case]
    code, rows, err = _cli(capsys, monkeypatch, artifact, GOOD + bad + GOOD)
    assert code == 2
    assert len(err) == 1 and re.search(message, err[0]), err
    assert [r["label"] for r in rows] == clf.predict(["great wonderful film"])  # only the record before it


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_cli_skip_bad_answers_every_good_record(capsys, monkeypatch, artifact, clf, case):
    bad, message = BAD_LINES[case]
    code, rows, err = _cli(capsys, monkeypatch, artifact, GOOD + bad + GOOD + b'{"text": "awful"}\n', "--skip-bad")
    assert code == 3
    assert len(err) == 1 and re.search(message, err[0]), err
    assert [r["line"] for r in rows] == [1, 3, 4]
    assert [r["label"] for r in rows] == clf.predict(["great wonderful film", "great wonderful film", "awful"])


def test_cli_reports_every_bad_record_and_answers_only_up_to_the_first(capsys, monkeypatch, artifact, clf):
    stdin = GOOD + b"nope\n" + GOOD + b'{"x": 1}\n\xc3\n' + GOOD
    code, rows, err = _cli(capsys, monkeypatch, artifact, stdin, "--batch-size", "1")
    assert code == 2 and len(rows) == 1
    assert [line.split(":")[3] for line in err] == ["2", "4", "5"]
    code, rows, err = _cli(capsys, monkeypatch, artifact, stdin, "--skip-bad", "--batch-size", "2")
    assert code == 3 and [r["line"] for r in rows] == [1, 3, 6] and len(err) == 3


def test_cli_plain_mode_invalid_utf8_is_a_bad_line(capsys, monkeypatch, artifact, clf):
    code, rows, err = _cli(capsys, monkeypatch, artifact, b"great film\n\x80oops\n\nawful\n", "--plain", "--skip-bad")
    assert code == 3 and [r["line"] for r in rows] == [1, 3, 4]  # a blank plain line is an empty text
    assert len(err) == 1 and "stdin:2: not valid UTF-8 (byte 0x80" in err[0]


def test_cli_empty_whitespace_bom_and_blank_lines(capsys, monkeypatch, artifact, clf):
    stdin = b'\xef\xbb\xbf{"text": ""}\n\n{"text": " \\t "}\r\n{"text": "lone \\ud800 surrogate"}\n'
    code, rows, err = _cli(capsys, monkeypatch, artifact, stdin)
    assert code == 0 and err == [] and len(rows) == 3  # the blank JSON Lines line is skipped
    want = clf.predict_proba(["", " \t ", "lone \ufffd surrogate"])
    got = np.array([list(r["probabilities"].values()) for r in rows])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    code, rows, err = _cli(capsys, monkeypatch, artifact, b"")
    assert code == 0 and rows == [] and err == []


def test_cli_ten_mb_record(capsys, monkeypatch, artifact, clf):
    stdin = (json.dumps({"text": TEN_MB}) + "\n").encode() + GOOD
    code, rows, err = _cli(capsys, monkeypatch, artifact, stdin, "--batch-size", "2")
    assert code == 0 and err == [] and len(rows) == 2
    assert [r["label"] for r in rows] == clf.predict([TEN_MB, "great wonderful film"])


def test_cli_real_stdin_invalid_utf8_in_a_subprocess(artifact, clf):
    """The console path end to end: real binary stdin, real exit codes."""
    stdin = GOOD + b"\xff\n" + b'{"text": "awful"}\n'
    cmd = [sys.executable, "-m", "edge_distill.toolkit.cli", "predict", str(artifact)]
    res = subprocess.run(cmd, input=stdin, capture_output=True, cwd=REPO, timeout=120)
    assert res.returncode == 2 and len(res.stdout.splitlines()) == 1
    assert res.stderr.decode().splitlines() == [
        "edge-distill: error: stdin:2: not valid UTF-8 (byte 0xff at byte 1 of the line)"
    ]
    res = subprocess.run([*cmd, "--skip-bad"], input=stdin, capture_output=True, cwd=REPO, timeout=120)
    assert res.returncode == 3 and len(res.stderr.splitlines()) == 1
    assert [json.loads(r)["label"] for r in res.stdout.splitlines()] == clf.predict(["great wonderful film", "awful"])
