"""Cached pipeline stages: a rerun redoes only what changed.

Each stage writes its outputs under the run folder and, last, a record
``DIR/stages/<name>.json`` holding a key: the sha256 of the stage's settings and the keys of
the stages it reads. A stage is skipped when its record's key matches and every output it
lists still exists with the size and sha256 it had (a file deleted, truncated or edited in place
runs the stage again). The record is written after the outputs (atomically), so a crash
mid-stage leaves no record and the stage runs again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_distill.runtime.atomic import atomic_write_json
from edge_distill.toolkit.data import sha256_file

log = logging.getLogger("edge_distill.run")


def stage_key(name: str, settings: dict[str, Any], upstream: Sequence[str] = ()) -> str:
    """The identity of a stage's result: its name, settings and the keys it was built from."""
    blob = json.dumps({"stage": name, "settings": settings, "upstream": list(upstream)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class StageResult:
    """What a stage produced (``info`` is its small JSON summary) and whether it was cached."""

    name: str
    key: str
    info: dict[str, Any]
    cached: bool
    seconds: float


def _outputs_intact(run_dir: Path, record: dict[str, Any]) -> bool:
    """Every recorded output is there with its size and (where the record has one) its sha256."""
    digests = record.get("digests", {})
    for rel, size in record.get("outputs", {}).items():
        p = run_dir / rel
        if not p.exists() or (p.is_file() and p.stat().st_size != size):
            return False
        if rel in digests and sha256_file(p) != digests[rel]:
            return False
    return True


def _written(run_dir: Path, outputs: Sequence[str], optional: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Sizes (-1 for a folder) and file digests of the outputs, and of the optional ones written."""
    sizes, digests = {}, {}
    for rel in [*outputs, *(o for o in optional if (run_dir / o).exists())]:
        p = run_dir / rel
        if not p.exists():
            raise RuntimeError(f"stage output {rel} was not written")
        sizes[rel] = p.stat().st_size if p.is_file() else -1
        if p.is_file():
            digests[rel] = sha256_file(p)
    return {"outputs": sizes, "digests": digests}


def run_stage(
    run_dir: Path,
    name: str,
    settings: dict[str, Any],
    upstream: Sequence[StageResult],
    outputs: Sequence[str],
    fn: Callable[[], dict[str, Any]],
    force: bool = False,
    optional_outputs: Sequence[str] = (),
    current: Callable[[], bool] | None = None,
) -> StageResult:
    """Run ``fn`` unless a valid record says its outputs are already there for these inputs
    (``optional_outputs``: files the stage may or may not write, checked when it wrote them;
    ``current``: whether intact outputs are still what the code would make now, for a rule that
    changed only some results: they alone are made again)."""
    key = stage_key(name, settings, [u.key for u in upstream])
    record_path = run_dir / "stages" / f"{name}.json"
    if not force and record_path.exists():
        try:
            record = json.loads(record_path.read_text())
        except json.JSONDecodeError:
            record = {}
        if record.get("key") == key and _outputs_intact(run_dir, record) and (current is None or current()):
            log.info("%-16s cached (%s)", name, ", ".join(outputs) or "no files")
            # a cached result carries the time the stage took when it ran, so reports can add it up
            return StageResult(name, key, record.get("info", {}), True, float(record.get("seconds", 0.0)))
    log.info("%-16s running", name)
    t0 = time.perf_counter()
    info = fn()
    seconds = time.perf_counter() - t0
    atomic_write_json(
        record_path,
        {
            "key": key,
            "stage": name,
            "settings": settings,
            "upstream": [u.name for u in upstream],
            **_written(run_dir, outputs, optional_outputs),
            "info": info,
            "seconds": round(seconds, 3),
        },
    )
    log.info("%-16s done in %.1fs", name, seconds)
    return StageResult(name, key, info, False, seconds)
