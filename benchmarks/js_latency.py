"""Student latency in every client: Python onnxruntime, onnxruntime-node, onnxruntime-web's WASM
build under Node and the web page in headless Chromium, on the same review, 1 thread.

One student is built on real IMDB text (``--size`` most frequent word 1-2-grams, as in
:mod:`benchmarks.student_latency`) and exported; each client classifies one ~230-word test
review ``--rounds`` times per block after a warm-up, through its public API (Python: the
runtime's ``predict_proba``; JavaScript: ``examples/web/student.js``'s ``classify``, i.e. input
cleaning + tensor + ``session.run``; the page: its own ``answer()``, timed with
``performance.now()`` at 5 µs resolution as the page is cross-origin isolated). The clients
take turns in ``--blocks`` blocks (the two clients under Node share one process and take
turns every 25 calls) so machine load hits all alike, while each runs warm as a service does.
The result is each client's p50 over all its calls and its ratio to Python's. Every client's answer on the review is
checked against Python's first. Example::

    python -m edge_distill.benchmarks.js_latency --data ../shared/data/imdb --out bench/js_latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime

from edge_distill import runtime
from edge_distill.benchmarks.harness import environment, percentiles
from edge_distill.runtime.atomic import atomic_write_bytes, atomic_write_text

CLIENTS = ("python", "node", "wasm_node", "browser")


def _python_block(clf, text: str, rounds: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        clf.predict_proba([text])
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        clf.predict_proba([text])
        times.append(time.perf_counter() - t0)
    return times


def _check(client: str, row: dict, labels, label: str, proba: np.ndarray) -> None:
    got = np.array([row["probabilities"][n] for n in labels])
    if row["label"] != label or np.abs(got - proba).max() > 1e-6:
        raise RuntimeError(f"{client} answers {row} on the review, Python {label} {proba.tolist()}")


def _node_block(clients: list[str], path: Path, text: str, rounds: int, warmup: int) -> dict:
    """client -> (times in s, row, version) for clients under Node, taking turns in one process."""
    from edge_distill.benchmarks import js_clients

    names = {"node": "node", "wasm_node": "web"}
    request = {"text": text, "rounds": rounds, "warmup": warmup}
    out = js_clients.run_node(
        js_clients.WEB / "tools" / "latency.js", [",".join(names[c] for c in clients), str(path)], request
    )
    return {
        c: ([t / 1e3 for t in out[names[c]]["times_ms"]], out[names[c]]["row"], out[names[c]]["version"])
        for c in clients
    }


def _browser_block(path: Path, text: str, rounds: int, warmup: int) -> tuple[list[float], dict, str]:
    from edge_distill.benchmarks import js_clients

    out = js_clients.drive_page(path, {"texts": [text], "timing": {"text": text, "rounds": rounds, "warmup": warmup}})
    return [t / 1e3 for t in out["times_ms"]], out["rows"][0], f"onnxruntime-web {out['version']} (WASM) in Chromium"


def measure(path: Path, text: str, *, rounds: int, warmup: int, blocks: int, clients=CLIENTS) -> dict:
    """Per-client percentiles (ms), versions and p50 ratios to Python for the student at ``path``."""

    clf = runtime.load(path, threads=1)
    (label,), proba = clf.predict_with_proba([text])
    samples: dict[str, list[float]] = {c: [] for c in clients}
    versions = {"python": f"onnxruntime {onnxruntime.__version__} (Python)"}
    under_node = [c for c in clients if c in ("node", "wasm_node")]
    for _ in range(blocks):
        samples["python"] += _python_block(clf, text, rounds, warmup)
        found = _node_block(under_node, path, text, rounds, warmup) if under_node else {}
        if "browser" in clients:
            found["browser"] = _browser_block(path, text, rounds, warmup)
        for client, (times, row, versions[client]) in found.items():
            _check(client, row, clf.labels, label, proba[0])
            samples[client] += times
    stats = {c: percentiles(s) for c, s in samples.items()}
    base = stats["python"]["p50_ms"]
    return {
        "latency": stats,
        "versions": versions,
        "p50_over_python": {c: s["p50_ms"] / base for c, s in stats.items()},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="the IMDB folder (train/test/unsup JSONL)")
    p.add_argument("--size", type=int, default=78_000, help="n-grams of the student (default: 78000)")
    p.add_argument("--words", type=int, default=230, help="length of the review (default: 230 words)")
    p.add_argument("--rounds", type=int, default=300, help="timed calls per client and block (default: 300)")
    p.add_argument(
        "--warmup",
        type=int,
        default=1000,
        help="untimed calls before each block (default: 1000; V8 compiles WASM in tiers, and its first few "
        "hundred calls run the baseline code at about twice the time)",
    )
    p.add_argument("--blocks", type=int, default=3, help="blocks per client, taken in turns (default: 3)")
    p.add_argument("--clients", default=",".join(CLIENTS), help=f"comma-separated subset of {','.join(CLIENTS)}")
    p.add_argument("--out", default=None, help="also write the JSON result here")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from edge_distill.benchmarks import js_clients
    from edge_distill.benchmarks.student_latency import build_students, review_of_length
    from edge_distill.exporters.student import export_bytes

    clients = tuple(c for c in args.clients.split(",") if c)
    if set(clients) - set(CLIENTS) or "python" not in clients:
        raise SystemExit(f"--clients: expected python and any of {CLIENTS}, got {clients}")
    reason = js_clients.missing(browser="browser" in clients)
    if reason:
        raise SystemExit(f"js_latency: {reason}")
    (model,), test_texts = build_students(args.data, [args.size])
    review = review_of_length(test_texts, args.words)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "student.onnx"
        atomic_write_bytes(path, export_bytes(model, check_ops=False))
        result = measure(path, review, rounds=args.rounds, warmup=args.warmup, blocks=args.blocks, clients=clients)
    result.update(
        review_words=len(review.split()),
        n_features=model.n_features,
        rounds=args.rounds * args.blocks,
        threads=1,
        command="python -m edge_distill.benchmarks.js_latency " + " ".join(argv if argv is not None else sys.argv[1:]),
        environment=environment(),
    )
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    print(text)
    lat, ratio = result["latency"], result["p50_over_python"]
    line = ", ".join(f"{c} {lat[c]['p50_ms'] * 1e3:.0f} µs ({ratio[c]:.2f}x)" for c in clients)
    print(
        f"\nbatch-1 p50, {result['review_words']}-word review, {model.n_features:,} n-grams, 1 thread: {line}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
