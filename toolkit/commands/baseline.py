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

from edge_distill.toolkit.arguments import out_folder
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.evaluate import format_report
from edge_distill.toolkit.options import add_data_arguments, data_options

HELP = "train and evaluate the TF-IDF + logistic-regression baseline on the labeled set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_data_arguments(p, unlabeled=0)
    p.add_argument(
        "--recipe",
        choices=("tfidf", "seed"),
        default="tfidf",
        help="tfidf (default, tuned by CV on the labeled set) or seed (the seed notebook's setup)",
    )
    p.add_argument("--out", type=out_folder, default=None, metavar="DIR", help="write DIR/baseline.json")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from edge_distill.toolkit.api import load_data, train_baseline  # the 'train' extra

    result = train_baseline(load_data(data_options(args, unlabeled=0)), recipe=args.recipe, out=args.out)
    m = result.metrics
    human = (
        f"baseline ({args.recipe}) on {result.data} — {result.n_features} features, "
        f"fit {result.fit_seconds:.1f}s, chosen {result.chosen}\n\n"
        f"{format_report(m, result.label_names)}\n\naccuracy {m['accuracy']:.4f}"
    )
    emit(args, result, human)
    return 0
