"""kill -9 at random moments: no partial file under a final name, and a rerun gives the same outputs.

``edge-distill student`` and ``edge-distill export student`` run in a subprocess on tiny data and
are killed (SIGKILL, nothing can clean up) at a random moment of a reference run's duration, one
seed per moment, and once the instant a temporary file appears (mid-write). While they run, every
file visible under a final name is read and must equal the reference's; after the kill the same
holds; a rerun into the same folder must succeed and produce the reference outputs exactly.
Labeling has its own kill test (tests/test_teacher_pipeline.py::test_kill_9_midway_...).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from student_support import synthetic_corpus

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
DATA_ARGS = ["--labeled", "50", "--unlabeled", "all", "--test", "all", "--seed", "1"]
STUDENT_FILES = {"student", "student/student.json", "student/weights.npz"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A tiny data folder and teacher logits for its transfer set (as 'teacher label' writes them)."""
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.logits import LogitsTable, save_logits

    root = tmp_path_factory.mktemp("crash")
    data = root / "data"
    data.mkdir()
    for split, n in (("train", 300), ("test", 100)):
        texts, labels, _ = synthetic_corpus(n, 2, seed={"train": 0, "test": 1}[split])
        rows = [{"text": f"{t} {i}", "label": int(y)} for i, (t, y) in enumerate(zip(texts, labels, strict=True))]
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    splits = load_splits(data, n_labeled=50, n_unlabeled=None, n_test=None, seed=1)
    z = np.random.default_rng(0).normal(size=len(splits.unlabeled)).astype(np.float32) + 3 * np.array(
        [("great" in t) - ("awful" in t) for t in splits.unlabeled.texts], np.float32
    )
    save_logits(
        root / "logits" / "logits.npz",
        LogitsTable(splits.unlabeled.ids, np.stack([-z, z], 1), splits.unlabeled.label_names),
    )
    return root


def _student_cmd(tiny: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "edge_distill.toolkit.cli",
        "student",
        "--logits",
        str(tiny / "logits"),
        "--data",
        str(tiny / "data"),
        *DATA_ARGS,
        "--min-df",
        "1",
        "--out",
        str(out),
        "--json",
    ]


def _export_cmd(student_dir: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "edge_distill.toolkit.cli",
        "export",
        "student",
        str(student_dir),
        "--out",
        str(out / "student.onnx"),
        "--json",
    ]


def _final_names(out: Path) -> set[str]:
    """Paths under ``out`` that are not temporaries (no component starting with a dot)."""
    if not out.exists():
        return set()
    return {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if not any(part.startswith(".") for part in p.relative_to(out).parts)
    }


def _temporaries(out: Path) -> list[str]:
    return [p.name for p in out.rglob(".*")] if out.exists() else []


def _student_content(out: Path) -> tuple[str, dict[str, bytes]]:
    """student.json's text and the arrays of weights.npz (the zip's timestamps aside)."""
    folder = out / "student"
    manifest = (folder / "student.json").read_text(encoding="utf-8")
    with np.load(folder / "weights.npz", allow_pickle=False) as z:
        arrays = {k: z[k].tobytes() + str(z[k].dtype).encode() for k in z.files}
    return manifest, arrays


def _run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return time.perf_counter() - t0


def _kill_and_rerun(
    cmd: list[str], out: Path, expected_names: set[str], check: Callable[[Path, set[str]], None], delay: float | None
) -> dict:
    """Start ``cmd``, check visible files while it runs, SIGKILL it after ``delay`` seconds (or, with
    ``None``, as soon as a temporary appears), check again, rerun to completion, check the result."""
    proc = subprocess.Popen(cmd, env=ENV, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, seen_tmp, polls = time.perf_counter(), False, 0
    while proc.poll() is None:
        names = _final_names(out)
        assert names <= expected_names, f"unexpected files under final names: {names - expected_names}"
        check(out, names)
        polls += 1
        seen_tmp = seen_tmp or bool(_temporaries(out))
        if (delay is None and seen_tmp) or (delay is not None and time.perf_counter() - t0 >= delay):
            break
        if time.perf_counter() - t0 > 240:
            break
        time.sleep(0.001)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    names = _final_names(out)
    assert names <= expected_names
    check(out, names)
    _run(cmd)  # the rerun, into the same folder, over whatever the kill left
    names = _final_names(out)
    assert names == expected_names, names
    check(out, names)
    return {"finished_before_kill": finished, "saw_temporary": seen_tmp, "polls": polls}


@pytest.fixture(scope="module")
def reference(tiny) -> dict:
    """Uninterrupted runs: the student folder, its content, the ONNX bytes and the run times."""
    ref = tiny / "ref"
    t_student = _run(_student_cmd(tiny, ref))
    t_export = _run(_export_cmd(ref, ref))
    return {
        "dir": ref,
        "student": _student_content(ref),
        "onnx": (ref / "student.onnx").read_bytes(),
        "t_student": t_student,
        "t_export": t_export,
    }


def _moments(total: float, seeds: tuple[int, ...]) -> list[float | None]:
    """Random kill moments within a reference run's duration, one per seed, then 'mid-write'."""
    return [float(np.random.default_rng(s).uniform(0.05, 1.0) * total) for s in seeds] + [None]


def test_student_survives_kill_9(tiny, reference):
    def check(out: Path, names: set[str]) -> None:
        if "student" in names:
            try:
                content = _student_content(out)
            except FileNotFoundError:  # the folder was being replaced while it was listed
                return
            assert content == reference["student"], "a partial or different student under its final name"

    stats = []
    for i, delay in enumerate(_moments(reference["t_student"], (0, 1, 2))):
        out = tiny / f"student-killed-{i}"
        stats.append(_kill_and_rerun(_student_cmd(tiny, out), out, STUDENT_FILES, check, delay))
    assert sum(not s["finished_before_kill"] for s in stats) >= 2, stats  # most runs really were interrupted


def test_export_survives_kill_9(tiny, reference):
    def check(out: Path, names: set[str]) -> None:
        if "student.onnx" in names:
            assert (out / "student.onnx").read_bytes() == reference["onnx"], "a partial student.onnx"

    stats = []
    for i, delay in enumerate(_moments(reference["t_export"], (3, 4, 5))):
        out = tiny / f"export-killed-{i}"
        out.mkdir()
        stats.append(_kill_and_rerun(_export_cmd(reference["dir"], out), out, {"student.onnx"}, check, delay))
    assert sum(not s["finished_before_kill"] for s in stats) >= 2, stats
    from edge_distill import runtime

    clf = runtime.load(tiny / "export-killed-0" / "student.onnx", kind="student")
    assert clf.predict(["great great film"]) == runtime.load(reference["dir"] / "student.onnx").predict(
        ["great great film"]
    )
