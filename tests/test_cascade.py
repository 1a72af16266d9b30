"""The cascade: an exported student answers, the tiny BERT teacher is asked where the student is unsure.

Runtime routing (threshold 0 is the student, above 1 every text is combined, only the unsure
texts reach the teacher), the threshold choice on synthetic probabilities against a brute-force
recomputation, the spec file, the benchmark and ``predict --cascade``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")

from student_support import fitted_student, synthetic_corpus
from tiny_teacher import build_tiny

from edge_distill import runtime
from edge_distill.runtime.base import Classifier
from edge_distill.runtime.cascade import CascadeClassifier, load_cascade
from edge_distill.toolkit.cascade import (
    cascade_curve,
    choose_threshold,
    latency_curve,
    plot_latency_curve,
    save_cascade_spec,
)
from edge_distill.toolkit.cli import main


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """student.onnx (synthetic corpus) and teacher.onnx (tiny BERT, fp32) with the same labels."""
    from edge_distill.exporters.student import export_student
    from edge_distill.exporters.teacher import export_teacher
    from edge_distill.toolkit.teacher.backbone import read_record
    from edge_distill.toolkit.teacher.heldout import heldout_texts

    root = tmp_path_factory.mktemp("cascade")
    tiny = build_tiny(root)
    train = ["teacher", "train", "--data", str(tiny["data"]), "--labeled", "160", "--test", "40", "--seed", "0"]
    train += ["--label-names", "negative,positive"]  # the tiny data's labels are bare 0/1
    train += ["--model", str(tiny["ckpt"]), "--max-length", "24", "--lr", "3e-3", "--epochs", "4"]
    assert main([*train, "--batch-size", "8", "--threads", "1", "--no-progress", "--out", str(root / "run")]) == 0
    held = heldout_texts(read_record(root / "run" / "teacher")["data"], 20)
    export_teacher(root / "run" / "teacher", root / "teacher.onnx", heldout=held, threads=1)
    export_student(fitted_student(2), root / "student.onnx", check_ops=False)
    return {"root": root, "student": root / "student.onnx", "teacher": root / "teacher.onnx", "data": tiny["data"]}


@pytest.fixture(scope="module")
def texts(models) -> list[str]:
    """Texts both models have a view on: the synthetic student corpus and the tiny reviews."""
    from edge_distill.toolkit.data import load_dataset

    tiny_test = load_dataset(models["data"])["test"].texts[:30]
    return synthetic_corpus(50, 2, seed=3)[0] + tiny_test


class CountingTeacher(Classifier):
    """The teacher, recording every text it is asked about."""

    def __init__(self, inner: Classifier) -> None:
        super().__init__(inner.path, inner.labels, inner.metadata)
        self.inner, self.seen = inner, []

    def _proba(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner._proba(texts)


def _pair(models):
    return runtime.load(models["student"], threads=1), runtime.load(models["teacher"], threads=1)


def test_threshold_zero_is_the_student(models, texts):
    student, teacher = _pair(models)
    counting = CountingTeacher(teacher)
    labels, proba = CascadeClassifier(student, counting, 0.0).predict_with_proba(texts)
    ref_labels, ref_proba = student.predict_with_proba(texts)
    assert labels == ref_labels and np.array_equal(proba, ref_proba)
    assert counting.seen == []


@pytest.mark.parametrize("combine", ["teacher", "average"])
def test_threshold_above_one_combines_every_text(models, texts, combine):
    student, teacher = _pair(models)
    counting = CountingTeacher(teacher)
    cascade = CascadeClassifier(student, counting, 1.01, combine)
    labels, proba = cascade.predict_with_proba(texts)
    t = teacher.predict_proba(texts)
    want = t if combine == "teacher" else ((student.predict_proba(texts).astype(np.float64) + t) / 2).astype(np.float32)
    assert np.allclose(proba, want, atol=1e-6)
    assert labels == [student.labels[i] for i in want.argmax(1)]
    assert counting.seen == texts


def test_only_unsure_texts_reach_the_teacher(models, texts):
    student, teacher = _pair(models)
    conf = student.predict_proba(texts).max(1)
    threshold = float(np.median(conf))
    counting = CountingTeacher(teacher)
    cascade = CascadeClassifier(student, counting, threshold)
    routed = cascade.route(texts)
    unsure = [t for t, c in zip(texts, conf, strict=True) if c < threshold]
    assert 0 < len(unsure) < len(texts)
    assert counting.seen == unsure and routed.asked.sum() == len(unsure)
    sure = ~routed.asked
    s_labels, s_proba = student.predict_with_proba(texts)
    assert np.array_equal(routed.proba[sure], s_proba[sure])
    assert [lab for lab, keep in zip(routed.labels, sure, strict=True) if keep] == [
        lab for lab, keep in zip(s_labels, sure, strict=True) if keep
    ]
    assert cascade.predict(["great wonderful"]) in (["negative"], ["positive"]) and cascade.predict([]) == []


def test_mismatched_labels_or_bad_settings_are_refused(models):
    from edge_distill.exporters.student import export_student

    student, teacher = _pair(models)
    export_student(fitted_student(3), models["root"] / "three.onnx", check_ops=False)
    three = runtime.load(models["root"] / "three.onnx")
    with pytest.raises(runtime.ArtifactError, match="differ from the student"):
        CascadeClassifier(three, teacher, 0.5)
    for bad in (-0.1, float("nan"), float("inf"), True, None, "0.5"):  # True was taken for 1.0
        with pytest.raises(runtime.DataError, match="threshold"):
            CascadeClassifier(student, teacher, bad)
    with pytest.raises(runtime.DataError, match="combine"):
        CascadeClassifier(student, teacher, 0.5, "vote")
    with pytest.raises(runtime.DataError, match="the student is a teacher artifact"):
        CascadeClassifier(teacher, student, 0.5)  # swapped: was accepted


# ---------------------------------------------------------------- threshold choice (synthetic)


def _synthetic(n=2000, seed=0):
    """A student whose confidence tracks its correctness (0.80 right) and a better teacher (0.88)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s_right = rng.random(n) < 0.80
    conf = np.where(s_right, rng.uniform(0.55, 1.0, n), rng.uniform(0.5, 0.8, n))
    s_pick = np.where(s_right, y, 1 - y)
    s = np.zeros((n, 2))
    s[np.arange(n), s_pick], s[np.arange(n), 1 - s_pick] = conf, 1 - conf
    t_right = rng.random(n) < 0.88
    t_conf = rng.uniform(0.6, 1.0, n)
    t_pick = np.where(t_right, y, 1 - y)
    t = np.zeros((n, 2))
    t[np.arange(n), t_pick], t[np.arange(n), 1 - t_pick] = t_conf, 1 - t_conf
    return s.astype(np.float32), t.astype(np.float32), y


