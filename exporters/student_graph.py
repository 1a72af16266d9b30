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
so the graph is kept to few nodes (tests/test_export_student.py pins their count): one regex
separator, no masking (unknown n-grams meet a zero row of the table), and no Where or
Compress (the start mass of the norm keeps an empty row finite).

With character n-grams (:mod:`toolkit.char_features`), a second branch splits the lowercased
text into code points (Tokenizer, character mode), maps each to its alphabet digit (the edge
digit for every other character and the padding), frames each row with the edge digit and keys
its n-grams the same way; their feature ids join the word ids before the runs. Each block
(words, characters) then has its own score columns and norm column, so each is normalised on
its own, and the one Gemm adds the blocks' scores.

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

from edge_distill.exporters.platform_ops import lower_alternatives, word_variants
from edge_distill.exporters.text_ops import IR_VERSION, LOCALE, PAD, opset_imports, separator
from edge_distill.runtime.errors import DataError
from edge_distill.runtime.extras import require
from edge_distill.toolkit.features import CHAR_EDGE, CHAR_MARK

#: Version of the graph layout; part of the run's stage key, so a rebuilt graph re-exports cached runs.
#: 5: character n-grams, a norm per block; 4: per-row sums without ScatterND (a race in onnxruntime's CPU
#: kernel); 3: client spellings of words (platform_ops); 2: one separator, null feature
GRAPH_VERSION = "5"
INT64_MAX = np.iinfo(np.int64).max


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
    for name, parts in zip(vocabulary, split, strict=True):
        if not lo <= len(parts) <= hi or "" in parts:
            raise UnsupportedSetting(f"feature {name!r} is not a {lo}..{hi}-gram of words")
    keys = _keys(split, {w: i + 1 for i, w in enumerate(words)}, base)
    return NgramTables(words, keys, base, (lo, hi))


def _keys(grams: Sequence[Sequence[str]], digit: dict[str, int], base: int) -> np.ndarray:
    """Each n-gram's key: its digits read as a number in ``base``, the first most significant."""
    keys = np.empty(len(grams), np.int64)
    for j, parts in enumerate(grams):
        key = 0
        for part in parts:
            key = key * base + digit[part]
        keys[j] = key
    return keys


@dataclass(frozen=True)
class CharTables:
    """The character branch's tables: the alphabet (digits ``1..A``; the edge ``A + 1``) and the
    key of each character n-gram feature, in base ``A + 2``."""

    alphabet: str
    keys: np.ndarray  # int64 [C]
    base: int
    ngram_range: tuple[int, int]


def char_tables(names: Sequence[str], alphabet: str, ngram_range: Sequence[int]) -> CharTables:
    """Key each character feature (``CHAR_MARK`` + its characters) over ``alphabet``.

    Raises :class:`UnsupportedSetting` for a character outside the alphabet, a length outside
    ``ngram_range`` or keys that would overflow int64."""
    lo, hi = ngram_range
    base = len(alphabet) + 2
    if base**hi > INT64_MAX:
        raise UnsupportedSetting(f"{hi}-gram keys over {len(alphabet)} characters would overflow int64")
    digit = {c: i + 1 for i, c in enumerate(alphabet)}
    digit[CHAR_EDGE] = base - 1
    grams = [name[len(CHAR_MARK) :] for name in names]
    for name, chars in zip(names, grams, strict=True):
        if not name.startswith(CHAR_MARK) or not lo <= len(chars) <= hi or any(c not in digit for c in chars):
            raise UnsupportedSetting(f"feature {name!r} is not a {lo}..{hi}-gram of the character alphabet")
    return CharTables(alphabet, _keys(grams, digit, base), base, (lo, hi))


def word_keys(words: Sequence[str], lowercase: bool = True) -> tuple[list[str], np.ndarray]:
    """The word lookup's keys and digits: each word (digit ``1..W``) plus, when the graph
    lowercases, the spellings other onnxruntime clients' lowercasing makes of it
    (:func:`exporters.platform_ops.word_variants`), with the same digit."""
    variants = word_variants(words) if lowercase else []
    keys = list(words) + [v for v, _ in variants]
    digits = np.array([i + 1 for i in range(len(words))] + [i + 1 for _, i in variants], np.int64)
    return keys, digits


def char_keys(alphabet: str, lowercase: bool = True) -> tuple[list[str], np.ndarray]:
    """The character lookup's keys and digits: each alphabet character (digit ``1..A``) plus,
    when the graph lowercases, the letters other clients' lowercasing makes in its place."""
    alts = lower_alternatives() if lowercase else {}
    pairs = [(c, i + 1) for i, c in enumerate(alphabet)]
    pairs += [(a, i + 1) for i, c in enumerate(alphabet) for a in sorted(alts.get(c, ())) if a not in alphabet]
    return [c for c, _ in pairs], np.array([d for _, d in pairs], np.int64)


