"""What every edge-distill classifier shares: loading a verified session, checking input.

Both kinds (student and teacher) load from one ONNX file, expose ``labels``,
``predict_proba(texts) -> float32 [N, K]`` and ``predict(texts) -> list[str]``, and are safe
to call from many threads at once (onnxruntime sessions are; nothing here mutates state).

Input contract (documented in the README, tested in tests/test_guarantees_inputs.py):
- ``texts`` is a list, tuple, 1-D numpy array or any other ordered iterable (a generator) of
  ``str``; a bare ``str``/``bytes``/``bytearray``, a mapping, a set, ``None`` or a number is a
  TypeError (wrap one text in a list), and so is an array that is not 1-D.
- A non-string item (``None``, NaN, bytes, a nested list) is a TypeError naming its position.
- An empty sequence gives an empty result of shape ``[0, K]``; an empty or whitespace-only
  text is an ordinary text (the model's answer for "no known word").
- Lone surrogates (which cannot be encoded as UTF-8) are replaced by U+FFFD; nothing else
  is changed, so every Python ``str`` has a defined answer.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edge_distill.runtime import schema
from edge_distill.runtime.errors import ArtifactError, DataError
from edge_distill.runtime.integrity import verify

_SURROGATE = re.compile("[\ud800-\udfff]")


def sanitize(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (the only change the runtime makes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` in float64, stable for large logits."""
    z = np.asarray(logits, np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _describe(value: Any) -> str:
    """A short name for a rejected value: its type, plus the value itself when that helps."""
    name = type(value).__name__
    if isinstance(value, float) or value is None or isinstance(value, (int, np.generic)):
        return f"{name} {value}"[:80]
    if isinstance(value, np.ndarray):
        return f"{name} of shape {value.shape}"
    return name


def validate_texts(texts: Any, name: str = "texts") -> list[str]:
    """Check ``texts`` against the input contract and return it as a list of clean ``str``.

    Every refusal is a TypeError whose message says what was given and, for an item, its
    position (``name[i]``), so a caller can find the bad row in a million-row batch.
    """
    if texts is None or isinstance(texts, (str, bytes, bytearray, memoryview, Mapping, set, frozenset)):
        hint = ""
        if isinstance(texts, str):
            hint = "; wrap a single text in a list"
        elif isinstance(texts, (bytes, bytearray, memoryview)):
            hint = "; decode bytes to str first"
        elif isinstance(texts, (set, frozenset)):
            hint = "; a set has no order, so results could not be matched to texts"
        raise TypeError(f"{name} must be a sequence of str, got {_describe(texts)}{hint}")
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        raise TypeError(f"{name} must be 1-D, got an array of shape {texts.shape}")
    if not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be a sequence of str, got {_describe(texts)}")
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] is {_describe(t)}, expected str")
        out.append(sanitize(t))
    return out


def read_artifact(path: str | os.PathLike[str]) -> bytes:
    """The bytes of an artifact file, with errors naming the file for what cannot be an artifact."""
    p = Path(path)
    if p.is_dir():
        raise ArtifactError(f"{p}: is a folder, not an ONNX file")
    if not p.is_file():
        raise ArtifactError(f"{p}: no such file")
    try:
        data = p.read_bytes()
    except OSError as exc:  # permissions, a vanished network mount: one line, not a traceback
        raise ArtifactError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    if not data:
        raise ArtifactError(f"{p}: empty file, not an ONNX model")
    return data


def open_session(
    data: bytes,
    name: str,
    threads: int | None = None,
    optimize: bool = True,
) -> tuple[ort.InferenceSession, dict[str, str]]:
    """A CPU session over verified bytes, and the model's metadata properties."""
    opts = ort.SessionOptions()
    if threads is not None:
        cores = os.cpu_count() or 1
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or not 1 <= threads <= cores:
            # more threads than cores never helps, and 100,000 of them took 16 GB before the first text
            raise DataError(f"threads must be a whole number from 1 to {cores} (the CPU count), got {threads!r}")
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    if not optimize:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        raise ArtifactError(f"{name}: not a loadable ONNX model ({str(exc).splitlines()[0][:300]})") from exc
    try:
        meta = dict(sess.get_modelmeta().custom_metadata_map)
    except UnicodeDecodeError as exc:  # a damaged byte in the metadata, before the checksum can be read
        raise ArtifactError(f"{name}: metadata is not valid UTF-8 (a damaged file)") from exc
    verify(data, meta.get(schema.CHECKSUM), name)
    return sess, meta


def parse_labels(meta: dict[str, str], name: str) -> tuple[str, ...]:
    """The class names stored in the metadata (a JSON list, index = class id)."""
    try:
        labels = json.loads(meta[schema.LABELS])
    except (KeyError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{name}: metadata {schema.LABELS} is missing or not JSON") from exc
    if not (isinstance(labels, list) and len(labels) >= 2 and all(isinstance(x, str) for x in labels)):
        raise ArtifactError(f"{name}: metadata {schema.LABELS} must be a list of at least 2 class names")
    return tuple(labels)


def check_io(sess: ort.InferenceSession, name: str, inputs: set[str], outputs: set[str]) -> None:
    """Refuse a session whose input/output names differ from the artifact contract."""
    got_in = {i.name for i in sess.get_inputs()}
    got_out = {o.name for o in sess.get_outputs()}
    if not inputs <= got_in or not outputs <= got_out:
        raise ArtifactError(
            f"{name}: inputs {sorted(got_in)} / outputs {sorted(got_out)} do not match the contract "
            f"(inputs {sorted(inputs)}, outputs {sorted(outputs)})"
        )


class Classifier:
    """The interface both artifact kinds share. Subclasses implement ``_proba(list[str])`` and may
    override ``_proba_and_ids`` when the model decides its own labels (the student's graph does)."""

    kind: str = ""

    def __init__(self, path: Path, labels: tuple[str, ...], metadata: dict[str, str]) -> None:
        self.path = path
        self.labels = labels
        self.metadata = metadata

    def _proba(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _proba_and_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and the class id decided for each text (by default the argmax)."""
        proba = self._proba(texts)
        return proba, proba.argmax(axis=1)

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Class probabilities, float32 ``[N, K]``; column ``k`` is ``labels[k]``."""
        batch = validate_texts(texts)
        if not batch:  # onnxruntime fails on an empty batch
            return np.zeros((0, len(self.labels)), np.float32)
        return self._proba(batch)

    def predict_with_proba(self, texts: Iterable[str]) -> tuple[list[str], np.ndarray]:
        """Class names and probabilities ``[N, K]`` in one call."""
        batch = validate_texts(texts)
        if not batch:  # onnxruntime fails on an empty batch
            return [], np.zeros((0, len(self.labels)), np.float32)
        proba, ids = self._proba_and_ids(batch)
        return [self.labels[i] for i in ids], proba

    def predict(self, texts: Iterable[str]) -> list[str]:
        """The class name decided for each text."""
        return self.predict_with_proba(texts)[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={str(self.path)!r}, labels={list(self.labels)})"
