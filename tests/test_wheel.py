"""The built wheel, installed with no extras in a fresh virtual environment, as a user would.

Checks what a clean ``pip install edge-distill`` gives: one top-level package (``edge_distill``,
nothing generic beside it), ``edge_distill.load`` and ``edge-distill predict`` answering on a
student.onnx exactly like the development install, no torch / scikit-learn / transformers
installed or imported, and training commands that say which extra to install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from student_support import fitted_student

from edge_distill import runtime

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # builds a wheel and installs numpy, onnxruntime and tokenizers into a new venv


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend (setuptools) of this environment, no download needed
    res = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)])
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    (whl,) = out.glob("edge_distill-*.whl")
    return whl


@pytest.fixture(scope="module")
def base_env(wheel, tmp_path_factory) -> Path:
    env = tmp_path_factory.mktemp("venv") / "base"
    venv.create(env, with_pip=True)
    res = _run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)])
    assert res.returncode == 0, res.stderr[-3000:]
    return env


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    from edge_distill.exporters.student import export_student

    path = tmp_path_factory.mktemp("student") / "student.onnx"
    export_student(fitted_student(k=3), path)
    return path


def test_the_wheel_installs_one_package_named_after_the_distribution(wheel) -> None:
    with zipfile.ZipFile(wheel) as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
    assert tops == {"edge_distill", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for sub in ("runtime", "toolkit", "exporters", "benchmarks", "toolkit/commands", "toolkit/teacher"):
        assert f"edge_distill/{sub}/__init__.py" in names


def test_base_install_has_no_generic_top_level_names_and_no_heavy_packages(base_env) -> None:
    (site,) = (base_env / "lib").glob("python*/site-packages")
    present = {p.name for p in site.iterdir()}
    assert not present & {"runtime", "toolkit", "exporters", "benchmarks"}
    assert "edge_distill" in present
    assert not {n for n in present if n.split("-")[0].lower() in ("torch", "sklearn", "scikit_learn", "transformers")}


def test_base_install_loads_and_predicts_like_the_development_install(base_env, student) -> None:
    texts = ["great wonderful film", "awful boring plot", "", "ΚΑΛΌ 😀 \x00 été"]
    code = (
        "import json, sys, edge_distill\n"
        f"clf = edge_distill.load({str(student)!r}, threads=1)\n"
        f"p = clf.predict_proba({texts!r})\n"
        "heavy = [m for m in ('torch', 'sklearn', 'transformers', 'scipy') if m in sys.modules]\n"
        "print(json.dumps({'labels': clf.labels, 'p': p.tolist(), 'heavy': heavy}))"
    )
    res = _run([str(base_env / "bin" / "python"), "-c", code], cwd=base_env)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    ref = runtime.load(student, threads=1)
    assert got["heavy"] == [] and tuple(got["labels"]) == ref.labels
    np.testing.assert_allclose(np.array(got["p"]), ref.predict_proba(texts), atol=1e-6)


def test_base_install_cli_predicts_and_names_the_extra_for_training(base_env, student) -> None:
    cli = str(base_env / "bin" / "edge-distill")
    res = _run([cli, "predict", str(student), "great wonderful film"], cwd=base_env)
    assert res.returncode == 0, res.stderr
    answer = json.loads(res.stdout)
    assert answer["label"] == runtime.load(student).predict(["great wonderful film"])[0]
    assert _run([cli, "student", "--help"], cwd=base_env).returncode == 0  # --help needs no extra
    data = student.parent / "tiny.csv"
    data.write_text("text,label\n" + "".join(f"good film {i},pos\nbad film {i},neg\n" for i in range(20)))
    res = _run([cli, "baseline", "--data", str(data), "--labeled", "20", "--test", "10"], cwd=base_env)
    assert res.returncode == 6, res.stderr  # MissingExtraError
    assert "pip install 'edge-distill[train" in res.stderr and "Traceback" not in res.stderr
