"""Fit a student: features on the training texts, an objective against the teacher, pruning.

The vectorizer is fitted once without normalisation, so tuning and pruning reuse the raw
TF-IDF matrix (normalising a column subset gives exactly what a vectorizer restricted to
those columns computes). Test texts are never used for any choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.data import AUTO, Corpus  # objective AUTO: choose the settings on the transfer set
from edge_distill.toolkit.features import C_GRID
from edge_distill.toolkit.options import StudentConfig
from edge_distill.toolkit.student.model import StudentModel, model_from_fitted
from edge_distill.toolkit.student.objectives import Gold, fit_objective, scores
from edge_distill.toolkit.student.prune import estimated_onnx_bytes, select_features
from edge_distill.toolkit.student.rows import Features, evaluate, fit_features
from edge_distill.toolkit.student.selection import select_student_settings

#: the temperatures ``tune`` tries (with every C of C_GRID)
T_GRID = (1.0, 2.0)
#: share of the labeled set held out for ``tune`` together with ``with_gold``
HELDOUT_FRACTION = 0.3
#: the weights of the labeled set's gold rows that "auto" weighs on the validation set, the first
#: being the reference the others must beat by GOLD_MIN_GAIN (0: the teacher's logits alone). Weight 1
#: comes first: it won or tied on validation wherever it was weighed, while 0 as the reference let a
#: small validation set keep the teacher's logits alone where the gold labels helped
GOLD_WEIGHTS = (1.0, 0.0, 3.0)
#: another weight replaces the reference only when validation accuracy gains at least this much
GOLD_MIN_GAIN = 0.005


@dataclass
class FitResult:
    """The fitted student, its unpruned ancestor's numbers and how C/T were chosen."""

    model: StudentModel
    unpruned: dict[str, Any] | None  # the model before pruning and its numbers (None: not pruned)
    tuning: list[dict[str, Any]]
    settings_choice: dict[str, Any] | None = None  # how "auto" settings were chosen (None: given)


def resolve_settings(
    texts: Sequence[str], logits: np.ndarray, label_names: Sequence[str], config: StudentConfig
) -> tuple[StudentConfig, dict[str, Any] | None]:
    """The config with "auto" settings chosen on the transfer set, and the record of the choice.

    Given settings come back unchanged (and no record). Where the transfer set is too small to
    hold texts out, the defaults are used and the record says why.
    """
    if not config.selects:
        return config.with_defaults(), None
    try:
        choice = select_student_settings(texts, logits, label_names, random_state=config.random_state)
    except ValueError as exc:
        resolved = config.with_defaults()
        settings = resolved.features.settings()
        chosen = {**settings, "C": resolved.C, "temperature": resolved.temperature, "objective": "soft"}
        record = {"chosen": chosen, "candidates": [], "reason": f"defaults: {exc}", "selected": False}
        return resolved, record
    c = choice.chosen
    chosen = {k: v for k, v in c.items() if k not in ("C", "temperature", "objective")}
    features = config.features.merged(chosen)  # the chosen n-grams, min_df and character n-grams over the given
    resolved = replace(config, objective=c["objective"], C=c["C"], temperature=c["temperature"], features=features)
    return resolved, {**choice.as_dict(), "selected": True}


def tune(
    X, logits: np.ndarray, config: StudentConfig, X_dev, dev_labels: np.ndarray, gold: Gold | None = None
) -> tuple[float, float, list[dict[str, Any]], Any]:
    """Grid search over C (and T, except for ``hard``) by accuracy on held-out dev rows.

    Returns the chosen C and T, every trial, and the model fitted with the chosen pair.
    """
    temps = (config.temperature,) if config.objective == "hard" else T_GRID
    trials, fitted = [], []
    for t in temps:
        for c in C_GRID:
            fitted.append(
                fit_objective(
                    config.objective, X, logits, C=c, temperature=t, gold=gold, random_state=config.random_state
                )
            )
            trials.append({"C": c, "temperature": t, **evaluate(scores(fitted[-1], X_dev), dev_labels)})
    best = max(range(len(trials)), key=lambda i: (trials[i]["accuracy"], -trials[i]["C"]))  # ties: stronger L2
    return trials[best]["C"], trials[best]["temperature"], trials, fitted[best]