def _brute(s, t, y, threshold, combine):
    """Accuracy and share of the cascade at ``threshold``, computed text by text."""
    right = 0
    asked = 0
    for i in range(len(y)):
        if s[i].max() < threshold:
            asked += 1
            p = t[i] if combine == "teacher" else (s[i].astype(np.float64) + t[i]) / 2
        else:
            p = s[i]
        right += int(np.argmax(p) == y[i])
    return right / len(y), asked / len(y)


@pytest.mark.parametrize("combine", ["teacher", "average"])
def test_curve_matches_a_text_by_text_cascade(combine):
    s, t, y = _synthetic(300)
    curve = cascade_curve(s, t, y, combine)
    assert curve[0].share == 0 and curve[-1].share == 1 and curve[-1].threshold > 1
    for p in [*curve[:: max(1, len(curve) // 25)], curve[-1]]:
        acc, share = _brute(s, t, y, p.threshold, combine)
        assert (p.accuracy, p.share) == pytest.approx((acc, share))


def test_max_share_target_is_met_and_best():
    s, t, y = _synthetic()
    plan = choose_threshold(s, t, y, target="max_share", max_teacher_share=0.15, combine="teacher")
    assert plan.met and plan.teacher_share <= 0.15
    best = max(p.accuracy for p in plan.curve if p.share <= 0.15)
    assert plan.accuracy == best and plan.accuracy > plan.student_accuracy
    assert _brute(s, t, y, plan.threshold, "teacher") == pytest.approx((plan.accuracy, plan.teacher_share))


def test_match_teacher_target_takes_the_smallest_share():
    s, t, y = _synthetic()
    plan = choose_threshold(s, t, y, target="match_teacher", combine="auto")
    assert plan.met and plan.accuracy >= plan.teacher_accuracy and plan.combine in ("teacher", "average")
    assert all(p.accuracy < plan.teacher_accuracy for p in plan.curve if p.share < plan.teacher_share)
    acc, share = _brute(s, t, y, plan.threshold, plan.combine)
    assert (acc, share) == pytest.approx((plan.accuracy, plan.teacher_share))
    json.dumps(plan.to_dict())  # JSON-ready for the report


def test_an_unreachable_target_says_so():
    s, _t, y = _synthetic(400)
    # a perfect but timid teacher (0.51 on the right class): averaged with a wrong student (>= 0.5) it loses
    timid = np.where(np.eye(2, dtype=bool)[y], 0.51, 0.49).astype(np.float32)
    plan = choose_threshold(s, timid, y, target="match_teacher", combine="average")
    assert plan.teacher_accuracy == 1.0 and not plan.met and plan.accuracy < 1.0
    assert plan.accuracy == max(p.accuracy for p in plan.curve)


def test_latency_curve_and_figure(tmp_path):
    s, t, y = _synthetic(300)
    plan = choose_threshold(s, t, y, target="max_share")
    curve = latency_curve(plan, student_ms=0.2, teacher_ms=10.0)
    assert curve["points"][0]["mean_ms"] == 0.2 and curve["points"][-1]["mean_ms"] == pytest.approx(10.2)
    assert curve["chosen"]["mean_ms"] == pytest.approx(0.2 + 10 * plan.teacher_share)
    png = plot_latency_curve(curve, tmp_path / "cascade.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- spec, benchmark, CLI


def test_spec_round_trip(models, texts, tmp_path):
    student, teacher = _pair(models)
    spec = tmp_path / "deploy" / "cascade.json"
    spec.parent.mkdir()
    save_cascade_spec(spec, models["student"], models["teacher"], 0.8, "teacher")
    obj = json.loads(spec.read_text())
    assert not Path(obj["student"]).is_absolute() and obj["threshold"] == 0.8
    loaded = load_cascade(spec, threads=1)
    direct = CascadeClassifier(student, teacher, 0.8, "teacher")
    a, b = loaded.predict_with_proba(texts), direct.predict_with_proba(texts)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda s: s[: len(s) // 2], "not a JSON cascade spec"),
        (lambda s: s.replace("edge-distill.cascade", "other"), "not a cascade spec"),
        (lambda s: s.replace('"threshold": 0.5', '"threshold": -1'), "'threshold' must be"),
        (lambda s: s.replace('"combine": "average"', '"combine": "vote"'), "'combine' must be"),
        (lambda s: s.replace("teacher.onnx", "gone.onnx"), "gone.onnx: no such file"),
        (lambda s: s.replace("teacher.onnx", "student.onnx"), "a teacher was expected"),
    ],
)
def test_a_damaged_spec_is_one_artifact_error(models, damage, message):
    spec = models["root"] / "damaged.json"
    save_cascade_spec(spec, models["student"], models["teacher"], 0.5, "average")
    spec.write_text(damage(spec.read_text()))
    with pytest.raises(runtime.ArtifactError, match=message) as info:
        load_cascade(spec)
    assert "\n" not in str(info.value)


def test_benchmark_times_each_text_and_counts_the_teacher(models, texts):
    from edge_distill.benchmarks.cascade import time_cascade

    student, teacher = _pair(models)
    threshold = float(np.median(student.predict_proba(texts).max(1)))
    result = time_cascade(CascadeClassifier(student, teacher, threshold), texts, warmup=2)
    asked = float(np.mean(student.predict_proba(texts).max(1) < threshold))
    assert result["texts"] == len(texts) == result["n"] and result["teacher_share"] == asked
    assert 0 < result["p50_ms"] <= result["p99_ms"] and result["mean_ms"] > 0


def test_benchmark_command_reads_any_columns(models, texts, tmp_path, capsys):
    """The cascade benchmark takes the data options of 'run': a CSV with unseen column names works."""
    from edge_distill.benchmarks.cascade import main as bench_main

    csv = tmp_path / "mine.csv"
    rows = [f'"{t.replace(chr(34), "")}",{["neg", "pos"][i % 2]}' for i, t in enumerate(texts)]
    csv.write_text("utterance,mood\n" + "\n".join(rows) + "\n", encoding="utf-8")
    spec = tmp_path / "cascade.json"
    save_cascade_spec(spec, models["student"], models["teacher"], 0.9, "average")
    argv = [str(spec), "--data", str(csv), "--text-field", "utterance", "--label-field", "mood"]
    assert bench_main([*argv, "--labeled", "20", "--test", "30", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["texts"] == 30 and 0 <= result["teacher_share"] <= 1
    assert bench_main([str(spec), "--data", str(csv), "--labeled", "20", "--test", "30"]) == 2  # no 'text' column
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "mine.csv: no text column 'text'" in err and "Traceback" not in err
    with pytest.raises(SystemExit):  # it reads only the test set: no transfer-set options offered
        bench_main(["--help"])
    shown = capsys.readouterr().out
    assert "--text-field" in shown and "--unlabeled" not in shown


def test_predict_cascade_end_to_end(models, texts, capsys):
    student, teacher = _pair(models)
    few = texts[:6] + texts[-6:]
    want = CascadeClassifier(student, teacher, 0.9, "average").predict(few)
    cascade = ["--cascade", str(models["teacher"])]
    assert main(["predict", str(models["student"]), *few, *cascade, "--threshold", "0.9"]) == 0
    got = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [g["label"] for g in got] == want and set(got[0]["probabilities"]) == {"negative", "positive"}
    spec = models["root"] / "cli.json"
    save_cascade_spec(spec, models["student"], models["teacher"], 1.5, "teacher")
    assert main(["predict", str(models["student"]), *few, *cascade, "--spec", str(spec)]) == 0
    got = [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()]
    assert got == teacher.predict(few)
    assert main(["predict", str(models["student"]), "x", *cascade]) == 2
    assert "--threshold" in capsys.readouterr().err
    assert main(["predict", str(models["teacher"]), "x", *cascade, "--threshold", "1"]) == 4  # MODEL must be a student


def test_plan_on_artifacts_leaves_out_the_students_training_texts(models):
    from edge_distill.toolkit.cascade import plan_cascade
    from edge_distill.toolkit.data import DataError, load_dataset

    held = load_dataset(models["data"])["test"]
    plan = plan_cascade(models["student"], models["teacher"], held, target="max_share", max_teacher_share=0.3)
    assert plan.n == len(held) and plan.teacher_share <= 0.3
    fewer = plan_cascade(models["student"], models["teacher"], held, trained_on=held.ids[:10], target="max_share")
    assert fewer.n == len(held) - 10
    with pytest.raises(DataError, match="outside the student's training set"):
        plan_cascade(models["student"], models["teacher"], held, trained_on=held.ids)


def test_apply_plan_matches_the_runtime(models, texts):
    from edge_distill.toolkit.cascade import apply_plan

    student, teacher = _pair(models)
    s, t = student.predict_proba(texts), teacher.predict_proba(texts)
    threshold = float(np.quantile(s.max(1), 0.3))
    for combine in ("teacher", "average"):
        routed = CascadeClassifier(student, teacher, threshold, combine).route(texts)
        proba, asked = apply_plan(s, t, threshold, combine)
        assert np.array_equal(asked, routed.asked) and np.allclose(proba, routed.proba, atol=1e-7)


def test_build_cascade_writes_the_spec_report_and_figure(models, tmp_path):
    import shutil

    from edge_distill.benchmarks.cascade import time_cascade
    from edge_distill.toolkit.cascade import build_cascade
    from edge_distill.toolkit.data import load_dataset

    out = tmp_path / "run"
    (out / "predictions").mkdir(parents=True)
    shutil.copy(models["student"], out / "student.onnx")
    shutil.copy(models["teacher"], out / "teacher.onnx")
    data = load_dataset(models["data"])
    test, held = data["test"], data["train"].take(np.arange(100))
    student, teacher = _pair(models)
    np.savez_compressed(
        out / "predictions" / "test.npz",
        ids=np.asarray(test.ids),
        labels=test.labels,
        student=student.predict_proba(test.texts),
        teacher=teacher.predict_proba(test.texts),
    )
    result = build_cascade(
        out, held, test, timer=time_cascade, target="max_share", max_teacher_share=0.5, bench_texts=20
    )
    cascade = load_cascade(out / "cascade.json")
    assert result["teacher"] == "teacher.onnx" and cascade.threshold == result["plan"]["threshold"]
    routed = cascade.route(test.texts)
    want = float(np.mean([cascade.labels.index(lab) for lab in routed.labels] == test.labels))
    assert result["test"]["accuracy"] == pytest.approx(want) and result["test"]["teacher_share"] == routed.asked.mean()
    assert result["bench"]["texts"] == 20 and result["curve"]["chosen"]["share"] == result["plan"]["teacher_share"]
    assert Path(result["figure"]).read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "cascade_report.json").read_text())["plan"] == result["plan"]
