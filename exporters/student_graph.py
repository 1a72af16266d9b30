"""The student's ONNX graph: sparse TF-IDF + linear model whose cost follows the text length.

The ONNX ``TfIdfVectorizer`` op builds a dense row of all F features per text, so its cost
grows with the vocabulary. This graph touches only the n-grams a text contains::

    text -> StringNormalizer(lower) -> Tokenizer(one separator) -> word ids (LabelEncoder; also
         the spellings other onnxruntime builds' lowercasing makes of a word, platform_ops)
         -> n-gram keys in base W+2 from adjacent word ids, plus one key 0 per row
         -> feature ids (LabelEncoder; unknown n-grams and key 0 -> the null id F)
         -> each row sorted (TopK), flattened; runs of equal ids end where the next id differs
         -> per run: count, feature -> one gathered float64 row [idf*coef..., idf**p] times tf
         -> per-row sums (a running sum taken at each row's last run, minus the row before's):
            scores and the norm's mass together; no ScatterND, whose CPU kernel in onnxruntime
            adds duplicate indices from several threads at once and loses some
         -> / norm -> Gemm (score columns + intercept) -> logistic / softmax (float32), label

Batch-1 latency on a shared CPU is mostly per-node overhead and cache misses, not arithmetic,
so the graph is kept to ~55 nodes (tests/test_export_student.py pins it): one regex
separator, no masking (unknown n-grams meet a zero row of the table), and no Where or
Compress (the start mass of the norm keeps an empty row finite).

Words are digits ``1..W``; padding and unknown words get the sentinel digit ``S = W + 1``. An
n-gram's key is ``sum(d_i * B**(n-1-i))`` in base ``B = W + 2``: digits never reach ``B`` and the
leading one is never 0, so keys are unique across all n, and a key holding the sentinel is no
feature's key and falls to the LabelEncoder's default with no masking.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.runtime.textclean import BR_ANY_CASE
from edge_distill.toolkit.extras import require
from edge_distill.toolkit.features import BR_LOWER, re2_class

#: Version of the graph layout; part of the run's stage key, so a rebuilt graph re-exports cached runs.
#: 4: per-row sums without ScatterND (a race in onnxruntime's CPU kernel); 3: client spellings of words
#: (platform_ops); 2: one separator, null feature, 41 nodes
GRAPH_VERSION = "4"
PAD = "\x01"  # never a token: U+0001 is not a word code point
LOCALE = "C.UTF-8"
OPSET = 21
ML_OPSET = 4
MS_OPSET = 1
IR_VERSION = 10
INT64_MAX = np.iinfo(np.int64).max


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


class UnsupportedSetting(DataError):
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
    if base**hi > INT64_MAX:
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


def word_keys(words: Sequence[str], lowercase: bool = True) -> tuple[list[str], np.ndarray]:
    """The word lookup's keys and digits: each word (digit ``1..W``) plus, when the graph
    lowercases, the spellings other onnxruntime clients' lowercasing makes of it
    (:func:`exporters.platform_ops.word_variants`), with the same digit."""
    from edge_distill.exporters.platform_ops import word_variants

    variants = word_variants(words) if lowercase else []
    keys = list(words) + [v for v, _ in variants]
    digits = np.array([i + 1 for i in range(len(words))] + [i + 1 for _, i in variants], np.int64)
    return keys, digits


def _tensor(name: str, array: np.ndarray):
    numpy_helper = require("onnx.numpy_helper", "the student export")
    return numpy_helper.from_array(np.ascontiguousarray(array), name)


class _Graph:
    """A tiny node builder: unique names, constants as initializers (each distinct value once)."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self._n = 0
        self._consts: dict[tuple, str] = {}

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, value) -> str:
        """An initializer holding ``value``; an equal small value (dtype, shape, bytes) is shared."""
        array = np.asarray(value)
        key = (array.dtype.str, array.shape, array.tobytes()) if array.size <= 16 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.name(hint)
        self.inits.append(_tensor(name, array))
        if key is not None:
            self._consts[key] = name
        return name

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        hint: str = "",
        n_out: int = 1,
        domain: str = "",
        out: str | None = None,
        outs: Sequence[str] = (),
        **attrs,
    ) -> str | list[str]:
        """Add a node; its outputs are named from ``hint``, or exactly ``out`` (one) or ``outs``
        (several, ``""`` for an optional output left out)."""
        helper = require("onnx.helper", "the student export")
        outs = list(outs) or ([out] if out else [self.name(hint or op_type.lower()) for _ in range(n_out)])
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outs, name=self.name(op_type), domain=domain, **attrs)
        )
        return outs[0] if n_out == 1 else outs


