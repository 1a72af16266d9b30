"""Fine-tune a Hugging Face sequence classifier as the teacher on the labeled set.

The best epoch (by accuracy on the data's validation set; where there is none, on a split
carved from the labeled set; never the test split) is saved with save_pretrained into
DIR/teacher/ together with training.json (settings, per-epoch metrics, the token lengths, how
the data was drawn). The maximum length follows the labeled texts (the length covering 99% of
them, capped at 512) unless --max-length is given. The other defaults (head+tail truncation, the learning rates,
batch size) were chosen on labeled texts held out from IMDB train (see docs); the epochs follow the
length: more for short texts, where an epoch is cheap.

example:
  edge-distill teacher train --data ../shared/data/imdb --labeled 1000 --seed 0 --out runs/r1
"""

from __future__ import annotations

import argparse

from edge_distill.toolkit.arguments import out_folder
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.options import TrainConfig, add_data_arguments, data_options
from edge_distill.toolkit.settings import add_arguments as add_fields
from edge_distill.toolkit.settings import from_args

HELP = "fine-tune the teacher on the labeled set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Data, model and optimisation settings."""
    add_data_arguments(p, unlabeled=0)
    p.add_argument(
        "--out", type=out_folder, required=True, metavar="DIR", help="run folder; the model goes to DIR/teacher/"
    )
    add_fields(p, TrainConfig)
    add_json(p)


def train_config(args: argparse.Namespace, *, seed: int) -> TrainConfig:
    """The :class:`TrainConfig` the fine-tuning arguments describe."""
    return from_args(TrainConfig, args, seed=seed)


def run(args: argparse.Namespace) -> int:
    """Fine-tune, save, report."""
    from edge_distill.toolkit.api import load_data, train_teacher  # the 'train' extra

    data = load_data(data_options(args, unlabeled=0))
    result = train_teacher(data, args.out, train_config(args, seed=args.seed))
    emit(
        args,
        result,
        f"teacher saved to {result.path}: best epoch {result.best_epoch}, "
        f"validation accuracy {result.best_val_accuracy:.4f} ({result.n_val} texts), "
        f"{result.train_seconds:.0f}s",
    )
    return 0
