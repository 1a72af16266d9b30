"""Labeling the transfer set: raw teacher logits for every unlabeled text, resumably.

A shard's texts are encoded, sorted by length (ties by id, so the order is the same on every
run) and cut into chunks. Each finished chunk is written atomically under
``logits/work/<shard>/``; a rerun after ``kill -9`` loads the chunks whose ids match and
computes only the rest (a temporary file left by the kill is never read: chunk files appear
only by an atomic rename). When all chunks exist the shard file is written, and an unsharded
run merges straight away.

Two backends give the same labels: ``torch`` (the saved ``DIR/teacher`` folder, GPU when
present) and ``onnx`` (an exported ``teacher.onnx`` / ``teacher.int8.onnx``, the fast way on a
CPU).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.runtime.truncation import TeacherEncoder
from edge_distill.toolkit.atomic import atomic_write_json
from edge_distill.toolkit.data import Corpus, sha256_file
from edge_distill.toolkit.extras import require
from edge_distill.toolkit.logits import LogitsError, LogitsTable, load_logits, save_logits
from edge_distill.toolkit.teacher.shards import ShardSpec, merge_shards, work_dir, write_shard

DEFAULT_CHUNK = 1024


class ResumeError(DataError):
    """Leftover chunks from a run with other settings; the message says how to start over."""


@dataclass
class Labeler:
    """What labeling needs from a backend: an encoder, the classes, and logits for encoded rows."""

    backend: str
    encoder: TeacherEncoder
    label_names: tuple[str, ...]
    logits: Callable[[list[list[int]]], np.ndarray]
    source_sha256: str


def torch_labeler(teacher_dir: str | Path, threads: int | None = None, batch_size: int = 32) -> Labeler:
    """Label with the saved PyTorch teacher (CUDA + autocast when a GPU exists)."""
    from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer, pick_device, read_record
    from edge_distill.toolkit.teacher.inference import torch_logits

    teacher_dir = Path(teacher_dir)
    record = read_record(teacher_dir)
    device = pick_device(threads)
    tokenizer = load_tokenizer(str(teacher_dir))
    model = load_classifier(str(teacher_dir)).to(device.name).eval()
    encoder = TeacherEncoder(
        tokenizer.backend_tokenizer, record["max_length"], record["truncation"], tokenizer.pad_token_id
    )
    names = tuple(model.config.id2label[i] for i in range(model.config.num_labels))
    weights = sorted(teacher_dir.glob("*.safetensors")) or sorted(teacher_dir.glob("*.bin"))
    sha = hashlib.sha256("".join(sha256_file(w) for w in weights).encode()).hexdigest()

    def run(rows: list[list[int]]) -> np.ndarray:
        return torch_logits(model, encoder, rows, device=device.name, autocast=device.autocast, batch_size=batch_size)

    return Labeler("torch", encoder, names, run, sha)


def onnx_labeler(path: str | Path, threads: int | None = None, batch_size: int = 32) -> Labeler:
    """Label with an exported teacher ONNX file (fp32 or int8) through the runtime."""
    from edge_distill import runtime

    clf = runtime.load(path, threads=threads, kind="teacher")

    def run(rows: list[list[int]]) -> np.ndarray:
        return clf.logits_of_ids(rows, batch_size)

    return Labeler("onnx", clf.encoder, clf.labels, run, sha256_file(Path(path)))


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def label_corpus(
    corpus: Corpus,
    labeler: Labeler,
    out: str | Path,
    *,
    shard: ShardSpec | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    restart: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Label this shard of ``corpus`` into ``out/logits`` (resuming), merge if unsharded."""
    tqdm = require("tqdm", "labeling").tqdm
    shard = shard or ShardSpec()
    if chunk_size < 1:
        raise ValueError(f"chunk size must be >= 1, got {chunk_size}")
    if len(corpus) == 0:
        raise ValueError("the transfer set is empty: nothing to label (check --unlabeled)")
    if corpus.label_names and len(corpus.label_names) != len(labeler.label_names):
        raise ValueError(f"the data has classes {list(corpus.label_names)}, the teacher {list(labeler.label_names)}")
    out = Path(out)
    mine = np.flatnonzero(shard.owns(corpus.ids))
    ids = [corpus.ids[i] for i in mine]
    rows = labeler.encoder.encode([corpus.texts[i] for i in mine])
    lengths = np.array([len(r) for r in rows], np.int64)
    order = np.lexsort((np.asarray(ids, dtype=str), -lengths))
    chunks = [order[s : s + chunk_size] for s in range(0, len(order), chunk_size)]
    fingerprint = {
        "backend": labeler.backend,
        "teacher_sha256": labeler.source_sha256,
        "max_length": labeler.encoder.max_length,
        "truncation": labeler.encoder.strategy,
        "label_names": list(labeler.label_names),
        "ids_sha256": _ids_digest(corpus.ids),
    }
    work = work_dir(out, shard)
    manifest = {"fingerprint": fingerprint, "chunk_size": chunk_size, "shard": shard.name, "n_texts": len(ids)}
    _check_manifest(work, manifest, restart)
    atomic_write_json(work / "manifest.json", manifest)

    done = 0
    parts: list[LogitsTable] = []
    bar = tqdm(total=len(ids), desc=f"labeling {shard.name}", unit="text", disable=not progress)
    for j, idx in enumerate(chunks):
        path = work / f"chunk-{j:05d}.npz"
        want = [ids[i] for i in idx]
        table = _load_chunk(path, want)
        if table is None:
            logits = labeler.logits([rows[i] for i in idx])
            table = LogitsTable(want, logits.astype(np.float32), labeler.label_names)
            save_logits(path, table)
        else:
            done += len(idx)
        parts.append(table)
        bar.update(len(idx))
    bar.close()
    table = (
        LogitsTable.concat(parts)
        if parts
        else LogitsTable([], np.zeros((0, len(labeler.label_names)), np.float32), labeler.label_names)
    )
    write_shard(out, shard, table, {"fingerprint": fingerprint, "total_texts": len(corpus)})
    shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(OSError):
        work.parent.rmdir()  # the shared work folder, once no shard is running
    result: dict[str, Any] = {
        "shard": shard.name,
        "texts": len(ids),
        "resumed_texts": done,
        "chunks": len(chunks),
        "backend": labeler.backend,
    }
    if shard.count == 1:
        path, summary = merge_shards(out)
        result.update(merged=str(path), merged_texts=summary["texts"])
    return result


def _check_manifest(work: Path, manifest: dict, restart: bool) -> None:
    path = work / "manifest.json"
    if restart and work.exists():
        shutil.rmtree(work)
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        old = None
    if old != manifest:
        raise ResumeError(
            f"{work}: unfinished chunks from a run with other settings (teacher, data, backend or chunk size); "
            "rerun with the same arguments to resume, or pass --restart to discard them"
        )


def _load_chunk(path: Path, want: list[str]) -> LogitsTable | None:
    """A finished chunk with exactly the expected ids, else None (it will be recomputed)."""
    if not path.is_file():
        return None
    try:
        table = load_logits(path)
    except LogitsError:
        return None
    return table if table.ids == want else None
