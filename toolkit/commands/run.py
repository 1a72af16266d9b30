"""Run everything: baseline → teacher fine-tune → labeling → student → exports → evaluation →
latency benchmark → report, into one folder.

Every stage is cached under DIR keyed by its inputs and settings (DIR/stages/*.json): rerun the
same command after a crash, or with one option changed, and only what changed is redone. DIR
ends up holding baseline.json, teacher/, logits/, student/, student.onnx, teacher.onnx,
teacher.int8.onnx, evaluation.json, bench.json, report.json, report.md and figures/.

examples:
  edge-distill run --data ../shared/data/imdb --out runs/seed
  edge-distill run --data ../shared/data/imdb --out runs/full --unlabeled all --test all \\
      --scaling 1000,5000,10000,25000
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_distill.toolkit.commands.common import add_json, add_seed, emit, size

HELP = "run the whole pipeline, from data to deployable artifacts and a report"


def _sizes(text: str) -> list[int | None]:
    return [size(t) for t in text.split(",") if t.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True, metavar="PATH", help="as for every other command (see 'baseline --help')")
    g.add_argument("--labeled", type=size, default=1000, metavar="N", help="labeled texts (default: %(default)s)")
    g.add_argument(
        "--unlabeled",
        type=size,
        default=5000,
        metavar="N",
        help="unlabeled transfer texts, or 'all' (default: %(default)s)",
    )
    g.add_argument("--test", type=size, default=1000, metavar="N", help="test texts, or 'all' (default: %(default)s)")
    add_seed(p)
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="the run folder")
    p.add_argument(
        "--teacher",
        default=None,
        metavar="MODEL",
        help="Hugging Face name or local path of the teacher backbone (default: packaged all-MiniLM-L6-v2)",
    )
    p.add_argument(
        "--teacher-args",
        default="",
        metavar="'ARGS'",
        help="extra 'teacher train' options, quoted, e.g. \"--epochs 2 --max-length 512\"",
    )
    p.add_argument(
        "--objective",
        choices=("soft", "logit", "hard"),
        default="soft",
        help="student objective (default: %(default)s)",
    )
    p.add_argument(
        "--student-args",
        default="",
        metavar="'ARGS'",
        help="extra 'student' options, quoted, e.g. \"--with-gold --max-bytes 5MB\"",
    )
    p.add_argument(
        "--label-with",
        choices=("int8", "fp32", "torch"),
        default="int8",
        help="teacher that labels the transfer set: int8 ONNX (fastest on a CPU), fp32 ONNX or PyTorch "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--check",
        type=int,
        default=1000,
        metavar="N",
        help="held-out reviews for the teacher export gates (default: %(default)s)",
    )
    p.add_argument(
        "--scaling",
        type=_sizes,
        default=[],
        metavar="N,N,...",
        help="also distill students on these transfer sizes (subsets of one labeled pool) for the "
        "scaling study; 'all' allowed",
    )
    p.add_argument("--no-bench", dest="bench", action="store_false", help="skip the latency benchmark")
    p.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="skip the fastText and Model2Vec peers (skipped anyway without the 'peers' extra)",
    )
    p.add_argument("--bench-rounds", type=int, default=300, help="interleaved latency rounds (default: %(default)s)")
    p.add_argument(
        "--cold-repeats", type=int, default=3, help="fresh-process cold starts per contender (default: %(default)s)"
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    import logging
    import shlex

    from edge_distill.toolkit.pipeline import RunConfig, run_pipeline

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("edge_distill").setLevel(logging.INFO)  # one line per stage; libraries stay quiet
    cfg = RunConfig(
        data=str(args.data),
        out=args.out,
        labeled=args.labeled,
        unlabeled=args.unlabeled,
        test=args.test,
        seed=args.seed,
        teacher_model=args.teacher,
        teacher_args=shlex.split(args.teacher_args),
        objective=args.objective,
        student_args=shlex.split(args.student_args),
        label_with=args.label_with,
        check=args.check,
        bench=args.bench,
        bench_rounds=args.bench_rounds,
        cold_repeats=args.cold_repeats,
        scaling=args.scaling,
        peers=args.peers,
        progress=args.progress,
    )
    report = run_pipeline(cfg)
    lines = [
        f"{name:14s} accuracy {m['accuracy']:.4f}" + (f"   p50 {m['speed']['p50_ms']:.3f} ms" if "speed" in m else "")
        for name, m in report["models"].items()
    ]
    emit(args, report, "\n".join([*lines, f"report: {args.out / 'report.md'}"]))
    return 0
