"""Distillation objectives: fit a linear model on TF-IDF rows to the teacher's logits.

- ``soft`` (default): cross-entropy against the teacher's softmax at temperature T (the
  objective of LogisticRegression with each row repeated once per class, weighted by the
  teacher's probability), minimised directly: each step costs one product with the rows, not K.
- ``logit``: ridge regression on the teacher's logits (binary: on the logit difference; K > 2:
  on row-centred logits, which softmax ignores), read as the equivalent logistic model.
- ``hard``: LogisticRegression on the teacher's argmax.

Every objective returns a fitted object with ``coef_`` ([1, F] for two classes, [K, F] else)
and ``intercept_``, scored like scikit-learn's LogisticRegression (sigmoid / softmax).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression, Ridge

from edge_distill.runtime.base import softmax
from edge_distill.toolkit.options import OBJECTIVES

MAX_ITER = 2000
#: L-BFGS stops where no gradient entry exceeds this (LogisticRegression's ``tol``)
GTOL = 1e-4


@dataclass(frozen=True)
class Gold:
    """Labeled rows added to the transfer set (``--with-gold``)."""

    X: object  # sparse [n, F]
    y: np.ndarray  # int64 class ids
    weight: float = 1.0


@dataclass
class LinearScores:
    """A linear scorer fitted by regression, with LogisticRegression's attribute names."""

    coef_: np.ndarray
    intercept_: np.ndarray


def _vstack(blocks):
    return sparse.vstack([sparse.csr_matrix(b) for b in blocks], format="csr")


def _logistic(C: float, random_state: int):
    return LogisticRegression(C=C, max_iter=MAX_ITER, random_state=random_state)


@dataclass
class SoftFit:
    """A softmax (sigmoid for two classes) regression fitted to soft targets, with LogisticRegression's
    attribute names; ``n_iter_`` is the L-BFGS iterations it took."""

    coef_: np.ndarray
    intercept_: np.ndarray
    n_iter_: int


