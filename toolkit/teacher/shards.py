"""Which texts a shard labels, where its files go, and the merge that checks them.

A text belongs to shard ``int(text_id, 16) % N`` (its id is a sha1 prefix, so shards are
balanced and any process can compute its share without coordination). Layout under
``DIR/logits/``::

    shards/shard-00001-of-00004.npz    one shard's logits (a LogitsTable), written last
    shards/shard-00001-of-00004.json   its record: index, count, texts, fingerprint
    work/shard-00001-of-00004/chunk-00012.npz   finished chunks while a shard is running
    logits.npz                          the merged table the student reads
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_distill.runtime.atomic import atomic_write_json
from edge_distill.toolkit.logits import MERGED_NAME, LogitsError, LogitsTable, load_logits, save_logits

_SHARD_FILE = re.compile(r"^shard-(\d{5})-of-(\d{5})\.npz$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not (self.count >= 1 and 0 <= self.index < self.count):
            raise ValueError(f"bad shard {self.index}/{self.count}: need 0 <= I < N")

    @property
    def name(self) -> str:
        return f"shard-{self.index:05d}-of-{self.count:05d}"

    def owns(self, ids: list[str]) -> np.ndarray:
        """Boolean mask of the ids this shard labels."""
        return np.fromiter((int(i, 16) % self.count == self.index for i in ids), bool, len(ids))


def parse_shard(text: str, environ: dict[str, str] | None = None) -> ShardSpec:
    """``I/N``, or ``auto``: the launcher's rank (torchrun/accelerate ``RANK``/``WORLD_SIZE``,
    a Slurm array's ``SLURM_ARRAY_TASK_ID``/``SLURM_ARRAY_TASK_COUNT``), else ``0/1``."""
    env = os.environ if environ is None else environ
    if text == "auto":
        if "RANK" in env and "WORLD_SIZE" in env:
            return ShardSpec(int(env["RANK"]), int(env["WORLD_SIZE"]))
        if "SLURM_ARRAY_TASK_ID" in env and "SLURM_ARRAY_TASK_COUNT" in env:
            first = int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
            return ShardSpec(int(env["SLURM_ARRAY_TASK_ID"]) - first, int(env["SLURM_ARRAY_TASK_COUNT"]))
        return ShardSpec(0, 1)
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise ValueError(f"expected a shard as I/N (e.g. 0/4) or 'auto', got {text!r}")
    return ShardSpec(int(m.group(1)), int(m.group(2)))


def shard_dir(out: Path) -> Path:
    return Path(out) / "logits" / "shards"


def work_dir(out: Path, spec: ShardSpec) -> Path:
    return Path(out) / "logits" / "work" / spec.name


def write_shard(out: Path, spec: ShardSpec, table: LogitsTable, record: dict) -> Path:
    """Write a finished shard: the logits first, then the record that marks it complete."""
    base = shard_dir(out) / spec.name
    save_logits(base.with_suffix(".npz"), table)
    atomic_write_json(
        base.with_suffix(".json"), {**record, "index": spec.index, "count": spec.count, "n_texts": len(table)}
    )
    return base.with_suffix(".npz")


class MergeError(LogitsError):
    """Shards that do not add up to one complete, consistent labeling."""


def merge_shards(out: Path) -> tuple[Path, dict]:
    """Check every shard is present exactly once and consistent, then write ``logits/logits.npz``."""
    folder = shard_dir(out)
    found = sorted(p for p in folder.glob("shard-*-of-*.npz") if _SHARD_FILE.match(p.name)) if folder.is_dir() else []
    if not found:
        raise MergeError(f"{folder}: no shard files (run 'edge-distill teacher label' first)")
    counts = {int(_SHARD_FILE.match(p.name).group(2)) for p in found}
    if len(counts) != 1:
        raise MergeError(f"{folder}: shards of different splittings {sorted(counts)} are mixed; remove the stale ones")
    (n,) = counts
    indices = sorted(int(_SHARD_FILE.match(p.name).group(1)) for p in found)
    missing = sorted(set(range(n)) - set(indices))
    extra = sorted(set(indices) - set(range(n)))
    if missing or extra:
        raise MergeError(
            f"{folder}: shards {missing} of {n} are missing"
            if missing
            else f"{folder}: shard indices {extra} are out of range for {n} shards"
        )
    tables, records = [], []
    for p in found:
        rec_path = p.with_suffix(".json")
        if not rec_path.is_file():
            raise MergeError(f"{p}: no {rec_path.name}; the shard did not finish")
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
        table = load_logits(p)
        spec = ShardSpec(rec["index"], rec["count"])
        if spec.name != p.stem or len(table) != rec["n_texts"]:
            raise MergeError(f"{p}: its record does not match the file (index, count or size)")
        if not spec.owns(table.ids).all():
            raise MergeError(f"{p}: holds texts of another shard (a copied or renamed shard file?)")
        tables.append(table)
        records.append(rec)
    for key in ("fingerprint", "total_texts"):
        values = {json.dumps(r.get(key), sort_keys=True) for r in records}
        if len(values) != 1:
            raise MergeError(f"{folder}: shards disagree on {key} (labeled with a different teacher or data?)")
    try:
        merged = LogitsTable.concat(tables)
    except LogitsError as exc:
        raise MergeError(f"{folder}: {exc} (a text was labeled twice)") from exc
    total = records[0]["total_texts"]
    if len(merged) != total:
        raise MergeError(f"{folder}: shards hold {len(merged)} texts, the transfer set has {total}")
    order = np.argsort(np.asarray(merged.ids))
    merged = LogitsTable([merged.ids[i] for i in order], merged.logits[order], merged.label_names)
    path = save_logits(Path(out) / "logits" / MERGED_NAME, merged)
    summary = {"shards": n, "texts": len(merged), "fingerprint": records[0]["fingerprint"], "path": str(path)}
    atomic_write_json(Path(out) / "logits" / "logits.json", summary)
    return path, summary