def fit_student(
    texts: Sequence[str],
    logits: np.ndarray,
    label_names: Sequence[str],
    config: StudentConfig,
    *,
    gold_texts: Sequence[str] = (),
    gold_labels: np.ndarray | None = None,
    dev: tuple[Sequence[str], np.ndarray] | None = None,
    validation: tuple[Sequence[str], np.ndarray] | None = None,
) -> FitResult:
    """Distill ``logits`` (the teacher's, one row per text) into a TF-IDF linear student.

    ``objective="auto"`` first chooses the settings on ``texts`` (:func:`resolve_settings`) and,
    given ``gold_texts`` and a labeled ``validation`` set (never the test set), the weight of the
    gold rows (:func:`choose_gold_weight`). With ``config.with_gold`` the labeled ``gold_texts``
    join the training rows. With ``dev`` (texts, labels held out from training) C and T are
    chosen on it; else the config's are used.
    """
    logits = np.asarray(logits, np.float64)
    if logits.shape != (len(texts), len(label_names)):
        raise DataError(f"logits {logits.shape} do not match {len(texts)} texts x {len(label_names)} classes")
    config, choice = resolve_settings(texts, logits, label_names, config)
    can_weigh = validation is not None and len(validation[0]) > 0 and len(gold_texts) > 0 and dev is None
    if choice is not None and can_weigh and not config.with_gold:
        return choose_gold_weight(texts, logits, label_names, config, (gold_texts, gold_labels), validation, choice)
    return _fit_settled(texts, logits, label_names, config, (gold_texts, gold_labels), dev, choice)


def _uses_gold(config: StudentConfig, gold_texts: Sequence[str]) -> bool:
    """Whether the student learns from gold labels: asked for, and there are some."""
    return config.with_gold and len(gold_texts) > 0


def _training_features(texts: Sequence[str], gold_texts: Sequence[str], config: StudentConfig) -> Features:
    """The features fitted on the transfer texts, and the gold texts where ``config`` learns from them."""
    texts = list(texts) + (list(gold_texts) if _uses_gold(config, gold_texts) else [])
    return fit_features(texts, config.features.settings())


def _fit_settled(
    texts: Sequence[str],
    logits: np.ndarray,
    label_names: Sequence[str],
    config: StudentConfig,
    gold_rows: tuple[Sequence[str], np.ndarray | None],
    dev: tuple[Sequence[str], np.ndarray] | None,
    choice: dict[str, Any] | None,
    features: Features | None = None,
) -> FitResult:
    """:func:`fit_student` once its settings are settled; ``features``: :func:`_training_features`
    of the same texts and config, where the caller already has them."""
    gold_texts, gold_labels = gold_rows
    use_gold = _uses_gold(config, gold_texts)
    if features is None:
        features = _training_features(texts, gold_texts, config)
    n = len(texts)
    X_all = features.rows()

    def split(columns=None):
        X = X_all if columns is None else features.rows(columns)
        gold = Gold(X[n:], np.asarray(gold_labels), config.gold_weight) if use_gold else None
        return X[:n], gold

    X, gold = split()
    C, T, trials, fitted = _fit_or_tune(X, logits, config, gold, features, dev)
    info = {"objective": _objective_record(config, C, T, use_gold, dev is not None)}
    model = model_from_fitted(features.vectorizer, fitted, label_names, info)
    unpruned = None
    if config.max_features is not None or config.max_bytes is not None:
        unpruned = {
            "model": model,
            "n_features": model.n_features,
            "estimated_bytes": estimated_onnx_bytes(model.vocabulary, model.coef.shape[0]),
        }
        model = _pruned(model, features, split, logits, config, C, T)
    model.info["config"] = {k: v for k, v in config.key().items() if k not in ("C", "temperature")}
    if choice is not None:
        model.info["settings_choice"] = choice
    return FitResult(model, unpruned, trials, choice)