def _ngram_keys(g: _Graph, digits: str, ngram_range: tuple[int, int], base: int) -> list[str]:
    """Keys [N, T-n+1] of the n-grams of each order in ``ngram_range``, each order from the one
    before (``key_n[t] = key_{n-1}[t] * B + digit[t+n-1]``): two slices, a Mul and an Add per order."""
    lo, hi = ngram_range
    axis = g.const("axis1", np.array([1], np.int64))
    zero, minus1 = g.const("start", np.array([0], np.int64)), g.const("end", np.array([-1], np.int64))
    end = g.const("end", np.array([INT64_MAX], np.int64))
    b = g.const("base", np.array(base, np.int64))
    key, keys = digits, []
    for n in range(1, hi + 1):
        if n > 1:
            head = g.op("Slice", [key, zero, minus1, axis], f"head{n}")
            tail = g.op("Slice", [digits, g.const("start", np.array([n - 1], np.int64)), end, axis], f"tail{n}")
            key = g.op("Add", [g.op("Mul", [head, b]), tail], f"key{n}")
        if n >= lo:
            keys.append(key)
    return keys


def feature_table(model) -> tuple[np.ndarray, str | None]:
    """The float64 table ``[F + 1, K']`` gathered once per distinct n-gram, and the norm kind.

    Columns ``0..K-1`` hold ``idf * coef`` (K = the rows of ``coef``); with a norm, column K holds
    ``idf`` (l1) or ``idf**2`` (l2), so one scatter sums the scores and the norm's mass together.
    Row F is the null feature (unknown n-grams): all zeros, so it adds exactly nothing.
    """
    s = model.settings
    idf = np.asarray(model.idf if s.get("use_idf", True) else np.ones(model.n_features), np.float64)
    cols = [(model.coef * idf[None, :]).T]
    norm_kind = s.get("norm", "l2")
    if norm_kind is not None:
        cols.append((idf**2 if norm_kind == "l2" else idf)[:, None])
    table = np.concatenate(cols, axis=1)
    return np.concatenate([table, np.zeros((1, table.shape[1]))]), norm_kind


#: the norm column's starting mass: below any real term (each is >= 1, as tf >= 1 and idf >= 1)
#: by far more than float64's 53 bits, so it vanishes in the first addition, yet makes an empty
#: row's norm positive (0 / tiny = 0) without a Where
TINY_MASS = 1e-300


def _i64(value) -> np.ndarray:
    return np.array(value, np.int64)


def build_student_graph(model, metadata: dict[str, str]):
    """The ONNX ModelProto of a ``tfidf`` :class:`toolkit.student.model.StudentModel`.

    The stages add their nodes in a fixed order (names are numbered as they are made), so the
    graph is the same bytes for the same model: :data:`GRAPH_VERSION` keys the exports cache.
    """
    tables = ngram_tables(model.vocabulary, tuple(model.settings["ngram_range"]))
    g = _Graph()
    tokens, digits = _word_digits(g, model, tables)
    fid, shape_n1 = _feature_ids(g, digits, tables, model.n_features)
    counts, ufid, last = _runs(g, fid, model.n_features, shape_n1)
    unit, n_cols = _normalized_sums(g, model, counts, ufid, last)
    _outputs(g, model, unit, n_cols)
    return _model_proto(g, model, tokens, metadata)


def _word_digits(g: _Graph, model, tables: NgramTables) -> tuple[str, str]:
    """Lowercase and tokenize the text as the Python analyzer does, then map each token to its
    word digit (unknown words and padding: the sentinel). Returns the tokens and the digits."""
    lowercase = model.settings.get("lowercase", True)
    text = "text"
    if lowercase:
        text = g.op("StringNormalizer", [text], "lower", case_change_action="LOWER", is_case_sensitive=1, locale=LOCALE)
    tokens = g.op(
        "Tokenizer",
        [text],
        "tokens",
        domain="com.microsoft",
        mark=0,
        mincharnum=2,
        pad_value=PAD,
        separators=[separator(model.word_ranges, lowercase)],
    )
    words, digits = word_keys(tables.words, lowercase)
    wid = g.op(
        "LabelEncoder",
        [tokens],
        "word_digit",
        domain="ai.onnx.ml",
        keys_strings=words,
        values_tensor=_tensor("v", digits),
        default_tensor=_tensor("d", _i64([tables.base - 1])),
    )
    return tokens, wid


