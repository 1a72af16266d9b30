"""Evaluation statistics against scipy/sklearn's own answers, and the report files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from edge_distill.toolkit.evaluate import (
    classification_metrics,
    compare_models,
    expected_calibration_error,
    mcnemar,
    wilson_ci,
)
from edge_distill.toolkit.report import build_report, markdown, write_report


def test_wilson_matches_closed_form() -> None:
    lo, hi = wilson_ci(870, 1000)
    z, p, n = 1.959963984540054, 0.87, 1000
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert lo == pytest.approx(centre - half, abs=1e-9) and hi == pytest.approx(centre + half, abs=1e-9)


def test_mcnemar_exact() -> None:
    y = np.zeros(20, int)
    a = np.zeros(20, int)
    b = np.zeros(20, int)
    b[:6] = 1  # b wrong on 6 texts a gets right; a never better than b otherwise
    r = mcnemar(y, a, b)
    assert r["only_a_correct"] == 6 and r["only_b_correct"] == 0
    assert r["p_value"] == pytest.approx(2 * 0.5**6)
    assert mcnemar(y, a, a)["p_value"] == 1.0


def test_ece_perfect_and_overconfident() -> None:
    y = np.array([0, 1, 0, 1])
    assert expected_calibration_error(y, np.eye(2)[y]) == pytest.approx(0.0)
    wrong = np.eye(2)[1 - y]
    assert expected_calibration_error(y, wrong) == pytest.approx(1.0)


def test_metrics_and_comparison() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    teacher = np.eye(3)[y] * 0.9 + 0.1 / 3
    noisy = teacher.copy()
    noisy[:40] = np.roll(noisy[:40], 1, axis=1)
    res = compare_models(y, {"teacher": teacher, "student": noisy}, ["a", "b", "c"])
    assert res["models"]["teacher"]["accuracy"] == 1.0
    s = res["models"]["student"]
    assert s["accuracy"] == pytest.approx(0.8) and s["agreement_with_teacher"] == pytest.approx(0.8)
    assert s["mcnemar_vs_teacher"]["only_b_correct"] == 40 and s["mcnemar_vs_teacher"]["p_value"] < 1e-9
    m = classification_metrics(y, noisy.argmax(1), ["a", "b", "c"])
    assert 0 < m["macro_f1"] < 1 and set(m["report"]) >= {"a", "b", "c", "macro avg"}
    with pytest.raises(ValueError, match="predictions for"):
        compare_models(y, {"teacher": teacher[:10]}, ["a", "b", "c"])


def test_report_files(tmp_path: Path) -> None:
    y = np.array([0, 1, 1, 0])
    probas = {"teacher": np.eye(2)[y], "student": np.eye(2)[[0, 1, 0, 0]], "baseline": np.eye(2)[[1, 1, 0, 0]]}
    evaluation = compare_models(y, probas, ["neg", "pos"])
    bench = {
        "contenders": {
            "student_onnx": {
                "p50_ms": 0.1,
                "p90_ms": 0.2,
                "p99_ms": 0.3,
                "latency_long": {"p50_ms": 0.2},
                "throughput_per_s": 9000,
                "cold_start_ms": 300,
                "peak_rss_mb": 60,
                "size_bytes": 2e6,
            },
            "teacher_onnx": {
                "p50_ms": 40.0,
                "p90_ms": 50.0,
                "p99_ms": 60.0,
                "latency_long": {"p50_ms": 80.0},
                "throughput_per_s": 30,
                "cold_start_ms": 900,
                "peak_rss_mb": 400,
                "size_bytes": 9e7,
            },
        },
        "settings": {
            "rounds": 10,
            "warmup": 2,
            "batch": 256,
            "throughput_threads": 2,
            "review_words": {"typical": 230, "long": 700},
        },
        "environment": {"cpu": "test cpu", "logical_cpus": 2},
    }
    report = build_report(
        {"data": "x", "labeled": 4, "unlabeled": 8, "test": 4, "seed": 0, "wall_seconds": 1},
        evaluation,
        bench,
        [{"unlabeled": 10, "accuracy": 0.7}, {"unlabeled": 100, "accuracy": 0.8}],
    )
    paths = write_report(tmp_path, report)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["models"]["student"]["speed"]["p50_ms"] == 0.1
    for model in ("baseline", "teacher", "student"):
        m = saved["models"][model]
        assert {"accuracy", "macro_f1", "ci95", "n_test"} <= set(m) and m["n_test"] == 4
    for model, contender in (("student", "student_onnx"), ("teacher", "teacher_onnx")):
        speed = saved["models"][model]["speed"]
        assert {"p50_ms", "p99_ms", "throughput_per_s", "size_bytes", "cold_start_ms"} <= set(speed)
        assert speed == {k: bench["contenders"][contender][k] for k in speed}
    assert "speed" not in saved["models"]["baseline"]  # nothing deployable to time
    md = (tmp_path / "report.md").read_text()
    assert "| student | 0.7500" in md and "against teacher_onnx: p50 400.0× lower" in md
    for name in ("accuracy_latency", "sizes", "scaling"):
        assert Path(paths[name]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_per_class_and_confusion_match_sklearn() -> None:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 300)
    pred = np.where(rng.random(300) < 0.7, y, rng.integers(0, 4, 300))
    pred[pred == 3] = 2  # class 3 is never predicted: precision 0, not an error
    m = classification_metrics(y, pred, ["w", "x", "y", "z"])
    p, r, f, sup = precision_recall_fscore_support(y, pred, labels=[0, 1, 2, 3], zero_division=0)
    assert [row["class"] for row in m["per_class"]] == ["w", "x", "y", "z"]
    assert np.allclose([row["f1"] for row in m["per_class"]], f)
    assert np.allclose([row["precision"] for row in m["per_class"]], p)
    assert np.allclose([row["recall"] for row in m["per_class"]], r)
    assert [row["support"] for row in m["per_class"]] == sup.tolist()
    assert m["confusion"] == confusion_matrix(y, pred, labels=[0, 1, 2, 3]).tolist()
    assert np.trace(np.asarray(m["confusion"])) / 300 == pytest.approx(m["accuracy"])


def test_a_class_absent_from_the_test_texts_has_no_score(tmp_path: Path) -> None:
    """Four declared classes, the test texts hold three and no model predicts the fourth: its F1 is
    undefined, not 0, and macro-F1 is scikit-learn's over the classes present (a zero for the absent
    class would cut it by a quarter)."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 120)
    pred = np.where(rng.random(120) < 0.8, y, rng.integers(0, 3, 120))
    names = ["a", "b", "c", "d"]
    m = classification_metrics(y, pred, names)
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["classes_scored"] == 3 and m["per_class"][3] == {
        "class": "d",
        "precision": None,
        "recall": None,
        "f1": None,
        "support": 0,
    }
    assert m["report"]["macro avg"]["f1-score"] == pytest.approx(m["macro_f1"])
    pred[0] = 3  # predicted once, wrongly: now it is scored (F1 0) and counts in the average
    m = classification_metrics(y, pred, names)
    assert m["classes_scored"] == 4 and m["per_class"][3]["f1"] == 0.0
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    probas = {"teacher": np.eye(4)[y], "student": np.eye(4)[pred]}
    report = build_report(
        {"data": "x.csv", "labeled": 30, "test": 1000, "seed": 0}, compare_models(y, probas, names), None
    )
    write_report(tmp_path, report)
    md = (tmp_path / "report.md").read_text()
    assert "No test text is of class d:" in md and "| d | 0 | – | 0.000 |" in md
    assert ", 120 test texts, seed 0" in md  # 1,000 asked, the split had 120: the count evaluated


