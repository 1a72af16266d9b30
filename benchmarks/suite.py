"""The latency suite: every contender measured the same way in one run.

For each contender: p50/p90/p99 latency at batch 1 with one thread on a typical and on a long
review (interleaved with the other contenders), throughput at batch 256 with all threads (or
``throughput_threads``, to leave cores to other work on a shared machine),
cold start (fresh process: import + load + first prediction), peak RSS, and artifact size.
Accuracy comes from the evaluation, not from here. Ratios against the first contender (the
student) are what the targets are stated in. Peers (a folder with ``peer.json``: fastText,
Model2Vec + LR) are contenders like any other artifact, named by their kind.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from edge_distill.benchmarks import contenders as cont
from edge_distill.benchmarks.harness import block_latency, cold_start, environment, interleaved_latency, throughput
from edge_distill.runtime.atomic import atomic_write_text
from edge_distill.toolkit.arguments import run_command
from edge_distill.toolkit.options import add_data_arguments, data_options


def pick_reviews(texts: Sequence[str]) -> dict[str, str]:
    """A typical review (median word count) and a long one (95th percentile)."""
    words = np.array([len(t.split()) for t in texts])
    order = np.argsort(words, kind="stable")
    return {"typical": texts[order[len(order) // 2]], "long": texts[order[int(len(order) * 0.95)]]}


def run_suite(
    artifacts: Sequence[str],
    texts: Sequence[str],
    *,
    names: Sequence[str | None] | None = None,
    rounds: int = 300,
    warmup: int = 30,
    batch: int = 256,
    cold_repeats: int = 3,
    slow_budget_s: float = 20.0,
    seed: int = 0,
    progress: bool = True,
    throughput_threads: int | None = None,
    block: int = 25,
) -> dict[str, Any]:
    """Measure every artifact; ``texts`` supply the reviews (typical, long, and the batch)."""
    names = list(names) if names else [None] * len(artifacts)
    reviews = pick_reviews(texts)
    one = [cont.build(a, n, 1, reviews["typical"]) for a, n in zip(artifacts, names, strict=True)]
    results: dict[str, dict[str, Any]] = {c.name: {"size_bytes": c.size_bytes, **c.meta} for c in one}
    budget = {c.name: slow_budget_s for c in one if "teacher" in c.name}
    steps = tqdm(total=2 + 2 * len(one), desc="bench", disable=not progress)
    _batch1_latency(one, reviews, results, budget, steps, rounds=rounds, warmup=warmup, block=block, seed=seed)
    pool = list(texts)[: batch * 4]
    for a, n, c in zip(artifacts, names, one, strict=True):
        many = cont.build(a, n or c.name, throughput_threads, reviews["typical"])
        max_batches = 2 if "teacher" in c.name else 50
        results[c.name].update(throughput(many.predict, pool, batch=batch, max_batches=max_batches))
        del many
        steps.update()
    for c in one:
        results[c.name].update(cold_start(c.cold_start_code, repeats=cold_repeats))
        steps.update()
    steps.close()
    settings = {"rounds": rounds, "warmup": warmup, "batch": batch, "latency_threads": 1, "block": block}
    settings.update(throughput_threads=throughput_threads or os.cpu_count(), cold_repeats=cold_repeats)
    settings["review_words"] = {k: len(v.split()) for k, v in reviews.items()}
    return _with_ratios(results, one[0].name, settings)


def _batch1_latency(
    one: list,
    reviews: dict[str, str],
    results: dict[str, dict[str, Any]],
    budget: dict[str, float],
    steps,
    *,
    rounds: int,
    warmup: int,
    block: int,
    seed: int,
) -> None:
    """Batch-1 latency into ``results``: the cold regime (contenders interleaved call by call, so
    each may find its caches evicted, on the typical and the long review), then the warm one."""
    for which, review in reviews.items():
        lat = interleaved_latency(one, [review], rounds=rounds, warmup=warmup, seed=seed, budget_s=budget)
        for name, stats in lat.items():
            results[name][f"latency_{which}"] = stats
        steps.update()
    for c in one:
        stats = results[c.name]["latency_typical"]
        results[c.name].update(p50_ms=stats["p50_ms"], p90_ms=stats["p90_ms"], p99_ms=stats["p99_ms"])
    # warm regime (a stream of requests, caches kept): the fast contenders take turns in blocks
    fast = [c for c in one if c.name not in budget]
    warm = block_latency(fast, [reviews["typical"]], rounds=max(4, rounds // 10), block=block, seed=seed)
    for name, stats in warm.items():
        results[name].update(latency_warm=stats, warm_p50_ms=stats["p50_ms"])


def _with_ratios(results: dict[str, dict[str, Any]], ref: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The suite's result: every contender's numbers with its ratios against ``ref`` (the targets
    are stated as ratios), the settings, and the machine they were measured on."""
    for r in results.values():
        r["p50_vs_first"] = r["p50_ms"] / results[ref]["p50_ms"]
        r["throughput_vs_first"] = r["throughput_per_s"] / results[ref]["throughput_per_s"]
    return {"contenders": results, "reference": ref, "settings": settings, "environment": environment()}


