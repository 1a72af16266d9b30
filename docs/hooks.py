"""MkDocs hook: lay the package out as it is installed, for the API reference.

The repository maps its top-level folders into one import name (pyproject.toml's package-dir:
``runtime/`` is ``edge_distill.runtime``), which griffe's static loader does not follow. Before
the build this hook copies each mapped folder into ``build/docs-api/`` under its installed name
(Sphinx roles in the docstrings written as code spans);
``mkdocs.yml`` points mkdocstrings there. Nothing is imported, so the docs build needs no extra.
"""

from __future__ import annotations

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


#: a Sphinx cross-reference role in a docstring (``:class:`~toolkit.api.X```), which mkdocstrings shows as is
ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`~?([^`]+)`")


def as_markdown(source: str) -> str:
    """The module's text with each cross-reference role written as a code span (`` `X` ``)."""
    return ROLE.sub(r"`\1`", source)


def lay_out(tree: Path = TREE) -> Path:
    """Copy every mapped folder's modules under ``tree`` at their installed paths (``edge_distill/runtime``),
    their docstrings' roles as code spans."""
    shutil.rmtree(tree, ignore_errors=True)
    mapped = {ROOT / folder for folder in package_dirs().values()}
    for package, folder in sorted(package_dirs().items()):
        src, dst = ROOT / folder, tree.joinpath(*package.split("."))
        for module in src.rglob("*.py"):
            if any(parent in mapped for parent in module.parents if parent != src and src in parent.parents):
                continue  # a folder mapped on its own (the top package's subpackages)
            if "node_modules" in module.parts:
                continue
            target = dst / module.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(as_markdown(module.read_text(encoding="utf-8")), encoding="utf-8")
    return tree


def on_startup(**_: Any) -> None:
    """Before the config's plugins load their sources."""
    lay_out()