def _lookup(g: _Graph, x: str, hint: str, keys, values: np.ndarray, default: int) -> str:
    """A LabelEncoder from ``keys`` (strings, or an int64 array) to int64 ``values``, else ``default``."""
    by_kind = {"keys_strings": keys} if isinstance(keys, list) else {"keys_tensor": _tensor("k", keys)}
    return g.op(
        "LabelEncoder",
        [x],
        hint,
        domain="ai.onnx.ml",
        values_tensor=_tensor("v", values),
        default_tensor=_tensor("d", _i64([default])),
        **by_kind,
    )


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


def feature_table(model) -> tuple[np.ndarray, str | None, int]:
    """The float64 table gathered once per distinct n-gram, the norm kind and the block count B.

    Per block (words; characters, when the model has them) K score columns holding ``idf * coef``
    (K = the rows of ``coef``; zero outside the block), then with a norm one column per block
    holding ``idf`` (l1) or ``idf**2`` (l2), so one pass sums the scores and each block's norm
    mass together. Row F is the null feature (unknown n-grams): all zeros, it adds nothing.
    """
    s = model.settings
    idf = np.asarray(model.idf if s.get("use_idf", True) else np.ones(model.n_features), np.float64)
    n_word = model.n_word_features
    blocks = [np.arange(model.n_features) < n_word]
    if n_word < model.n_features:
        blocks.append(~blocks[0])
    weighted = (model.coef * idf[None, :]).T
    cols = [weighted * b[:, None] for b in blocks]
    norm_kind = s.get("norm", "l2")
    if norm_kind is not None:
        cols += [((idf**2 if norm_kind == "l2" else idf) * b)[:, None] for b in blocks]
    table = np.concatenate(cols, axis=1)
    return np.concatenate([table, np.zeros((1, table.shape[1]))]), norm_kind, len(blocks)


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
    n_word = model.n_word_features
    tables = ngram_tables(model.vocabulary[:n_word], tuple(model.settings["ngram_range"]))
    g = _Graph()
    text = _lowered(g, model)
    tokens, digits = _word_digits(g, model, tables, text)
    declared = [(tokens, "T")]
    fid, shape_n1 = _feature_ids(g, digits, tables, n_word, model.n_features)
    if n_word < model.n_features:
        chars = char_tables(model.vocabulary[n_word:], model.char_alphabet, model.settings["char_ngram_range"])
        cfid, char_tokens = _char_feature_ids(g, model, chars, text, shape_n1, n_word)
        declared.append((char_tokens, "C"))
        fid = g.op("Concat", [fid, cfid], "word_and_char_fid", axis=1)
    counts, ufid, last = _runs(g, fid, model.n_features, shape_n1)
    unit, n_blocks = _normalized_sums(g, model, counts, ufid, last)
    _outputs(g, model, unit, n_blocks)
    return _model_proto(g, model, declared, metadata)


def _lowered(g: _Graph, model) -> str:
    """The input text, lowercased per code point when the model lowercases."""
    if not model.settings.get("lowercase", True):
        return "text"
    return g.op("StringNormalizer", ["text"], "lower", case_change_action="LOWER", is_case_sensitive=1, locale=LOCALE)


def _word_digits(g: _Graph, model, tables: NgramTables, text: str) -> tuple[str, str]:
    """Tokenize the (lowercased) text as the Python analyzer does, then map each token to its
    word digit (unknown words and padding: the sentinel). Returns the tokens and the digits."""
    lowercase = model.settings.get("lowercase", True)
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
    return tokens, _lookup(g, tokens, "word_digit", words, digits, tables.base - 1)


def _feature_ids(g: _Graph, wid: str, tables: NgramTables, n_word: int, n_feat: int) -> tuple[str, str]:
    """Feature ids ``[N, W']`` of every n-gram of each text, plus one null id per row so no row
    is empty; unknown n-grams get the null feature F rather than being dropped (no masking).
    Also returns the ``[N, 1]`` shape, which later seeds the per-row sums."""
    # one extra key 0 per row (no feature's key: a leading digit is never 0), so every row
    # holds the null id F and is at least one wide; the [N, 1] shape also seeds the sums
    shape_n1 = g.op("Concat", [g.op("Shape", ["text"], "n"), g.const("one", _i64([1]))], "shape_n1", axis=0)
    keys = _ngram_keys(g, wid, tables.ngram_range, tables.base)
    keys.append(g.op("Expand", [g.const("zero_key", _i64([[0]])), shape_n1], "null_key"))
    key = g.op("Concat", keys, "keys", axis=1)
    return _lookup(g, key, "fid", tables.keys, np.arange(n_word, dtype=np.int64), n_feat), shape_n1


