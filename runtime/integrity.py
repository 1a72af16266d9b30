"""A checksum of an artifact's whole payload, carried inside the artifact itself.

The exporter writes the metadata property ``edge_distill.checksum`` with a placeholder of 64
zeros, serializes the model, hashes those bytes with sha256, and writes the digest over the
placeholder (same length, so the protobuf stays valid). The runtime undoes the substitution
and re-hashes. This needs neither the ``onnx`` package nor a second file, and any changed
byte (a tampered weight, a truncated tail) fails the check.

The same scheme seals an ORT-format file (``.ort``, :mod:`exporters.ort_format`): onnxruntime's
flatbuffer keeps each metadata string byte for byte, so the exporter converts the model with
the placeholder in place and writes the sha256 of the ORT bytes over it. :func:`verify` reads
either format unchanged (onnxruntime opens both from bytes and reports the same metadata),
and so do the JavaScript clients (``examples/web/student.js``). A file converted by hand from a
sealed ``.onnx`` carries the ``.onnx`` digest, so it is refused: only the exporter seals.
"""

from __future__ import annotations

import hashlib

from edge_distill.runtime.errors import IntegrityError
from edge_distill.runtime.schema import CHECKSUM

PLACEHOLDER = "0" * 64


def seal(model_bytes: bytes) -> bytes:
    """Replace the placeholder in serialized ``model_bytes`` with the sha256 of those bytes."""
    marker = PLACEHOLDER.encode()
    if model_bytes.count(marker) != 1:
        raise ValueError(f"expected exactly one {CHECKSUM} placeholder in the serialized model")
    digest = hashlib.sha256(model_bytes).hexdigest().encode()
    return model_bytes.replace(marker, digest)


def verify(model_bytes: bytes, recorded: str | None, name: str) -> None:
    """Raise :class:`IntegrityError` unless ``model_bytes`` hash to ``recorded``."""
    if not recorded:
        raise IntegrityError(f"{name}: no {CHECKSUM} in the metadata; not an edge-distill artifact")
    marker = recorded.encode()
    if len(recorded) != 64 or model_bytes.count(marker) != 1:
        raise IntegrityError(f"{name}: malformed {CHECKSUM} {recorded!r}")
    digest = hashlib.sha256(model_bytes.replace(marker, PLACEHOLDER.encode())).hexdigest()
    if digest != recorded:
        raise IntegrityError(
            f"{name}: checksum mismatch (file hashes to {digest[:12]}…, metadata says {recorded[:12]}…): "
            "the file was modified or damaged after export"
        )
