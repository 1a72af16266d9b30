"""Student export: op agreement on every code point, exact parity, refusals, gate, integrity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from student_support import NEGATIVE, NEUTRAL, POSITIVE, fitted_student, synthetic_corpus

from edge_distill import runtime
from edge_distill.exporters.student import (
    ParityError,
    UnsupportedSetting,
    export_bytes,
    export_student,
    student_from_sklearn,
)
from edge_distill.exporters.student_checks import check_lowercase, check_word_class
from edge_distill.exporters.student_graph import ngram_tables
from edge_distill.exporters.student_parity import adversarial_texts, measure_parity
from edge_distill.runtime.base import ArtifactError, open_session
from edge_distill.runtime.student import StudentClassifier
from edge_distill.toolkit.features import make_vectorizer, word_ranges
from edge_distill.toolkit.student.prune import estimated_onnx_bytes


def _classifier(model) -> StudentClassifier:
    data = export_bytes(model, check_ops=False)
    sess, meta = open_session(data, "test.onnx", threads=1)
    return StudentClassifier.from_session(Path("test.onnx"), sess, meta)


@pytest.fixture(scope="module")
def binary():
    model = fitted_student(2)
    return model, _classifier(model), model.pipeline()


@pytest.fixture(scope="module")
def three():
    model = fitted_student(3)
    return model, _classifier(model), model.pipeline()


def test_lowercase_agrees_with_python_on_every_code_point():
    assert check_lowercase() == 1_112_064


def test_word_class_agrees_with_python_on_every_code_point():
    assert check_word_class(word_ranges()) == 1_112_064


@pytest.mark.parametrize("fixture", ["binary", "three"])
def test_exact_on_adversarial_and_synthetic_texts(fixture, request):
    model, clf, pipe = request.getfixturevalue(fixture)
    texts = adversarial_texts(model.vocabulary) + synthetic_corpus(300, len(model.label_names), seed=7)[0]
    report = measure_parity(clf, pipe, texts)
    assert report.ok, report
    assert report.max_abs_diff < 1e-6 and report.label_agreement == 1.0


@pytest.mark.parametrize("batch", [[""], ["", " ", "<br />", "a", "\x00"], ["unknownword"]])
def test_batches_without_any_feature(batch, binary):
    """No token (or no known n-gram) in the whole batch: the scores are the intercepts."""
    _, clf, pipe = binary
    assert measure_parity(clf, pipe, batch).ok


@pytest.mark.parametrize(
    "features",
    [
        {"norm": "l1"},
        {"norm": None},
        {"sublinear_tf": False},
        {"binary": True},
        {"use_idf": False},
        {"smooth_idf": False},
        {"ngram_range": (1, 3)},
        {"ngram_range": (2, 3)},
        {"ngram_range": (1, 1)},
        {"max_df": 0.5, "max_features": 50},
    ],
)
def test_exact_for_every_exportable_setting(features):
    model = fitted_student(2, n=200, **features)
    report = measure_parity(_classifier(model), model.pipeline(), adversarial_texts(model.vocabulary)[:-1])
    assert report.ok, (features, report)


@pytest.mark.parametrize("objective", ["logit", "hard"])
def test_exact_for_other_objectives(objective):
    model = fitted_student(3, n=200, objective=objective)
    assert measure_parity(_classifier(model), model.pipeline(), adversarial_texts(model.vocabulary)[:-1]).ok


def test_uppercase_kept_when_lowercase_is_off():
    from edge_distill.toolkit.student.model import model_from_fitted

    texts, _, logits = synthetic_corpus(200, 2)
    vec = make_vectorizer(lowercase=False, min_df=1)
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(vec.fit_transform(texts), logits.argmax(axis=1))
    model = model_from_fitted(vec, clf, ("a", "b"))
    assert model.settings["lowercase"] is False and "Superbe" in " ".join(model.vocabulary)
    assert measure_parity(_classifier(model), model.pipeline(), adversarial_texts(model.vocabulary)[:-1]).ok


@pytest.mark.parametrize("lowercase", [True, False])
def test_line_breaks_join_words_like_python(lowercase):
    """'<br />' in any case is a space in Python: the bigram across it must fire in the graph too."""
    from sklearn.linear_model import LogisticRegression

    from edge_distill.toolkit.student.model import model_from_fitted

    texts = ["Superbe magnífico film", "BORING Nul plot", "Superbe magnífico", "BORING Nul"] * 5
    vec = make_vectorizer(lowercase=lowercase, min_df=1)
    clf = LogisticRegression().fit(vec.fit_transform(texts), [1, 0, 1, 0] * 5)
    model = model_from_fitted(vec, clf, ("a", "b"))
    assert ("superbe magnífico" if lowercase else "Superbe magnífico") in model.vocabulary
    probes = ["Superbe<BR>magnífico", "Superbe<br />magnífico", "BORING<bR\t/>Nul", "Superbe <Br/>BORING"]
    assert measure_parity(_classifier(model), model.pipeline(), probes).ok


words = st.sampled_from(POSITIVE + NEGATIVE + NEUTRAL + ["<br/>", "<BR >", "İ", "Σ", "ς", "\x00", "\u202e"])
noise = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=8)
seps = st.sampled_from([" ", "  ", "\n", "_", "'", "-"])
texts_st = st.lists(st.one_of(words, noise, seps), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(texts_st, min_size=1, max_size=4))
def test_any_string_matches_scikit_learn(batch, binary):
    """Any str (lone surrogates, NUL, RTL marks, any script): ONNX == sklearn, finite, sums to 1."""
    _, clf, pipe = binary
    labels, proba = clf.predict_with_proba(batch)
    ref = pipe.predict_proba(batch)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(proba, ref, atol=1e-6, rtol=0)
    assert [clf.labels.index(x) for x in labels] == list(pipe.predict(batch))


def _sk_student(**params):
    texts, _, logits = synthetic_corpus(100, 2)
    vec = make_vectorizer(min_df=1)
    vec.set_params(**params)
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(vec.fit_transform(texts), logits.argmax(axis=1))
    return vec, clf


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"strip_accents": "unicode"}, "strip_accents"),
        ({"stop_words": "english"}, "stop_words"),
        ({"analyzer": "char", "ngram_range": (2, 4)}, "char n-grams"),
        ({"analyzer": "char_wb"}, "analyzer='char_wb'"),
        ({"preprocessor": str.lower}, "preprocessor"),
        ({"token_pattern": r"(?u)\b\w\w+\b"}, "token_pattern"),
        ({"dtype": np.float32}, "float64"),
        ({"norm": "max"}, "norm"),
    ],
)
def test_refuses_settings_it_cannot_export_exactly(params, reason):
    vec, clf = _sk_student()
    vec.set_params(**params)  # after fitting: the checks read the settings, not the data
    with pytest.raises(UnsupportedSetting, match="cannot export") as err:
        student_from_sklearn(vec, clf, ("a", "b"))
    assert reason in str(err.value)


def test_accepts_make_vectorizer_with_vocabulary_pruning():
    vec, clf = _sk_student(max_df=0.9, min_df=2, max_features=40)
    model = student_from_sklearn(vec, clf, ("a", "b"))
    assert measure_parity(_classifier(model), model.pipeline(), adversarial_texts()[:-1]).ok


def test_refuses_the_seed_recipe_and_int64_overflow():
    from edge_distill.toolkit.student.seed import fit_seed

    texts, _, logits = synthetic_corpus(50, 2)
    with pytest.raises(UnsupportedSetting, match="seed"):
        export_bytes(fit_seed(texts, logits, ("a", "b")), check_ops=False)
    vocab = [f"w{i:05d}" for i in range(60_000)] + ["w00001 w00002 w00003 w00004"]
    with pytest.raises(UnsupportedSetting, match="overflow int64"):
        ngram_tables(vocab, (1, 4))


def test_failed_gate_writes_nothing(tmp_path, binary):
    model = binary[0]
    out = tmp_path / "student.onnx"
    with pytest.raises(ParityError, match=r"max \|Δp\| = .* \(tolerance -1\)") as err:
        export_student(model, out, tol=-1.0, check_ops=False)
    assert "nothing was written" in str(err.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_export_writes_one_file_with_metadata_and_size_estimate(tmp_path, binary):
    model = binary[0]
    model.info.update(
        {"objective": {"name": "soft", "C": 10.0}, "sizes": {"transfer": 400}, "metrics": {"test": {"accuracy": 0.9}}}
    )
    out = tmp_path / "student.onnx"
    result = export_student(model, out, texts=["a good film"], check_ops=False)
    assert result["parity"]["max_abs_diff"] < 1e-6 and list(tmp_path.iterdir()) == [out]
    clf = runtime.load(out)
    meta = clf.metadata
    assert meta["edge_distill.kind"] == "student" and meta["edge_distill.format_version"] == "1"
    assert json.loads(meta["edge_distill.labels"]) == ["negative", "positive"]
    assert json.loads(meta["edge_distill.objective"])["name"] == "soft"
    assert json.loads(meta["edge_distill.features"])["n_features"] == model.n_features
    assert json.loads(meta["edge_distill.training"]) == {"transfer": 400}
    assert json.loads(meta["edge_distill.metrics"])["test"]["accuracy"] == 0.9
    estimate = estimated_onnx_bytes(model.vocabulary, 1)
    assert out.stat().st_size <= estimate <= out.stat().st_size + 60_000


def test_tampered_file_is_refused(tmp_path, binary):
    out = tmp_path / "student.onnx"
    export_student(binary[0], out, check_ops=False)
    data = bytearray(out.read_bytes())
    data[bytes(data).index(binary[0].intercept.tobytes())] ^= 0x01  # a weight: the intercept
    bad = tmp_path / "tampered.onnx"
    bad.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        runtime.load(bad)
    (tmp_path / "short.onnx").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ArtifactError):
        runtime.load(tmp_path / "short.onnx")


def _tokenizer_session(separator: str):
    import onnx
    import onnxruntime as ort

    from edge_distill.exporters.text_ops import MS_OPSET, OPSET, PAD

    h = onnx.helper
    node = h.make_node(
        "Tokenizer", ["x"], ["y"], domain="com.microsoft", mark=0, mincharnum=2, pad_value=PAD, separators=[separator]
    )
    graph = h.make_graph(
        [node],
        "tok",
        [h.make_tensor_value_info("x", onnx.TensorProto.STRING, ["N"])],
        [h.make_tensor_value_info("y", onnx.TensorProto.STRING, ["N", "T"])],
    )
    model = h.make_model(
        graph, ir_version=10, opset_imports=[h.make_opsetid("", OPSET), h.make_opsetid("com.microsoft", MS_OPSET)]
    )
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


BR_PIECES = [
    "<br />",
    "<br/>",
    "<br>",
    "<BR >",
    "<bR\t/>",
    "<br",
    "br />",
    "<br<",
    "<brx>",
    "<",
    ">",
    "/",
    " ",
    "\n",
    "ab",
    "br",
    "x",
    "Word",
    "日本",
    "😀",
    "é",
    "__",
    "1",
]


@pytest.mark.parametrize("lowercase", [True, False])
def test_one_separator_splits_like_python(lowercase):
    """The single RE2 separator (non-word code points and line breaks, leftmost-longest) gives
    exactly Python's tokens: line break replaced by a space, then runs of 2+ word code points."""
    from edge_distill.exporters.text_ops import PAD, separator
    from edge_distill.toolkit.features import Normalizer, lower_table

    vec = make_vectorizer(lowercase=lowercase)
    tokenize, normalize = vec.build_tokenizer(), Normalizer(lowercase)
    rng = np.random.default_rng(0)
    texts = [
        "x <br /> y",
        " <br />ab",
        "<br<br />br <br/<br/>",
        "<brx>ab",
        "a<br>b",
        "ab<br",
        "<<br />>cd",
        "AB<BR>CD",
        "ab <bR\t/>cd",
        "<br  /  >ab",
    ]
    texts += ["".join(rng.choice(BR_PIECES, rng.integers(1, 12))) for _ in range(2000)]
    inputs = [t.translate(lower_table()) if lowercase else t for t in texts]  # as StringNormalizer hands it on
    got = _tokenizer_session(separator(word_ranges(), lowercase)).run(None, {"x": np.array(inputs, dtype=object)})[0]
    for text, row in zip(texts, got, strict=True):
        assert [t for t in row if t != PAD] == tokenize(normalize(text)), text