@pytest.mark.parametrize(
    ("source", "imdb"),
    [
        ("imdb", True),
        ("/work/shared/data/imdb", True),
        ("../shared/data/imdb/", True),
        ("data/IMDB", True),
        ("/tmp/aclImdb_v1.tar.gz", True),
        ("/x/aclImdb", True),
        ("/work/shared/data/imdb/train.jsonl.gz", True),
        ("hf:stanfordnlp/imdb", True),
        ("/work/shared/data/sst2", False),
        ("/work/shared/data/trec", False),
        ("/data/imdb_reviews_translated.csv", False),
        ("hf:emotion", False),
        (None, False),
    ],
)
def test_imdb_source(source, imdb: bool) -> None:
    from edge_distill.toolkit.report import is_imdb_source

    assert is_imdb_source(source) is imdb


def _multiclass_report(data: str, run_extra: dict | None = None):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    teacher = np.eye(3)[y] * 0.8 + 0.2 / 3
    student = teacher.copy()
    student[:20] = np.roll(student[:20], 1, axis=1)
    evaluation = compare_models(y, {"teacher": teacher, "student": student}, ["0", "1", "2"])
    run = {"data": data, "labeled": 30, "unlabeled": 60, "test": 90, "seed": 0, **(run_extra or {})}
    return build_report(run, evaluation, None)


