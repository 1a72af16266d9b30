"""Labeling the transfer set: raw teacher logits for every unlabeled text, resumably.

A shard's texts are encoded, sorted by length (ties by id, so the order is the same on every
run) and cut into chunks. Each finished chunk is written atomically under
``logits/work/<shard>/``; a rerun after ``kill -9`` loads the chunks whose ids match and
computes only the rest (a temporary file left by the kill is never read: chunk files appear
only by an atomic rename). When all chunks exist the shard file is written, and an unsharded
run merges straight away. Texts the folder's merged table already holds, labeled by the same
teacher with the same settings, are taken from it: a transfer set that grew (``--unlabeled``
raised, ``--unlabeled-data`` added) costs only its new texts.

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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill import runtime
from edge_distill.runtime.atomic import atomic_write_json
from edge_distill.runtime.errors import DataError
from edge_distill.runtime.extras import require
from edge_distill.runtime.truncation import TeacherEncoder
from edge_distill.toolkit.data import Corpus, sha256_file
from edge_distill.toolkit.logits import LogitsError, LogitsTable, load_logits, save_logits
from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer, pick_device, read_record
from edge_distill.toolkit.teacher.inference import torch_logits
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
    clf = runtime.load(path, threads=threads, kind="teacher")

    def run(rows: list[list[int]]) -> np.ndarray:
        return clf.logits_of_ids(rows, batch_size)

    return Labeler("onnx", clf.encoder, clf.labels, run, sha256_file(Path(path)))


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


@dataclass
class LabelResult:
    """What one ``teacher label`` run did: its shard, how much was resumed, and the merged table."""

    shard: str
    texts: int
    resumed_texts: int
    chunks: int
    backend: str
    reused_texts: int = 0  # taken from the folder's earlier merged table (same teacher and settings)
    merged: str | None = None  # the merged logits.npz (unsharded runs merge at once)
    merged_texts: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (``--json``); the merge fields only once merged."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _fingerprint(corpus: Corpus, labeler: Labeler) -> dict[str, Any]:
    """What decides the logits: a resumed chunk must have been computed under the same one."""
    return {
        "backend": labeler.backend,
        "teacher_sha256": labeler.source_sha256,
        "max_length": labeler.encoder.max_length,
        "truncation": labeler.encoder.strategy,
        "label_names": list(labeler.label_names),
        "ids_sha256": _ids_digest(corpus.ids),
    }


def _check_inputs(corpus: Corpus, labeler: Labeler, chunk_size: int) -> None:
    if chunk_size < 1:
        raise DataError(f"chunk size must be >= 1, got {chunk_size}")
    if len(corpus) == 0:
        raise DataError("the transfer set is empty: nothing to label (check --unlabeled)")
    if corpus.label_names and len(corpus.label_names) != len(labeler.label_names):
        raise DataError(f"the data has classes {list(corpus.label_names)}, the teacher {list(labeler.label_names)}")


def _label_chunks(
    labeler: Labeler,
    work: Path,
    ids: list[str],
    rows: list[list[int]],
    chunks: list[np.ndarray],
    known: dict[str, np.ndarray],
    bar: Any,
) -> tuple[LogitsTable, int, int]:
    """Every chunk, loaded when a finished one is on disk, else computed (texts in ``known``
    taken from it) and saved: the table, how many texts were resumed and how many reused."""
    done, reused, parts = 0, 0, []
    for j, idx in enumerate(chunks):
        path = work / f"chunk-{j:05d}.npz"
        want = [ids[i] for i in idx]
        table = _load_chunk(path, want)
        if table is None:
            logits, n_known = _chunk_logits(labeler, want, [rows[i] for i in idx], known)
            table = LogitsTable(want, logits, labeler.label_names)
            save_logits(path, table)
            reused += n_known
        else:
            done += len(idx)
        parts.append(table)
        bar.update(len(idx))
    if not parts:
        empty = np.zeros((0, len(labeler.label_names)), np.float32)
        return LogitsTable([], empty, labeler.label_names), done, reused
    return LogitsTable.concat(parts), done, reused


def _chunk_logits(
    labeler: Labeler, ids: list[str], rows: list[list[int]], known: dict[str, np.ndarray]
) -> tuple[np.ndarray, int]:
    """One chunk's logits: rows labeled before come from ``known``, the teacher computes the rest."""
    old = np.fromiter((i in known for i in ids), bool, len(ids))
    logits = np.empty((len(ids), len(labeler.label_names)), np.float32)
    if old.any():
        logits[old] = np.stack([known[i] for i, o in zip(ids, old, strict=True) if o])
    if not old.all():
        logits[~old] = labeler.logits([r for r, o in zip(rows, old, strict=True) if not o])
    return logits, int(old.sum())


def _earlier_logits(out: Path, fingerprint: dict[str, Any], ids: list[str]) -> dict[str, np.ndarray]:
    """The rows of ``ids`` in the folder's merged table, when the same teacher with the same
    settings wrote it (only the texts may differ); empty when there is none, or it is unreadable."""
    try:
        summary = json.loads((out / "logits" / "logits.json").read_text(encoding="utf-8"))
        if _without_ids(summary["fingerprint"]) != _without_ids(fingerprint):
            return {}
        table = load_logits(out / "logits")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # LogitsError is a ValueError
        return {}
    return {i: table.logits[table.positions[i]] for i in ids if i in table.positions}


def _without_ids(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """A labeling's fingerprint less the texts: what must match for its logits to be reused."""
    return {k: v for k, v in fingerprint.items() if k != "ids_sha256"}


def label_corpus(
    corpus: Corpus,
    labeler: Labeler,
    out: str | Path,
    *,
    shard: ShardSpec | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    restart: bool = False,
    progress: bool = True,
) -> LabelResult:
    """Label this shard of ``corpus`` into ``out/logits`` (resuming, and reusing the logits of texts
    the folder's earlier labeling holds unless ``restart``), merge if unsharded."""
    tqdm = require("tqdm", "labeling").tqdm
    shard = shard or ShardSpec()
    _check_inputs(corpus, labeler, chunk_size)
    out = Path(out)
    mine = np.flatnonzero(shard.owns(corpus.ids))
    ids = [corpus.ids[i] for i in mine]
    rows = labeler.encoder.encode([corpus.texts[i] for i in mine])
    lengths = np.array([len(r) for r in rows], np.int64)
    order = np.lexsort((np.asarray(ids, dtype=str), -lengths))
    chunks = [order[s : s + chunk_size] for s in range(0, len(order), chunk_size)]
    fingerprint = _fingerprint(corpus, labeler)
    work = work_dir(out, shard)
    manifest = {"fingerprint": fingerprint, "chunk_size": chunk_size, "shard": shard.name, "n_texts": len(ids)}
    _check_manifest(work, manifest, restart)
    atomic_write_json(work / "manifest.json", manifest)
    known = {} if restart else _earlier_logits(out, fingerprint, ids)
    bar = tqdm(total=len(ids), desc=f"labeling {shard.name}", unit="text", disable=not progress)
    table, done, reused = _label_chunks(labeler, work, ids, rows, chunks, known, bar)
    bar.close()
    write_shard(out, shard, table, {"fingerprint": fingerprint, "total_texts": len(corpus)})
    shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(OSError):
        work.parent.rmdir()  # the shared work folder, once no shard is running
    result = LabelResult(shard.name, len(ids), done, len(chunks), labeler.backend, reused_texts=reused)
    if shard.count == 1:
        path, summary = merge_shards(out)
        result.merged, result.merged_texts = str(path), summary["texts"]
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
