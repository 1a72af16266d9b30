"""Character n-grams beside the words: their definition, the exact graph, storage and selection."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from student_support import fitted_student, synthetic_corpus

from edge_distill.exporters.student import UnsupportedSetting, export_bytes
from edge_distill.exporters.student_checks import check_char_split
from edge_distill.exporters.student_graph import INT64_MAX, char_tables
from edge_distill.exporters.student_parity import adversarial_texts, measure_parity
from edge_distill.runtime.base import open_session
from edge_distill.runtime.student import StudentClassifier
from edge_distill.toolkit.char_features import (
    CharAnalyzer,
    block_normalize,
    fit_alphabet,
    max_alphabet,
    student_vectorizer,
)
from edge_distill.toolkit.commands import student as student_command
from edge_distill.toolkit.student.selection import (
    CHAR_MAX_MEAN_LENGTH,
    CHAR_MIN_GAIN,
    MIN_GAIN,
    SETTINGS_GRID,
    feature_candidates,
    required_gain,
)
from edge_distill.toolkit.student.store import load_student, save_student

CHARS = {"char_ngram_range": (2, 5)}


def _classifier(model) -> StudentClassifier:
    sess, meta = open_session(export_bytes(model, check_ops=False), "test.onnx", threads=1)
    return StudentClassifier.from_session(Path("test.onnx"), sess, meta)


def test_runs_and_ngrams_follow_the_definition():
    """Characters outside the alphabet (here the comma, the space, 'x') split runs; each run is
    framed by the edge and gives its n-grams of exactly n characters."""
    analyzer = CharAnalyzer("abhistw'", (2, 3))
    assert analyzer.runs("Hi, what's x up") == ["hi", "what's"]
    grams = analyzer("Hi")
    assert grams == ["# h", "#hi", "#i ", "# hi", "#hi "]
    assert all(g.startswith("#") for g in analyzer("what's"))
    assert analyzer("") == [] and analyzer("x x") == []
    assert CharAnalyzer("ab", (1, 2))("ab") == ["#a", "#b", "# a", "#ab", "#b "]  # no edge alone


def test_alphabet_excludes_separators_and_keeps_keys_in_int64():
    texts = ["ab c\x00\x01\td", "ÉTÉ été"]
    alphabet = fit_alphabet(texts, 5)
    assert set(alphabet) == set("abcdété") and alphabet == "".join(sorted(alphabet))
    for hi in (2, 3, 5, 8):
        a = max_alphabet(hi)
        assert (a + 2) ** hi <= INT64_MAX < (a + 3) ** hi
    # hi = 13 leaves 26 characters: the most frequent (by document frequency) are kept
    many = [chr(0x61 + i) * (i + 1) for i in range(26)] + ["".join(chr(0x3B1 + i) for i in range(14))]
    assert fit_alphabet(many * 2 + [chr(0x3B1)], 13) == "".join(sorted(set("".join(many[:25])) | {"α"}))


def test_each_block_is_normalised_on_its_own():
    X = sparse.csr_matrix(np.array([[3.0, 4.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]]))
    Y = block_normalize(X, "l2", 2).toarray()
    np.testing.assert_allclose(Y, [[0.6, 0.8, 1.0, 0.0], [0, 0, 0, 0], [0, 1.0, 0, 0]])
    np.testing.assert_allclose(block_normalize(X, "l1", 0).toarray()[0], [0.375, 0.5, 0.125, 0])
    assert block_normalize(X, None, 2).toarray().tolist() == X.toarray().tolist()


@pytest.fixture(scope="module", params=[2, 3])
def char_student(request):
    model = fitted_student(request.param, **CHARS)
    return model, _classifier(model), model.pipeline()


def test_the_student_holds_both_kinds(char_student):
    model, _, _ = char_student
    assert 0 < model.n_word_features < model.n_features
    assert all(name.startswith("#") for name in model.vocabulary[model.n_word_features :])
    assert model.settings["char_ngram_range"] == [2, 5] and model.char_alphabet


def test_the_pipeline_is_the_features_it_was_fitted_on():
    """The saved student's scikit-learn pipeline makes the very rows the student was fitted on (its
    idf, both blocks, the alphabet): the reference the graph is checked against is the right one."""
    from edge_distill.toolkit.student import StudentConfig, fit_student
    from edge_distill.toolkit.student.distill import fit_features

    texts, _, logits = synthetic_corpus(300, 3)
    config = StudentConfig(objective="soft", C=10.0, features={"min_df": 2, **CHARS})
    model = fit_student(texts, logits, ("a", "b", "c"), config).model
    fitted = fit_features(texts, config.features.settings())
    others = synthetic_corpus(60, 3, seed=4)[0]
    diff = model.pipeline()[:-1].transform(others) - fitted.transform(others)
    assert abs(diff).max() == 0.0
    np.testing.assert_array_equal(model.idf, fitted.vectorizer.idf_)


def test_exact_on_adversarial_and_synthetic_texts(char_student):
    model, clf, pipe = char_student
    texts = adversarial_texts(model.vocabulary) + synthetic_corpus(300, len(model.label_names), seed=7)[0]
    report = measure_parity(clf, pipe, texts)
    assert report.ok and report.max_abs_diff < 1e-6, report


@pytest.mark.parametrize("batch", [[""], ["", " ", "<br />", "a", "\x00"], ["zzzz qqqq"], ["\x01\x01"]])
def test_batches_without_any_feature(batch, char_student):
    _, clf, pipe = char_student
    assert measure_parity(clf, pipe, batch).ok


@pytest.mark.parametrize(
    "features",
    [{"norm": "l1"}, {"norm": None}, {"sublinear_tf": False}, {"binary": True}, {"use_idf": False}],
)
def test_exact_for_every_exportable_setting(features):
    model = fitted_student(2, n=200, **CHARS, **features)
    assert measure_parity(_classifier(model), model.pipeline(), adversarial_texts(model.vocabulary)[:-1]).ok


@pytest.mark.parametrize("char_range", [(1, 1), (3, 3), (1, 6)])
def test_exact_for_other_character_ranges(char_range):
    model = fitted_student(3, n=200, char_ngram_range=char_range)
    assert measure_parity(_classifier(model), model.pipeline(), adversarial_texts(model.vocabulary)[:-1]).ok


def test_uppercase_kept_when_lowercase_is_off():
    from edge_distill.toolkit.student.model import model_from_fitted

    texts, labels, _ = synthetic_corpus(200, 2)
    vec = student_vectorizer(lowercase=False, min_df=1, **CHARS)
    X = vec.fit_transform(texts)
    clf = __import__("sklearn.linear_model", fromlist=["x"]).LogisticRegression(C=10).fit(X, labels)
    model = model_from_fitted(vec, clf, ("negative", "positive"))
    assert any(c.isupper() for c in model.char_alphabet)
    texts = adversarial_texts(model.vocabulary)[:-1] + [t.upper() for t in texts[:50]]
    assert measure_parity(_classifier(model), model.pipeline(), texts).ok


def test_character_split_agrees_with_python_on_every_code_point():
    assert check_char_split() == 1_112_064


def test_saved_and_loaded_unchanged(tmp_path, char_student):
    model, _, pipe = char_student
    save_student(model, tmp_path)
    back = load_student(tmp_path)
    assert back.char_alphabet == model.char_alphabet and back.vocabulary == model.vocabulary
    texts = synthetic_corpus(50, len(model.label_names), seed=9)[0]
    np.testing.assert_array_equal(back.pipeline().predict_proba(texts), pipe.predict_proba(texts))


def test_refuses_what_it_cannot_key():
    with pytest.raises(UnsupportedSetting, match="character alphabet"):
        char_tables(["#ab", "#az"], "ab", (2, 2))
    with pytest.raises(UnsupportedSetting, match="overflow"):
        char_tables(["#ab"], "".join(chr(0x100 + i) for i in range(max_alphabet(5) + 1)), (2, 5))
    model = fitted_student(2, n=100, **CHARS)
    with pytest.raises(ValueError, match="alphabet"):
        type(model)(**{**model.__dict__, "char_alphabet": ""})


def test_selection_offers_characters_on_short_texts_only():
    short, long = ["what is it ?"] * 10, ["a review " * (CHAR_MAX_MEAN_LENGTH // 9 + 1)] * 10
    with_chars = [c for c in feature_candidates(SETTINGS_GRID["features"], short) if c.get("char_ngram_range")]
    assert with_chars == [{"ngram_range": (1, 2), "min_df": 2, "char_ngram_range": (2, 5)}]
    assert not any(c.get("char_ngram_range") for c in feature_candidates(SETTINGS_GRID["features"], long))


@pytest.mark.parametrize(
    ("value", "features"), [("2,5", {"char_ngram_range": (2, 5)}), ("none", {"char_ngram_range": None})]
)
def test_the_command_line_names_character_ngrams(value, features):
    p = argparse.ArgumentParser()
    student_command.add_student_arguments(p)
    config = student_command.student_config(p.parse_args(["--char-ngram-range", value]), seed=0)
    assert {k: config.features.settings()[k] for k in features} == features and not config.selects
    with pytest.raises(SystemExit):
        p.parse_args(["--char-ngram-range", "5,2"])


def test_size_estimate_bounds_the_file(char_student):
    from edge_distill.toolkit.student.prune import estimated_onnx_bytes

    model = char_student[0]
    size = len(export_bytes(model, check_ops=False))
    assert size <= estimated_onnx_bytes(model.vocabulary, model.coef.shape[0]) <= size + 60_000


def test_character_ngrams_must_earn_a_larger_gain():
    words, chars = {"ngram_range": (1, 1)}, {"ngram_range": (1, 2), "char_ngram_range": (2, 5)}
    assert CHAR_MIN_GAIN > MIN_GAIN
    assert required_gain(words, chars) == CHAR_MIN_GAIN
    assert required_gain(chars, {**chars, "C": 10.0}) == MIN_GAIN  # already there: C, objective as usual
    assert required_gain(words, {"ngram_range": (1, 2)}) == MIN_GAIN


@pytest.mark.parametrize("chars", [{}, CHARS], ids=["words", "words-and-characters"])
def test_features_transform_leaves_the_shared_vectorizer_as_it_is(chars, monkeypatch):
    """Rows of other texts never switch the fitted vectorizer's norm off and on (two threads transforming
    at once would see each other's switch), and they are the rows the student is fitted on."""
    from edge_distill.toolkit.student.distill import fit_features

    texts = synthetic_corpus(200, 3)[0]
    fitted = fit_features(texts, {"min_df": 2, **chars})
    seen = []
    cls = type(fitted.vectorizer)
    original = cls.transform

    def spy(self, batch):
        seen.append(fitted.vectorizer.norm)
        return original(self, batch)

    monkeypatch.setattr(cls, "transform", spy)
    rows = fitted.transform(texts[:50])
    assert seen == ["l2"] and fitted.vectorizer.norm == "l2"
    assert abs(rows - fitted.rows()[:50]).max() < 1e-12