def choose_gold_weight(
    texts: Sequence[str],
    logits: np.ndarray,
    label_names: Sequence[str],
    config: StudentConfig,
    gold: tuple[Sequence[str], np.ndarray],
    validation: tuple[Sequence[str], np.ndarray],
    choice: dict[str, Any],
) -> FitResult:
    """The student fitted with each of :data:`GOLD_WEIGHTS` on the gold rows, the one most
    accurate on ``validation`` kept (another than the first must gain :data:`GOLD_MIN_GAIN`).

    Agreement with the teacher cannot weigh gold labels (they pull the student away from the
    teacher, where the teacher is wrong), so this is the one setting chosen on labeled texts.
    """
    val_texts, val_labels = validation
    best, best_acc, rows = None, -1.0, []
    features: dict[bool, Features] = {}  # the weights above 0 share one extraction (with the gold texts)
    for weight in GOLD_WEIGHTS:
        cfg = replace(config, with_gold=weight > 0, gold_weight=weight or 1.0)
        if cfg.with_gold not in features:
            features[cfg.with_gold] = _training_features(texts, gold[0], cfg)
        fit = _fit_settled(texts, logits, label_names, cfg, gold, None, None, features[cfg.with_gold])
        proba = fit.model.pipeline().predict_proba(list(val_texts))
        acc = float(np.mean(proba.argmax(axis=1) == np.asarray(val_labels)))
        rows.append({"gold_weight": weight, "validation_accuracy": acc})
        if best is None or acc >= best_acc + GOLD_MIN_GAIN:
            best, best_acc, chosen = fit, acc, weight
    weighed = ", ".join(f"{r['gold_weight']:g}: {r['validation_accuracy']:.4f}" for r in rows)
    reason = f"gold weight {chosen:g}: accuracy {best_acc:.4f} on {len(val_texts):,} validation texts ({weighed})"
    record = {**choice, "gold": {"chosen": chosen, "candidates": rows, "reason": reason}}
    best.model.info["settings_choice"] = record
    return replace(best, settings_choice=record)


def _fit_or_tune(
    X,
    logits: np.ndarray,
    config: StudentConfig,
    gold: Gold | None,
    features: Features,
    dev: tuple[Sequence[str], np.ndarray] | None,
) -> tuple[float, float, list[dict[str, Any]], Any]:
    """C, T, the trials and the fitted objective: tuned on ``dev`` where it is given (never on
    the training rows), else the config's C and T and no trials."""
    if dev is not None:
        return tune(X, logits, config, features.transform(dev[0]), np.asarray(dev[1]), gold)
    C, T = config.C, config.temperature
    fitted = fit_objective(config.objective, X, logits, C=C, temperature=T, gold=gold, random_state=config.random_state)
    return C, T, [], fitted


def _objective_record(config: StudentConfig, C, T, use_gold: bool, on_dev: bool) -> dict[str, Any]:
    """How the objective was set up, kept in the model's info so the artifact says how it was trained."""
    return {
        "name": config.objective,
        "C": C,
        "temperature": T,
        "with_gold": use_gold,
        "gold_weight": config.gold_weight,
        "chosen_on": "dev" if on_dev else "default",
    }


def _pruned(model: StudentModel, features: Features, split, logits: np.ndarray, config: StudentConfig, C, T):
    """The model refitted on the n-grams that matter most to it, within the config's budget
    (``split(columns)`` gives the training rows and gold rows restricted to those columns)."""
    doc_freq = np.asarray((features.raw > 0).mean(axis=0)).ravel()
    keep = select_features(
        model.coef,
        model.idf,
        doc_freq,
        model.vocabulary,
        max_features=config.max_features,
        max_bytes=config.max_bytes,
    )
    X, gold = split(keep)
    fitted = fit_objective(config.objective, X, logits, C=C, temperature=T, gold=gold, random_state=config.random_state)
    info = {**model.info, "pruned_from": model.n_features}
    return model_from_fitted(features.vectorizer, fitted, model.label_names, info, keep)


def gold_and_dev(
    labeled: Corpus, config: StudentConfig, validation: Corpus | None = None
) -> tuple[tuple[list[str], np.ndarray], tuple | None]:
    """Labeled rows for ``with_gold``, and the held-out dev set for ``tune`` (None without it).

    A non-empty ``validation`` set is the dev set (every labeled row can then train). Else,
    without ``with_gold`` the whole labeled set is unused by training and is the dev set; with
    it, a seeded :data:`HELDOUT_FRACTION` of it is held out for tuning.
    """
    gold_idx, dev = np.arange(len(labeled)), None
    if config.tune and validation is not None and len(validation) and validation.is_labeled:
        dev = (list(validation.texts), validation.labels)
    elif config.tune:
        if not len(labeled) or not labeled.is_labeled:
            raise DataError("tuning needs labeled texts held out from training (--labeled N)")
        dev_idx = gold_idx
        if config.with_gold:
            order = np.random.default_rng(config.random_state).permutation(len(labeled))
            cut = int(len(labeled) * HELDOUT_FRACTION)
            dev_idx, gold_idx = np.sort(order[:cut]), np.sort(order[cut:])
        dev = ([labeled.texts[i] for i in dev_idx], labeled.labels[dev_idx])
    return ([labeled.texts[i] for i in gold_idx], labeled.labels[gold_idx]), dev


__all__ = ["AUTO", "FitResult", "StudentConfig", "evaluate", "fit_student", "gold_and_dev"]
