"""The student in ORT format, for minimal and mobile onnxruntime builds, with its checksum.

An ``.ort`` file is onnxruntime's own flatbuffer serialization of a graph it has already
loaded (and optimized: level *basic*, the portable rewrites only). It keeps the model's
metadata strings byte for byte, so it is sealed the way :mod:`runtime.integrity` seals an
``.onnx`` file: the ``.onnx`` checksum is put back to the placeholder, onnxruntime writes the
ORT bytes, and the sha256 of those bytes goes over the placeholder. ``edge_distill.load`` (and
any onnxruntime) then opens an ``.ort`` file exactly like an ``.onnx`` one, with the same
integrity check. The conversion runs behind a gate: the ``.ort`` file must give the ``.onnx``
file's labels and probabilities (within ``tol``) on the adversarial set plus ``texts``.

Next to it goes the reduced-operator configuration that onnxruntime's build takes with
``--include_ops_by_config`` to build a minimal runtime holding only this model's kernels.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge_distill.exporters.student_parity import TOLERANCE, adversarial_texts
from edge_distill.runtime import schema
from edge_distill.runtime.atomic import atomic_write_bytes, atomic_write_text
from edge_distill.runtime.base import open_session, read_artifact
from edge_distill.runtime.errors import DataError, ParityError
from edge_distill.runtime.integrity import PLACEHOLDER, seal
from edge_distill.runtime.student import StudentClassifier

ORT_SUFFIX = ".ort"
CONFIG_SUFFIX = ".required_operators.config"


@dataclass(frozen=True)
class OrtExport:
    """What :func:`export_ort` wrote and measured."""

    path: str
    config: str
    bytes: int
    texts: int
    max_abs_diff: float
    label_agreement: float

    def as_dict(self) -> dict:
        return asdict(self)


def _student(data: bytes, name: str) -> tuple[StudentClassifier, str]:
    """A verified student classifier over ``data`` and its recorded checksum."""
    sess, meta = open_session(data, name, threads=1)
    if meta.get(schema.KIND) != schema.STUDENT:
        raise DataError(f"{name}: only student artifacts convert to ORT format (kind {meta.get(schema.KIND)!r})")
    return StudentClassifier.from_session(Path(name), sess, meta), meta[schema.CHECKSUM]


def ort_bytes(onnx_bytes: bytes, checksum: str) -> bytes:
    """The sealed ORT-format bytes of the sealed ``onnx_bytes`` whose checksum is ``checksum``."""

    unsealed = onnx_bytes.replace(checksum.encode(), PLACEHOLDER.encode())
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.ort"
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(target)
        opts.add_session_config_entry("session.save_model_format", "ORT")
        opts.log_severity_level = 3
        ort.InferenceSession(unsealed, opts, providers=["CPUExecutionProvider"])
        return seal(target.read_bytes())


def operator_config(ort_data: bytes, name: str) -> str:
    """The reduced-operator configuration (onnxruntime's format) of one ORT-format model."""
    from onnxruntime.tools.ort_format_model import create_config_from_models

    log = logging.getLogger("ort_format_model.utils")  # it logs "Created config in <temporary path>"
    level = log.level
    with tempfile.TemporaryDirectory() as tmp:
        model, config = Path(tmp) / name, Path(tmp) / "ops.config"
        atomic_write_bytes(model, ort_data)
        log.setLevel(logging.WARNING)
        try:
            create_config_from_models([model], config, False)
        finally:
            log.setLevel(level)
        return config.read_text(encoding="utf-8").replace(str(model), name)


def compare(reference: StudentClassifier, other: StudentClassifier, texts: Sequence[str]) -> tuple[float, float]:
    """Max |Δp| and label agreement of ``other`` against ``reference`` on ``texts``."""
    ref_labels, ref = reference.predict_with_proba(texts)
    labels, proba = other.predict_with_proba(texts)
    diff = float(np.abs(proba.astype(np.float64) - ref).max()) if len(texts) else 0.0
    agree = sum(a == b for a, b in zip(labels, ref_labels, strict=True)) / max(len(texts), 1)
    return diff, agree


def export_ort(
    onnx_path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    texts: Sequence[str] = (),
    tol: float = TOLERANCE,
) -> OrtExport:
    """Write the ORT-format sibling of the student ``onnx_path`` (default: same name, ``.ort``)
    and its ``.required_operators.config``, after the gate against the ``.onnx`` file passes."""
    src = Path(onnx_path)
    out = Path(out) if out is not None else src.with_suffix(ORT_SUFFIX)
    data = read_artifact(src)
    reference, checksum = _student(data, str(src))
    converted = ort_bytes(data, checksum)
    candidate, _ = _student(converted, str(out))
    gate = adversarial_texts() + list(texts)
    diff, agree = compare(reference, candidate, gate)
    if not (diff <= tol and agree == 1.0):
        raise ParityError(
            f"ORT-format gate failed for {out}: max |Δp| = {diff:.3g} (tolerance {tol:g}), label agreement "
            f"{agree:.4%} over {len(gate)} texts; nothing was written"
        )
    config = out.with_name(out.name.removesuffix(ORT_SUFFIX) + CONFIG_SUFFIX)
    atomic_write_bytes(out, converted)
    atomic_write_text(config, operator_config(converted, out.name))
    return OrtExport(str(out), str(config), len(converted), len(gate), diff, agree)
