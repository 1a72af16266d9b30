"""Choosing a cascade's threshold on held-out labeled data, its curves, figure and spec file.

The runtime side is :mod:`edge_distill.runtime.cascade`. Here everything is computed from the
two models' probabilities on held-out labeled texts (never the test split): for each possible
threshold, the share of texts the teacher would see and the cascade's accuracy. The texts are
sorted by the student's confidence, so every threshold sends the k least confident texts to the
teacher and the whole curve costs one sort.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill import runtime
from edge_distill.runtime.atomic import atomic_path, atomic_write_json
from edge_distill.runtime.cascade import COMBINES, SPEC_FORMAT, SPEC_VERSION, combine_proba, load_cascade
from edge_distill.runtime.errors import DataError, MissingExtraError
from edge_distill.runtime.extras import require_extra
from edge_distill.toolkit.data import Corpus

TARGETS = ("match_teacher", "max_share")


@dataclass(frozen=True)
class CurvePoint:
    """A threshold, the share of texts it sends to the teacher, and the cascade's accuracy there."""

    threshold: float
    share: float
    accuracy: float


@dataclass(frozen=True)
class CascadePlan:
    """The chosen threshold and what it is expected to give (measured on held-out labeled texts)."""

    threshold: float
    accuracy: float
    teacher_share: float
    combine: str
    target: str
    met: bool  # False: no threshold reached the target; the plan is the best point found
    student_accuracy: float
    teacher_accuracy: float
    n: int
    curve: tuple[CurvePoint, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (the curve as a list of dicts)."""
        return {**asdict(self), "curve": [asdict(p) for p in self.curve]}


def _check(student_proba, teacher_proba, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, t, y = np.asarray(student_proba, np.float64), np.asarray(teacher_proba, np.float64), np.asarray(labels)
    if s.ndim != 2 or s.shape != t.shape or y.shape != (len(s),) or len(s) == 0:
        raise DataError(
            f"cascade: student {s.shape}, teacher {t.shape} and labels {y.shape} must be [N, K], [N, K] and [N], N > 0"
        )
    if np.any(y < 0) or np.any(y >= s.shape[1]):
        raise DataError("cascade: the threshold is chosen on labeled texts; labels must be class ids in [0, K)")
    return s, t, y


def cascade_curve(student_proba, teacher_proba, labels, combine: str = "average") -> list[CurvePoint]:
    """Every distinct cascade: share sent to the teacher and accuracy, from no text to every text."""
    s, t, y = _check(student_proba, teacher_proba, labels)
    conf = s.max(axis=1)
    order = np.argsort(conf, kind="stable")
    conf = conf[order]
    right_s = (s.argmax(1) == y)[order]
    right_c = (combine_proba(s, t, combine).argmax(1) == y)[order]
    n = len(y)
    # asking the k least confident: accuracy = combined right on [:k] + student right on [k:]
    acc = (np.concatenate([[0], np.cumsum(right_c)]) + np.concatenate([np.cumsum(right_s[::-1])[::-1], [0]])) / n
    points = []
    for k in range(n + 1):
        if 0 < k < n and conf[k - 1] == conf[k]:
            continue  # no threshold separates tied confidences
        thr = 0.0 if k == 0 else float(conf[k]) if k < n else float(np.nextafter(max(1.0, conf[-1]), np.inf))
        points.append(CurvePoint(thr, k / n, float(acc[k])))
    return points


def _pick(curve: list[CurvePoint], target: str, goal: float, max_share: float) -> tuple[CurvePoint, bool]:
    if target == "match_teacher":
        reach = [p for p in curve if p.accuracy >= goal]
        if reach:
            return min(reach, key=lambda p: p.share), True
        return max(curve, key=lambda p: (p.accuracy, -p.share)), False
    within = [p for p in curve if p.share <= max_share]  # never empty: share 0 is always there
    return max(within, key=lambda p: (p.accuracy, -p.share)), True


def choose_threshold(
    student_proba,
    teacher_proba,
    labels,
    *,
    target: str = "match_teacher",
    max_teacher_share: float = 0.15,
    combine: str = "auto",
) -> CascadePlan:
    """The threshold for ``target``, on held-out labeled texts (never the test split).

    ``match_teacher``: the smallest teacher share whose accuracy reaches the teacher's own.
    ``max_share``: the best accuracy with at most ``max_teacher_share`` of the texts sent to the
    teacher. ``combine="auto"`` tries both rules and keeps the one whose chosen point is more
    suited (the smaller share for ``match_teacher``, the higher accuracy for ``max_share``).
    """
    if target not in TARGETS:
        raise DataError(f"cascade target must be one of {TARGETS}, got {target!r}")
    if not 0.0 <= max_teacher_share <= 1.0:
        raise DataError(f"max_teacher_share must be in [0, 1], got {max_teacher_share}")
    s, t, y = _check(student_proba, teacher_proba, labels)
    teacher_acc, student_acc = float(np.mean(t.argmax(1) == y)), float(np.mean(s.argmax(1) == y))
    plans = []
    for how in COMBINES if combine == "auto" else (combine,):
        curve = cascade_curve(s, t, y, how)
        point, met = _pick(curve, target, teacher_acc, max_teacher_share)
        plans.append(
            CascadePlan(
                point.threshold,
                point.accuracy,
                point.share,
                how,
                target,
                met,
                student_acc,
                teacher_acc,
                len(y),
                tuple(curve),
            )
        )
    if target == "match_teacher":  # the goal is the teacher's accuracy at the smallest share
        return max(plans, key=lambda p: (p.met, -p.teacher_share, p.accuracy))
    return max(plans, key=lambda p: (p.accuracy, -p.teacher_share))


def plan_cascade(
    student,
    teacher,
    heldout: Corpus,
    *,
    trained_on: Collection[str] = (),
    target: str = "match_teacher",
    max_teacher_share: float = 0.15,
    combine: str = "auto",
) -> CascadePlan:
    """Both models on held-out labeled texts, then :func:`choose_threshold`.

    ``student`` and ``teacher`` are loaded classifiers or artifact paths. ``trained_on``: ids
    (``Corpus.ids``) of the texts the student was fitted on (its transfer set); they are left out,
    since the student is over-confident on them, and none left is a :class:`DataError`.
    """

    s = runtime.load(student, kind="student") if isinstance(student, (str, os.PathLike)) else student
    t = runtime.load(teacher, kind="teacher") if isinstance(teacher, (str, os.PathLike)) else teacher
    seen = set(trained_on)
    keep = [i for i, text_id in enumerate(heldout.ids) if text_id not in seen]
    if not keep or not heldout.is_labeled:
        raise DataError(
            f"cascade: {len(keep)} labeled held-out texts outside the student's training set (of {len(heldout)}); "
            "reserve labeled texts that the transfer set does not use"
        )
    held = heldout.take(keep)
    return choose_threshold(
        s.predict_proba(held.texts),
        t.predict_proba(held.texts),
        held.labels,
        target=target,
        max_teacher_share=max_teacher_share,
        combine=combine,
    )


def apply_plan(student_proba, teacher_proba, threshold: float, combine: str) -> tuple[np.ndarray, np.ndarray]:
    """The cascade's probabilities and which rows it asks the teacher about, from both models' probabilities
    (e.g. the evaluation's test predictions, for the report's test accuracy without running anything again)."""
    s, t = np.asarray(student_proba, np.float32), np.asarray(teacher_proba, np.float32)
    asked = s.max(axis=1) < threshold
    out = s.copy()
    out[asked] = combine_proba(s[asked], t[asked], combine)
    return out, asked


def latency_curve(plan: CascadePlan, student_ms: float, teacher_ms: float) -> dict[str, Any]:
    """Accuracy against expected mean latency per text: the student always runs, the teacher for ``share``."""
    rows = [{**asdict(p), "mean_ms": student_ms + p.share * teacher_ms} for p in plan.curve]
    return {
        "points": rows,
        "chosen": {
            "threshold": plan.threshold,
            "share": plan.teacher_share,
            "accuracy": plan.accuracy,
            "mean_ms": student_ms + plan.teacher_share * teacher_ms,
        },
        "student_ms": student_ms,
        "teacher_ms": teacher_ms,
        "combine": plan.combine,
    }


def plot_latency_curve(curve: dict[str, Any], path: str | os.PathLike[str], title: str = "") -> Path:
    """A PNG of :func:`latency_curve`: accuracy against mean latency, the chosen point marked (bench extra)."""

    require_extra("bench")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    pts = curve["points"]
    ax.plot([p["mean_ms"] for p in pts], [p["accuracy"] for p in pts], lw=1.2, label=f"cascade ({curve['combine']})")
    c = curve["chosen"]
    ax.scatter([c["mean_ms"]], [c["accuracy"]], color="crimson", zorder=3, label=f"chosen: {c['share']:.0%} to teacher")
    ax.scatter([pts[0]["mean_ms"]], [pts[0]["accuracy"]], marker="s", color="gray", zorder=3, label="student alone")
    ax.set_xlabel("mean latency per text (ms)")
    ax.set_ylabel("accuracy (held-out)")
    ax.set_title(title or "Cascade: accuracy against mean latency")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    try:
        fig.tight_layout()
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            fig.savefig(fh, format="png")
    finally:
        plt.close(fig)
    return Path(path)


def save_cascade_spec(
    spec: str | os.PathLike[str],
    student: str | os.PathLike[str],
    teacher: str | os.PathLike[str],
    threshold: float,
    combine: str,
    plan: CascadePlan | None = None,
) -> Path:
    """Write the cascade's JSON spec atomically; model paths are stored relative to the spec's folder."""
    spec = Path(spec)
    base = spec.resolve().parent
    rel = {k: os.path.relpath(Path(v).resolve(), base) for k, v in (("student", student), ("teacher", teacher))}
    obj: dict[str, Any] = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        **rel,
        "threshold": float(threshold),
        "combine": combine,
    }
    if plan is not None:
        obj["plan"] = {k: v for k, v in plan.to_dict().items() if k != "curve"}
    return atomic_write_json(spec, obj)


def _mean_ms(clf, texts: list[str]) -> float:
    """Mean batch-1 latency of ``clf`` over ``texts`` after one warm-up call, in ms."""

    clf.predict_proba(texts[:1])
    t0 = time.perf_counter()
    for t in texts:
        clf.predict_proba([t])
    return 1e3 * (time.perf_counter() - t0) / max(1, len(texts))


def build_cascade(
    out: Path,
    heldout: Corpus,
    test: Corpus,
    *,
    timer: Callable[..., dict[str, Any]] | None,
    trained_on: Collection[str] = (),
    target: str = "max_share",
    max_teacher_share: float = 0.15,
    combine: str = "auto",
    bench_texts: int | None = 1000,
) -> dict[str, Any]:
    """A run's cascade stage: the plan on held-out labeled texts, ``cascade.json``, the test accuracy from
    ``predictions/test.npz``, the one-text-at-a-time benchmark, the latency curve and its figure.

    The teacher is ``teacher.int8.onnx`` where its gate accepted it, else ``teacher.onnx``. ``timer`` times
    the saved cascade one text at a time, ``timer(cascade, texts, limit=bench_texts)``: the app passes
    :func:`edge_distill.benchmarks.cascade.time_cascade` (training never imports the benchmarks); None
    (the benchmarks are not installed): the plan and its test accuracy without timing, curve or figure.
    """
    out = Path(out)
    int8 = (out / "teacher.int8.onnx").is_file()
    student, teacher = out / "student.onnx", out / ("teacher.int8.onnx" if int8 else "teacher.onnx")
    plan = plan_cascade(student, teacher, heldout, trained_on=trained_on, target=target,
                        max_teacher_share=max_teacher_share, combine=combine)  # fmt: skip
    spec = save_cascade_spec(out / "cascade.json", student, teacher, plan.threshold, plan.combine, plan)
    with np.load(out / "predictions" / "test.npz", allow_pickle=False) as z:
        if [str(i) for i in z["ids"]] != list(test.ids):
            raise DataError("predictions/test.npz holds other test texts; rerun the evaluate stage")
        proba, asked = apply_plan(z["student"], z["teacher_int8" if int8 else "teacher"], plan.threshold, plan.combine)
        on_test = {"accuracy": float(np.mean(proba.argmax(1) == z["labels"])), "teacher_share": float(asked.mean())}
    result = {"teacher": teacher.name, "plan": {k: v for k, v in plan.to_dict().items() if k != "curve"},
              "test": {**on_test, "n": len(test)}, "bench": None, "curve": None, "figure": None}  # fmt: skip
    if timer is None:
        atomic_write_json(out / "cascade_report.json", result)
        return result
    cascade = load_cascade(spec, threads=1)
    timing = timer(cascade, test.texts, limit=bench_texts)
    # per-model means from the same calls; where no call (or every call) reached the teacher, timed alone
    sample = test.texts[:20]
    student_ms = timing["student_only_mean_ms"] or _mean_ms(cascade.student, sample)
    with_teacher = timing["with_teacher_mean_ms"] or student_ms + _mean_ms(cascade.teacher, sample)
    teacher_ms = max(0.0, with_teacher - student_ms)
    curve = latency_curve(plan, student_ms, teacher_ms)
    result.update(bench=timing, curve=curve)
    try:
        result["figure"] = str(plot_latency_curve(curve, out / "figures" / "cascade.png"))
    except MissingExtraError as exc:
        result["figure"] = None
        result["figure_skipped"] = str(exc)
    atomic_write_json(out / "cascade_report.json", result)
    return result