def markdown(bench: dict[str, Any]) -> str:
    """The suite's results (as data: ``bench.json``) as a Markdown table, for ``bench.md`` and the report."""
    rows = [
        "| contender | p50 ms | p90 ms | p99 ms | warm p50 ms | long p50 ms | batch-256 texts/s | cold start ms "
        "| peak RSS MB | size MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in bench["contenders"].items():
        warm = f"{r['warm_p50_ms']:.3f}" if "warm_p50_ms" in r else "–"
        rows.append(
            f"| {name} | {r['p50_ms']:.3f} | {r['p90_ms']:.3f} | {r['p99_ms']:.3f} | {warm} | "
            f"{r['latency_long']['p50_ms']:.3f} | {r['throughput_per_s']:.0f} | {r['cold_start_ms']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['size_bytes'] / 1e6:.2f} |"
        )
    env, s = bench["environment"], bench["settings"]
    rows.append("")
    rows.append(
        f"CPU: {env['cpu']} ({env['logical_cpus']} logical); latency at batch 1 with 1 thread, "
        f"{s['rounds']} interleaved rounds after {s['warmup']} warm-up calls (each call may find its "
        "caches evicted by another contender); warm p50: contenders take turns running "
        f"{s.get('block', 25)} calls each, the first of each block dropped (reviews of "
        f"{s['review_words']['typical']} and {s['review_words']['long']} words); throughput at batch "
        f"{s['batch']} with {s['throughput_threads']} thread{'' if s['throughput_threads'] == 1 else 's'}; "
        "cold start = fresh process to first prediction."
    )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m edge_distill.benchmarks.suite ARTIFACT ... --data DIR``: the suite on a run's test texts."""
    p = argparse.ArgumentParser(prog="python -m edge_distill.benchmarks.suite", description=main.__doc__)
    p.add_argument(
        "artifacts",
        nargs="+",
        help=".onnx files, student folders, teacher folders or peer folders; the first is the reference of the ratios",
    )
    add_data_arguments(p, transfer=False)  # as for 'edge-distill run': the texts come from its test split
    p.add_argument("--rounds", type=int, default=300)
    p.add_argument("--cold-repeats", type=int, default=3)
    p.add_argument("--throughput-threads", type=int, default=None, help="default: all cores")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args(argv)

    def body() -> None:
        test = data_options(args, unlabeled=0).load().test
        result = run_suite(
            args.artifacts,
            test.texts,
            rounds=args.rounds,
            cold_repeats=args.cold_repeats,
            seed=args.seed,
            throughput_threads=args.throughput_threads,
        )
        if args.out:
            atomic_write_text(args.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(markdown(result))

    return run_command(p.prog, body)


if __name__ == "__main__":
    raise SystemExit(main())
