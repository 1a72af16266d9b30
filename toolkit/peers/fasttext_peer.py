"""fastText supervised: the classic fast text classifier a user would try before a student.

Trained on the teacher's argmax over the transfer set plus the gold labels (fastText learns
from hard labels only), with the preprocessing of the fastText tutorial (lowercase, spaces
around punctuation). One thread and a fixed seed make a fit reproducible. Saved as fastText's
own ``model.bin`` beside ``peer.json``; nothing is pickled.

fasttext-wheel 0.9.2 builds ``np.array(..., copy=False)`` for a single string, which numpy 2
refuses, and repeats the top probability for every label when asked for more than one; so
the probabilities are computed from the model's own matrices (see ``predict_proba``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fasttext
import numpy as np

from edge_distill.runtime.atomic import atomic_dir
from edge_distill.runtime.base import softmax
from edge_distill.toolkit.peers.common import DEFAULTS, as_targets, clean, read_manifest, write_manifest

KIND = "fasttext"
_D = DEFAULTS[KIND]  # the settings' defaults, readable without fastText (the pipeline's stage key)
MODEL_FILE = "model.bin"
_PUNCT = re.compile(r"([.!?,'/()\"])")
_PREFIX = "__label__"


def preprocess(texts: Sequence[str]) -> list[str]:
    """Cleaned, lowercased, punctuation split off: the fastText tutorial's normalisation."""
    return [_PUNCT.sub(r" \1 ", t.lower()) for t in clean(texts)]


class FastTextPeer:
    """fastText supervised classifier with scikit-learn's fit / predict_proba / predict."""

    def __init__(
        self,
        label_names: Sequence[str],
        *,
        dim: int = _D["dim"],
        epoch: int = _D["epoch"],
        lr: float = _D["lr"],
        word_ngrams: int = _D["word_ngrams"],
        min_count: int = _D["min_count"],
        bucket: int = _D["bucket"],
        random_state: int = _D["random_state"],
        progress: bool = False,
    ) -> None:
        self.label_names = tuple(label_names)
        self.dim, self.epoch, self.lr, self.word_ngrams = dim, epoch, lr, word_ngrams
        self.min_count, self.bucket, self.random_state = min_count, bucket, random_state
        self.progress = progress  # fastText's own progress line; not a setting (not in get_params)
        self.model_: Any = None
        self.info_: dict[str, Any] = {}
        self._out: np.ndarray | None = None
        self._cols: np.ndarray | None = None

    def get_params(self) -> dict[str, Any]:
        """The settings a fit depends on (part of the pipeline's stage key)."""
        return {
            "dim": self.dim,
            "epoch": self.epoch,
            "lr": self.lr,
            "word_ngrams": self.word_ngrams,
            "min_count": self.min_count,
            "bucket": self.bucket,
            "random_state": self.random_state,
        }

    def fit(self, texts: Sequence[str], y: np.ndarray | Sequence[int]) -> FastTextPeer:
        """Fit on class ids or probability rows (their argmax: fastText takes hard labels)."""
        labels = as_targets(y, len(self.label_names)).argmax(axis=1)
        lines = preprocess(texts)
        if len(lines) != len(labels):
            raise ValueError(f"{len(lines)} texts but {len(labels)} targets")
        fd, name = tempfile.mkstemp(prefix="fasttext-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for text, label in zip(lines, labels, strict=True):
                    fh.write(f"{_PREFIX}{label} {text}\n")
            self.model_ = fasttext.train_supervised(
                input=name,
                dim=self.dim,
                epoch=self.epoch,
                lr=self.lr,
                wordNgrams=self.word_ngrams,
                minCount=self.min_count,
                bucket=self.bucket,
                loss="softmax",
                thread=1,
                seed=self.random_state,
                verbose=2 if self.progress else 0,
            )
        finally:
            os.unlink(name)
        self._out = self._cols = None
        self.info_ = {"n_train": len(lines), "vocabulary": len(self.model_.words)}
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``[N, K]`` (float32, rows sum to 1): fastText's softmax, computed here.

        fastText's own ``predict`` with ``k > 1`` returns the top probability repeated for every
        label in fasttext-wheel 0.9.2, so the softmax is taken over the output matrix times the
        sentence vector (the model's hidden layer), which is what fastText computes internally.
        """
        if self.model_ is None:
            raise RuntimeError("the fastText peer is not fitted")
        lines = preprocess(texts)
        k = len(self.label_names)
        if not lines:
            return np.zeros((0, k), np.float32)
        if self._out is None:
            self._out = np.asarray(self.model_.get_output_matrix(), np.float64)  # [labels, dim]
            self._cols = np.array([int(lab[len(_PREFIX) :]) for lab in self.model_.labels])
        hidden = np.stack([self.model_.get_sentence_vector(t) for t in lines]).astype(np.float64)
        out = np.zeros((len(lines), k))
        out[:, self._cols] = softmax(hidden @ self._out.T)  # a class never seen in training stays at 0
        return out.astype(np.float32)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Class names of the most probable class."""
        return [self.label_names[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``model.bin`` and ``peer.json`` to ``folder`` atomically."""
        if self.model_ is None:
            raise RuntimeError("the fastText peer is not fitted")
        target = Path(folder)
        with atomic_dir(target) as tmp:
            self.model_.save_model(str(tmp / MODEL_FILE))
            write_manifest(tmp, KIND, self.label_names, self.get_params(), self.info_)
        return target

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> FastTextPeer:
        """The peer saved in ``folder``."""
        doc = read_manifest(folder, KIND)
        peer = cls(doc["label_names"], **doc["settings"])
        with contextlib.redirect_stderr(io.StringIO()):  # its load_model prints a deprecation note
            peer.model_ = fasttext.load_model(str(Path(folder) / MODEL_FILE))
        peer.info_ = doc.get("info", {})
        return peer
