"""Distill the teacher's logits into a TF-IDF + logistic-regression student.

--logits takes the logits .npz, its folder, or the folder 'teacher label --out' was given. The
transfer set is the texts the logits hold: without --data, the data options recorded by
'teacher label' are used as they were; with --data (and --unlabeled left at 'all') the drawn
pool is narrowed to the texts that have logits, so the sizes need not be repeated. The student
is written as plain data to DIR/student/ (weights.npz + student.json) with its test metrics;
'edge-distill export student DIR' turns it into one ONNX file.

objectives:
  soft   cross-entropy against the teacher's softmax at temperature T (default)
  logit  ridge regression on the teacher's logits, read as a logistic model
  hard   logistic regression on the teacher's argmax
  --with-gold adds the labeled texts with their true labels (weight --gold-weight); with no
  setting given, the weight is chosen among 1, 0 and 3 on the validation set; --tune picks C
  (and T) by accuracy on labeled texts held out from training (never on the test split).

budgets (prune the n-grams that matter least to the fitted model, then refit):
  --max-features 100000     keep at most this many n-grams
  --max-bytes 5MB           keep the exported student.onnx under this size

--recipe seed reproduces the seed notebook (CountVectorizer 1-3-grams + LinearRegression on the
logit difference); it is a reference and cannot be exported.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.arguments import out_folder
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.data import AUTO
from edge_distill.toolkit.options import FeatureConfig, StudentConfig, add_data_arguments, data_options
from edge_distill.toolkit.settings import add_arguments as add_fields
from edge_distill.toolkit.settings import from_args

if TYPE_CHECKING:  # annotations only: this module needs the 'train' extra
    from edge_distill.toolkit.api import StudentResult

HELP = "distill teacher logits into a TF-IDF + logistic-regression student"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Logits, data, objective, features and budget."""
    p.add_argument(
        "--logits",
        required=True,
        metavar="PATH",
        help="the logits .npz of 'teacher label', its folder, or the folder 'teacher label --out' was given",
    )
    add_data_arguments(p, unlabeled=None, data_required=False)
    p.add_argument(
        "--out", type=out_folder, required=True, metavar="DIR", help="run folder; the student goes to DIR/student/"
    )
    add_student_arguments(p)
    add_json(p)


def add_student_arguments(p: argparse.ArgumentParser) -> None:
    """The student's settings: the fields of :class:`StudentConfig` and its :class:`FeatureConfig`.
    ``--objective`` defaults to None here: "auto" named with a setting given is refused (see :func:`student_config`)."""
    add_fields(p, StudentConfig, defaults={"objective": None})
    add_fields(p, FeatureConfig)


def student_config(args: argparse.Namespace, *, seed: int) -> StudentConfig:
    """The :class:`StudentConfig` the student arguments describe (bad values are a DataError)."""
    features = from_args(FeatureConfig, args)
    given = args.C is not None or args.temperature is not None or features.given
    if args.objective == AUTO and given:
        raise DataError(
            "--objective auto chooses C, temperature, n-grams and min_df itself: drop them or name an objective"
        )
    objective = args.objective or AUTO  # with any setting given, the rest default (see StudentConfig)
    return from_args(StudentConfig, args, objective=objective, features=features, random_state=seed)


def _human(result: StudentResult) -> str:
    obj = result.objective
    text = f"{result.recipe} student" + (f" ({obj['name']}, C={obj['C']:g}, T={obj['temperature']:g})" if obj else "")
    text += f": {result.n_features:,} n-grams from {result.sizes['transfer']:,} transfer texts"
    if "test" in result.metrics:
        m = result.metrics["test"]
        text += f"; test accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} (n={m['n']:,})"
    unpruned = result.unpruned or {}
    if "test" in unpruned:
        text += (
            f"\nunpruned: {unpruned['n_features']:,} n-grams (~{unpruned['estimated_bytes'] / 1e6:.2f} MB), "
            f"test accuracy {unpruned['test']['accuracy']:.4f}"
        )
    return text + f"\nsaved to {result.student}"


def run(args: argparse.Namespace) -> int:
    """Fit on the logits' transfer set, evaluate on the test split, save."""
    data = data_options(args) if args.source is not None else None
    from edge_distill.toolkit.api import distill_student, load_transfer_set  # the 'train' extra

    loaded, logits = load_transfer_set(args.logits, data)
    config = student_config(args, seed=args.seed)
    result = distill_student(loaded.splits, logits, config=config, data=loaded, out=args.out)
    emit(args, result, _human(result))
    return 0
