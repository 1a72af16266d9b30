"""Every extra really optional: in an install without any one extra, each command works or stops first.

Each case runs ``edge-distill`` in a subprocess whose ``sitecustomize.py`` takes one extra away as
a real install without it would be: its modules cannot be imported (a ``sys.meta_path`` finder
refuses them and ``importlib.util.find_spec`` finds nothing) and ``importlib.metadata`` does not
list its distributions, so ``require_extra`` sees it missing. A command that needs the extra must
exit 6 with one line naming ``pip install 'edge-distill[EXTRA]'`` before writing anything; the
others work, and ``run`` notes the part it left out (the peers, the benchmark).
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_teacher import TINY_SIZES, tiny_run_argv

from edge_distill.runtime.extras import extra_requirements

#: the extras a user may leave out ("all" only gathers the others)
EXTRAS = sorted(e for e in extra_requirements() if e != "all")
#: command -> the extras it cannot work without
NEEDS: dict[str, set[str]] = {
    "baseline": {"train"},
    "teacher train": {"train"},
    "teacher label": {"train"},
    "teacher merge": {"train"},
    "student": {"train"},
    "export student": {"train", "export"},
    "export teacher": {"train", "export"},
    "predict": set(),
    "run": {"train", "export"},
}
#: extras that only add a part to a run (or nothing to it): a run without one of them works
OPTIONAL_FOR_RUN = [e for e in EXTRAS if e not in NEEDS["run"]]

pytestmark = pytest.mark.skipif(not EXTRAS, reason="edge-distill is not installed: no extras in its metadata")

SITECUSTOMIZE = '''"""Takes the extra {extra!r} away, as an install without it would be (written by {test})."""
import importlib.abc
import importlib.metadata
import importlib.util
import re
import sys

MODULES = {modules!r}
DISTRIBUTIONS = {distributions!r}


def _hidden(name):
    return name.partition(".")[0] in MODULES


class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if _hidden(name):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


_find_spec = importlib.util.find_spec


def _find_spec_or_none(name, package=None):
    return None if _hidden(name) else _find_spec(name, package)


_discover = importlib.metadata.Distribution.discover


def _discover_present(**kwargs):
    for dist in _discover(**kwargs):
        if re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower() not in DISTRIBUTIONS:
            yield dist


sys.meta_path.insert(0, _Missing())
importlib.util.find_spec = _find_spec_or_none  # a probe (transformers checks for psutil) finds nothing
importlib.metadata.Distribution.discover = staticmethod(_discover_present)
'''


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def hidden(extra: str) -> tuple[list[str], list[str]]:
    """The distributions only ``extra`` installs (tqdm, in train and bench, stays) and their modules."""
    others = {_canonical(d) for e, ds in extra_requirements().items() if e not in (extra, "all") for d in ds}
    dists = sorted({_canonical(d) for d in extra_requirements()[extra]} - others)
    owners = md.packages_distributions()
    modules = sorted(top for top, ds in owners.items() if any(_canonical(d) in dists for d in ds))
    return dists, modules


@pytest.fixture(scope="module")
def without(tmp_path_factory) -> dict[str, Path]:
    """extra -> a folder whose sitecustomize.py takes that extra away (for PYTHONPATH)."""
    folders = {}
    for extra in EXTRAS:
        dists, modules = hidden(extra)
        folder = tmp_path_factory.mktemp(f"without-{extra}")
        text = SITECUSTOMIZE.format(extra=extra, test=Path(__file__).name, modules=modules, distributions=dists)
        (folder / "sitecustomize.py").write_text(text, encoding="utf-8")
        folders[extra] = folder
    return folders


def edge_distill(site: Path, *argv: str, cwd: Path, code: str | None = None) -> subprocess.CompletedProcess:
    """``edge-distill ARGV`` (or ``python -c CODE``) in a fresh process whose sitecustomize is ``site``'s."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "edge_distill.toolkit.cli", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def assert_stops_naming(res: subprocess.CompletedProcess, extra: str) -> None:
    """Exit 6 and one line on stderr that names the pip command of ``extra``."""
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 6, res.stderr[-3000:]
    assert len(lines) == 1 and f"pip install 'edge-distill[{extra}]'" in lines[0], res.stderr[-3000:]


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


@pytest.mark.parametrize("extra", EXTRAS)
def test_the_extra_is_taken_away_as_in_an_install_without_it(without, extra: str, tmp_path: Path) -> None:
    dists, modules = hidden(extra)
    code = (
        "import importlib, importlib.metadata as md, importlib.util\n"
        "from edge_distill.runtime.extras import MissingExtraError, require_extra\n"
        f"for m in {modules!r}:\n"
        "    assert importlib.util.find_spec(m) is None, m\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "        raise SystemExit(f'{m} still imports')\n"
        "    except ModuleNotFoundError:\n"
        "        pass\n"
        f"for d in {dists!r}:\n"
        "    try:\n"
        "        md.version(d)\n"
        "        raise SystemExit(f'{d} still listed')\n"
        "    except md.PackageNotFoundError:\n"
        "        pass\n"
        "try:\n"
        f"    require_extra({extra!r})\n"
        "except MissingExtraError as exc:\n"
        "    print(exc)\n"
    )
    res = edge_distill(without[extra], cwd=tmp_path, code=code)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"pip install 'edge-distill[{extra}]'" in res.stdout or not dists  # an extra not installed here


