"""edge-distill runtime: load a student or teacher artifact and classify text on a CPU.

Depends on numpy and onnxruntime (and tokenizers for the teacher) only: never torch,
transformers or scikit-learn. ``load(path)`` reads ``edge_distill.kind`` from the file's
metadata, verifies its checksum and returns the matching classifier.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from runtime.base import KIND_KEY, ArtifactError, Classifier, open_session, read_artifact

__all__ = ["ArtifactError", "Classifier", "load"]

#: kind -> "module:class" implementing it
KINDS = {"student": "runtime.student:StudentClassifier", "teacher": "runtime.teacher:TeacherClassifier"}


def load(path: str | os.PathLike[str], *, threads: int | None = None, kind: str | None = None) -> Classifier:
    """Load the artifact at ``path``.

    ``threads`` caps onnxruntime's intra-op threads (default: onnxruntime's choice); ``kind``
    ("student" or "teacher") refuses an artifact of the other kind.
    """
    p = Path(path)
    data = read_artifact(p)
    sess, meta = open_session(data, str(p), threads=threads)
    found = meta.get(KIND_KEY)
    if found not in KINDS:
        raise ArtifactError(f"{p}: metadata {KIND_KEY}={found!r}; expected one of {sorted(KINDS)}")
    if kind is not None and found != kind:
        raise ArtifactError(f"{p}: this is a {found} artifact, a {kind} was expected")
    kind = found
    module, cls = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), cls).from_session(p, sess, meta)
