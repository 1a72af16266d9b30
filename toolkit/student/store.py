"""Save and load a :class:`StudentModel` as plain data: one ``.npz`` and one JSON file, no pickle.

Layout of ``DIR/student/``: ``weights.npz`` holds ``vocabulary`` (the feature names, UTF-8,
newline-joined: no feature contains a newline), ``idf``, ``coef`` and ``intercept`` (float64);
``student.json`` holds the label names, recipe, feature settings, word ranges, the character
alphabet (empty without character n-grams) and the training record (objective, C, T, sizes,
metrics). The folder is replaced atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from edge_distill.runtime.atomic import atomic_dir
from edge_distill.runtime.errors import ArtifactError
from edge_distill.toolkit.student.model import StudentModel

FOLDER = "student"
WEIGHTS = "weights.npz"
MANIFEST = "student.json"
FORMAT = 1


class StudentError(ArtifactError):
    """A student folder that is missing or damaged."""


def _encode(vocabulary: list[str]) -> np.ndarray:
    if any("\n" in w for w in vocabulary):
        raise ValueError("a feature name contains a newline")
    return np.frombuffer("\n".join(vocabulary).encode("utf-8", "surrogatepass"), np.uint8)


def _decode(raw: np.ndarray, n: int) -> list[str]:
    words = raw.tobytes().decode("utf-8", "surrogatepass").split("\n") if n else []
    if len(words) != n:
        raise StudentError(f"vocabulary holds {len(words)} names, the weights {n} features")
    return words


def student_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` itself when it holds a student, else ``path/student``."""
    p = Path(path)
    return p if (p / MANIFEST).is_file() else p / FOLDER


def save_student(model: StudentModel, out: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``out/student/`` atomically and return that folder."""
    target = Path(out) / FOLDER
    manifest = {
        "format": FORMAT,
        "label_names": list(model.label_names),
        "recipe": model.recipe,
        "settings": model.settings,
        "word_ranges": [list(r) for r in model.word_ranges],
        "info": model.info,
        "char_alphabet": model.char_alphabet,
    }
    with atomic_dir(target) as tmp:
        with open(tmp / WEIGHTS, "wb") as fh:
            np.savez_compressed(
                fh, vocabulary=_encode(model.vocabulary), idf=model.idf, coef=model.coef, intercept=model.intercept
            )
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
        )
    return target


def load_student(path: str | os.PathLike[str]) -> StudentModel:
    """Read a student saved by :func:`save_student` (``path`` is the run folder or ``student/``)."""
    folder = student_dir(path)
    if not (folder / MANIFEST).is_file():
        raise StudentError(f"{path}: no student here (expected {FOLDER}/{MANIFEST}; run 'edge-distill student')")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        with np.load(folder / WEIGHTS, allow_pickle=False) as z:
            coef, intercept, idf, raw = z["coef"], z["intercept"], z["idf"], z["vocabulary"]
    except (OSError, ValueError, KeyError) as exc:
        raise StudentError(f"{folder}: unreadable student ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise StudentError(f"{folder}: student format {manifest.get('format')!r}, this version reads {FORMAT}")
    try:
        return StudentModel(
            _decode(raw, coef.shape[1]),
            idf,
            coef,
            intercept,
            tuple(manifest["label_names"]),
            manifest["settings"],
            tuple(tuple(r) for r in manifest["word_ranges"]),
            manifest["recipe"],
            manifest.get("info", {}),
            manifest.get("char_alphabet", ""),
        )
    except (KeyError, ValueError) as exc:
        raise StudentError(f"{folder}: inconsistent student ({exc})") from exc
