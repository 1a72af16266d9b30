"""MkDocs hook: lay the package out as it is installed, for the API reference.

The repository maps its top-level folders into one import name (pyproject.toml's package-dir:
``runtime/`` is ``edge_distill.runtime``), which griffe's static loader does not follow. Before
the build this hook links each mapped folder into ``build/docs-api/`` under its installed name;
``mkdocs.yml`` points mkdocstrings there. Nothing is imported, so the docs build needs no extra.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "build" / "docs-api"


def package_dirs(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """``[tool.setuptools] package-dir`` of pyproject.toml: package name -> repository folder."""
    line = re.search(r"^package-dir\s*=\s*\{(.*)\}\s*$", pyproject.read_text(encoding="utf-8"), re.M)
    if line is None:
        raise RuntimeError(f"{pyproject}: no [tool.setuptools] package-dir line")
    return dict(re.findall(r'"([\w.]+)"\s*=\s*"([\w./-]+)"', line.group(1)))


def lay_out(tree: Path = TREE) -> Path:
    """Link every mapped folder under ``tree`` at its installed path (``edge_distill/runtime``)."""
    shutil.rmtree(tree, ignore_errors=True)
    for package, folder in sorted(package_dirs().items()):
        link = tree.joinpath(*package.split("."))
        link.parent.mkdir(parents=True, exist_ok=True)
        if package.count(".") == 0:  # the top package: its own files, its subpackages linked beside them
            link.mkdir()
            for item in (ROOT / folder).iterdir():
                os.symlink(item, link / item.name)
        else:
            os.symlink(ROOT / folder, link, target_is_directory=True)
    return tree


def on_startup(**_: Any) -> None:
    """Before the config's plugins load their sources."""
    lay_out()