def test_multiclass_report_speaks_of_its_data(tmp_path: Path) -> None:
    choice = {
        "chosen": {"ngram_range": [1, 2], "min_df": 1, "C": 10.0, "temperature": 1.0, "objective": "soft"},
        "reason": "1-2-grams agree best with the teacher on 200 held-out transfer texts.",
        "candidates": [
            {"ngram_range": [1, 2], "min_df": 1, "C": 10.0, "temperature": 1.0, "objective": "soft"}
            | {"agreement": 0.91, "seconds": 0.4}
        ],
    }
    report = _multiclass_report(
        "../shared/data/trec", {"student_settings": choice, "splits": "90 test (the 'test' split)"}
    )
    paths = write_report(tmp_path, report)
    md = (tmp_path / "report.md").read_text()
    assert "review" not in md.lower()  # questions, not reviews
    assert "seed notebook" not in md and report["seed_notebook"] is None
    assert "class names were not given" in md  # integer labels, no names
    assert report["classes"] == {"names": ["0", "1", "2"], "given": False, "from": "class ids (no names given)"}
    assert "## Per class" in md and "| class | teacher precision | teacher recall | teacher F1 |" in md
    assert "## Student settings" in md and "agree best with the teacher" in md and "| (1, 2) | none | 1 | 10 |" in md
    saved = json.loads((tmp_path / "report.json").read_text())
    conf = np.asarray(saved["models"]["student"]["confusion"])
    assert conf.shape == (3, 3) and conf.sum() == 90 and np.trace(conf) == 70
    for model in ("teacher", "student"):
        assert Path(paths[f"confusion_{model}"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"figures/confusion_{model}.png" in md


def test_named_classes_and_imdb_seed_table(tmp_path: Path) -> None:
    named = {"names": ["neg", "pos", "mixed"], "given": True, "from": "/data/classes.txt"}
    report = _multiclass_report("../shared/data/imdb", {"classes": named})
    md = markdown(report)
    assert "Against the seed notebook" in md and report["seed_notebook"]["student"] == 0.87
    assert "not given" not in md and "neg, pos, mixed (from /data/classes.txt)" in md


def test_class_names_are_shown_as_written_in_tables_and_figures(tmp_path: Path) -> None:
    """``a|b`` split a table row (every score under the wrong header), ``<script>`` reached the
    Markdown as HTML, ``$x^$`` crashed the confusion figure (matplotlib's mathtext), and a
    200-character name squeezed it into a corner."""
    names = ["a|b", "<script>alert(1)</script>", "$x^$", "L" + "x" * 198 + "Z"]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 80)
    teacher = np.eye(4)[y] * 0.9 + 0.025
    evaluation = compare_models(y, {"teacher": teacher, "student": np.roll(teacher, 1, axis=0)}, names)
    run = {"data": "mine.csv", "labeled": 40, "unlabeled": 0, "test": 80, "seed": 0}
    run["classes"] = {"names": names, "given": True, "from": "the label strings"}
    report = build_report(run, evaluation, None)
    paths = write_report(tmp_path, report)
    md = (tmp_path / "report.md").read_text()
    assert "<script>" not in md and r"\<script\>alert(1)\</script\>" in md
    rows = [line for line in md.splitlines() if line.startswith(r"| a\|b |")]
    assert len(rows) == 2  # the F1 table and the precision / recall table
    header = next(line for line in md.splitlines() if line.startswith("| class | support |"))
    assert len(re.split(r"(?<!\\)\|", rows[0])) == len(header.split("|"))  # a|b is one cell
    assert json.loads((tmp_path / "report.json").read_text())["classes"]["names"] == names
    for model in ("teacher", "student"):
        assert Path(paths[f"confusion_{model}"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_says_how_long_the_teacher_trained_and_why() -> None:
    history = [{"epoch": i, "train_loss": 2.1 - 0.2 * i, "val_accuracy": 0.28 + 0.02 * i} for i in range(1, 7)]
    why = "auto (6 up to 128 tokens, else 3), then 3 more: training loss 1.500 above 0.5 x ln 8"
    training = {"epochs_chosen": why, "best_epoch": 6, "best_val_accuracy": 0.40, "n_val": 100}
    md = markdown(
        _multiclass_report(
            "stars", {"teacher_training": {**training, "validation": "the 'validation' split", "history": history}}
        )
    )
    assert "## Teacher training" in md and f"6 epochs: {why}. Kept epoch 6: validation accuracy 0.4000" in md
    assert "| 6 | 0.9000 | 0.4000 |" in md and md.count("\n| 1 | 1.9000 | 0.3000 |") == 1
    older = markdown(_multiclass_report("stars", {"teacher_training": {"history": history, "best_epoch": 6}}))
    assert "6 epochs. Kept epoch 6:" in older  # a run cached before 0.7 has no epochs_chosen
    assert "## Teacher training" not in markdown(_multiclass_report("stars"))
