"""A student and a teacher as one classifier: the student answers, the teacher helps where it is unsure.

Every text goes to the student; the texts whose top student probability is below
``threshold`` (and only those) go to the teacher, and their answer is the teacher's
probabilities (``combine="teacher"``) or the mean of both models' (``combine="average"``: the
two make different mistakes). ``threshold`` 0 is the student alone; above 1 every text is
combined. The threshold is chosen on held-out labeled data by ``edge_distill.toolkit.cascade``.

A cascade is saved as a small JSON spec next to its two ONNX files (paths relative to the
spec), each of which keeps its own checksum; :func:`load_cascade` reads it back.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime import load
from edge_distill.runtime.base import Classifier, validate_texts
from edge_distill.runtime.errors import ArtifactError, DataError

COMBINES = ("teacher", "average")
#: the spec's "format" value and the version this runtime reads
SPEC_FORMAT = "edge-distill.cascade"
SPEC_VERSION = 1


def combine_proba(student: np.ndarray, teacher: np.ndarray, how: str) -> np.ndarray:
    """The answer for texts the teacher was asked about (the one rule the runtime and the toolkit share)."""
    if how == "teacher":
        return np.asarray(teacher, np.float32)
    if how == "average":
        return ((np.asarray(student, np.float64) + teacher) / 2).astype(np.float32)
    raise DataError(f"combine must be one of {COMBINES}, got {how!r}")


@dataclass(frozen=True)
class Routed:
    """One call's answer: class names, probabilities ``[N, K]``, and which texts the teacher saw."""

    labels: list[str]
    proba: np.ndarray
    asked: np.ndarray  # bool [N]


class CascadeClassifier(Classifier):
    """The :class:`Classifier` interface over a student and a teacher with the same labels."""

    kind = "cascade"

    def __init__(
        self,
        student: Classifier,
        teacher: Classifier,
        threshold: float,
        combine: str = "average",
        path: Path | None = None,
    ) -> None:
        if tuple(student.labels) != tuple(teacher.labels):
            raise ArtifactError(
                f"{teacher.path}: labels {list(teacher.labels)} differ from the student's {list(student.labels)}"
            )
        for role, clf, other in (("student", student, "teacher"), ("teacher", teacher, "student")):
            if getattr(clf, "kind", None) == other:  # swapped (a wrapped teacher of another kind is fine)
                raise DataError(f"the {role} is a {other} artifact ({clf.path}): pass the student, then the teacher")
        if combine not in COMBINES:
            raise DataError(f"combine must be one of {COMBINES}, got {combine!r}")
        number = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
        if not (number and math.isfinite(threshold) and threshold >= 0):
            raise DataError(f"threshold must be a finite number >= 0, got {threshold!r}")
        meta = {"student": str(student.path), "teacher": str(teacher.path), "threshold": str(threshold)}
        super().__init__(path or student.path, tuple(student.labels), meta | {"combine": combine})
        self.student, self.teacher = student, teacher
        self.threshold, self.combine = float(threshold), combine

    def _route(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        proba, ids = self.student._proba_and_ids(texts)
        proba, ids = np.array(proba, np.float32), np.array(ids, np.int64)
        asked = proba.max(axis=1) < self.threshold
        if asked.any():
            idx = np.flatnonzero(asked)
            both = combine_proba(proba[idx], self.teacher._proba([texts[i] for i in idx]), self.combine)
            proba[idx], ids[idx] = both, both.argmax(axis=1)
        return proba, ids, asked

    def _proba(self, texts: list[str]) -> np.ndarray:
        return self._route(texts)[0]

    def _proba_and_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        proba, ids, _ = self._route(texts)
        return proba, ids

    def route(self, texts: Iterable[str]) -> Routed:
        """Labels, probabilities and which texts reached the teacher (for the teacher's share)."""
        batch = validate_texts(texts)
        if not batch:
            return Routed([], np.zeros((0, len(self.labels)), np.float32), np.zeros(0, bool))
        proba, ids, asked = self._route(batch)
        return Routed([self.labels[i] for i in ids], proba, asked)

    def __repr__(self) -> str:
        return (
            f"CascadeClassifier(student={str(self.student.path)!r}, teacher={str(self.teacher.path)!r}, "
            f"threshold={self.threshold:g}, combine={self.combine!r})"
        )


def read_spec(spec: str | os.PathLike[str]) -> dict[str, Any]:
    """The spec's fields, checked; every problem is one :class:`ArtifactError` line naming the file."""
    p = Path(spec)
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{p}: no such cascade spec") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{p}: cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{p}:{exc.lineno}: not a JSON cascade spec ({exc.msg})") from None
    if not isinstance(obj, dict) or obj.get("format") != SPEC_FORMAT:
        raise ArtifactError(f"{p}: not a cascade spec (expected a JSON object with format {SPEC_FORMAT!r})")
    if obj.get("version") != SPEC_VERSION:
        raise ArtifactError(f"{p}: cascade spec version {obj.get('version')!r}; this runtime reads {SPEC_VERSION}")
    for key in ("student", "teacher"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise ArtifactError(f"{p}: {key!r} must be the path of an ONNX file, got {obj.get(key)!r}")
    t = obj.get("threshold")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise ArtifactError(f"{p}: 'threshold' must be a finite number >= 0, got {t!r}")
    if obj.get("combine") not in COMBINES:
        raise ArtifactError(f"{p}: 'combine' must be one of {list(COMBINES)}, got {obj.get('combine')!r}")
    return obj


def load_cascade(spec: str | os.PathLike[str], *, threads: int | None = None) -> CascadeClassifier:
    """The cascade a spec describes; each ONNX file is loaded (and its checksum verified) by :func:`runtime.load`."""

    p = Path(spec)
    obj = read_spec(p)
    student = load(p.parent / obj["student"], threads=threads, kind="student")
    teacher = load(p.parent / obj["teacher"], threads=threads, kind="teacher")
    return CascadeClassifier(student, teacher, float(obj["threshold"]), obj["combine"], path=p)
