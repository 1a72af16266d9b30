"""Resident-memory growth of one loaded classifier over a million predictions (a leak detector).

A service keeps one classifier for days; a leak of a few bytes per call becomes gigabytes. This
loads the artifact once, warms it up (onnxruntime's arena and caches grow to their working size
during the first calls), then classifies ``--predictions`` texts in batches and reports how much
the resident set (VmRSS from /proc, else psutil) grew after the warm-up. Target: < 5 MB. It is a
measurement, printed as JSON, not a test: the number depends on the allocator and the machine.

    python -m edge_distill.benchmarks.memory_growth --model runs/seed/student.onnx --data ../shared/data/imdb
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import psutil

from edge_distill import runtime
from edge_distill.runtime.atomic import atomic_write_text
from edge_distill.toolkit.data import load_dataset

TARGET_MB = 5.0


def rss_mb() -> float:
    """The current resident set size in MB (VmRSS), not the peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return psutil.Process().memory_info().rss / 2**20


def corpus(data: str | None, n: int) -> list[str]:
    """Up to ``n`` real test texts from ``--data``, else varied synthetic ones (no toolkit needed)."""
    if data:
        ds = load_dataset(data)
        split = "test" if "test" in ds else next(iter(ds))
        return list(ds[split].texts[:n])
    words = ["great", "awful", "film", "plot", "ΚΑΛΌ", "素晴らしい", "😀", "<br />", "été", "boring", "\x00"]
    return [" ".join(words[(i * j) % len(words)] for j in range(5 + i % 300)) for i in range(n)]


def measure(
    model: str, texts: list[str], predictions: int, batch: int, warmup: int, threads: int, samples: int = 10
) -> dict:
    """RSS after warm-up, at ``samples`` points during the run, and at the end."""
    clf = runtime.load(model, threads=threads)
    n = len(texts)

    def run(count: int, offset: int) -> int:
        done = 0
        while done < count:
            size = min(batch, count - done)
            start = (offset + done) % n
            chunk = texts[start : start + size]
            if len(chunk) < size:
                chunk += texts[: size - len(chunk)]
            clf.predict(chunk)
            done += size
        return done

    loaded = rss_mb()
    run(warmup, 0)
    gc.collect()
    base = rss_mb()
    series, done, t0 = [], 0, time.perf_counter()
    step = -(-predictions // samples)
    while done < predictions:
        done += run(min(step, predictions - done), warmup + done)
        gc.collect()
        series.append({"predictions": done, "rss_mb": round(rss_mb(), 2)})
    elapsed = time.perf_counter() - t0
    growth = series[-1]["rss_mb"] - base
    return {
        "model": str(model),
        "predictions": done,
        "batch": batch,
        "threads": threads,
        "warmup": warmup,
        "distinct_texts": n,
        "rss_after_load_mb": round(loaded, 2),
        "rss_after_warmup_mb": round(base, 2),
        "rss_end_mb": series[-1]["rss_mb"],
        "growth_mb": round(growth, 2),
        "max_growth_mb": round(max(s["rss_mb"] for s in series) - base, 2),
        "target_mb": TARGET_MB,
        "within_target": growth < TARGET_MB,
        "seconds": round(elapsed, 1),
        "predictions_per_s": round(done / elapsed),
        "series": series,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print (and with ``--out`` save) the JSON result."""
    p = argparse.ArgumentParser(
        prog="python -m edge_distill.benchmarks.memory_growth",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help="a student.onnx or teacher.onnx file")
    p.add_argument("--data", default=None, help="texts to classify (test split); default: synthetic texts")
    p.add_argument("--texts", type=int, default=5000, help="distinct texts, cycled (default: %(default)s)")
    p.add_argument("--predictions", type=int, default=1_000_000, help="default: %(default)s")
    p.add_argument("--batch", type=int, default=256, help="texts per call (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=50_000, help="predictions before the baseline (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default: %(default)s)")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON here (atomically)")
    args = p.parse_args(argv)
    if not Path(args.model).is_file():
        p.error(f"{args.model}: no such file")
    result = measure(args.model, corpus(args.data, args.texts), args.predictions, args.batch, args.warmup, args.threads)
    text = json.dumps(result, indent=2)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    print(text)
    return 0 if result["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
