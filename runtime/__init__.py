"""edge-distill runtime: load a student or teacher artifact and classify text on a CPU.

Depends on numpy and onnxruntime (and tokenizers for the teacher) only: never torch,
transformers or scikit-learn, and nothing else of edge-distill. ``load(path)`` reads
``edge_distill.kind`` from the file's metadata, verifies its checksum, kind and format
version, and returns the matching classifier.
"""

from __future__ import annotations

import os
from pathlib import Path

from edge_distill.runtime import schema
from edge_distill.runtime.base import Classifier, open_session, read_artifact
from edge_distill.runtime.errors import ArtifactError, DataError, EdgeDistillError
from edge_distill.runtime.student import StudentClassifier
from edge_distill.runtime.teacher import TeacherClassifier

__all__ = [
    "ArtifactError",
    "Classifier",
    "DataError",
    "EdgeDistillError",
    "StudentClassifier",
    "TeacherClassifier",
    "load",
]

#: kind -> the classifier implementing it
KINDS: dict[str, type[StudentClassifier] | type[TeacherClassifier]] = {
    schema.STUDENT: StudentClassifier,
    schema.TEACHER: TeacherClassifier,
}


def load(path: str | os.PathLike[str], *, threads: int | None = None, kind: str | None = None) -> Classifier:
    """Load the artifact at ``path``.

    ``threads`` caps onnxruntime's intra-op threads (default: onnxruntime's choice); ``kind``
    ("student" or "teacher") refuses an artifact of the other kind.
    """
    if kind is not None and kind not in KINDS:
        raise DataError(f"kind must be one of {sorted(KINDS)} or None, got {kind!r}")
    p = Path(path)
    data = read_artifact(p)
    sess, meta = open_session(data, str(p), threads=threads)
    found = schema.check_kind(meta, str(p), expected=kind)
    return KINDS[found].from_session(p, sess, meta)
