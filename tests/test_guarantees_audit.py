"""Static audit: every file write goes through runtime/atomic.py; nothing unpickles.

A write is a call that creates or changes a file: ``open``/``gzip.open``/``os.fdopen``/``.open``
with a writing mode, ``.write_text``, ``.write_bytes``, ``np.save*``, ``.save``/``onnx.save``,
``save_pretrained``, ``savefig``, ``tofile``, ``to_csv``, ``json.dump``/``pickle.dump``,
``torch.onnx.export``, ``quantize_dynamic``, ``shutil.copy*``/``move``, ``os.rename``/``replace``.
It passes when it sits inside ``with atomic_path(...)``/``with atomic_dir(...)`` (the helper
renames the finished temporary over the final name), writes to stdout/stderr, or is on the
allow-list below with the reason it can never leave a partial file under a final name.

Loading rules, for everything the runtime, the toolkit, the exporters and the benchmarks read:
no ``pickle``/``joblib``/``dill``/``cloudpickle`` import, no ``read_pickle``, no
``allow_pickle=True``, and every ``torch.load`` passes ``weights_only=True``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("toolkit", "exporters", "runtime", "benchmarks")
HELPER = "runtime/atomic.py"

WRITE_METHODS = {
    "write_text",
    "write_bytes",
    "save",
    "savez",
    "savez_compressed",
    "save_pretrained",
    "savefig",
    "tofile",
    "to_csv",
    "to_parquet",
    "to_json",
    "dump",
    "save_model_to_file",
    "quantize_dynamic",
}
WRITE_DOTTED = {
    "torch.onnx.export",
    "os.replace",
    "os.rename",
    "os.renames",
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "os.truncate",
    "os.link",
    "os.symlink",
}
#: functions that write files when called by their bare name (``from x import f``)
WRITE_FUNCTIONS = {"quantize_dynamic", "copyfile", "copytree", "save_pretrained"}
OPENERS = {
    "open",
    "gzip.open",
    "bz2.open",
    "lzma.open",
    "io.open",
    "os.fdopen",
    "codecs.open",
    "tarfile.open",
    "zipfile.ZipFile",
}
ATOMIC = {"atomic_path", "atomic_dir"}
STREAMS = {"sys.stdout", "sys.stderr"}
PICKLERS = {"pickle", "cPickle", "_pickle", "joblib", "dill", "cloudpickle", "shelve", "marshal"}

#: (file, enclosing function, call) -> why this write cannot leave a partial file under a final name
ALLOWED: dict[tuple[str, str, str], str] = {
    # the fp32 graph handed to onnxruntime's quantizer, inside export_teacher's TemporaryDirectory;
    # only the sealed bytes reach the final name, through atomic_write_bytes
    ("exporters/teacher.py", "quantize_int8", "onnx.save"): "scratch file in a TemporaryDirectory",
    ("exporters/teacher.py", "quantize_int8", "quantize_dynamic"): "scratch file in a TemporaryDirectory",
    # torch's exporter writes raw.onnx into the same TemporaryDirectory, read back and re-sealed
    ("exporters/teacher.py", "to_onnx_graph", "torch.onnx.export"): "scratch file in a TemporaryDirectory",
    # fastText trains from a file: a mkstemp scratch file, unlinked in `finally`, never a result
    ("toolkit/peers/fasttext_peer.py", "FastTextPeer.fit", "os.fdopen"): "mkstemp scratch file, deleted after use",
    # a peer's own save() writes its folder through atomic_dir (audited in toolkit/peers/)
    ("toolkit/pipeline.py", "_peers", "peer.save"): "FastTextPeer.save / Model2VecPeer.save use atomic_dir",
    # writes peer.json into the folder its caller passes; every call site must be inside an
    # atomic_dir block, which test_folder_writers_are_only_called_inside_atomic_blocks checks
    ("toolkit/peers/common.py", "write_manifest", ".write_text"): "only called inside atomic_dir (checked)",
    # after a closed output pipe, stdout is pointed at /dev/null so the flush at exit cannot fail: no file
    ("toolkit/arguments.py", "run_command", "os.open"): "opens /dev/null, writes no file",
}
#: helpers allowed above because they write into a caller's folder: each call must be atomic
FOLDER_WRITERS = {"write_manifest"}


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _mode(call: ast.Call, position: int) -> str | None:
    """The literal mode of an open-like call (``None`` when it is not a literal)."""
    for kw in call.keywords:
        if kw.arg == "mode":
            return kw.value.value if isinstance(kw.value, ast.Constant) else None
    if len(call.args) > position and isinstance(call.args[position], ast.Constant):
        return call.args[position].value
    return "r" if len(call.args) <= position else None


def _write_name(call: ast.Call) -> str | None:
    """The name of the write ``call`` performs, or ``None`` when it does not write a file."""
    name = _dotted(call.func)
    last = call.func.attr if isinstance(call.func, ast.Attribute) else name
    if name in OPENERS or (
        isinstance(call.func, ast.Attribute) and last == "open" and name not in {"Image.open", "webbrowser.open"}
    ):
        position = 0 if isinstance(call.func, ast.Attribute) and name not in OPENERS else 1
        mode = _mode(call, position)
        if mode is None or any(c in str(mode) for c in "wax+"):
            return name or f".{last}"
        return None
    if name in WRITE_DOTTED:
        return name
    if isinstance(call.func, ast.Name):
        return name if name in WRITE_FUNCTIONS else None
    if last in WRITE_METHODS:
        if last == "dump" and len(call.args) >= 2 and _dotted(call.args[1]) in STREAMS:
            return None  # json.dump(result, sys.stdout): a stream, not a file
        return name or f".{last}"
    return None


class _Scanner(ast.NodeVisitor):
    """Collects writes outside an atomic ``with`` and the loading-rule violations of one module."""

    def __init__(self) -> None:
        self.scope: list[str] = []
        self.atomic_depth = 0
        self.writes: list[tuple[int, str, str]] = []  # (line, function, call)
        self.unsafe: list[tuple[int, str]] = []
        self.folder_writer_calls: list[tuple[int, str, bool]] = []  # (line, helper, inside atomic)

    def _function(self, node) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _function

    def visit_With(self, node: ast.With) -> None:
        atomic = any(
            isinstance(i.context_expr, ast.Call) and _dotted(i.context_expr.func).split(".")[-1] in ATOMIC
            for i in node.items
        )
        self.atomic_depth += atomic
        self.generic_visit(node)
        self.atomic_depth -= atomic

    visit_AsyncWith = visit_With

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in PICKLERS:
                self.unsafe.append((node.lineno, f"import {alias.name}"))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").split(".")[0] in PICKLERS:
            self.unsafe.append((node.lineno, f"from {node.module} import ..."))

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        kwargs = {kw.arg: kw.value for kw in node.keywords}
        allow = kwargs.get("allow_pickle")
        if allow is not None and not (isinstance(allow, ast.Constant) and allow.value is False):
            self.unsafe.append((node.lineno, f"{name}(allow_pickle=...) not False"))
        if name == "torch.load" or name.endswith(".torch.load"):
            weights = kwargs.get("weights_only")
            if not (isinstance(weights, ast.Constant) and weights.value is True):
                self.unsafe.append((node.lineno, "torch.load without weights_only=True"))
        if name.split(".")[-1] in {"read_pickle", "load_pickle"}:
            self.unsafe.append((node.lineno, f"{name}"))
        if name.split(".")[-1] in FOLDER_WRITERS:
            self.folder_writer_calls.append((node.lineno, name, bool(self.atomic_depth)))
        write = _write_name(node)
        if write and not self.atomic_depth:
            self.writes.append((node.lineno, ".".join(self.scope) or "<module>", write))
        self.generic_visit(node)


def scan(source: str, name: str = "<snippet>") -> _Scanner:
    """Scan one module's source (a module that does not parse fails the audit, naming it)."""
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as exc:
        pytest.fail(f"{name}:{exc.lineno}: cannot audit a module that does not parse ({exc.msg})")
    s = _Scanner()
    s.visit(tree)
    return s


