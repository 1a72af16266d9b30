"""The cascade on the test texts as they come: one text per call, in order, as a service sees them.

Each call's wall time is kept (the student's, plus the teacher's when the text reaches it), so
the mean, p50 and p99 show both regimes: the p50 is the student's latency when less than half
the texts reach the teacher, the p99 the teacher's. The share that reached the teacher is
reported with them. Example::

    python -m edge_distill.benchmarks.cascade RUN/cascade.json --data ../shared/data/imdb --test 1000
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

from edge_distill.benchmarks.harness import environment, percentiles
from edge_distill.runtime.cascade import load_cascade
from edge_distill.toolkit.arguments import run_command
from edge_distill.toolkit.options import add_data_arguments, data_options


def time_cascade(cascade, texts: Sequence[str], *, warmup: int = 10, limit: int | None = None) -> dict[str, Any]:
    """Latency of ``cascade.route([text])`` for each text in order (after ``warmup`` calls), and the teacher share."""
    texts = list(texts)[:limit] if limit else list(texts)
    if not texts:
        raise ValueError("time_cascade needs at least one text")
    for t in texts[:warmup]:
        cascade.route([t])
    samples, asked = [], []
    for t in texts:
        t0 = time.perf_counter()
        routed = cascade.route([t])
        samples.append(time.perf_counter() - t0)
        asked.append(bool(routed.asked[0]))
    alone = [s for s, a in zip(samples, asked, strict=True) if not a]
    helped = [s for s, a in zip(samples, asked, strict=True) if a]
    return {
        **percentiles(samples),
        # the calls the student answered alone, and those that also ran the teacher (None: no such call)
        "student_only_mean_ms": 1e3 * sum(alone) / len(alone) if alone else None,
        "with_teacher_mean_ms": 1e3 * sum(helped) / len(helped) if helped else None,
        "teacher_share": sum(asked) / len(texts),
        "threshold": cascade.threshold,
        "combine": cascade.combine,
        "texts": len(texts),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m edge_distill.benchmarks.cascade SPEC --data DIR``: time a saved cascade on a run's test texts."""
    p = argparse.ArgumentParser(prog="python -m edge_distill.benchmarks.cascade", description=main.__doc__)
    p.add_argument("spec", help="a cascade.json written by edge_distill.toolkit.cascade.save_cascade_spec")
    add_data_arguments(p, transfer=False)  # as for 'edge-distill run': the texts come from its test split
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default: %(default)s)")
    args = p.parse_args(argv)

    def body() -> None:
        test = data_options(args, unlabeled=0).load().test
        result = time_cascade(load_cascade(args.spec, threads=args.threads), test.texts)
        print(json.dumps({**result, "environment": environment()}, indent=1))

    return run_command(p.prog, body)


if __name__ == "__main__":
    raise SystemExit(main())