def _char_feature_ids(g: _Graph, model, tables: CharTables, text: str, shape_n1: str, n_word: int) -> tuple[str, str]:
    """Feature ids ``[N, C']`` of the character n-grams: code points -> alphabet digits (the
    edge digit for any other character and for the padding), each row framed by the edge,
    keyed per order like the words; unknown n-grams get the null id F. Also returns the
    characters' name (their shape is declared)."""
    chars = g.op(
        "Tokenizer", [text], "chars", domain="com.microsoft", mark=0, mincharnum=1, pad_value=PAD, separators=[""]
    )
    keys, digits = char_keys(tables.alphabet, model.settings.get("lowercase", True))
    cid = _lookup(g, chars, "char_digit", keys, digits, tables.base - 1)
    frame = g.op("Expand", [g.const("edge", _i64([[tables.base - 1]])), shape_n1], "edge_column")
    framed = g.op("Concat", [frame, cid, frame], "framed_chars", axis=1)
    key = g.op("Concat", _ngram_keys(g, framed, tables.ngram_range, tables.base), "char_keys", axis=1)
    n_char = len(tables.keys)
    values = np.arange(n_word, n_word + n_char, dtype=np.int64)
    return _lookup(g, key, "char_fid", tables.keys, values, n_word + n_char), chars


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
    the per-row sums (the norms' mass among them) are differences of a running sum taken at each
    row's last run. A ScatterND add would be shorter, but onnxruntime's CPU kernel adds duplicate
    indices from several threads at once and loses some (seen on 256 long reviews, 2 threads).
    Returns them and the block count."""
    onnx = require("onnx", "the student export")
    s, n_rows = model.settings, model.coef.shape[0]
    table, norm_kind, n_blocks = feature_table(model)
    n_score = n_blocks * n_rows
    gathered = g.op("GatherND", [g.const("table", table), ufid], "idf_coef")  # [U, K']
    if s.get("binary", False):
        terms = gathered  # tf = 1
    else:
        tf = g.op("Cast", [counts], "count", to=onnx.TensorProto.DOUBLE)
        if s.get("sublinear_tf", False):
            tf = g.op("Add", [g.op("Log", [tf]), g.const("one", np.array(1.0))], "tf_sublinear")
        if norm_kind == "l2":  # the norm columns need w**2 = tf**2 * idf**2: one more factor tf
            square = g.op("Mul", [tf, tf])
            tf = g.op("Concat", [tf] * n_score + [square] * n_blocks, "tf_and_square", axis=1)
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
        return sums, n_blocks
    start = np.zeros((1, table.shape[1]))
    start[0, n_score:] = TINY_MASS
    sums = g.op("Add", [sums, g.const("start", start)], "sums_and_start")
    mass = g.op(
        "Slice",
        [sums, g.const("s", _i64([n_score])), g.const("e", _i64([n_score + n_blocks])), g.const("ax", _i64([1]))],
        "mass",
    )
    norm = g.op("Sqrt", [mass]) if norm_kind == "l2" else mass
    if n_blocks > 1:  # each block's norm under its score columns and its mass column
        spread = np.zeros((n_blocks, table.shape[1]))
        for b in range(n_blocks):
            spread[b, b * n_rows : (b + 1) * n_rows] = spread[b, n_score + b] = 1.0
        norm = g.op("MatMul", [norm, g.const("block_norm", spread)], "block_norms")
    return g.op("Div", [sums, norm], "normalized"), n_blocks


def _outputs(g: _Graph, model, unit: str, n_blocks: int) -> None:
    """The linear scores and the graph's outputs ``probabilities`` (float32) and ``label``."""
    onnx = require("onnx", "the student export")
    n_rows = model.coef.shape[0]
    n_cols = n_blocks * (n_rows + 1) if model.settings.get("norm", "l2") is not None else n_blocks * n_rows
    # one Gemm adds the blocks' score columns and the intercept; two classes give [-s, s] so the
    # sigmoid yields both probabilities and ArgMax sends a tie (s == 0) to class 0, as scikit-learn
    pick = np.zeros((n_cols, 2 if n_rows == 1 else n_rows))
    for b in range(n_blocks):
        pick[b * n_rows : (b + 1) * n_rows] = [[-1.0, 1.0]] if n_rows == 1 else np.eye(n_rows)
    intercept = np.asarray(model.intercept, np.float64)
    bias = np.array([-intercept[0], intercept[0]]) if n_rows == 1 else intercept
    score = g.op("Gemm", [unit, g.const("pick", pick), g.const("intercept", bias)], "score")
    proba = g.op("Sigmoid", [score]) if n_rows == 1 else g.op("Softmax", [score], axis=1)
    g.op("ArgMax", [score], out="label", axis=1, keepdims=0)
    g.op("Cast", [proba], out="probabilities", to=onnx.TensorProto.FLOAT)


def _model_proto(g: _Graph, model, tokens: list[tuple[str, str]], metadata: dict[str, str]):
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
        # the contrib Tokenizer has no ONNX schema: its outputs' shapes are declared for shape inference
        value_info=[helper.make_tensor_value_info(t, onnx.TensorProto.STRING, ["N", d]) for t, d in tokens],
    )
    proto = helper.make_model(
        graph,
        producer_name="edge-distill",
        ir_version=IR_VERSION,
        opset_imports=opset_imports(),
    )
    helper.set_model_props(proto, {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})
    return proto