def _modules() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))]
    assert len(files) > 30, "the audit found too few modules: wrong repository layout?"
    return files


def test_the_scanner_catches_what_it_looks_for():
    """The audit can fail: each kind of violation in a snippet is reported, the safe forms are not."""
    bad = {
        "Path(p).write_text('x')": ".write_text",
        "p.write_bytes(b)": "p.write_bytes",
        "open(p, 'w')": "open",
        "open(p, mode='ab')": "open",
        "gzip.open(p, 'wt')": "gzip.open",
        "np.save(p, a)": "np.save",
        "np.savez_compressed(fh, a=a)": "np.savez_compressed",
        "model.save_pretrained(d)": "model.save_pretrained",
        "fig.savefig(p)": "fig.savefig",
        "json.dump(obj, fh)": "json.dump",
        "onnx.save(m, p)": "onnx.save",
        "shutil.copy(a, b)": "shutil.copy",
        "os.replace(a, b)": "os.replace",
        "torch.onnx.export(m, x, p)": "torch.onnx.export",
        "p.open('w')": "p.open",
        "open(p, mode)": "open",
        "os.fdopen(fd, 'w')": "os.fdopen",
        "tarfile.open(p, 'w:gz')": "tarfile.open",
        "zipfile.ZipFile(p, 'w')": "zipfile.ZipFile",
        "quantize_dynamic(a, b)": "quantize_dynamic",
    }
    for code, name in bad.items():
        assert [w[2] for w in scan(f"def f():\n    {code}\n").writes] == [name], code
    safe = [
        "open(p)",
        "open(p, 'rb')",
        "p.open()",
        "json.dump(r, sys.stdout)",
        "tarfile.open(p, 'r:*')",
        "s.replace('a', 'b')",
        "json.dumps(x)",
        "zipfile.ZipFile(p)",
        "dump(obj)",
    ]
    for code in safe:
        assert scan(f"def f():\n    {code}\n").writes == [], code
    inside = "def f():\n    with atomic_path(t) as tmp, open(tmp, 'wb') as fh:\n        np.save(fh, a)\n"
    assert scan(inside).writes == []
    assert scan("def f():\n    with atomic_dir(t) as d:\n        m.save_pretrained(d)\n").writes == []
    for code in (
        "import pickle",
        "from joblib import load",
        "np.load(p, allow_pickle=True)",
        "torch.load(p)",
        "torch.load(p, weights_only=False)",
        "pd.read_pickle(p)",
    ):
        assert scan(code + "\n").unsafe, code
    for code in ("np.load(p, allow_pickle=False)", "np.load(p)", "torch.load(p, weights_only=True)"):
        assert not scan(code + "\n").unsafe, code


