"""The teacher artifact at run time: a transformer classifier in one ONNX file.

The file carries its tokenizer (``tokenizer.json`` text in the metadata property
``edge_distill.tokenizer``), the maximum length and the truncation strategy, so predictions
need only numpy, onnxruntime and ``tokenizers``. Texts are cleaned, tokenized and truncated by
:class:`runtime.truncation.TeacherEncoder`, exactly as in training and labeling.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from edge_distill.runtime import schema
from edge_distill.runtime.base import Classifier, check_io, parse_labels, softmax, validate_texts
from edge_distill.runtime.errors import ArtifactError
from edge_distill.runtime.truncation import STRATEGIES, TeacherEncoder, length_sorted_batches

INPUTS = ("input_ids", "attention_mask")
OUTPUT = "logits"
#: rows per onnxruntime call, and the cap on rows x tokens for long texts
BATCH_SIZE = 32
MAX_BATCH_TOKENS = 32 * 256


def encoder_from_metadata(meta: dict[str, str], name: str) -> TeacherEncoder:
    """The encoder an artifact's metadata describes; a bad tokenizer is an :class:`ArtifactError`."""
    text = meta.get(schema.TOKENIZER)
    if not text:
        raise ArtifactError(f"{name}: metadata {schema.TOKENIZER} (the embedded tokenizer.json) is missing")
    try:
        tok = Tokenizer.from_str(text)
    except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
        raise ArtifactError(f"{name}: embedded tokenizer ({schema.TOKENIZER}) is corrupt: {str(exc)[:200]}") from exc
    try:
        max_length = int(meta.get(schema.MAX_LENGTH, ""))
    except ValueError:
        raise ArtifactError(f"{name}: metadata {schema.MAX_LENGTH} is missing or not an integer") from None
    strategy = meta.get(schema.TRUNCATION, "")
    if strategy not in STRATEGIES:
        raise ArtifactError(f"{name}: metadata {schema.TRUNCATION}={strategy!r}; expected one of {STRATEGIES}")
    try:
        return TeacherEncoder(tok, max_length, strategy)
    except ValueError as exc:
        raise ArtifactError(f"{name}: embedded tokenizer is unusable: {exc}") from exc


class TeacherClassifier(Classifier):
    """A fine-tuned transformer exported to ONNX (fp32 or int8)."""

    kind = "teacher"

    def __init__(
        self, path: Path, labels: tuple[str, ...], metadata: dict[str, str], session, encoder: TeacherEncoder
    ) -> None:
        super().__init__(path, labels, metadata)
        self.session = session
        self.encoder = encoder
        self.input_names = [i.name for i in session.get_inputs()]

    @classmethod
    def from_session(cls, path: Path, session, meta: dict[str, str]) -> TeacherClassifier:
        """Build from a verified session (see :func:`runtime.load`)."""
        name = str(path)
        schema.check_kind(meta, name, expected=cls.kind)
        labels = parse_labels(meta, name)
        check_io(session, name, set(INPUTS), {OUTPUT})
        unknown = set(i.name for i in session.get_inputs()) - {*INPUTS, "token_type_ids"}
        if unknown:
            raise ArtifactError(f"{name}: unexpected teacher inputs {sorted(unknown)}")
        return cls(path, labels, meta, session, encoder_from_metadata(meta, name))

    def logits_of_ids(self, rows: list[list[int]], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Raw float32 logits ``[N, K]`` for already-encoded rows (length-sorted batches)."""
        plan = self.batch_plan(rows, batch_size)
        out = np.zeros((len(rows), len(self.labels)), np.float32)
        if plan:
            out[np.concatenate(plan)] = self.logits_of_batches(rows, plan)
        return out

    @staticmethod
    def batch_plan(rows: list[list[int]], batch_size: int = BATCH_SIZE) -> list[np.ndarray]:
        """The batches :meth:`logits_of_ids` runs ``rows`` in: indices, similar lengths together."""
        return length_sorted_batches([len(r) for r in rows], batch_size, MAX_BATCH_TOKENS)

    def logits_of_batches(self, rows: list[list[int]], batches: list[np.ndarray]) -> np.ndarray:
        """The logits of the rows in ``batches`` (in their order), each batch one padded call.

        A row's logits depend on its batch (int8 picks activation scales per call, and padding
        counts), so a part of :meth:`batch_plan` scored here equals the same rows of a full call.
        """
        feeds = (self.encoder.pad([rows[i] for i in idx]).feeds(self.input_names) for idx in batches)
        outs = [self.session.run([OUTPUT], feed)[0] for feed in feeds]
        return np.concatenate(outs) if outs else np.zeros((0, len(self.labels)), np.float32)

    def logits(self, texts: Iterable[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Raw float32 logits ``[N, K]`` (what ``teacher label`` stores); same input contract as ``predict``."""
        return self.logits_of_ids(self.encoder.encode(validate_texts(texts)), batch_size)

    def _proba(self, texts: list[str]) -> np.ndarray:  # texts already validated by predict_proba
        return softmax(self.logits_of_ids(self.encoder.encode(texts))).astype(np.float32)