def _soft_loss(theta: np.ndarray, X, Q: np.ndarray, w: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """sum_i w_i CE(Q_i, softmax(X_i W^T + b)) + alpha/2 ||W||^2 and its gradient, w summing to 1.

    Two classes use one score row, z = s_1 - s_0 (LogisticRegression's binary form)."""
    rows = 1 if Q.shape[1] == 2 else Q.shape[1]
    W = theta.reshape(rows, -1)
    coef, b = W[:, :-1], W[:, -1]
    Z = np.asarray(X @ coef.T) + b
    if rows == 1:
        z, q = Z[:, 0], Q[:, 1]
        loss = float(w @ (np.logaddexp(0.0, z) - q * z))
        G = (w * (_sigmoid(z) - q))[:, None]
    else:
        lse = logsumexp(Z, axis=1)
        loss = float(w @ (lse - np.einsum("ik,ik->i", Q, Z)))
        G = w[:, None] * (np.exp(Z - lse[:, None]) - Q)
    grad = np.hstack([np.asarray(X.T @ G).T + alpha * coef, G.sum(axis=0)[:, None]])
    return loss + 0.5 * alpha * float(np.sum(coef * coef)), grad.ravel()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def fit_soft_targets(X, Q: np.ndarray, *, C: float, sample_weight=None, max_iter: int = MAX_ITER) -> SoftFit:
    """Cross-entropy against probability rows ``Q`` [N, K] with an L2 penalty of 1/C: what
    LogisticRegression fits on each row repeated once per class with weight ``Q[i, k]``, with its
    solver and stopping rule (L-BFGS, gtol 1e-4), without the K copies. ``X``: dense or sparse."""
    Q = np.asarray(Q, np.float64)
    w = np.ones(len(Q)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    rows = 1 if Q.shape[1] == 2 else Q.shape[1]
    total = float(w.sum())
    result = minimize(
        _soft_loss,
        np.zeros(rows * (X.shape[1] + 1)),
        args=(X, Q, w / total, 1.0 / (C * total)),
        method="L-BFGS-B",
        jac=True,
        options={"maxiter": max_iter, "maxls": 50, "gtol": GTOL, "ftol": 64 * np.finfo(float).eps},
    )
    W = result.x.reshape(rows, -1)
    return SoftFit(W[:, :-1].copy(), W[:, -1].copy(), int(result.nit))


def fit_soft(X, logits: np.ndarray, *, C: float, temperature: float, gold: Gold | None = None, random_state: int = 0):
    """:func:`fit_soft_targets` on softmax(logits / T), gold rows one-hot at their weight.
    ``random_state`` is unused (L-BFGS is deterministic), kept for :func:`fit_objective`'s signature."""
    Q, w = softmax(logits, temperature), np.ones(X.shape[0])
    if gold is not None:
        X = _vstack([X, gold.X])
        Q = np.vstack([Q, np.eye(Q.shape[1])[gold.y]])
        w = np.concatenate([w, np.full(len(gold.y), gold.weight)])
    return fit_soft_targets(sparse.csr_matrix(X, dtype=np.float64), Q, C=C, sample_weight=w)


#: how far below every fitted class a class with no example is put: its probability is ~e^-50 of theirs
UNSEEN_MARGIN = 50.0


def fit_hard(X, logits: np.ndarray, *, C: float, gold: Gold | None = None, random_state: int = 0):
    """LogisticRegression on the teacher's argmax (plus gold labels), with one score row per class
    even where the teacher never picks a class (scikit-learn would fit fewer rows and shift the rest)."""
    k = np.asarray(logits).shape[1]
    y = np.asarray(logits).argmax(axis=1)
    if gold is not None:
        X, y = _vstack([X, gold.X]), np.concatenate([y, gold.y])
    if len(np.unique(y)) < 2:
        raise ValueError("the teacher predicts a single class on every transfer text: nothing to learn")
    clf = _logistic(C, random_state).fit(X, y)
    if k == 2 or len(clf.classes_) == k:
        return clf
    if len(clf.classes_) == 2:  # scikit-learn stores one row for two classes: make it two
        coef, intercept = np.vstack([-clf.coef_, clf.coef_]) / 2, np.array([-1.0, 1.0]) * clf.intercept_[0] / 2
    else:
        coef, intercept = clf.coef_, clf.intercept_
    full_coef = np.zeros((k, coef.shape[1]))
    full_intercept = np.full(k, float(intercept.min()) - UNSEEN_MARGIN)
    full_coef[clf.classes_], full_intercept[clf.classes_] = coef, intercept
    return LinearScores(full_coef, full_intercept)


def fit_logit(
    X, logits: np.ndarray, *, C: float, temperature: float = 1.0, gold: Gold | None = None, random_state: int = 0
) -> LinearScores:
    """Ridge (alpha = 1/C) on the teacher's scores; gold rows get the teacher's mean logits of
    their class (over transfer texts it assigns to that class) as targets."""
    z = np.asarray(logits, np.float64) / temperature
    k = z.shape[1]

    def centred(v: np.ndarray) -> np.ndarray:  # what a logistic model's scores can express
        return v[:, 1:2] - v[:, :1] if k == 2 else v - v.mean(axis=1, keepdims=True)

    target = centred(z)
    if gold is not None:
        top = z.argmax(axis=1)
        means = np.stack([z[top == c].mean(axis=0) if np.any(top == c) else np.zeros(k) for c in range(k)])
        target = np.vstack([target, centred(means[gold.y])])
        X = _vstack([X, gold.X])
    ridge = Ridge(alpha=1.0 / C, random_state=random_state).fit(X, target)
    return LinearScores(np.atleast_2d(ridge.coef_), np.atleast_1d(ridge.intercept_))


def fit_objective(
    objective: str,
    X,
    logits: np.ndarray,
    *,
    C: float,
    temperature: float,
    gold: Gold | None = None,
    random_state: int = 0,
):
    """Dispatch on the objective name."""
    if objective == "soft":
        return fit_soft(X, logits, C=C, temperature=temperature, gold=gold, random_state=random_state)
    if objective == "hard":
        return fit_hard(X, logits, C=C, gold=gold, random_state=random_state)
    if objective == "logit":
        return fit_logit(X, logits, C=C, temperature=temperature, gold=gold, random_state=random_state)
    raise ValueError(f"unknown objective {objective!r}; expected one of {OBJECTIVES}")


def scores(model, X) -> np.ndarray:
    """Class probabilities of a fitted objective (sigmoid for one score row, else softmax)."""
    s = X @ model.coef_.T + model.intercept_
    if s.shape[1] == 1:
        p1 = _sigmoid(s[:, 0])
        return np.stack([1 - p1, p1], axis=1)
    return softmax(s)
