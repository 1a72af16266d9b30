"""Distillation: objectives (K = 2 and 3), gold labels, tuning, pruning, plain-data storage, seed recipe."""

from __future__ import annotations

import json

import numpy as np
import pytest
from student_support import fitted_student, synthetic_corpus

from edge_distill.toolkit.student import StudentConfig, StudentError, evaluate, fit_student, load_student, save_student
from edge_distill.toolkit.student.objectives import Gold, fit_logit, fit_soft, scores, softmax
from edge_distill.toolkit.student.prune import estimated_onnx_bytes, feature_importance, select_features
from edge_distill.toolkit.student.seed import fit_seed


def _features(texts):
    from edge_distill.toolkit.features import make_vectorizer

    return make_vectorizer(min_df=1).fit_transform(texts)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("objective", ["soft", "logit", "hard"])
def test_objectives_learn_the_teacher(objective, k):
    texts, _, logits = synthetic_corpus(600, k)
    names = ("a", "b", "c")[:k]
    model = fit_student(texts, logits, names, StudentConfig(objective=objective, C=10.0, features={"min_df": 1})).model
    assert model.coef.shape == (1 if k == 2 else k, model.n_features)
    test_texts, test_labels, _ = synthetic_corpus(300, k, seed=1)
    proba = model.pipeline().predict_proba(test_texts)
    assert proba.shape == (300, k)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert evaluate(proba, test_labels)["accuracy"] > 0.8


