"""Choose the student's settings by measurement, per data set, never on test labels.

:func:`select_student_settings` (what ``run`` uses): the teacher-labeled transfer texts are
split (seeded) into a fitting part and a held-out part; candidate settings (n-gram range,
min_df, character n-grams on short texts, C, temperature, objective) are fitted on the first and
scored by agreement with the teacher's argmax on the second. It needs no gold label at all, so
neither the test nor the validation split is read. The search is coordinate-wise (features,
then C, then objective and temperature, each step keeping the best so far), on a seeded sample
of the transfer set (``max_texts``, a quarter held out: enough held-out texts that the noise of
one agreement stays under the :data:`MIN_GAIN` a candidate must win by), so its cost does not
grow with the transfer set; plus two fits on the whole set when a min_df below the default won
on a sample much smaller than the set (:data:`FULL_SIZE_FACTOR`).

:func:`sweep` (the older study): logistic regressions on gold labels carved from train, for
the features alone, before any teacher exists. Example::

    python -m edge_distill.toolkit.student.selection --data ../shared/data/imdb --fit 10000 --dev 5000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from edge_distill.toolkit.data import load_dataset
from edge_distill.toolkit.features import C_GRID, FEATURE_DEFAULTS
from edge_distill.toolkit.options import DEFAULT_C, DEFAULT_TEMPERATURE, FeatureConfig, StudentConfig
from edge_distill.toolkit.student.objectives import _logistic, fit_objective, scores
from edge_distill.toolkit.student.rows import evaluate, fit_features

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


#: the candidates of :func:`select_student_settings`, searched one axis at a time from the first
#: feature setting (the defaults) with C = DEFAULT_C, T = 1, soft
SETTINGS_GRID: dict[str, tuple] = {
    "features": (
        {"ngram_range": FEATURE_DEFAULTS["ngram_range"], "min_df": FEATURE_DEFAULTS["min_df"]},
        {"ngram_range": (1, 1), "min_df": 2},
        {"ngram_range": (1, 2), "min_df": 1},
        {"ngram_range": (1, 2), "min_df": 2, "char_ngram_range": (2, 5)},
    ),
    "C": C_GRID,
    "objective": (("soft", 2.0), ("hard", 1.0), ("logit", 1.0)),  # (objective, temperature)
}
#: character n-grams are a candidate only where the sampled transfer texts average at most this many
#: characters: their cost grows with the characters (several n-grams a character), and on short
#: texts, where words are few, they help (see :mod:`toolkit.char_features`); on long reviews they would
#: make many times more features than the words do
CHAR_MAX_MEAN_LENGTH = 400
#: a candidate replaces the best so far only when it agrees more by at least this much (noise guard)
MIN_GAIN = 0.005
#: character n-grams must earn more: a second block of features makes the student slower and larger
#: and its run longer, so they are kept only for a gain of a point
CHAR_MIN_GAIN = 0.01
#: a min_df below the default, chosen on a sample, is checked again on the whole transfer set when that set
#: is at least this many times the sample: at sample size a rare n-gram is rare because the sample is small,
#: and on the whole set a lower min_df can multiply the n-grams (and the student's size) for no gain
FULL_SIZE_FACTOR = 4
#: held-out texts of that check (at most; a quarter of the set below that)
FULL_SIZE_HELD_OUT = 10_000
#: part of the student stage's key: 3 = character n-grams a candidate (for a gain of CHAR_MIN_GAIN); 2 = the
#: whole-set min_df check
SELECTION_VERSION = 3


@dataclass(frozen=True)
class SettingsChoice:
    """The student settings chosen for one data set, every candidate weighed, and why."""

    chosen: dict[str, Any]  # ngram_range, min_df, C, temperature, objective
    candidates: list[dict[str, Any]]  # each: the settings, agreement, n_features, seconds
    reason: str
    n_fit: int
    n_held_out: int
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def student_config(self, **overrides: Any) -> StudentConfig:
        """A :class:`StudentConfig` with the chosen settings (``overrides``: e.g. with_gold, max_bytes)."""
        c = self.chosen
        chars = tuple(c["char_ngram_range"]) if c.get("char_ngram_range") else None  # None: not given
        features = FeatureConfig(ngram_range=tuple(c["ngram_range"]), min_df=c["min_df"], char_ngram_range=chars)
        kwargs = {"objective": c["objective"], "C": c["C"], "temperature": c["temperature"], "features": features}
        return StudentConfig(**{**kwargs, **overrides})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (for the stage record and the report's "Student settings" section)."""
        return asdict(self)


