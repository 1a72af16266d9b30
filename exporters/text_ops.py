"""The settings of the student graph's text ops, shared by the graph and the export-time probes of those ops.

The graph (:mod:`exporters.student_graph`) lowercases with ``StringNormalizer`` and splits with
one ``Tokenizer`` separator; the probes of :mod:`exporters.student_checks` run each of those ops
alone (to check them against Python, and for :mod:`exporters.platform_ops` to measure other
onnxruntime clients), so the settings live here, below both.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge_distill.runtime.extras import require
from edge_distill.runtime.textclean import BR_ANY_CASE
from edge_distill.toolkit.features import BR_LOWER, re2_class

#: the Tokenizer's padding: never a token, as U+0001 is not a word code point
PAD = "\x01"
#: the lowercasing's locale
LOCALE = "C.UTF-8"
#: the opsets (default, ai.onnx.ml, com.microsoft) and the IR version every student graph declares
OPSET = 21
ML_OPSET = 4
MS_OPSET = 1
IR_VERSION = 10


def separator(word_ranges: Sequence[Sequence[int]], lowercase: bool = True) -> str:
    """The Tokenizer's one separator: a run of non-word code points and HTML line breaks.

    Python replaces each line break by a space, then takes the runs of word code points; a
    line break starts with ``<`` (never a word code point) and holds no other ``<``, so the
    longest run of separators ending before each token (RE2's leftmost-longest match) spans
    exactly what Python does not keep. One regex costs one RE2 search per token, where a
    line-break pass and a non-word pass cost two.
    """
    br = BR_LOWER if lowercase else BR_ANY_CASE
    return f"(?:[^{re2_class(word_ranges)}]|{br})+"


def opset_imports() -> list:
    """The opsets every student graph (and every export-time probe of its ops) declares."""
    helper = require("onnx.helper", "the student export")
    return [
        helper.make_opsetid("", OPSET),
        helper.make_opsetid("ai.onnx.ml", ML_OPSET),
        helper.make_opsetid("com.microsoft", MS_OPSET),
    ]
