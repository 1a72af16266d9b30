"""Choose the student's feature settings by measurement, on data carved from the train split.

The test split is never read. Train is split (seeded) into a fitting part and a dev part; for
each feature setting a logistic regression on the gold labels is fitted for each C, and the
best dev accuracy is reported. This needs no teacher, so it can run before labeling; C and T
of the distillation itself are chosen with ``edge-distill student --tune`` (on labeled texts
held out from the transfer set). Example::

    python -m edge_distill.toolkit.student.selection --data ../shared/data/imdb --fit 10000 --dev 5000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from edge_distill.toolkit.student.distill import C_GRID, evaluate, fit_features
from edge_distill.toolkit.student.objectives import _logistic

GRID: tuple[dict[str, Any], ...] = (
    {"ngram_range": (1, 1), "min_df": 2, "sublinear_tf": True},
    {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True},
    {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": False},
    {"ngram_range": (1, 2), "min_df": 1, "sublinear_tf": True},
    {"ngram_range": (1, 2), "min_df": 5, "sublinear_tf": True},
    {"ngram_range": (1, 3), "min_df": 2, "sublinear_tf": True},
)


def sweep(
    texts: list[str],
    labels: np.ndarray,
    dev_texts: list[str],
    dev_labels: np.ndarray,
    grid=GRID,
    c_grid=C_GRID,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Dev accuracy of every (feature setting, C), fitted on ``texts``."""
    rows = []
    for settings in grid:
        t0 = time.perf_counter()
        feats = fit_features(texts, settings)
        X, Xd = feats.rows(), feats.transform(dev_texts)
        for c in c_grid:
            clf = _logistic(c, seed).fit(X, labels)
            proba = clf.predict_proba(Xd)
            rows.append(
                {
                    **settings,
                    "C": c,
                    "n_features": X.shape[1],
                    **evaluate(proba, dev_labels),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="a dataset with a labeled train split (e.g. ../shared/data/imdb)")
    p.add_argument("--fit", type=int, default=10_000, help="train texts to fit on (default: 10000)")
    p.add_argument("--dev", type=int, default=5_000, help="train texts held out to measure on (default: 5000)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from edge_distill.toolkit.data import load_dataset

    train = load_dataset(args.data)["train"]
    order = np.random.default_rng(args.seed).permutation(len(train))
    fit_idx, dev_idx = order[: args.fit], order[args.fit : args.fit + args.dev]
    rows = sweep(
        [train.texts[i] for i in fit_idx],
        train.labels[fit_idx],
        [train.texts[i] for i in dev_idx],
        train.labels[dev_idx],
        seed=args.seed,
    )
    best = max(rows, key=lambda r: r["accuracy"])
    print(json.dumps({"best": best, "rows": rows}, indent=2, default=list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
