"""Train the baseline (a linear model on the labeled set alone) and report it on the test set.

Recipes: 'tfidf' (default: exportable TF-IDF 1-2-grams + logistic regression, C chosen by
5-fold cross-validation on the labeled set) and 'seed' (the seed notebook: CountVectorizer
1-3-grams + LogisticRegression defaults). Prints a classification report (or --json) and
writes DIR/baseline.json (and the test probabilities to DIR/predictions/baseline.npz).

example:
  edge-distill baseline --data ../shared/data/imdb --labeled 1000 --test 1000 --seed 0 --out runs/demo
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_distill.toolkit.commands.common import add_data_arguments, add_json, emit, load_splits_from_args

HELP = "train and evaluate the TF-IDF + logistic-regression baseline on the labeled set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p, labeled=1000, unlabeled=0, test=1000)
    p.add_argument(
        "--recipe",
        choices=("tfidf", "seed"),
        default="tfidf",
        help="tfidf (default, tuned by CV on the labeled set) or seed (the seed notebook's setup)",
    )
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="write DIR/baseline.json")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from edge_distill.toolkit.atomic import atomic_path, atomic_write_json
    from edge_distill.toolkit.baseline import run_baseline
    from edge_distill.toolkit.evaluate import format_report

    splits = load_splits_from_args(args)
    result, proba = run_baseline(splits.labeled, splits.test, args.recipe, random_state=args.seed)
    result["data"] = {"source": str(args.data), "seed": args.seed, **splits.summary()}
    if args.out is not None:
        with atomic_path(args.out / "predictions" / "baseline.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, ids=np.asarray(splits.test.ids), probabilities=proba.astype(np.float32))
        result["path"] = str(atomic_write_json(args.out / "baseline.json", result))
    m = result["metrics"]
    human = (
        f"baseline ({args.recipe}) on {splits.summary()} — {result['n_features']} features, "
        f"fit {result['fit_seconds']:.1f}s, chosen {result['chosen']}\n\n"
        f"{format_report(m, splits.labeled.label_names)}\n\naccuracy {m['accuracy']:.4f}"
    )
    emit(args, result, human)
    return 0
