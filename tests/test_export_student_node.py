"""The exported student from Node.js (onnxruntime-node) gives the Python runtime's probabilities.

Skipped only where ``node`` is missing. When ``examples/node/node_modules`` is absent it runs
``npm ci --ignore-scripts`` there first (needs npm access once).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from student_support import fitted_student, synthetic_corpus

from edge_distill import runtime
from edge_distill.exporters.student import export_student
from edge_distill.exporters.student_parity import adversarial_texts

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "node"


@pytest.fixture(scope="module")
def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        pytest.skip("node is not installed")
    if not (EXAMPLE / "node_modules" / "onnxruntime-node").is_dir():
        npm = shutil.which("npm")
        proc = (
            subprocess.run(
                [npm or "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=EXAMPLE,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if npm
            else None
        )
        if proc is None or proc.returncode != 0:
            pytest.fail(
                f"cannot install onnxruntime-node in {EXAMPLE}: run 'npm ci --ignore-scripts' there "
                f"({proc.stderr[-500:] if proc else 'npm is missing'})"
            )
    return exe


@pytest.mark.parametrize("k", [2, 3])
def test_node_matches_python_runtime(node, tmp_path, k):
    model = fitted_student(k)
    path = tmp_path / "student.onnx"
    export_student(model, path, check_ops=False)
    texts = [t for t in adversarial_texts(model.vocabulary) if len(t) < 20_000]
    texts += synthetic_corpus(200, k, seed=11)[0]
    stdin = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    proc = subprocess.run(
        [node, str(EXAMPLE / "classify.js"), str(path)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=EXAMPLE,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    clf = runtime.load(path)
    labels, proba = clf.predict_with_proba(texts)
    assert len(rows) == len(texts)
    got = np.array([[r["probabilities"][name] for name in clf.labels] for r in rows])
    np.testing.assert_allclose(got, proba, atol=1e-6, rtol=0)
    assert [r["label"] for r in rows] == labels


def test_node_refuses_a_tampered_file(node, tmp_path):
    path = tmp_path / "student.onnx"
    model = fitted_student(2)
    export_student(model, path, check_ops=False)
    data = bytearray(path.read_bytes())
    data[bytes(data).index(model.intercept.tobytes())] ^= 0x01  # a weight: the intercept
    path.write_bytes(bytes(data))
    proc = subprocess.run(
        [node, str(EXAMPLE / "classify.js"), str(path), "x"], capture_output=True, text=True, timeout=120, cwd=EXAMPLE
    )
    assert proc.returncode == 2 and "checksum mismatch" in proc.stderr
