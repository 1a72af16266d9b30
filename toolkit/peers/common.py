"""What every peer shares: the cleaning, the training targets, the manifest on disk.

Peers see the texts exactly as the student does (``clean_text``) and learn from the same
targets: the teacher's softmax on the transfer set and, for the gold labeled set, one-hot rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime import schema
from edge_distill.runtime.base import sanitize, softmax
from edge_distill.runtime.textclean import clean_text

#: the file that marks a folder as a saved peer and names its kind
MANIFEST = "peer.json"
FORMAT = schema.PEER_FOLDER_FORMAT

#: each peer's fit settings by default, as its ``get_params`` names them. They live here, beside
#: the numpy-only helpers, and the peer classes take their defaults from them, so the pipeline can
#: key its peers stage on them in an install without the peers' libraries (the ``peers`` extra).
DEFAULTS: dict[str, dict[str, Any]] = {
    "fasttext": {
        "dim": 50,
        "epoch": 10,
        "lr": 0.5,
        "word_ngrams": 2,
        "min_count": 1,
        "bucket": 200_000,
        "random_state": 0,
    },
    "model2vec": {"backbone": None, "pca_dims": 256, "C": 10.0, "max_iter": 2000, "random_state": 0},
}


def clean(texts: Iterable[str]) -> list[str]:
    """The student's cleaning; lone surrogates become U+FFFD so every library can encode the text."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a sequence of str, not a single str (wrap one text in a list)")
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text {i} is {type(t).__name__}, not str")
        out.append(clean_text(sanitize(t)))
    return out


def as_targets(y: np.ndarray | Sequence[int], n_classes: int) -> np.ndarray:
    """Class ids ``[N]`` become one-hot rows; probability rows ``[N, K]`` are checked and kept."""
    y = np.asarray(y)
    if y.ndim == 1:
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"class ids must be in [0, {n_classes}), got {y.min()}..{y.max()}")
        return np.eye(n_classes)[y.astype(np.int64)]
    if y.ndim != 2 or y.shape[1] != n_classes:
        raise ValueError(f"targets of shape {y.shape} for {n_classes} classes")
    if np.any(y < 0) or not np.allclose(y.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("probability targets must be non-negative rows summing to 1")
    return y.astype(np.float64)


def training_set(
    transfer_texts: Sequence[str],
    teacher_logits: np.ndarray,
    gold_texts: Sequence[str] = (),
    gold_labels: Sequence[int] | np.ndarray = (),
    temperature: float = 1.0,
) -> tuple[list[str], np.ndarray]:
    """Texts and probability targets: the teacher's softmax on the transfer set, one-hot gold rows."""
    logits = np.asarray(teacher_logits, np.float64)
    if logits.ndim != 2 or len(logits) != len(transfer_texts):
        raise ValueError(f"{len(transfer_texts)} transfer texts but logits of shape {logits.shape}")
    soft = softmax(logits, temperature)
    gold = as_targets(np.asarray(gold_labels, np.int64), logits.shape[1]) if len(gold_texts) else soft[:0]
    if len(gold) != len(gold_texts):
        raise ValueError(f"{len(gold_texts)} gold texts but {len(gold)} gold labels")
    return [*transfer_texts, *gold_texts], np.vstack([soft, gold])


def folder_bytes(path: Path) -> int:
    """Bytes on disk of a file, or of every file in a folder (what deploying a saved model ships)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def write_manifest(
    folder: Path, kind: str, label_names: Sequence[str], settings: dict[str, Any], info: dict[str, Any]
) -> None:
    """``peer.json``: what kind of peer, its classes, how it was fitted."""
    doc = {"format": FORMAT, "kind": kind, "label_names": list(label_names), "settings": settings, "info": info}
    (folder / MANIFEST).write_text(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")


def read_manifest(folder: str | Path, kind: str | None = None) -> dict[str, Any]:
    """The manifest of a saved peer (of ``kind``, when given), or a ValueError naming the folder."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise ValueError(f"{folder}: not a saved peer (no {MANIFEST})")
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: format {doc.get('format')!r}, expected {FORMAT}")
    if kind is not None and doc.get("kind") != kind:
        raise ValueError(f"{folder}: a {doc.get('kind')} peer, not {kind}")
    return doc
