"""The student's ONNX graph: sparse TF-IDF + linear model whose cost follows the text length.

The ONNX ``TfIdfVectorizer`` op builds a dense row of all F features per text, so its cost
grows with the vocabulary. This graph touches only the n-grams a text contains::

    text -> StringNormalizer(lower) -> Tokenizer(separators) -> word ids (LabelEncoder)
         -> n-gram keys in base W+1 from adjacent word ids -> feature ids (LabelEncoder)
         -> keys row*F+fid of the valid ones -> sorted (TopK) -> run lengths = term counts
         -> tf weight, idf, idf*coef gathered in float64 -> per-row sums (ScatterND add)
         -> L2/L1 norm, + intercept -> logistic / softmax -> probabilities (float32), label

Words are digits ``1..W``; padding and unknown words get the sentinel digit ``S = W + 1``. An
n-gram's key is ``sum(d_i * B**(n-1-i))`` in base ``B = W + 2``: digits never reach ``B`` and the
leading one is never 0, so keys are unique across all n, and a key holding the sentinel is no
feature's key and falls to the LabelEncoder's default -1 with no masking.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toolkit.extras import require
from toolkit.features import BR_ANY_CASE, BR_LOWER, re2_class

#: separators of the Tokenizer: the HTML line break first (consumed whole, as the Python
#: analyzer replaces it before tokenizing), then any code point outside the word class
BR_SEPARATOR = BR_LOWER
PAD = "\x01"  # never a token: U+0001 is not a word code point
LOCALE = "C.UTF-8"
OPSET = 21
ML_OPSET = 4
MS_OPSET = 1
IR_VERSION = 10
INT64_MAX = np.iinfo(np.int64).max


class UnsupportedSetting(ValueError):
    """A student setting the graph cannot reproduce exactly; the message names it."""


@dataclass(frozen=True)
class NgramTables:
    """The lookup tables of the graph: words, n-gram keys and their feature ids."""

    words: list[str]
    keys: np.ndarray  # int64 [F], the n-gram key of each feature
    base: int  # W + 2 (digits: words 1..W, sentinel W + 1)
    ngram_range: tuple[int, int]


def ngram_tables(vocabulary: Sequence[str], ngram_range: tuple[int, int]) -> NgramTables:
    """Number the words of ``vocabulary`` and compute each feature's n-gram key.

    Raises :class:`UnsupportedSetting` when a feature's length is outside ``ngram_range`` or
    the keys of the longest n-grams would overflow int64.
    """
    lo, hi = ngram_range
    split = [f.split(" ") for f in vocabulary]
    words = sorted({w for parts in split for w in parts})
    base = len(words) + 2
    if base ** hi > INT64_MAX:
        raise UnsupportedSetting(
            f"{hi}-gram keys over {len(words)} words would overflow int64 ({base}**{hi} > 2**63-1); "
            "prune the vocabulary (--max-features) or lower the n-gram order"
        )
    wid = {w: i + 1 for i, w in enumerate(words)}
    keys = np.empty(len(split), np.int64)
    for j, parts in enumerate(split):
        if not lo <= len(parts) <= hi or "" in parts:
            raise UnsupportedSetting(f"feature {vocabulary[j]!r} is not a {lo}..{hi}-gram of words")
        key = 0
        for w in parts:
            key = key * base + wid[w]
        keys[j] = key
    return NgramTables(words, keys, base, (lo, hi))


def _tensor(name: str, array: np.ndarray):
    numpy_helper = require("onnx.numpy_helper", "the student export")
    return numpy_helper.from_array(np.ascontiguousarray(array), name)


class _Graph:
    """A tiny node builder: unique names, constants as initializers."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, value) -> str:
        name = self.name(hint)
        self.inits.append(_tensor(name, np.asarray(value)))
        return name

    def op(self, op_type: str, inputs: Sequence[str], hint: str = "", n_out: int = 1, domain: str = "",
           out: str | None = None, **attrs) -> str | list[str]:
        """Add a node; its outputs are named from ``hint`` (or exactly ``out``)."""
        helper = require("onnx.helper", "the student export")
        outs = [out] if out else [self.name(hint or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=self.name(op_type), domain=domain,
                                           **attrs))
        return outs[0] if n_out == 1 else outs


