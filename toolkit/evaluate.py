"""Metrics every model is judged by, on the same test texts.

scikit-learn and scipy do the statistics: accuracy, macro-F1 and the classification report
(sklearn.metrics), 95% Wilson intervals and the exact McNemar test (scipy.stats.binomtest on
the discordant pairs). Expected calibration error has no library implementation in either, so
it is the one formula written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from edge_distill.runtime.extras import require


def wilson_ci(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of an accuracy of ``correct`` out of ``n``."""
    if n == 0:
        return (0.0, 1.0)
    stats = require("scipy.stats", "confidence intervals")
    ci = stats.binomtest(int(correct), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(ci.low), float(ci.high))


def mcnemar(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> dict[str, float]:
    """Exact McNemar test of two models on the same texts (binomial test on discordant pairs)."""
    stats = require("scipy.stats", "McNemar's test")
    a_ok, b_ok = pred_a == y_true, pred_b == y_true
    only_a, only_b = int(np.sum(a_ok & ~b_ok)), int(np.sum(~a_ok & b_ok))
    p = 1.0 if only_a + only_b == 0 else float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return {"only_a_correct": only_a, "only_b_correct": only_b, "p_value": p}


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, bins: int = 15) -> float:
    """ECE with equal-width confidence bins (Guo et al. 2017)."""
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts ``[K, K]``: row = true class, column = predicted class (every class, even unseen)."""
    metrics = require("sklearn.metrics", "evaluation")
    return metrics.confusion_matrix(y_true, y_pred, labels=list(range(n_classes)))


#: per-class fields and the names scikit-learn's report gives them
_SCORES = {"precision": "precision", "recall": "recall", "f1": "f1-score"}


def per_class(report: dict[str, Any], label_names: Sequence[str]) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support of each class, in class-id order (from the sklearn report).

    A class neither in the test texts nor ever predicted has no precision, recall or F1 (None):
    a zero there would be a score for nothing, and it would pull macro-F1 down."""
    rows = []
    for name in label_names:
        r = report.get(name)
        scores = {k: None if r is None else float(r[s]) for k, s in _SCORES.items()}
        rows.append({"class": name, **scores, "support": 0 if r is None else int(r["support"])})
    return rows


def classification_metrics(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    label_names: Sequence[str],
    proba: np.ndarray | None = None,
) -> dict[str, Any]:
    """accuracy, macro_f1, ci95, n_test, the per-class report and table, the confusion matrix, and
    ECE when ``proba`` is given."""
    metrics = require("sklearn.metrics", "evaluation")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) == 0:
        raise ValueError("no test texts to evaluate on")
    # macro-F1 averages the classes in the test texts or predicted (scikit-learn's default set): a declared
    # class absent from both has no F1 to average
    scored = np.union1d(y_true, y_pred).tolist()
    correct = int(np.sum(y_true == y_pred))
    out: dict[str, Any] = {
        "accuracy": correct / len(y_true),
        "macro_f1": float(metrics.f1_score(y_true, y_pred, labels=scored, average="macro", zero_division=0)),
        "classes_scored": len(scored),
        "ci95": list(wilson_ci(correct, len(y_true))),
        "n_test": len(y_true),
        "report": metrics.classification_report(
            y_true,
            y_pred,
            labels=scored,
            target_names=[label_names[i] for i in scored],
            output_dict=True,
            zero_division=0,
        ),
    }
    out["per_class"] = per_class(out["report"], label_names)
    out["confusion"] = confusion(y_true, y_pred, len(label_names)).tolist()
    if proba is not None:
        out["ece"] = expected_calibration_error(y_true, np.asarray(proba))
    return out


def format_report(result: dict[str, Any], label_names: Sequence[str], digits: int = 4) -> str:
    """A text classification report (precision, recall, F1, support) like scikit-learn's."""
    rep = result["report"]
    width = max(len(n) for n in [*label_names, "weighted avg"])
    lines = [f"{'':>{width}}  precision     recall   f1-score    support", ""]
    for name in [*label_names, "", "macro avg", "weighted avg"]:
        if not name:
            lines.append("")
            continue
        r = rep.get(name)
        if r is None:  # neither in the test texts nor predicted
            lines.append(f"{name:>{width}}  {'–':>9}  {'–':>9}  {'–':>9}  {0:>9d}")
            continue
        lines.append(
            f"{name:>{width}}  {r['precision']:>9.{digits}f}  {r['recall']:>9.{digits}f}  "
            f"{r['f1-score']:>9.{digits}f}  {int(r['support']):>9d}"
        )
    lo, hi = result["ci95"]
    lines.insert(
        len(label_names) + 3,
        f"{'accuracy':>{width}}  {result['accuracy']:>31.{digits}f}  "
        f"{result['n_test']:>9d}   (95% CI {lo:.{digits}f}–{hi:.{digits}f})",
    )
    return "\n".join(lines)


def compare_models(
    y_true: np.ndarray,
    probas: dict[str, np.ndarray],
    label_names: Sequence[str],
    reference: str = "teacher",
) -> dict[str, Any]:
    """Metrics of every model on the same texts, each paired against ``reference``.

    Adds ``agreement_with_teacher`` (share of identical predicted labels) and
    ``mcnemar_vs_teacher`` (exact McNemar test) to every model but the reference.
    """
    y_true = np.asarray(y_true)
    preds = {name: p.argmax(axis=1) for name, p in probas.items()}
    out: dict[str, Any] = {}
    for name, proba in probas.items():
        if len(proba) != len(y_true):
            raise ValueError(f"{name}: {len(proba)} predictions for {len(y_true)} test texts")
        m = classification_metrics(y_true, preds[name], label_names, proba)
        if reference in preds and name != reference:
            m["agreement_with_teacher"] = float(np.mean(preds[name] == preds[reference]))
            m["mcnemar_vs_teacher"] = mcnemar(y_true, preds[name], preds[reference])
        out[name] = m
    return {"models": out, "reference": reference, "n_test": len(y_true), "label_names": list(label_names)}
