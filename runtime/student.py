"""The student artifact at run time: one ONNX graph from raw text to class probabilities.

The graph does all the work (lowercasing, tokenizing, TF-IDF, the linear model), so this
class only checks the artifact and feeds it strings. The ``label`` output is the graph's own
decision (the argmax of the float64 scores), which ``predict`` returns: it agrees with the
training-side model even where two probabilities round to the same float32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_distill.runtime import schema
from edge_distill.runtime.base import Classifier, check_io, parse_labels
from edge_distill.runtime.errors import ArtifactError
from edge_distill.runtime.truncation import length_sorted_batches

INPUT = "text"
OUTPUTS = ("probabilities", "label")
#: The graph's tokenizer pads every row to the longest text of the call, so a call holds at
#: most this many padded characters: one 1 MB text next to 255 reviews would otherwise
#: allocate 256 x 200k token strings.
MAX_PADDED_CHARS = 1 << 21
#: Rows per call for a batch: the graph sorts every padded row, so a batch is cut into
#: length-sorted calls of at most this many texts, where padding stays small (a long batch in one padded call
#: spends most of its time sorting padding; ``benchmarks/student_latency.py`` measures the throughput).
CHUNK_ROWS = 64


class StudentClassifier(Classifier):
    """A TF-IDF + linear student exported by :mod:`exporters.student`."""

    kind = "student"

    def __init__(self, path: Path, labels: tuple[str, ...], metadata: dict[str, str], session) -> None:
        super().__init__(path, labels, metadata)
        self.session = session

    @classmethod
    def from_session(cls, path: Path, session, meta: dict[str, str]) -> StudentClassifier:
        """Build from a verified session (see :func:`runtime.load`), refusing a malformed artifact."""
        name = str(path)
        schema.check_kind(meta, name, expected=cls.kind)
        labels = parse_labels(meta, name)
        check_io(session, name, {INPUT}, set(OUTPUTS))
        (text,) = session.get_inputs()
        if text.type != "tensor(string)" or len(text.shape) != 1:
            raise ArtifactError(f"{name}: input {INPUT!r} is {text.type} {text.shape}, expected a 1-D string tensor")
        width = {o.name: o.shape for o in session.get_outputs()}["probabilities"]
        if len(width) != 2 or (isinstance(width[1], int) and width[1] != len(labels)):
            raise ArtifactError(f"{name}: probabilities have shape {width}, expected [N, {len(labels)}]")
        return cls(path, labels, meta, session)

    def _call(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        proba, label = self.session.run(list(OUTPUTS), {INPUT: np.asarray(texts, dtype=object)})
        return proba, label

    def _run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """One call for one text or a small batch; else length-sorted calls (rows are independent)."""
        if len(texts) == 1:
            return self._call(texts)
        lengths = [len(t) for t in texts]
        if len(texts) <= CHUNK_ROWS and max(lengths) * len(texts) <= MAX_PADDED_CHARS:
            return self._call(texts)
        proba = np.empty((len(texts), len(self.labels)), np.float32)
        label = np.empty(len(texts), np.int64)
        for idx in length_sorted_batches(lengths, CHUNK_ROWS, MAX_PADDED_CHARS):
            proba[idx], label[idx] = self._call([texts[i] for i in idx])
        return proba, label

    def _proba(self, texts: list[str]) -> np.ndarray:
        return self._run(texts)[0]

    _proba_and_ids = _run  # the graph's ``label`` output: the argmax of its float64 scores
