"""Teacher logits on disk: the contract between ``teacher label`` and ``student``.

One ``.npz`` file (no pickle) holds ``ids`` (stable text ids, see :func:`toolkit.data.text_id`),
``logits`` (float32 ``[N, K]``, raw, before softmax) and ``label_names`` (``[K]``). Shards and
the merged table share this format; the merged table of a run is ``DIR/logits/logits.npz``, and
``DIR/logits/data.json`` records the data options the transfer set was drawn with (so ``student``
needs neither the sizes nor the data again). A reader accepts the ``.npz`` file, its folder, or
the run folder ``teacher label --out`` was given.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.atomic import atomic_path, atomic_write_json
from edge_distill.runtime.errors import DataError

MERGED_NAME = "logits.npz"
FOLDER = "logits"
#: the data options of the labeled transfer set, next to the merged table
DATA_RECORD = "data.json"


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

    @functools.cached_property
    def positions(self) -> dict[str, int]:
        """Each id's row (built once per table)."""
        return {k: i for i, k in enumerate(self.ids)}

    def lookup(self, ids: list[str]) -> np.ndarray:
        """The logits rows for ``ids``, in that order; every id must be present."""
        pos = self.positions
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


def logits_file(path: str | os.PathLike[str]) -> Path:
    """The merged logits file ``path`` names: the ``.npz`` itself, a folder holding ``logits.npz``,
    or a run folder holding ``logits/logits.npz`` (what ``teacher label --out`` was given)."""
    p = Path(path)
    if p.is_dir():
        nested = p / FOLDER / MERGED_NAME
        p = nested if not (p / MERGED_NAME).is_file() and nested.is_file() else p / MERGED_NAME
    return p


def save_data_record(out: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write the data options of a labeling run to ``out/logits/data.json``."""
    return atomic_write_json(Path(out) / FOLDER / DATA_RECORD, record)


def read_data_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The data record next to the logits ``path`` names, or None (logits of an older version)."""
    rec = logits_file(path).parent / DATA_RECORD
    if not rec.is_file():
        return None
    try:
        return json.loads(rec.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LogitsError(f"{rec}: unreadable data record ({exc})") from exc


def load_logits(path: str | os.PathLike[str]) -> LogitsTable:
    """Read a logits ``.npz`` (see :func:`logits_file` for the folders accepted), verifying its shape."""
    p = logits_file(path)
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
