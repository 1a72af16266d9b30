"""The student's soft objective fitted directly vs on rows repeated per class, same run, same rows.

The ``soft`` objective was once a LogisticRegression on each transfer text repeated once per
class with the teacher's probability as weight; it is now minimised directly
(:func:`~edge_distill.toolkit.student.objectives.fit_soft_targets`). This fits both on a run's
transfer texts and teacher logits (default features: 1-2-grams, min_df 2) and prints the seconds
of each, their ratio, the largest probability difference and the iterations. A ratio measured in
one run on one machine, not a timed test. Example::

    python -m edge_distill.benchmarks.soft_fit --logits runs/trec-fine/logits --C 30
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from edge_distill.runtime.base import softmax
from edge_distill.toolkit.features import make_vectorizer
from edge_distill.toolkit.logits import load_logits
from edge_distill.toolkit.student.objectives import GTOL, MAX_ITER, fit_soft, scores
from edge_distill.toolkit.transfer import recorded_options, transfer_of


def transfer_rows(logits: str, min_df: int):
    """TF-IDF rows of the transfer texts a ``teacher label`` folder holds, and their logits."""
    table, options = load_logits(logits), recorded_options(logits)
    transfer, z = transfer_of(options.load().unlabeled, table, exact=options.unlabeled is not None)
    return make_vectorizer(min_df=min_df).fit_transform(transfer.texts), z


def compare(X, logits: np.ndarray, C: float) -> dict:
    """Seconds, iterations and the largest probability difference of the two fits."""
    t0 = time.perf_counter()
    direct = fit_soft(X, logits, C=C, temperature=1.0)
    t1 = time.perf_counter()
    p, k = softmax(logits), logits.shape[1]
    rows = sparse.vstack([X] * k).tocsr()
    copies = LogisticRegression(C=C, max_iter=MAX_ITER, tol=GTOL).fit(
        rows, np.repeat(np.arange(k), X.shape[0]), sample_weight=p.T.ravel()
    )
    t2 = time.perf_counter()
    return {
        "texts": X.shape[0],
        "features": X.shape[1],
        "classes": k,
        "direct_s": round(t1 - t0, 2),
        "repeated_rows_s": round(t2 - t1, 2),
        "speedup": round((t2 - t1) / (t1 - t0), 2),
        "max_abs_dp": float(np.abs(scores(direct, X) - scores(copies, X)).max()),
        "iterations": [direct.n_iter_, int(np.max(copies.n_iter_))],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--logits", required=True, help="a 'teacher label' folder (e.g. runs/trec/logits)")
    p.add_argument("--C", type=float, default=30.0, help="inverse L2 strength (default: 30, the student's)")
    p.add_argument("--min-df", type=int, default=2, help="n-grams in fewer texts are dropped (default: 2)")
    args = p.parse_args(argv)
    X, z = transfer_rows(args.logits, args.min_df)
    print(json.dumps(compare(X, np.asarray(z, np.float64), args.C), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
