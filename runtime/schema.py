"""The artifact contract: every metadata key, kind and format version, in one place.

Exporters write these keys into an ONNX file's ``metadata_props``; both runtime loaders read
them back and refuse a file whose kind or format version they do not know. Other languages
read the same keys (``docs/reference/artifacts.md`` lists them).
"""

from __future__ import annotations

from edge_distill.runtime.errors import ArtifactError

PREFIX = "edge_distill."
KIND = PREFIX + "kind"  # "student" | "teacher"
LABELS = PREFIX + "labels"  # JSON list of class names, index = class id
FORMAT_VERSION = PREFIX + "format_version"
CHECKSUM = PREFIX + "checksum"  # sha256 of the file with this value zeroed (runtime.integrity)
# student
OBJECTIVE = PREFIX + "objective"
FEATURES = PREFIX + "features"
TRAINING = PREFIX + "training"
METRICS = PREFIX + "metrics"
# teacher
TOKENIZER = PREFIX + "tokenizer"  # the embedded tokenizer.json
MAX_LENGTH = PREFIX + "max_length"
TRUNCATION = PREFIX + "truncation"
PARITY = PREFIX + "parity"
PRECISION = PREFIX + "precision"  # "fp32" | "int8"
TEACHER_VAL_ACCURACY = PREFIX + "teacher_val_accuracy"

STUDENT, TEACHER = "student", "teacher"
#: kind -> the format version this runtime reads and the exporters write
FORMAT_VERSIONS = {STUDENT: "1", TEACHER: "1"}
#: format versions of the training side's plain-data folders (a fitted student, a fitted peer)
STUDENT_FOLDER_FORMAT = 1
PEER_FOLDER_FORMAT = 1


def check_kind(meta: dict[str, str], name: str, expected: str | None = None) -> str:
    """The artifact's kind, after checking it and its format version against this runtime's."""
    kind = meta.get(KIND)
    if kind not in FORMAT_VERSIONS:
        raise ArtifactError(f"{name}: metadata {KIND}={kind!r}; expected one of {sorted(FORMAT_VERSIONS)}")
    if expected is not None and kind != expected:
        raise ArtifactError(f"{name}: this is a {kind} artifact, a {expected} was expected")
    version, reads = meta.get(FORMAT_VERSION), FORMAT_VERSIONS[kind]
    if version != reads:
        raise ArtifactError(f"{name}: {kind} format version {version!r}; this runtime reads {reads!r}")
    return kind
