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
from edge_distill.toolkit.arguments import (
    add_data_arguments,
    data_options,
    non_negative_float,
    out_folder,
    positive_float,
    positive_int,
)
from edge_distill.toolkit.commands.common import add_json, emit

if TYPE_CHECKING:  # annotations only: these modules need the 'train' extra
    from edge_distill.toolkit.api import StudentResult
    from edge_distill.toolkit.student.distill import StudentConfig

HELP = "distill teacher logits into a TF-IDF + logistic-regression student"


def _bytes(text: str) -> int:
    units = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "b": 1}
    t = text.strip().lower().replace("_", "")
    for unit, mult in sorted(units.items(), key=lambda u: -len(u[0])):
        if t.endswith(unit):
            t, scale = t[: -len(unit)], mult
            break
    else:
        scale = 1
    try:
        value = float(t) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 5MB or 800000, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return int(value)


def _ngrams(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX such as 1,2, got {text!r}") from None
    if not 1 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"expected 1 <= MIN <= MAX, got {text!r}")
    return lo, hi


def _char_ngrams(text: str) -> tuple[int, int] | tuple[()]:
    """``MIN,MAX``, or ``none`` for no character n-grams (the empty tuple)."""
    return () if text.strip().lower() == "none" else _ngrams(text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Logits, data, objective, features and budget."""
    p.add_argument(
        "--logits",
        required=True,
        metavar="PATH",
        help="the logits .npz of 'teacher label', its folder, or the folder 'teacher label --out' was given",
    )
    add_data_arguments(p, unlabeled=None, test=1000, data_required=False)
    p.add_argument(
        "--out", type=out_folder, required=True, metavar="DIR", help="run folder; the student goes to DIR/student/"
    )
    add_student_arguments(p)
    add_json(p)


def add_student_arguments(p: argparse.ArgumentParser) -> None:
    """The student's settings (also what ``run --student-args`` accepts)."""
    p.add_argument("--recipe", choices=("tfidf", "seed"), default="tfidf", help="tfidf (default) or seed")
    g = p.add_argument_group("objective")
    g.add_argument(
        "--objective",
        choices=("auto", "soft", "logit", "hard"),
        default=None,
        help="auto (default, unless --C, --temperature, --ngram-range, --min-df or --char-ngram-range is given): "
        "n-grams, min_df, character n-grams, C, temperature and objective chosen by agreement with the teacher "
        "on held-out transfer texts; "
        "else the objective given (soft when only other settings are)",
    )
    g.add_argument(
        "--C",
        dest="C",
        type=positive_float,
        default=None,
        help="inverse regularisation strength (default: auto, else 30)",
    )
    g.add_argument(
        "--temperature",
        type=positive_float,
        default=None,
        help="softmax temperature of the teacher (default: auto, else 1)",
    )
    g.add_argument("--with-gold", action="store_true", help="add the labeled texts with their true labels")
    g.add_argument(
        "--gold-weight", type=non_negative_float, default=1.0, help="sample weight of a gold row (default: 1)"
    )
    g.add_argument("--tune", action="store_true", help="choose C and T on labeled texts held out from training")
    f = p.add_argument_group("features")
    f.add_argument(
        "--ngram-range", type=_ngrams, default=None, metavar="MIN,MAX", help="word n-grams (default: auto, else 1,2)"
    )
    f.add_argument(
        "--char-ngram-range",
        type=_char_ngrams,
        default=None,
        metavar="MIN,MAX|none",
        help="character n-grams within runs of characters, beside the words, e.g. 2,5 "
        "(default: auto, a candidate on short texts; else none)",
    )
    f.add_argument(
        "--min-df", type=positive_int, default=None, help="drop n-grams in fewer texts (default: auto, else 2)"
    )
    f.add_argument("--no-sublinear-tf", dest="sublinear_tf", action="store_false", help="raw term counts")
    b = p.add_argument_group("budget")
    b.add_argument(
        "--max-features", type=positive_int, default=None, metavar="N", help="keep the N most important n-grams"
    )
    b.add_argument("--max-bytes", type=_bytes, default=None, metavar="SIZE", help="keep student.onnx under SIZE")


def student_config(args: argparse.Namespace, *, seed: int) -> StudentConfig:
    """The :class:`StudentConfig` the student arguments describe (bad values are a DataError)."""
    from edge_distill.toolkit.student.distill import StudentConfig  # the 'train' extra

    given = {k: v for k, v in (("C", args.C), ("temperature", args.temperature)) if v is not None}
    explicit = {"ngram_range": args.ngram_range, "min_df": args.min_df}
    explicit = {k: v for k, v in explicit.items() if v is not None}
    if args.char_ngram_range is not None:  # () is "none": given, and no character n-grams
        explicit["char_ngram_range"] = args.char_ngram_range or None
    if args.objective == "auto" and (given or explicit):
        raise DataError(
            "--objective auto chooses C, temperature, n-grams and min_df itself: drop them or name an objective"
        )
    objective = args.objective or "auto"  # with any setting given, the rest default (see StudentConfig)
    features = {**explicit, "sublinear_tf": args.sublinear_tf}
    return StudentConfig(
        recipe=args.recipe,
        objective=objective,
        with_gold=args.with_gold,
        gold_weight=args.gold_weight,
        tune=args.tune,
        features=features,
        max_features=args.max_features,
        max_bytes=args.max_bytes,
        random_state=seed,
        **given,
    )


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
    data = data_options(args) if args.data is not None else None
    from edge_distill.toolkit.api import distill_student  # the 'train' extra

    result = distill_student(args.logits, args.out, data=data, config=student_config(args, seed=args.seed))
    emit(args, result, _human(result))
    return 0
