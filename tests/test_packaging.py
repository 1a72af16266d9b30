"""Packaging promises: a runtime-only install stays small; the runtime never pulls heavy imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from edge_distill.toolkit.extras import MissingExtraError, require

REPO = Path(__file__).resolve().parents[1]


def _names(reqs: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in reqs}


def test_base_install_is_the_runtime_only() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert _names(meta["dependencies"]) == {"numpy", "onnxruntime", "tokenizers"}
    extras = meta["optional-dependencies"]
    assert {"train", "export", "bench", "dev", "all"} <= set(extras)
    assert {"torch", "transformers", "scikit-learn"} <= _names(extras["train"])


def test_runtime_sources_import_nothing_heavy() -> None:
    heavy = re.compile(r"^\s*(import|from)\s+(torch|transformers|sklearn|skl2onnx|onnx\b|scipy|toolkit|exporters)")
    bad = [
        f"{p.name}:{i}"
        for p in (REPO / "runtime").glob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if heavy.match(line)
    ]
    assert bad == []


def test_importing_runtime_loads_no_heavy_module() -> None:
    code = (
        "import sys, runtime, runtime.base, runtime.textclean\n"
        "print(sorted(m for m in ('torch','transformers','sklearn','scipy','onnx','toolkit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_missing_extra_names_the_extra() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'edge-distill\[peers\]'"):
        require("fasttext.not_a_module_here", "the fastText peer")