def test_every_file_write_goes_through_the_atomic_helper():
    found, used = [], set()
    for path in _modules():
        rel = path.relative_to(REPO).as_posix()
        if rel == HELPER:
            continue
        for line, func, call in scan(path.read_text(encoding="utf-8"), rel).writes:
            key = (rel, func, call)
            if key in ALLOWED:
                used.add(key)
            else:
                found.append(f"{rel}:{line} in {func}: {call}(...) outside atomic_path/atomic_dir")
    assert not found, "\n".join(found)
    stale = set(ALLOWED) - used
    assert not stale, f"allow-list entries that no longer match any write (remove them): {sorted(stale)}"


def test_folder_writers_are_only_called_inside_atomic_blocks():
    calls = [
        (p.relative_to(REPO).as_posix(), line, name, atomic)
        for p in _modules()
        for line, name, atomic in scan(p.read_text(encoding="utf-8"), str(p)).folder_writer_calls
    ]
    outside = [f"{rel}:{line}: {name}(...) outside atomic_dir" for rel, line, name, atomic in calls if not atomic]
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize("package", PACKAGES)
def test_nothing_unpickles(package):
    bad = [
        f"{p.relative_to(REPO)}:{line}: {what}"
        for p in sorted((REPO / package).rglob("*.py"))
        for line, what in scan(p.read_text(encoding="utf-8"), str(p.relative_to(REPO))).unsafe
    ]
    assert not bad, "\n".join(bad)
