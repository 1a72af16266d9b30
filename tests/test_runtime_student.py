"""The student runtime: loading checks, input contract, threads, light imports, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from student_support import fitted_student, synthetic_corpus

from edge_distill import runtime
from edge_distill.exporters.student import export_student
from edge_distill.runtime.base import ArtifactError
from edge_distill.runtime.integrity import seal
from edge_distill.runtime.student import StudentClassifier
from edge_distill.toolkit.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student") / "student.onnx"
    export_student(fitted_student(3), out, check_ops=False)
    return out


def test_load_and_classify(artifact):
    clf = runtime.load(artifact, threads=1, kind="student")
    assert isinstance(clf, StudentClassifier) and clf.labels == ("negative", "positive", "neutral")
    proba = clf.predict_proba(["great wonderful film", "awful boring waste", "meh average"])
    assert proba.dtype == np.float32 and proba.shape == (3, 3)
    assert clf.predict(["great wonderful film", "awful boring waste", "meh average so_so"]) == [
        "positive",
        "negative",
        "neutral",
    ]


def test_input_contract(artifact):
    clf = runtime.load(artifact)
    assert clf.predict_proba([]).shape == (0, 3) and clf.predict([]) == []
    assert clf.predict_with_proba(iter([]))[1].shape == (0, 3)
    for bad in ("a text", None, b"bytes", {"text": "x"}, 3, np.array([["a"]])):
        with pytest.raises(TypeError):
            clf.predict_proba(bad)
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        clf.predict(["ok", 1])
    same = clf.predict_proba(("x\ud800y", np.str_("good"), "great"))  # tuple, numpy str, lone surrogate
    np.testing.assert_allclose(same[0], clf.predict_proba(["x\ufffdy"])[0])


def test_refuses_wrong_artifacts(tmp_path, artifact):
    import onnx

    def write(mutate) -> Path:
        proto = onnx.load_from_string(artifact.read_bytes())
        mutate(proto)
        props = {p.key: p.value for p in proto.metadata_props}
        props["edge_distill.checksum"] = "0" * 64
        onnx.helper.set_model_props(proto, props)
        out = tmp_path / "bad.onnx"
        out.write_bytes(seal(proto.SerializeToString()))
        return out

    def set_prop(key, value):
        def mutate(proto):
            props = {p.key: p.value for p in proto.metadata_props}
            props[key] = value
            onnx.helper.set_model_props(proto, props)

        return mutate

    with pytest.raises(ArtifactError, match="format version"):
        runtime.load(write(set_prop("edge_distill.format_version", "2")))
    with pytest.raises(ArtifactError, match="labels"):
        runtime.load(write(set_prop("edge_distill.labels", "not json")))
    with pytest.raises(ArtifactError, match=r"\[N, 2\]"):
        runtime.load(write(set_prop("edge_distill.labels", '["a", "b"]')))
    with pytest.raises(ArtifactError, match="a teacher was expected"):
        runtime.load(artifact, kind="teacher")

    def rename_output(proto):
        proto.graph.output[1].name = "labels"
        next(n for n in proto.graph.node if "label" in n.output).output[0] = "labels"

    with pytest.raises(ArtifactError, match="do not match the contract"):
        runtime.load(write(rename_output))
    with pytest.raises(ArtifactError, match="no such file"):
        runtime.load(tmp_path / "missing.onnx")


def test_concurrent_calls_agree(artifact):
    clf = runtime.load(artifact, threads=1)
    texts = synthetic_corpus(64, 3, seed=3)[0]
    want = clf.predict_proba(texts)
    errors, results = [], []

    def work():
        try:
            for _ in range(10):
                results.append(np.array_equal(clf.predict_proba(texts), want))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 40 and all(results)


def test_runtime_imports_no_heavy_packages(artifact):
    code = (
        "import sys, runtime; clf = runtime.load(sys.argv[1]); clf.predict_proba(['a good film']); "
        "heavy = ('torch', 'transformers', 'sklearn', 'scipy', 'onnx', 'skl2onnx', 'toolkit', 'exporters'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(artifact)], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("words", [["student"], ["export", "student"], ["predict"]])
def test_cli_help(words, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*words, "--help"])
    assert exc.value.code == 0
    assert "usage: edge-distill" in capsys.readouterr().out


def _predict(args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edge_distill.toolkit.cli", "predict", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_predict_cli(artifact):
    clf = runtime.load(artifact)
    out = _predict([str(artifact), "great wonderful", "awful"])
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["label"] for r in rows] == clf.predict(["great wonderful", "awful"])
    np.testing.assert_allclose(
        list(rows[0]["probabilities"].values()), clf.predict_proba(["great wonderful"])[0], rtol=1e-6
    )
    out = _predict([str(artifact)], '{"text": "great"}\n\n{"text": ""}\n')
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 2
    out = _predict([str(artifact), "--plain"], "great film\n\nawful\n")
    assert len(out.stdout.splitlines()) == 3  # an empty line is an empty text
    out = _predict([str(artifact)], "not json\n")
    assert out.returncode == 2 and "stdin:1" in out.stderr and "--plain" in out.stderr
    out = _predict([str(Path(artifact).with_name("nope.onnx")), "x"])
    assert out.returncode == 4 and "no such file" in out.stderr  # ArtifactError


def test_student_and_export_cli_end_to_end(tmp_path, capsys):
    """Tiny JSONL data -> logits -> 'student' -> 'export student' -> 'predict'."""
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.logits import LogitsTable, save_logits

    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 300), ("test", 100)):
        texts, labels, _ = synthetic_corpus(n, 2, seed={"train": 0, "test": 1}[split])
        rows = [{"text": f"{t} {i}", "label": int(y)} for i, (t, y) in enumerate(zip(texts, labels, strict=True))]
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["--data", str(data), "--labeled", "50", "--unlabeled", "all", "--test", "all", "--seed", "1"]
    splits = load_splits(data, n_labeled=50, n_unlabeled=None, n_test=None, seed=1)
    z = rng.normal(size=len(splits.unlabeled)).astype(np.float32) + 3 * (
        np.array([("great" in t) - ("awful" in t) for t in splits.unlabeled.texts], np.float32)
    )
    save_logits(
        tmp_path / "run" / "logits" / "logits.npz",
        LogitsTable(splits.unlabeled.ids, np.stack([-z, z], 1), splits.unlabeled.label_names),
    )
    run = tmp_path / "run"
    assert (
        main(
            ["student", "--logits", str(run / "logits"), *args, "--out", str(run), "--min-df", "1", "--tune", "--json"]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["metrics"]["test"]["n"] == 100 and result["objective"]["chosen_on"] == "dev"
    assert main(["export", "student", str(run), "--out", str(run / "student.onnx"), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["parity"]["max_abs_diff"] < 1e-6 and exported["parity"]["texts"] > 100
    assert main(["predict", str(run / "student.onnx"), "a great film"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] in ("0", "1")
    assert (
        main(["student", "--logits", str(run / "logits"), *args, "--out", str(tmp_path / "seed"), "--recipe", "seed"])
        == 0
    )
    capsys.readouterr()
    assert main(["export", "student", str(tmp_path / "seed"), "--out", str(tmp_path / "seed.onnx")]) == 2
    assert "not exportable" in capsys.readouterr().err and not (tmp_path / "seed.onnx").exists()
    assert main(["student", "--logits", str(tmp_path), *args, "--out", str(run)]) == 2  # no logits there


def test_long_texts_are_split_off_without_changing_results(artifact, monkeypatch):
    import edge_distill.runtime.student as rs

    clf = runtime.load(artifact, threads=1)
    texts = ["great film " * 20_000, "awful", "", "meh average " * 300, "great"]
    alone = np.vstack([clf.predict_proba([t]) for t in texts])
    calls = []
    original = rs.StudentClassifier._call
    monkeypatch.setattr(
        rs.StudentClassifier, "_call", lambda self, batch: calls.append(len(batch)) or original(self, batch)
    )
    labels, proba = clf.predict_with_proba(texts)
    np.testing.assert_array_equal(proba, alone)
    assert labels == [clf.labels[i] for i in alone.argmax(axis=1)] and len(calls) == 1  # 5 x 220k chars fits
    monkeypatch.setattr(rs, "MAX_PADDED_CHARS", 10_000)
    calls.clear()
    np.testing.assert_array_equal(clf.predict_proba(texts), alone)
    assert len(calls) >= 2 and max(calls) < len(texts)
