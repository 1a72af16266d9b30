"""Packaging promises: a runtime-only install stays small; the runtime never pulls heavy imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from edge_distill.runtime.extras import MissingExtraError, require

REPO = Path(__file__).resolve().parents[1]


def _names(reqs: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in reqs}


def test_base_install_is_the_runtime_only() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert _names(meta["dependencies"]) == {"numpy", "onnxruntime", "tokenizers"}
    extras = meta["optional-dependencies"]
    assert {"train", "export", "bench", "dev", "all"} <= set(extras)
    assert {"torch", "transformers", "scikit-learn"} <= _names(extras["train"])


def test_importing_edge_distill_loads_no_heavy_module(tmp_path: Path) -> None:
    """``import edge_distill`` is the runtime: numpy, onnxruntime, tokenizers, and no training code."""
    code = (
        "import sys, edge_distill, edge_distill.runtime.base, edge_distill.runtime.textclean\n"
        "heavy = ('torch', 'transformers', 'sklearn', 'scipy', 'onnx', 'edge_distill.toolkit',\n"
        "         'edge_distill.exporters')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "[]"


def test_public_api_of_the_package() -> None:
    import edge_distill

    assert {"load", "Classifier", "EdgeDistillError", "__version__"} <= set(edge_distill.__all__)
    assert all(hasattr(edge_distill, name) for name in edge_distill.__all__)
    assert issubclass(edge_distill.ArtifactError, edge_distill.EdgeDistillError)
    from importlib.metadata import version

    assert edge_distill.__version__ == version("edge-distill")  # one source: pyproject reads it from the package


def test_every_package_folder_is_mapped_in_pyproject() -> None:
    """A new subpackage that pyproject.toml does not list would be missing from the wheel."""
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {v: k for k, v in conf["package-dir"].items()}
    found = set()
    for folder, package in folders.items():
        for init in (REPO / folder).rglob("__init__.py"):
            if "node_modules" not in init.parts and not init.parent.is_symlink():
                rel = init.parent.relative_to(REPO / folder).parts
                found.add(".".join([package, *rel]))
    assert found == set(conf["packages"])


def test_missing_extra_names_the_extra() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'edge-distill\[peers\]'"):
        require("fasttext.not_a_module_here", "the fastText peer")
