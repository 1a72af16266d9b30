"""Export-time checks that onnxruntime's text ops agree with the Python analyzer everywhere.

The student's exactness rests on its text ops behaving like :mod:`toolkit.features` on every code
point: ``StringNormalizer`` lowercasing (vs :func:`toolkit.features.lower_table`) and the
``Tokenizer``'s word class (vs Python's ``re`` on the stored ranges), and for character n-grams
the ``Tokenizer``'s character mode (one token per code point). Each is checked over every
non-surrogate code point in one batched call, so an onnxruntime upgrade that changes either is
caught before a file is written.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import numpy as np

from edge_distill.exporters.text_ops import IR_VERSION, LOCALE, PAD, opset_imports, separator
from edge_distill.runtime.errors import ParityError
from edge_distill.runtime.extras import require
from edge_distill.toolkit.features import lower_table, python_class


class AgreementError(ParityError):
    """onnxruntime and Python disagree on some code points; the message lists the first few."""


def all_code_points() -> np.ndarray:
    """Every non-surrogate code point as an int array."""
    cps = np.arange(sys.maxunicode + 1)
    return cps[(cps < 0xD800) | (cps > 0xDFFF)]


def _probe(node, out_shape):
    """A one-node model ``x: string [N] -> y: string out_shape`` (also run by the JavaScript probe)."""
    onnx = require("onnx", "the student export")
    h = onnx.helper
    graph = h.make_graph(
        [node],
        "check",
        [h.make_tensor_value_info("x", onnx.TensorProto.STRING, ["N"])],
        [h.make_tensor_value_info("y", onnx.TensorProto.STRING, out_shape)],
    )
    return h.make_model(graph, ir_version=IR_VERSION, opset_imports=opset_imports())


def lowercase_probe():
    """The graph's lowercasing step alone, as a model."""
    onnx = require("onnx", "the student export")
    node = onnx.helper.make_node(
        "StringNormalizer", ["x"], ["y"], case_change_action="LOWER", is_case_sensitive=1, locale=LOCALE
    )
    return _probe(node, ["N"])


def word_class_probe(ranges: Sequence[Sequence[int]]):
    """The graph's Tokenizer alone (word class ``ranges``), as a model."""
    onnx = require("onnx", "the student export")
    node = onnx.helper.make_node(
        "Tokenizer",
        ["x"],
        ["y"],
        domain="com.microsoft",
        mark=0,
        mincharnum=2,
        pad_value=PAD,
        separators=[separator(ranges)],
    )
    return _probe(node, ["N", "T"])


def char_split_probe():
    """The graph's character-mode Tokenizer alone, as a model."""
    onnx = require("onnx", "the student export")
    node = onnx.helper.make_node(
        "Tokenizer", ["x"], ["y"], domain="com.microsoft", mark=0, mincharnum=1, pad_value=PAD, separators=[""]
    )
    return _probe(node, ["N", "T"])


def _run(model, texts: np.ndarray) -> np.ndarray:
    ort = require("onnxruntime", "the student export")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": texts})[0]


def _fail(what: str, bad: np.ndarray, cps: np.ndarray, got, want) -> None:
    if len(bad):
        shown = ", ".join(f"U+{cps[i]:04X} (onnxruntime {got[i]!r}, Python {want[i]!r})" for i in bad[:5])
        raise AgreementError(f"{what} differs on {len(bad)} code points: {shown}")


def check_lowercase() -> int:
    """Raise :class:`AgreementError` unless StringNormalizer lowercases like ``lower_table``."""
    cps = all_code_points()
    chars = np.array([chr(c) for c in cps], dtype=object)
    got = _run(lowercase_probe(), chars)
    table = lower_table()
    want = np.array([chr(table.get(int(c), int(c))) for c in cps], dtype=object)
    _fail("StringNormalizer(LOWER)", np.flatnonzero(got != want), cps, got, want)
    return len(cps)


def check_word_class(ranges: Sequence[Sequence[int]]) -> int:
    """Raise :class:`AgreementError` unless the graph's Tokenizer splits ``"ab" + c + "cd"`` like Python."""
    cps = all_code_points()
    texts = np.array(["ab" + chr(c) + "cd" for c in cps], dtype=object)
    got = _run(word_class_probe(ranges), texts)
    is_word = re.compile(f"[{python_class(ranges)}]")
    word = np.array([is_word.match(chr(c)) is not None for c in cps])
    want = np.empty((len(cps), 2), dtype=object)
    want[:, 0] = np.where(word, texts, "ab")
    want[:, 1] = np.where(word, PAD, "cd")
    if got.shape != want.shape:
        raise AgreementError(f"Tokenizer output shape {got.shape}, expected {want.shape}")
    bad = np.flatnonzero((got != want).any(axis=1))
    _fail("Tokenizer word class", bad, cps, [tuple(r) for r in got], [tuple(r) for r in want])
    return len(cps)


def check_char_split() -> int:
    """Raise :class:`AgreementError` unless the character-mode Tokenizer splits ``"a" + c + "b"``
    into exactly those three code points, as Python's iteration over a string does."""
    cps = all_code_points()
    chars = np.array([chr(c) for c in cps], dtype=object)
    got = _run(char_split_probe(), np.array(["a" + c + "b" for c in chars], dtype=object))
    if got.shape != (len(cps), 3):
        raise AgreementError(f"character Tokenizer output shape {got.shape}, expected {(len(cps), 3)}")
    bad = np.flatnonzero((got[:, 0] != "a") | (got[:, 1] != chars) | (got[:, 2] != "b"))
    _fail("Tokenizer character mode", bad, cps, [tuple(r) for r in got], [("a", c, "b") for c in chars])
    return len(cps)