def test_graph_stays_small_and_vocabulary_free(binary):
    """Batch-1 latency is mostly per-node overhead: keep the graph to ~55 nodes (41 until graph 4
    summed rows with a racy ScatterND), one Tokenizer with one separator, one sort, no scatter, and
    no op whose cost grows with the vocabulary."""
    import onnx

    proto = onnx.load_from_string(export_bytes(binary[0], check_ops=False))
    ops = [n.op_type for n in proto.graph.node]
    assert len(ops) <= 56, ops
    assert ops.count("Tokenizer") == 1 and ops.count("TopK") == 1 and ops.count("LabelEncoder") == 2
    assert not {"TfIdfVectorizer", "Unique", "Loop", "Scan", "If", "MatMul", "ScatterND", "ScatterElements"} & set(ops)
    (tok,) = (n for n in proto.graph.node if n.op_type == "Tokenizer")
    assert len(next(a for a in tok.attribute if a.name == "separators").strings) == 1
    assert len({i.name for i in proto.graph.initializer}) == len(proto.graph.initializer)


def test_large_batches_run_in_length_sorted_chunks_and_keep_order(binary):
    """A batch larger than CHUNK_ROWS is cut into length-sorted calls; results stay in input order."""
    from edge_distill.runtime.student import CHUNK_ROWS

    _, clf, pipe = binary
    texts = synthetic_corpus(3 * CHUNK_ROWS + 5, 2, seed=11)[0]
    texts = [t * (1 + i % 7) for i, t in enumerate(texts)] + ["", "<br />"]
    labels, proba = clf.predict_with_proba(texts)
    np.testing.assert_allclose(proba, pipe.predict_proba(texts), atol=1e-6, rtol=0)
    assert [clf.labels.index(x) for x in labels] == list(pipe.predict(texts))
    one_by_one = np.concatenate([clf.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(proba, one_by_one, atol=1e-7, rtol=0)