def _ngram_keys(g: _Graph, digits: str, n: int, base: int) -> str:
    """Keys [N, T-n+1] of the n-grams starting at each position."""
    if n == 1:
        return digits
    axis = g.const("axis1", np.array([1], np.int64))
    parts = []
    for i in range(n):
        end = INT64_MAX if i == n - 1 else -(n - 1 - i)
        parts.append(g.op("Slice", [digits, g.const("start", np.array([i], np.int64)),
                                    g.const("end", np.array([end], np.int64)), axis], "digits_at"))
    key = parts[0]
    b = g.const("base", np.array(base, np.int64))
    for p in parts[1:]:
        key = g.op("Add", [g.op("Mul", [key, b]), p], f"key{n}")
    return key


def build_student_graph(model, metadata: dict[str, str]):
    """The ONNX ModelProto of a ``tfidf`` :class:`toolkit.student.model.StudentModel`."""
    onnx = require("onnx", "the student export")
    helper = onnx.helper
    s = model.settings
    tables = ngram_tables(model.vocabulary, tuple(s["ngram_range"]))
    n_feat, n_rows = model.n_features, model.coef.shape[0]
    g = _Graph()
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731

    text = "text"
    if s.get("lowercase", True):
        text = g.op("StringNormalizer", [text], "lower", case_change_action="LOWER", is_case_sensitive=1,
                    locale=LOCALE)
    tokens = g.op(
        "Tokenizer", [text], "tokens", domain="com.microsoft", mark=0, mincharnum=2, pad_value=PAD,
        separators=[BR_LOWER if s.get("lowercase", True) else BR_ANY_CASE, "[^" + re2_class(model.word_ranges) + "]"],
    )
    wid = g.op("LabelEncoder", [tokens], "word_digit", domain="ai.onnx.ml",
               keys_strings=tables.words, values_tensor=_tensor("v", np.arange(1, tables.base - 1, dtype=np.int64)),
               default_tensor=_tensor("d", i64([tables.base - 1])))
    lo, hi = tables.ngram_range
    keys = [_ngram_keys(g, wid, n, tables.base) for n in range(lo, hi + 1)]
    key = keys[0] if len(keys) == 1 else g.op("Concat", keys, "keys", axis=1)
    fid = g.op("LabelEncoder", [key], "fid", domain="ai.onnx.ml",
               keys_tensor=_tensor("k", tables.keys), values_tensor=_tensor("v", np.arange(n_feat, dtype=np.int64)),
               default_tensor=_tensor("d", i64([-1])))

    # one flat list of row*F + fid over the features present, sorted so repeats are adjacent
    n_text = g.op("Shape", ["text"], "n")
    row = g.op("Unsqueeze", [g.op("Range", [g.const("zero", i64(0)), g.op("Squeeze", [n_text]), g.const("one", i64(1))],
                                  "rows"), g.const("ax", i64([1]))], "row_col")
    F = g.const("F", i64(n_feat))
    flat = g.op("Reshape", [g.op("Add", [g.op("Mul", [row, F]), fid]), g.const("flat", i64([-1]))], "rowkey")
    valid = g.op("Reshape", [g.op("GreaterOrEqual", [fid, g.const("zero", i64(0))]), g.const("flat", i64([-1]))])
    present = g.op("Compress", [flat, valid], "present", axis=0)
    sorted_keys = g.op("TopK", [present, g.op("Shape", [present])], "sorted", n_out=2, largest=0, sorted=1)[0]

    # run lengths: in ascending order, a run starts where a key exceeds the one before it
    before = g.op("Concat", [g.const("minus1", i64([-1])),
                             g.op("Slice", [sorted_keys, g.const("s", i64([0])), g.const("e", i64([-1]))])], axis=0)
    starts = g.op("Squeeze", [g.op("NonZero", [g.op("Greater", [sorted_keys, before])]), g.const("ax", i64([0]))],
                  "starts")
    ends = g.op("Concat", [g.op("Slice", [starts, g.const("s", i64([1])), g.const("e", i64([INT64_MAX]))]),
                           g.op("Shape", [sorted_keys])], axis=0)
    counts = g.op("Cast", [g.op("Sub", [ends, starts])], "tf", to=onnx.TensorProto.DOUBLE)
    uniq = g.op("Gather", [sorted_keys, starts], "unique")
    urow = g.op("Div", [uniq, F], "urow")
    ufid = g.op("Sub", [uniq, g.op("Mul", [urow, F])], "ufid")

    one = g.const("one", np.array(1.0))
    if s.get("binary", False):
        tf = g.op("Div", [counts, counts], "tf_binary")
    elif s.get("sublinear_tf", False):
        tf = g.op("Add", [one, g.op("Log", [counts])], "tf_sublinear")
    else:
        tf = counts
    idf = model.idf if s.get("use_idf", True) else np.ones(n_feat)
    zeros_n = g.op("ConstantOfShape", [n_text], value=_tensor("z", np.zeros(1)))
    zeros_nk = g.op("ConstantOfShape", [g.op("Concat", [n_text, g.const("k", i64([n_rows]))], axis=0)],
                    value=_tensor("z", np.zeros(1)))
    weights = g.op("Mul", [tf, g.op("Gather", [g.const("idf", idf), ufid])], "tfidf")
    ucol = g.op("Unsqueeze", [urow, g.const("ax", i64([1]))])
    idf_coef = np.ascontiguousarray((model.coef * idf[None, :]).T)  # [F, rows]
    dot = g.op("ScatterND", [zeros_nk, ucol, g.op("Mul", [g.op("Unsqueeze", [tf, g.const("ax", i64([1]))]),
                                                           g.op("Gather", [g.const("idf_coef", idf_coef), ufid])])],
               "dot", reduction="add")
    norm_kind = s.get("norm", "l2")
    if norm_kind is None:
        score = dot
    else:
        mass = g.op("Mul", [weights, weights]) if norm_kind == "l2" else g.op("Abs", [weights])
        total = g.op("ScatterElements", [zeros_n, urow, mass], "norm_sum", axis=0, reduction="add")
        norm = g.op("Sqrt", [total]) if norm_kind == "l2" else total
        safe = g.op("Where", [g.op("Greater", [norm, g.const("z", np.array(0.0))]), norm, one], "norm")
        score = g.op("Div", [dot, g.op("Unsqueeze", [safe, g.const("ax", i64([1]))])])
    score = g.op("Add", [score, g.const("intercept", model.intercept)], "score")
    if n_rows == 1:  # two classes: scikit-learn's logistic on the class-1 score
        p1 = g.op("Sigmoid", [score])
        proba = g.op("Concat", [g.op("Sub", [one, p1]), p1], axis=1)
        positive = g.op("Greater", [score, g.const("z", np.array(0.0))])  # ties go to class 0, as in sklearn
        g.op("Cast", [g.op("Squeeze", [positive, g.const("ax", i64([1]))])], out="label", to=onnx.TensorProto.INT64)
    else:
        proba = g.op("Softmax", [score], axis=1)
        g.op("ArgMax", [score], out="label", axis=1, keepdims=0)
    g.op("Cast", [proba], out="probabilities", to=onnx.TensorProto.FLOAT)

    k = len(model.label_names)
    graph = helper.make_graph(
        g.nodes, "edge_distill_student",
        [helper.make_tensor_value_info("text", onnx.TensorProto.STRING, ["N"])],
        [helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, ["N", k]),
         helper.make_tensor_value_info("label", onnx.TensorProto.INT64, ["N"])],
        initializer=g.inits,
        value_info=[helper.make_tensor_value_info(tokens, onnx.TensorProto.STRING, ["N", "T"])],
    )
    proto = helper.make_model(
        graph, producer_name="edge-distill", ir_version=IR_VERSION,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET),
                       helper.make_opsetid("com.microsoft", MS_OPSET)],
    )
    helper.set_model_props(proto, {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})
    return proto
