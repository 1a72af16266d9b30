"""Teacher logits on disk: the contract between ``teacher label`` and ``student``.

One ``.npz`` file (no pickle) holds ``ids`` (stable text ids, see :func:`toolkit.data.text_id`),
``logits`` (float32 ``[N, K]``, raw, before softmax) and ``label_names`` (``[K]``). Shards and
the merged table share this format; the merged table of a run is ``DIR/logits/logits.npz``.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.atomic import atomic_path

MERGED_NAME = "logits.npz"


class LogitsError(DataError):
    """A logits file that is missing, damaged or does not match the texts asked for."""


@dataclass(frozen=True)
class LogitsTable:
    """Raw teacher logits keyed by text id."""

    ids: list[str]
    logits: np.ndarray
    label_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.logits.ndim != 2 or self.logits.shape[0] != len(self.ids):
            raise LogitsError(f"logits of shape {self.logits.shape} do not match {len(self.ids)} ids")
        if self.logits.shape[1] != len(self.label_names):
            raise LogitsError(f"{self.logits.shape[1]} logit columns but {len(self.label_names)} class names")
        if len(set(self.ids)) != len(self.ids):
            raise LogitsError("repeated text ids in a logits table")
        if not np.all(np.isfinite(self.logits)):
            raise LogitsError("non-finite teacher logits")

    def __len__(self) -> int:
        return len(self.ids)

    def lookup(self, ids: list[str]) -> np.ndarray:
        """The logits rows for ``ids``, in that order; every id must be present."""
        pos = {k: i for i, k in enumerate(self.ids)}
        missing = [k for k in ids if k not in pos]
        if missing:
            raise LogitsError(
                f"{len(missing)} of {len(ids)} texts have no teacher logits (first id {missing[0]}): "
                "label them with 'edge-distill teacher label' using the same data and sizes"
            )
        return self.logits[[pos[k] for k in ids]]

    @staticmethod
    def concat(parts: list[LogitsTable]) -> LogitsTable:
        """Join tables (e.g. shards); ids must not repeat across them."""
        if not parts:
            raise LogitsError("no logits to join")
        names = {p.label_names for p in parts}
        if len(names) != 1:
            raise LogitsError(f"shards disagree on class names: {sorted(names)}")
        return LogitsTable(
            [i for p in parts for i in p.ids], np.concatenate([p.logits for p in parts]), parts[0].label_names
        )


def save_logits(path: str | os.PathLike[str], table: LogitsTable) -> Path:
    """Write ``table`` atomically as one ``.npz``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            ids=np.asarray(table.ids, dtype=str),
            logits=table.logits.astype(np.float32),
            label_names=np.asarray(table.label_names, dtype=str),
        )
    return Path(path)


def load_logits(path: str | os.PathLike[str]) -> LogitsTable:
    """Read a logits ``.npz`` (a folder means its merged ``logits.npz``), verifying its shape."""
    p = Path(path)
    if p.is_dir():
        p = p / MERGED_NAME
    if not p.is_file():
        raise LogitsError(f"{p}: no logits file (run 'edge-distill teacher label' and merge its shards)")
    try:
        with np.load(p, allow_pickle=False) as z:
            ids, logits, names = z["ids"], z["logits"], z["label_names"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise LogitsError(f"{p}: not a readable logits file ({exc})") from exc
    if logits.dtype != np.float32:
        raise LogitsError(f"{p}: logits are {logits.dtype}, expected float32")
    try:
        return LogitsTable([str(i) for i in ids], logits, tuple(str(n) for n in names))
    except LogitsError as exc:
        raise LogitsError(f"{p}: {exc}") from exc