def _feature_ids(g: _Graph, wid: str, tables: NgramTables, n_feat: int) -> tuple[str, str]:
    """Feature ids ``[N, W']`` of every n-gram of each text, plus one null id per row so no row
    is empty; unknown n-grams get the null feature F rather than being dropped (no masking).
    Also returns the ``[N, 1]`` shape, which later seeds the per-row sums."""
    # one extra key 0 per row (no feature's key: a leading digit is never 0), so every row
    # holds the null id F and is at least one wide; the [N, 1] shape also seeds the sums
    shape_n1 = g.op("Concat", [g.op("Shape", ["text"], "n"), g.const("one", _i64([1]))], "shape_n1", axis=0)
    keys = _ngram_keys(g, wid, tables.ngram_range, tables.base)
    keys.append(g.op("Expand", [g.const("zero_key", _i64([[0]])), shape_n1], "null_key"))
    key = g.op("Concat", keys, "keys", axis=1)
    fid = g.op(
        "LabelEncoder",
        [key],
        "fid",
        domain="ai.onnx.ml",
        keys_tensor=_tensor("k", tables.keys),
        values_tensor=_tensor("v", np.arange(n_feat, dtype=np.int64)),
        default_tensor=_tensor("d", _i64([n_feat])),
    )
    return fid, shape_n1


def _runs(g: _Graph, fid: str, n_feat: int, shape_n1: str) -> tuple[str, str, str]:
    """Each distinct (row, feature) with its count, so a weight is gathered once per distinct
    n-gram of a row, in scikit-learn's order. Returns counts and feature ids ``[U, 1]``, and the
    ``[N]`` positions (among the runs) of each row's last run."""
    # Sort every row (TopK), offset row r's ids by r * (F + 1) so keys rise across rows, flatten,
    # and a run ends where the next key differs (a sentinel after the last). F, in every row, is
    # its largest id, so each row's last position ends its last run: the positions p with
    # (p + 1) % width == 0. Runs come in scikit-learn's order (row, then column); count = end -
    # previous end. No run crosses rows, so per-row sums need no scatter (see _normalized_sums).
    width = g.op("Shape", [fid], "width", start=1)
    ranked = g.op("TopK", [fid, width], "sorted", n_out=2, axis=1, largest=0, sorted=1)[0]
    stride = g.op("ConstantOfShape", [shape_n1], "stride", value=_tensor("F1", _i64([n_feat + 1])))
    offset = g.op("Sub", [g.op("CumSum", [stride, g.const("axis0", _i64(0))]), stride], "row_offset")
    flat_col = g.const("flat", _i64([-1]))
    key = g.op("Reshape", [g.op("Add", [ranked, offset]), flat_col], "flat_key")
    flat = g.op("Reshape", [ranked, flat_col], "flat")
    following = g.op(
        "Concat",
        [
            g.op("Slice", [key, g.const("s", _i64([1])), g.const("e", _i64([INT64_MAX]))]),
            g.const("sentinel", _i64([INT64_MAX])),
        ],
        "following",
        axis=0,
    )
    ends = g.op("Reshape", [g.op("NonZero", [g.op("Sub", [following, key])]), g.const("col", _i64([-1, 1]))], "run_end")
    before = g.op(
        "Concat",
        [g.const("minus1", _i64([[-1]])), g.op("Slice", [ends, g.const("s", _i64([0])), g.const("e", _i64([-1]))])],
        "previous_end",
        axis=0,
    )
    counts = g.op("Sub", [ends, before], "counts")
    ufid = g.op("Gather", [flat, ends], "ufid")
    after = g.op("Reshape", [g.op("Add", [ends, g.const("one_i", _i64(1))]), flat_col], "after_end")  # [U]
    row_end = g.op("Equal", [g.op("Mod", [after, width]), g.const("zero_i", _i64(0))])
    last = g.op("Reshape", [g.op("NonZero", [row_end]), flat_col], "row_last_run")  # [N]
    return counts, ufid, last