def test_the_peers_stage_key_needs_no_peer_library(without, tmp_path: Path) -> None:
    """The peers' settings (part of the stage key) are read before the extra is checked: they must
    not import fastText or Model2Vec, and they are the same with the extra as without it."""
    if "peers" not in EXTRAS:
        pytest.skip("no 'peers' extra")
    code = (
        "import json, sys, types\n"
        "from edge_distill.toolkit.pipeline import _peer_settings\n"
        "cfg = types.SimpleNamespace(data=types.SimpleNamespace(seed=3), peer_params={}, teacher_model=lambda: None)\n"
        "print(json.dumps(_peer_settings(cfg), sort_keys=True))\n"
        "assert not {'fasttext', 'model2vec'} & set(sys.modules)\n"
    )
    res = edge_distill(without["peers"], cwd=tmp_path, code=code)
    assert res.returncode == 0, res.stderr[-3000:]
    with_peers = edge_distill(tmp_path, cwd=tmp_path, code=code.rsplit("assert", 1)[0])  # nothing hidden
    assert with_peers.returncode == 0, with_peers.stderr[-3000:]
    assert res.stdout == with_peers.stdout  # the same key: a cached run is not redone


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("torch")
    from tiny_teacher import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny"))


def _command_argv(command: str, tiny: dict[str, Path], out: Path) -> list[str]:
    """Arguments that would make ``command`` do real work into ``out`` (given its extras)."""
    data = ["--data", str(tiny["data"]), *TINY_SIZES]
    run_dir = out.parent / "an-earlier-run"  # what the later stages read; it need not exist to stop first
    return {
        "baseline": ["baseline", *data, "--out", str(out)],
        "teacher train": ["teacher", "train", *data, "--model", str(tiny["ckpt"]), "--out", str(out)],
        "teacher label": ["teacher", "label", "--teacher", str(run_dir / "teacher"), *data, "--out", str(out)],
        "teacher merge": ["teacher", "merge", str(out)],
        "student": ["student", "--logits", str(run_dir / "logits"), *data, "--out", str(out)],
        "export student": ["export", "student", str(run_dir), "--out", str(out / "student.onnx")],
        "export teacher": ["export", "teacher", str(run_dir / "teacher"), "--out", str(out / "teacher.onnx")],
        "run": ["run", *data, "--teacher", str(tiny["ckpt"]), "--no-progress", "--out", str(out)],
    }[command]


@pytest.mark.parametrize(
    ("extra", "command"), [(e, c) for c, needs in NEEDS.items() for e in sorted(needs) if e in EXTRAS]
)
def test_a_command_that_needs_a_missing_extra_stops_first_naming_it(
    without, tiny, extra: str, command: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = edge_distill(without[extra], *_command_argv(command, tiny, out), cwd=tmp_path)
    assert_stops_naming(res, extra)
    assert files_under(out) == []  # stopped before any work


@pytest.mark.parametrize(
    ("extra", "data"),
    [("hf", "hf:stanfordnlp/imdb"), ("parquet", "train.parquet")],
)
def test_run_on_data_that_needs_a_missing_extra_stops_naming_it(without, extra: str, data: str, tmp_path: Path) -> None:
    if extra not in EXTRAS:
        pytest.skip(f"no {extra!r} extra")
    (tmp_path / "train.parquet").write_bytes(b"PAR1")  # never read: the extra is checked first
    out = tmp_path / "out"
    res = edge_distill(without[extra], "run", "--data", data, "--out", str(out), cwd=tmp_path)
    assert_stops_naming(res, extra)
    assert files_under(out) == []


@pytest.fixture(scope="module")
def student_onnx(tmp_path_factory) -> Path:
    pytest.importorskip("onnx")
    from student_support import fitted_student

    from edge_distill.exporters.student import export_student

    path = tmp_path_factory.mktemp("student") / "student.onnx"
    export_student(fitted_student(), path)
    return path


@pytest.mark.parametrize("extra", EXTRAS)
def test_predict_needs_no_extra(without, student_onnx: Path, extra: str, tmp_path: Path) -> None:
    res = edge_distill(without[extra], "predict", str(student_onnx), "great film", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert '"label"' in res.stdout


@pytest.mark.slow
@pytest.mark.parametrize("extra", OPTIONAL_FOR_RUN)
def test_run_works_without_an_extra_it_can_do_without(without, tiny, extra: str, tmp_path: Path) -> None:
    """A tiny run end to end, then predict on its student; the benchmark runs only where it is the point."""
    out = tmp_path / "out"
    res = edge_distill(
        without[extra], *tiny_run_argv(tiny, out, *([] if extra == "bench" else ["--no-bench"])), cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr[-3000:]
    for name in ("report.md", "report.json", "student.onnx", "teacher.onnx", "evaluation.json"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text(encoding="utf-8")
    if extra == "peers":
        for peer in ("fasttext", "model2vec"):
            assert f"**{peer} was skipped**" in report and "pip install 'edge-distill[peers]'" in report
    if extra == "bench":
        assert re.search(r"bench +skipped: .*pip install 'edge-distill\[bench\]'", res.stderr), res.stderr[-3000:]
        assert not (out / "bench.json").exists()
        cascade = json.loads((out / "report.json").read_text(encoding="utf-8"))["cascade"]
        assert cascade["ok"] and cascade["plan"]["threshold"] >= 0 and "bench" not in cascade  # planned, untimed
        assert (out / "cascade.json").is_file() and not (out / "figures" / "cascade.png").exists()
        assert "No figures: " in report and "edge-distill[bench]" in report
    answer = edge_distill(without[extra], "predict", str(out / "student.onnx"), "a great film", cwd=tmp_path)
    assert answer.returncode == 0 and '"label"' in answer.stdout, answer.stderr[-3000:]
