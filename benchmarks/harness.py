"""Measurement primitives: interleaved latency percentiles, throughput, cold start, peak memory.

Contenders are timed round-robin in a shuffled order each round, so a burst of load on the
machine hits every contender alike and their ratios stay meaningful on a busy 2-core box.
Cold start and peak RSS are measured in a fresh interpreter per contender.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime

Predict = Callable[[list[str]], Any]


@dataclass
class Contender:
    """Something that classifies texts, and how to start it from nothing in a fresh process."""

    name: str
    predict: Predict
    cold_start_code: str = ""  # Python source that imports, loads and predicts once
    size_bytes: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99 and mean of latencies given in seconds, reported in milliseconds."""
    a = np.asarray(samples_s, dtype=np.float64) * 1e3
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p90_ms": float(np.percentile(a, 90)),
        "p99_ms": float(np.percentile(a, 99)),
        "mean_ms": float(a.mean()),
        "n": len(a),
    }


def interleaved_latency(
    contenders: Sequence[Contender],
    texts: Sequence[str],
    *,
    rounds: int = 200,
    warmup: int = 20,
    seed: int = 0,
    budget_s: dict[str, float] | None = None,
) -> dict[str, dict[str, float]]:
    """Batch-1 latency of every contender over ``texts`` (cycled), interleaved round by round.

    ``budget_s`` caps the total time spent on a slow contender (e.g. a PyTorch teacher):
    once spent, it drops out of later rounds and its percentiles use the samples it has.
    """
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {c.name: [] for c in contenders}
    spent = dict.fromkeys(samples, 0.0)
    for c in contenders:
        for i in range(warmup):
            c.predict([texts[i % len(texts)]])
    order = list(contenders)
    for r in range(rounds):
        rng.shuffle(order)
        text = [texts[r % len(texts)]]
        for c in order:
            if budget_s and spent[c.name] > budget_s.get(c.name, float("inf")):
                continue
            t0 = time.perf_counter()
            c.predict(text)
            dt = time.perf_counter() - t0
            samples[c.name].append(dt)
            spent[c.name] += dt
    return {name: percentiles(s) for name, s in samples.items() if s}


def block_latency(
    contenders: Sequence[Contender],
    texts: Sequence[str],
    *,
    rounds: int = 40,
    block: int = 25,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Warm batch-1 latency: contenders take turns running ``block`` calls each, in shuffled order.

    The regime of a service answering a stream of requests: within its block a contender keeps
    its caches, and the first call of each block (the one that pays for the switch) is dropped.
    Taking turns round after round keeps the comparison fair under changing machine load, as
    :func:`interleaved_latency` does for the cold regime.
    """
    if block < 2:
        raise ValueError(f"block must be >= 2 (its first call is dropped), got {block}")
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {c.name: [] for c in contenders}
    order = list(contenders)
    for r in range(rounds):
        rng.shuffle(order)
        for c in order:
            for i in range(block):
                text = [texts[(r * block + i) % len(texts)]]
                t0 = time.perf_counter()
                c.predict(text)
                dt = time.perf_counter() - t0
                if i:
                    samples[c.name].append(dt)
    return {name: percentiles(s) for name, s in samples.items()}


def throughput(
    predict: Predict, texts: Sequence[str], batch: int = 256, min_seconds: float = 2.0, max_batches: int = 50
) -> dict[str, float]:
    """Texts per second at ``batch`` texts per call, after one warm-up call."""
    texts = list(texts)
    batches = [texts[i : i + batch] for i in range(0, len(texts), batch)] or [[]]
    predict(batches[0])
    done, n, t0 = 0, 0, time.perf_counter()
    while (time.perf_counter() - t0 < min_seconds or n == 0) and n < max_batches:
        b = batches[n % len(batches)]
        predict(b)
        done += len(b)
        n += 1
    elapsed = time.perf_counter() - t0
    return {"throughput_per_s": done / elapsed, "batch": batch, "batches": n, "seconds": elapsed}


# Peak RSS is VmHWM from /proc (reset at exec); ru_maxrss survives exec on Linux and would
# report the benchmarking parent's size. Elsewhere ru_maxrss is the best there is.
_COLD_WRAPPER = """
import time, resource, json, sys
t0 = time.perf_counter()
{code}
elapsed = time.perf_counter() - t0
try:
    with open("/proc/self/status") as fh:
        peak = next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) / 1024
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("__COLD__" + json.dumps({{"inner_s": elapsed, "peak_rss_mb": peak}}))
"""


def cold_start(
    code: str,
    env: dict[str, str] | None = None,
    repeats: int = 3,
    timeout: float = 600,
) -> dict[str, float]:
    """Wall time from process launch to first prediction, and peak RSS, in fresh interpreters.

    ``code`` must import, load and predict once. The median of ``repeats`` launches is kept;
    ``cold_start_ms`` includes the interpreter's own start-up, as a user would see it.
    """
    walls, inner, rss = [], [], []
    full_env = {**os.environ, **(env or {})}
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _COLD_WRAPPER.format(code=code)],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )
        walls.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(f"cold-start probe failed: {proc.stderr.strip()[-2000:]}")
        line = next(x for x in proc.stdout.splitlines() if x.startswith("__COLD__"))
        rec = json.loads(line[len("__COLD__") :])
        inner.append(rec["inner_s"])
        rss.append(rec["peak_rss_mb"])
    return {
        "cold_start_ms": float(np.median(walls) * 1e3),
        "import_load_predict_ms": float(np.median(inner) * 1e3),
        "peak_rss_mb": float(np.median(rss)),
        "repeats": repeats,
    }


def cpu_model() -> str:
    """The CPU's model name (Linux), else what platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict[str, Any]:
    """What a reader needs to compare two benchmark runs."""
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    for mod in ("sklearn", "torch", "transformers"):
        if mod in sys.modules:
            info[mod] = getattr(sys.modules[mod], "__version__", "?")
    with contextlib.suppress(OSError):
        info["load_average"] = os.getloadavg()
    return info