def _held_out_split(n: int, held_out: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < held_out < 1:
        raise ValueError(f"held_out must be between 0 and 1, got {held_out}")
    order = np.random.default_rng(random_state).permutation(n)
    cut = round(n * held_out)
    if cut < 1 or n - cut < 2:
        raise ValueError(f"{n} transfer texts are too few to hold out {held_out:.0%} for choosing settings")
    return np.sort(order[cut:]), np.sort(order[:cut])


def _grams(ngram_range: Sequence[int]) -> str:
    lo, hi = ngram_range
    return f"{lo}-{hi}-grams" if lo != hi else f"{lo}-grams"


def _describe(c: dict[str, Any]) -> str:
    grams = _grams(c["ngram_range"])
    if c.get("char_ngram_range"):
        grams += f" and character {_grams(c['char_ngram_range'])}"
    t = f", T = {c['temperature']:g}" if c["objective"] != "hard" else ""
    return f"{grams}, min_df {c['min_df']}, C = {c['C']:g}{t}, {c['objective']} objective"


def required_gain(best: dict[str, Any], candidate: dict[str, Any]) -> float:
    """How much more ``candidate`` must agree than ``best`` to replace it: :data:`CHAR_MIN_GAIN`
    where it adds character n-grams, else :data:`MIN_GAIN`."""
    adds_chars = bool(candidate.get("char_ngram_range")) and not best.get("char_ngram_range")
    return CHAR_MIN_GAIN if adds_chars else MIN_GAIN


def _char_rule(rows: Sequence[dict[str, Any]]) -> str:
    """The character n-grams' own margin, where they were a candidate."""
    return f" (character n-grams: {CHAR_MIN_GAIN})" if any(r.get("char_ngram_range") for r in rows) else ""


def _feature_key(settings: dict[str, Any]) -> tuple:
    """What a candidate's feature matrix depends on."""
    chars = settings.get("char_ngram_range")
    return tuple(settings["ngram_range"]), settings["min_df"], tuple(chars) if chars else None


def feature_candidates(grid: Sequence[dict[str, Any]], texts: Sequence[str]) -> list[dict[str, Any]]:
    """The feature candidates after the first, without character n-grams where ``texts`` average
    more than :data:`CHAR_MAX_MEAN_LENGTH` characters."""
    long = sum(len(t) for t in texts) > CHAR_MAX_MEAN_LENGTH * max(len(texts), 1)
    return [dict(f) for f in grid[1:] if not (long and f.get("char_ngram_range"))]


class _AgreementScorer:
    """Fits candidates on the fitting texts and scores agreement with the teacher on the held-out ones.

    Feature matrices are cached by (n-gram range, min_df): the C and objective steps reuse them.
    """

    def __init__(self, fit_texts, dev_texts, fit_logits: np.ndarray, target: np.ndarray, random_state: int) -> None:
        self.fit_texts, self.dev_texts = fit_texts, dev_texts
        self.fit_logits, self.target, self.random_state = fit_logits, target, random_state
        self.cache: dict[tuple, tuple[Any, Any]] = {}
        self.rows: list[dict[str, Any]] = []

    def score(self, settings: dict[str, Any]) -> float:
        """Agreement of one candidate (and a row for the table)."""
        key = _feature_key(settings)
        start = time.perf_counter()
        if key not in self.cache:
            feats = fit_features(self.fit_texts, {"ngram_range": key[0], "min_df": key[1], "char_ngram_range": key[2]})
            self.cache[key] = (feats.rows(), feats.transform(self.dev_texts))
        X, X_dev = self.cache[key]
        model = fit_objective(
            settings["objective"],
            X,
            self.fit_logits,
            C=settings["C"],
            temperature=settings["temperature"],
            random_state=self.random_state,
        )
        agreement = float(np.mean(scores(model, X_dev).argmax(axis=1) == self.target))
        seconds = round(time.perf_counter() - start, 2)
        self.rows.append({**settings, "agreement": agreement, "n_features": X.shape[1], "seconds": seconds})
        return agreement

    def keep_only(self, settings: dict[str, Any]) -> None:
        """Drop every cached feature matrix but the one of ``settings`` (memory stays bounded)."""
        keep = _feature_key(settings)
        for key in [k for k in self.cache if k != keep]:
            del self.cache[key]


def _search_axes(
    scorer: _AgreementScorer, grid: dict[str, tuple], start: dict[str, Any], agreement: float
) -> tuple[dict[str, Any], float]:
    """From ``start`` (which agrees ``agreement``), one axis at a time (features, C, objective and
    temperature): a candidate replaces the best only when it agrees more by its required gain."""
    best, best_agreement = dict(start), agreement
    steps = [feature_candidates(grid["features"], scorer.fit_texts)]
    steps.append([{"C": c} for c in grid["C"] if c != DEFAULT_C])
    steps.append([{"objective": o, "temperature": t} for o, t in grid["objective"]])
    for step in steps:
        for change in step:
            cand = {**best, **change}
            score = scorer.score(cand)
            if score >= best_agreement + required_gain(best, cand):
                best, best_agreement = cand, score
            scorer.keep_only(best)
    best["ngram_range"] = tuple(best["ngram_range"])
    if best.get("char_ngram_range"):
        best["char_ngram_range"] = tuple(best["char_ngram_range"])
    return best, best_agreement


def select_student_settings(
    texts: Sequence[str],
    logits: np.ndarray,
    label_names: Sequence[str],
    *,
    held_out: float = 0.25,
    random_state: int = 0,
    grid: dict[str, tuple] | None = None,
    max_texts: int | None = 8_000,
) -> SettingsChoice:
    """Choose n-grams, min_df, C, temperature and objective by agreement with the teacher.

    ``texts`` and ``logits`` are the transfer set and the teacher's logits on it (never test
    texts). ``held_out`` of them (seeded) are scored; the rest fitted on. Above ``max_texts``
    a seeded sample is used, to stay fast. The search starts from the defaults and moves along
    one axis at a time, keeping a candidate only when it agrees more by :data:`MIN_GAIN`.
    """
    t0 = time.perf_counter()
    logits = np.asarray(logits, np.float64)
    if logits.shape != (len(texts), len(label_names)):
        raise ValueError(f"logits {logits.shape} do not match {len(texts)} texts x {len(label_names)} classes")
    grid = {**SETTINGS_GRID, **(grid or {})}
    idx = np.arange(len(texts))
    if max_texts is not None and len(texts) > max_texts:
        idx = np.sort(np.random.default_rng(random_state).permutation(len(texts))[:max_texts])
    fit_i, dev_i = (idx[j] for j in _held_out_split(len(idx), held_out, random_state))
    scorer = _AgreementScorer(
        [texts[i] for i in fit_i], [texts[i] for i in dev_i], logits[fit_i], logits[dev_i].argmax(axis=1), random_state
    )
    default = {**grid["features"][0], "C": DEFAULT_C, "temperature": DEFAULT_TEMPERATURE, "objective": "soft"}
    default_agreement = scorer.score(default)
    best, best_agreement = _search_axes(scorer, grid, default, default_agreement)
    same = best == {**default, "ngram_range": best["ngram_range"]}
    reason = (
        f"{_describe(best)}: agreement with the teacher's labels {best_agreement:.4f} on {len(dev_i):,} "
        f"held-out transfer texts, against {default_agreement:.4f} with the defaults ({_describe(default)})"
        + (f"; no candidate did better by {MIN_GAIN}{_char_rule(scorer.rows)}." if same else ".")
    )
    extra = {}
    if best["min_df"] < default["min_df"] and len(texts) >= FULL_SIZE_FACTOR * len(idx):
        sampled = best
        best, record, note = _check_min_df_whole(texts, logits, best, default["min_df"], random_state)
        extra["min_df_whole_set"], reason = record, f"{reason} {note}"
        if best != sampled:  # the reason then opens with what is used, not with the sample's choice
            reason = f"{_describe(best)}. The search on a sample of {len(idx):,} transfer texts chose {reason}"
    return SettingsChoice(
        chosen=best,
        candidates=scorer.rows,
        reason=reason,
        n_fit=len(fit_i),
        n_held_out=len(dev_i),
        seconds=round(time.perf_counter() - t0, 1),
        extra=extra,
    )


def _check_min_df_whole(
    texts: Sequence[str], logits: np.ndarray, best: dict[str, Any], default_min_df: int, random_state: int
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The sample's min_df against the default one on the whole transfer set (a seeded held-out part
    scored): the lower one stays only if it agrees more by :data:`MIN_GAIN`, else the smaller model wins."""
    held = min(FULL_SIZE_HELD_OUT, len(texts) // 4) / len(texts)
    fit_i, dev_i = _held_out_split(len(texts), held, random_state + 1)
    scorer = _AgreementScorer(
        [texts[i] for i in fit_i], [texts[i] for i in dev_i], logits[fit_i], logits[dev_i].argmax(axis=1), random_state
    )
    low, high = scorer.score(best), scorer.score({**best, "min_df": default_min_df})
    keep_low = low >= high + MIN_GAIN
    chosen = best if keep_low else {**best, "min_df": default_min_df}
    record = {"n_fit": len(fit_i), "n_held_out": len(dev_i), "candidates": scorer.rows, "min_df": chosen["min_df"]}
    note = (
        f"On the whole transfer set ({len(fit_i):,} fitted, {len(dev_i):,} held out) min_df {best['min_df']} agreed "
        f"{low:.4f} and min_df {default_min_df} {high:.4f} ({scorer.rows[0]['n_features']:,} against "
        f"{scorer.rows[1]['n_features']:,} n-grams): min_df {chosen['min_df']} kept"
        + (" (the smaller model, within the noise guard)." if not keep_low else ".")
    )
    return chosen, record, note


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="a dataset with a labeled train split (e.g. ../shared/data/imdb)")
    p.add_argument("--fit", type=int, default=10_000, help="train texts to fit on (default: 10000)")
    p.add_argument("--dev", type=int, default=5_000, help="train texts held out to measure on (default: 5000)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

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