def _normalized_sums(g: _Graph, model, counts: str, ufid: str, last: str) -> tuple[str, int]:
    """Per-row TF-IDF-weighted scores, normalised: one gathered table row per run times its tf;
    the per-row sums (the norm's mass among them) are differences of a running sum taken at each
    row's last run. A ScatterND add would be shorter, but onnxruntime's CPU kernel adds duplicate
    indices from several threads at once and loses some (seen on 256 long reviews, 2 threads).
    Returns them and the table width."""
    onnx = require("onnx", "the student export")
    s, n_rows = model.settings, model.coef.shape[0]
    table, norm_kind = feature_table(model)
    gathered = g.op("GatherND", [g.const("table", table), ufid], "idf_coef")  # [U, K']
    if s.get("binary", False):
        terms = gathered  # tf = 1
    else:
        tf = g.op("Cast", [counts], "count", to=onnx.TensorProto.DOUBLE)
        if s.get("sublinear_tf", False):
            tf = g.op("Add", [g.op("Log", [tf]), g.const("one", np.array(1.0))], "tf_sublinear")
        if norm_kind == "l2":  # the norm column needs w**2 = tf**2 * idf**2: one more factor tf
            tf = g.op("Concat", [tf] * n_rows + [g.op("Mul", [tf, tf])], "tf_and_square", axis=1)
        terms = g.op("Mul", [gathered, tf], "terms")  # [w * coef..., w**p]
    running = g.op("Gather", [g.op("CumSum", [terms, g.const("axis0", _i64(0))]), last], "row_total", axis=0)
    earlier = g.op(
        "Concat",
        [
            g.const("zero_row", np.zeros((1, table.shape[1]))),
            g.op("Slice", [running, g.const("s", _i64([0])), g.const("e", _i64([-1]))]),
        ],
        "earlier_total",
        axis=0,
    )
    sums = g.op("Sub", [running, earlier], "sums")  # [N, K'] per-row sums
    if norm_kind is None:
        return sums, table.shape[1]
    start = np.zeros((1, table.shape[1]))
    start[0, -1] = TINY_MASS
    sums = g.op("Add", [sums, g.const("start", start)], "sums_and_start")
    mass = g.op(
        "Slice",
        [sums, g.const("s", _i64([n_rows])), g.const("e", _i64([n_rows + 1])), g.const("ax", _i64([1]))],
        "mass",
    )
    return g.op("Div", [sums, g.op("Sqrt", [mass]) if norm_kind == "l2" else mass], "normalized"), table.shape[1]


def _outputs(g: _Graph, model, unit: str, n_cols: int) -> None:
    """The linear scores and the graph's outputs ``probabilities`` (float32) and ``label``."""
    onnx = require("onnx", "the student export")
    n_rows = model.coef.shape[0]
    # one Gemm picks the score columns and adds the intercept; two classes give [-s, s] so the
    # sigmoid yields both probabilities and ArgMax sends a tie (s == 0) to class 0, as scikit-learn
    if n_rows == 1:
        pick = np.zeros((n_cols, 2))
        pick[0] = [-1.0, 1.0]
        bias = np.array([-model.intercept[0], model.intercept[0]])
    else:
        pick = np.eye(n_cols, n_rows)
        bias = np.asarray(model.intercept, np.float64)
    score = g.op("Gemm", [unit, g.const("pick", pick), g.const("intercept", bias)], "score")
    proba = g.op("Sigmoid", [score]) if n_rows == 1 else g.op("Softmax", [score], axis=1)
    g.op("ArgMax", [score], out="label", axis=1, keepdims=0)
    g.op("Cast", [proba], out="probabilities", to=onnx.TensorProto.FLOAT)


def _model_proto(g: _Graph, model, tokens: str, metadata: dict[str, str]):
    """The ModelProto around the nodes: typed inputs and outputs, opsets, and the metadata."""
    onnx = require("onnx", "the student export")
    helper = onnx.helper
    k = len(model.label_names)
    graph = helper.make_graph(
        g.nodes,
        "edge_distill_student",
        [helper.make_tensor_value_info("text", onnx.TensorProto.STRING, ["N"])],
        [
            helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, ["N", k]),
            helper.make_tensor_value_info("label", onnx.TensorProto.INT64, ["N"]),
        ],
        initializer=g.inits,
        value_info=[helper.make_tensor_value_info(tokens, onnx.TensorProto.STRING, ["N", "T"])],
    )
    proto = helper.make_model(
        graph,
        producer_name="edge-distill",
        ir_version=IR_VERSION,
        opset_imports=opset_imports(),
    )
    helper.set_model_props(proto, {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})
    return proto
