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

Every stage's options are flags of run itself, as in the stage commands (see their --help): the
teacher's fine-tuning (--epochs, --max-length, --lr, --batch-size, ...), the student's (--objective,
--C, --with-gold, --ngram-range, --max-bytes, ...), the teacher export's gates (--check, ...) and the
labeling (--label-batch-size, ...); the data options are shared by every stage.

examples:
  edge-distill run --data ../shared/data/imdb --label-names negative,positive --out runs/seed
  edge-distill run --data ../shared/data/imdb --label-names negative,positive --out runs/full \\
      --unlabeled all --test all \\
      --scaling 1000,5000,10000,25000
  edge-distill run --data ../shared/data/sst2 --label-names negative,positive --out runs/sst2 \\
      --with-gold --max-bytes 5MB --epochs 4
  edge-distill run --data intents.csv --text-field utterance --label-field intent --out runs/intents
  edge-distill run --data intents.csv --text-field utterance --label-field intent --out runs/intents \\
      --unlabeled-data last-month-queries.txt --unlabeled all   # one unlabeled text a line
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.arguments import out_folder
from edge_distill.toolkit.commands import student
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.commands.export_teacher import GATE_FIELDS
from edge_distill.toolkit.options import (
    LabelOptions,
    RunOptions,
    TeacherExportOptions,
    TrainConfig,
    add_data_arguments,
    data_options,
)
from edge_distill.toolkit.settings import add_arguments as add_fields
from edge_distill.toolkit.settings import from_args

if TYPE_CHECKING:  # annotations only: the pipeline needs the 'train' extra
    from edge_distill.toolkit.pipeline import RunConfig, RunResult

HELP = "run the whole pipeline, from data to deployable artifacts and a report"
#: the labeling options run takes, as --label-...: the rest follow from the run (backend, shard, threads, progress)
LABEL_FIELDS = ("batch_size", "chunk_size", "restart")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The run's options and every stage's, added in the order --help lists them (usage follows the adding order)."""
    add_data_arguments(p)
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="the run folder")
    add_fields(p, TrainConfig, exclude=("progress",), flags={"model": "--teacher"})
    student.add_student_arguments(p)
    g = p.add_argument_group("labeling")
    add_fields(g, RunOptions, only=("label_with",))
    add_fields(g, LabelOptions, prefix="label-", only=LABEL_FIELDS)
    g = p.add_argument_group("teacher export gates")
    add_fields(g, TeacherExportOptions, only=[f for f in GATE_FIELDS if f != "seed"])
    add_fields(g, TeacherExportOptions, only=("seed",), prefix="check-", flags={"seed": "--check-seed"})
    add_fields(p, RunOptions, exclude=("label_with",))
    add_json(p)


def run_config(args: argparse.Namespace) -> RunConfig:
    """The :class:`RunConfig` the arguments describe: each stage's options from its own flags."""
    from edge_distill.toolkit.pipeline import RunConfig  # the 'train' extra

    if args.test == 0:
        raise DataError("run measures every model on test texts: --test must be at least 1 (or 'all')")
    teacher = from_args(TrainConfig, args, seed=args.seed)
    return from_args(
        RunConfig,
        args,
        data=data_options(args),
        out=args.out,
        teacher=teacher,
        student=student.student_config(args, seed=args.seed),
        export=from_args(TeacherExportOptions, args, seed=args.check_seed, data=None, threads=teacher.threads),
        label=from_args(LabelOptions, args, prefix="label-", threads=teacher.threads),
    )


def _human(result: RunResult) -> str:
    lines = [
        f"{name:14s} accuracy {m['accuracy']:.4f}" + (f"   p50 {m['speed']['p50_ms']:.3f} ms" if "speed" in m else "")
        for name, m in result.report["models"].items()
    ]
    return "\n".join([*lines, f"report: {Path(result.out) / 'report.md'}"])


def run(args: argparse.Namespace) -> int:
    cfg = run_config(args)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("edge_distill").setLevel(logging.INFO)  # one line per stage; libraries stay quiet
    from edge_distill.toolkit.pipeline import run_pipeline  # the 'train' extra

    result = run_pipeline(cfg)  # reads the data once: each warning about it prints once
    emit(args, result, _human(result))
    return 0
