"""Run an exported student in the JavaScript clients: onnxruntime-node, onnxruntime-web's WASM
build under Node, and the web page in headless Chromium.

Used by the tests (parity with the Python runtime) and :mod:`benchmarks.js_latency`. What they
need is installed by ``scripts/install.sh``: ``node``, Debian's ``chromium``, and ``npm ci`` in
``examples/node`` and ``examples/web`` (the latter also copies the WASM build into
``examples/web/vendor``). :func:`missing` names whatever is absent.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from edge_distill.runtime.atomic import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "examples" / "web"
NODE_EXAMPLE = REPO / "examples" / "node"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: the page reads models from here (served from a local folder by :func:`serve`)
MODELS = "/models/"


def missing(browser: bool = True) -> str | None:
    """Why the JavaScript clients cannot run here (``None`` when they can)."""
    if shutil.which("node") is None:
        return "node is not installed"
    needs = [
        (NODE_EXAMPLE / "node_modules" / "onnxruntime-node", "npm ci in examples/node"),
        (WEB / "node_modules" / "onnxruntime-web", "npm ci in examples/web"),
        (WEB / "vendor" / "ort.wasm.bundle.min.js", "node vendor.js in examples/web"),
    ]
    if browser:
        needs += [
            (WEB / "node_modules" / "playwright-core", "npm ci in examples/web"),
            (Path(CHROMIUM), "apt-get install chromium"),
        ]
    for path, fix in needs:
        if not path.exists():
            return f"{path} is missing ({fix}; scripts/install.sh does both)"
    return None


def _ascii_json(obj) -> str:
    """JSON with every non-ASCII character escaped, so lone surrogates survive any transport."""
    return json.dumps(obj, ensure_ascii=True)


def run_node(script: Path, args: Sequence[str], request: dict | None = None, timeout: float = 600) -> dict:
    """Run a Node tool with ``request`` in a temporary ASCII JSON file (its last argument);
    returns the JSON it prints. Raises RuntimeError with the tool's error on failure."""
    with tempfile.TemporaryDirectory() as tmp:
        extra = []
        if request is not None:
            atomic_write_text(Path(tmp, "request.json"), _ascii_json(request))
            extra = [str(Path(tmp, "request.json"))]
        proc = subprocess.run(
            ["node", str(script), *args, *extra],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=WEB,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"{script.name} failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout)


def classify_in(client: str, model: Path, texts: Sequence[str]) -> dict:
    """``{"version", "rows"}``: ``texts`` classified by ``client`` ("node" or "web") under Node."""
    return run_node(WEB / "tools" / "classify.js", [client, str(model)], {"texts": list(texts)})


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files of examples/web, plus /models/NAME from the models folder; cross-origin
    isolated (COOP/COEP), which gives the page 5 µs timers instead of 100 µs."""

    models: Path = Path()

    def translate_path(self, path: str) -> str:
        rel = unquote(urlsplit(path).path)
        if rel.startswith(MODELS):
            return str(self.models / Path(rel[len(MODELS) :]).name)
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args) -> None:  # quiet
        pass


@contextlib.contextmanager
def serve(models: Path) -> Iterator[str]:
    """Serve the page on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    handler = type("Handler", (_Handler,), {"models": Path(models)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(WEB)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def drive_page(model: Path, request: dict, timeout: float = 600) -> dict:
    """Open the page on ``model`` in headless Chromium and run ``request`` there (see
    ``examples/web/tools/drive_page.js``); returns what the page answered."""
    with serve(model.parent) as base:
        url = f"{base}index.html?model={quote(MODELS + model.name)}"
        return run_node(WEB / "tools" / "drive_page.js", [url], request, timeout=timeout)