def test_soft_objective_is_the_weighted_cross_entropy():
    """The soft fit minimises sum_i sum_k p_ik * -log q_ik (+ L2): its gradient is zero."""
    texts, _, logits = synthetic_corpus(200, 3)
    X = _features(texts).toarray()
    C, T = 5.0, 2.0
    p = softmax(logits, T)

    def gradient(clf):  # of C * sum_i CE(p_i, q_i) + 0.5 * ||W||^2, relative to its size at W = 0
        g = C * ((scores(clf, X) - p).T @ X) + clf.coef_
        return np.linalg.norm(g) / np.linalg.norm(C * ((1 / 3 - p).T @ X))

    assert gradient(fit_soft(X, logits, C=C, temperature=T)) < 0.02  # lbfgs stops at tol 1e-4
    assert gradient(fit_soft(X, logits, C=C, temperature=1.0)) > 0.1  # another target is not a minimum


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("with_gold", [False, True])
def test_soft_objective_is_logistic_regression_on_rows_repeated_per_class(k, with_gold):
    """The direct fit reaches the model of LogisticRegression fitted on each row repeated once per
    class with the teacher's probability as weight (what the soft objective was before 0.5.1)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    texts, _, logits = synthetic_corpus(300, k)
    gold_texts, gold_labels, _ = synthetic_corpus(60, k, seed=5)
    X = _features(texts + gold_texts)
    X, G = X[: len(texts)], X[len(texts) :]
    gold = Gold(G, np.asarray(gold_labels), 2.0) if with_gold else None
    p = softmax(logits, 2.0)
    rows = [X] * k + ([G] if with_gold else [])
    ys = [np.full(len(texts), c) for c in range(k)] + ([gold_labels] if with_gold else [])
    ws = [p[:, c] for c in range(k)] + ([np.full(len(gold_labels), 2.0)] if with_gold else [])
    ref = LogisticRegression(C=5.0, max_iter=2000).fit(
        sparse.vstack(rows).tocsr(), np.concatenate(ys), sample_weight=np.concatenate(ws)
    )
    fitted = fit_soft(X, logits, C=5.0, temperature=2.0, gold=gold)
    assert fitted.coef_.shape == ref.coef_.shape == (1 if k == 2 else k, X.shape[1])
    np.testing.assert_allclose(scores(fitted, X), scores(ref, X), atol=1e-5)
    np.testing.assert_allclose(fitted.intercept_, ref.intercept_, atol=1e-4)


def test_logit_objective_matches_ridge_on_logit_difference():
    from sklearn.linear_model import Ridge

    texts, _, logits = synthetic_corpus(300, 2)
    X = _features(texts)
    fitted = fit_logit(X, logits, C=4.0)
    ref = Ridge(alpha=0.25).fit(X, logits[:, 1] - logits[:, 0])
    np.testing.assert_allclose(fitted.coef_[0], ref.coef_, atol=1e-6)
    np.testing.assert_allclose(fitted.intercept_[0], ref.intercept_, atol=1e-6)


@pytest.mark.parametrize("objective", ["soft", "logit", "hard"])
def test_with_gold_adds_labeled_rows(objective):
    texts, _, logits = synthetic_corpus(300, 2)
    gold_texts, gold_labels, _ = synthetic_corpus(100, 2, seed=5)
    base = StudentConfig(objective=objective, C=10.0, features={"min_df": 1})
    plain = fit_student(texts, logits, ("a", "b"), base).model
    gold = fit_student(
        texts,
        logits,
        ("a", "b"),
        StudentConfig(**{**base.__dict__, "with_gold": True}),
        gold_texts=gold_texts,
        gold_labels=gold_labels,
    ).model
    assert gold.info["objective"]["with_gold"] and not plain.info["objective"]["with_gold"]
    assert not np.allclose(gold.intercept, plain.intercept)


def test_tuning_uses_the_dev_set_and_records_the_grid():
    texts, _, logits = synthetic_corpus(300, 2)
    dev_texts, dev_labels, _ = synthetic_corpus(100, 2, seed=3)
    fit = fit_student(texts, logits, ("a", "b"), StudentConfig(features={"min_df": 1}), dev=(dev_texts, dev_labels))
    assert fit.tuning and {"C", "temperature", "accuracy"} <= set(fit.tuning[0])
    chosen = fit.model.info["objective"]
    assert chosen["chosen_on"] == "dev"
    assert max(t["accuracy"] for t in fit.tuning) == next(
        t["accuracy"] for t in fit.tuning if t["C"] == chosen["C"] and t["temperature"] == chosen["temperature"]
    )


def test_bad_inputs_are_refused():
    texts, _, logits = synthetic_corpus(50, 2)
    with pytest.raises(ValueError, match="objective"):
        StudentConfig(objective="mse")
    with pytest.raises(ValueError, match="logits"):
        fit_student(texts, logits[:10], ("a", "b"), StudentConfig())


def test_save_load_round_trip_is_plain_data_and_equivalent(tmp_path):
    model = fitted_student(3)
    folder = save_student(model, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["student.json", "weights.npz"]
    with np.load(folder / "weights.npz", allow_pickle=False) as z:  # no object arrays anywhere
        assert all(z[k].dtype != object for k in z.files)
    json.loads((folder / "student.json").read_text())
    loaded = load_student(tmp_path)
    assert loaded.vocabulary == model.vocabulary and loaded.label_names == model.label_names
    texts = synthetic_corpus(50, 3, seed=9)[0]
    np.testing.assert_array_equal(loaded.pipeline().predict_proba(texts), model.pipeline().predict_proba(texts))


def test_load_student_errors(tmp_path):
    with pytest.raises(StudentError, match="no student"):
        load_student(tmp_path)
    folder = save_student(fitted_student(), tmp_path)
    (folder / "weights.npz").write_bytes(b"garbage")
    with pytest.raises(StudentError, match="unreadable"):
        load_student(tmp_path)


def test_pruning_keeps_the_most_important_features_within_budget():
    model = fitted_student(2, n=600)
    doc_freq = np.linspace(0.01, 0.5, model.n_features)
    imp = feature_importance(model.coef, model.idf, doc_freq)
    keep = select_features(model.coef, model.idf, doc_freq, model.vocabulary, max_features=20)
    assert len(keep) == 20 and imp[keep].min() >= np.sort(imp)[-20]
    budget = estimated_onnx_bytes(model.vocabulary, 1) - 200
    keep = select_features(model.coef, model.idf, doc_freq, model.vocabulary, max_bytes=budget)
    assert 0 < len(keep) < model.n_features
    assert estimated_onnx_bytes([model.vocabulary[i] for i in keep], 1) <= budget


def test_fit_student_prunes_and_refits():
    texts, labels, logits = synthetic_corpus(600, 2)
    fit = fit_student(texts, logits, ("a", "b"), StudentConfig(C=10.0, features={"min_df": 1}, max_features=30))
    assert fit.model.n_features == 30 and fit.unpruned["n_features"] > 30
    assert fit.model.info["pruned_from"] == fit.unpruned["n_features"]
    proba = fit.model.pipeline().predict_proba(texts)
    assert evaluate(proba, labels)["accuracy"] > 0.8


def test_seed_recipe_is_countvectorizer_plus_linear_regression(tmp_path):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LinearRegression

    texts, _, logits = synthetic_corpus(200, 2)
    model = fit_seed(texts, logits, ("a", "b"))
    vec = CountVectorizer(ngram_range=(1, 3))
    z = logits.astype(np.float64)
    reg = LinearRegression().fit(vec.fit_transform(texts), z[:, 1] - z[:, 0])
    test = synthetic_corpus(50, 2, seed=4)[0]
    want = 1 / (1 + np.exp(-reg.predict(vec.transform(test))))
    save_student(model, tmp_path)
    got = load_student(tmp_path).pipeline().predict_proba(test)[:, 1]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_hard_objective_keeps_a_row_for_a_class_the_teacher_never_picks() -> None:
    """scikit-learn fits K-1 rows when a class is missing from y; the student must still score K classes
    in their own columns (a 6-class run whose teacher never predicted one class once scored 0.05)."""
    texts, _, logits = synthetic_corpus(300, 3, seed=4)
    logits[:, 2] = -10.0  # the teacher never picks class 2
    from edge_distill.toolkit.student import StudentConfig, fit_student

    config = StudentConfig(objective="hard", C=10.0, features={"min_df": 1})
    model = fit_student(texts, logits, ("a", "b", "c"), config).model
    proba = model.pipeline().predict_proba(texts)
    assert proba.shape == (300, 3) and np.all(proba[:, 2] < 1e-6)
    agree = (proba.argmax(axis=1) == logits.argmax(axis=1)).mean()
    assert agree > 0.9, agree


def _blind_teacher(n: int, seed: int = 0):
    """A teacher that calls every text with "awful" positive: gold labels can mend that, agreement cannot."""
    texts, labels, logits = synthetic_corpus(n, 2, seed=seed)
    blind = np.array(["awful" in t for t in texts])
    logits[blind] = np.array([-2.0, 2.0], np.float32)
    return texts, labels, logits, blind


def test_auto_weighs_the_gold_labels_on_the_validation_set():
    texts, _, logits, _ = _blind_teacher(600)
    gold_texts, gold_labels, _ = synthetic_corpus(200, 2, seed=5)
    val_texts, val_labels, _ = synthetic_corpus(300, 2, seed=7)
    fit = fit_student(
        texts, logits, ("a", "b"), StudentConfig(), gold_texts=gold_texts, gold_labels=gold_labels,
        validation=(val_texts, val_labels),
    )  # fmt: skip
    gold = fit.settings_choice["gold"]
    acc = {r["gold_weight"]: r["validation_accuracy"] for r in gold["candidates"]}
    assert sorted(acc) == [0.0, 1.0, 3.0] and gold["chosen"] > 0 and acc[gold["chosen"]] >= acc[0.0] + 0.005
    assert fit.model.info["objective"]["with_gold"] and fit.model.info["settings_choice"]["gold"] == gold
    assert f"gold weight {gold['chosen']:g}" in gold["reason"] and "validation texts" in gold["reason"]


def test_wrong_gold_labels_are_weighed_and_left_out():
    texts, _, logits = synthetic_corpus(600, 2)
    gold_texts, gold_labels, _ = synthetic_corpus(200, 2, seed=5)
    val_texts, val_labels, _ = synthetic_corpus(300, 2, seed=7)
    flipped = 1 - gold_labels  # every gold label wrong: mixing them in can only hurt
    fit = fit_student(
        texts, logits, ("a", "b"), StudentConfig(), gold_texts=gold_texts, gold_labels=flipped,
        validation=(val_texts, val_labels),
    )  # fmt: skip
    assert fit.settings_choice["gold"]["chosen"] == 0 and not fit.model.info["objective"]["with_gold"]
    # no validation set, or settings given: nothing is weighed
    given = fit_student(texts, logits, ("a", "b"), StudentConfig(C=10.0), gold_texts=gold_texts, gold_labels=flipped)
    assert given.settings_choice is None


def test_the_soft_fit_benchmark_compares_both_fits_on_the_same_rows():
    from edge_distill.benchmarks.soft_fit import compare

    texts, _, logits = synthetic_corpus(300, 3)
    result = compare(_features(texts), logits, C=5.0)
    assert result["texts"] == 300 and result["classes"] == 3 and result["max_abs_dp"] < 1e-5
    assert result["direct_s"] > 0 and result["repeated_rows_s"] > 0 and result["iterations"][0] > 0
