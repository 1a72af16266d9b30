"""Fine-tuning the teacher on the labeled set.

AdamW with linear warm-up and decay, gradient clipping and accumulation, bucketed dynamic
padding, a validation set scored after every epoch and the best epoch kept: the data's
validation set where there is one (then every labeled row trains), else a split carved from
the labeled set (stratified, seeded). The maximum length follows the labeled texts by default
(:func:`toolkit.teacher.length.choose_max_length`). The result is written atomically to ``DIR/teacher/``
with ``save_pretrained`` (model + tokenizer) and ``training.json`` (settings and metrics).
"""

from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.atomic import atomic_dir
from edge_distill.runtime.errors import DataError
from edge_distill.runtime.extras import require
from edge_distill.runtime.truncation import TeacherEncoder
from edge_distill.toolkit.data import Corpus
from edge_distill.toolkit.options import (
    AUTO,
    LONG_TEXT_EPOCHS,
    SHORT_TEXT_EPOCHS,
    SHORT_TEXT_TOKENS,
    TrainConfig,  # the fine-tuning settings: declared with the other options, so the CLI reads them too
    auto_epochs,
    underfit_reason,
)
from edge_distill.toolkit.teacher.backbone import (
    RECORD_NAME,
    load_classifier,
    load_tokenizer,
    pick_device,
    quiet_transformers,
    read_record,
    seed_everything,
)
from edge_distill.toolkit.teacher.batching import bucketed_batches
from edge_distill.toolkit.teacher.inference import torch_logits
from edge_distill.toolkit.teacher.length import choose_max_length, length_profile


def carve_validation(corpus: Corpus, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train, validation) indices; every class keeps at least one training row."""
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in np.unique(corpus.labels):
        rows = rng.permutation(np.flatnonzero(corpus.labels == c))
        n_val = min(len(rows) - 1, round(len(rows) * fraction))
        val_idx.extend(rows[:n_val])
        train_idx.extend(rows[n_val:])
    return np.sort(np.asarray(train_idx, np.int64)), np.sort(np.asarray(val_idx, np.int64))


def _optimizer(model, cfg: TrainConfig):
    """AdamW: the backbone at ``lr``, the head (every weight outside the pretrained base model) at
    ``head_lr``; no weight decay on biases and norms."""
    torch = require("torch", "teacher training")
    prefix = getattr(model, "base_model_prefix", "")
    has_base = bool(prefix) and hasattr(model, prefix)  # no base submodule: every weight is backbone
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            decays = not (p.ndim < 2 or "norm" in name.lower())
            head = has_base and not name.startswith(f"{prefix}.")
            groups.setdefault((head, decays), []).append(p)
    return torch.optim.AdamW(
        [
            {"params": ps, "lr": cfg.head_lr if head else cfg.lr, "weight_decay": cfg.weight_decay if decays else 0.0}
            for (head, decays), ps in sorted(groups.items())
        ],
        lr=cfg.lr,
    )


def _linear_schedule(optimizer, warmup_steps: int, total_steps: int):
    torch = require("torch", "teacher training")

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@dataclass
class TeacherResult:
    """A fine-tuned teacher: where it was saved and how its best epoch was chosen."""

    path: str
    model: str
    best_epoch: int
    best_val_accuracy: float
    train_seconds: float
    n_train: int
    n_val: int
    max_length: int
    truncation: str
    history: list[dict[str, Any]]
    validation: str = "carved from the labeled set"  # where the epoch-choosing texts came from
    length_profile: dict[str, Any] | None = None  # token lengths of the labeled texts at max_length
    epochs_chosen: str = "given"  # how the number of epochs came about ("auto (...)", maybe a second round)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fields (``--json``)."""
        return asdict(self)


@dataclass
class _Trainer:
    """What one fine-tuning run holds between epochs."""

    cfg: TrainConfig
    model: Any
    encoder: TeacherEncoder
    device: Any
    takes_types: bool
    auto_length: bool = False  # the maximum length was chosen from the texts
    auto_epochs: bool = False  # the number of epochs followed the maximum length
    optimizer: Any = None
    scheduler: Any = None
    scaler: Any = None


def _prepare(labeled: Corpus, cfg: TrainConfig) -> tuple[_Trainer, Any]:
    """Check the data and settings, load tokenizer and model: the trainer and its tokenizer."""
    cfg.check()
    if not labeled.is_labeled:
        raise DataError("the labeled set has rows without a class")
    if len(np.unique(labeled.labels)) < 2:
        raise DataError("the labeled set needs at least two classes present")
    seed_everything(cfg.seed)
    device = pick_device(cfg.threads)
    tokenizer = load_tokenizer(cfg.model)
    model = load_classifier(cfg.model, labeled.label_names).to(device.name)
    limit = getattr(model.config, "max_position_embeddings", None)
    auto = cfg.auto_length
    if auto:
        cfg = replace(cfg, max_length=choose_max_length(tokenizer, labeled.texts, model_max_length=limit))
    if limit is not None and cfg.max_length > limit:
        raise DataError(f"--max-length {cfg.max_length} exceeds what {cfg.model} supports ({limit} positions)")
    epochs_auto = cfg.epochs == AUTO
    if epochs_auto:
        cfg = replace(cfg, epochs=auto_epochs(cfg.max_length))
    encoder = TeacherEncoder(tokenizer.backend_tokenizer, cfg.max_length, cfg.truncation, tokenizer.pad_token_id)
    takes_types = "token_type_ids" in tokenizer.model_input_names
    return _Trainer(cfg, model, encoder, device, takes_types, auto_length=auto, auto_epochs=epochs_auto), tokenizer


def _optimise(t: _Trainer, n_train: int) -> None:
    """AdamW, the linear schedule over every step, and the fp16 loss scaler on CUDA."""
    torch = require("torch", "teacher training")
    steps_per_epoch = -(-int(np.ceil(n_train / t.cfg.batch_size)) // t.cfg.grad_accum)
    total = steps_per_epoch * t.cfg.epochs
    t.optimizer = _optimizer(t.model, t.cfg)
    t.scheduler = _linear_schedule(t.optimizer, round(t.cfg.warmup * total), total)
    t.scaler = torch.amp.GradScaler("cuda") if t.device.use_scaler else None


def _step(t: _Trainer, rows: list[list[int]], target: np.ndarray) -> float:
    """Forward and backward on one batch (the optimizer steps elsewhere); the batch's loss."""
    torch = require("torch", "teacher training")
    b = t.encoder.pad(rows)
    feeds = {"input_ids": b.input_ids, "attention_mask": b.attention_mask}
    if t.takes_types:
        feeds["token_type_ids"] = b.token_type_ids
    feeds = {n: torch.from_numpy(a).to(t.device.name) for n, a in feeds.items()}
    with t.device.autocast():
        logits = t.model(**feeds).logits
    loss = torch.nn.functional.cross_entropy(logits.float(), torch.from_numpy(target).to(t.device.name))
    scaled = loss / t.cfg.grad_accum
    (t.scaler.scale(scaled) if t.scaler else scaled).backward()
    return float(loss.detach())


def _apply(t: _Trainer) -> None:
    """One optimizer step: unscale, clip, step, schedule, clear."""
    torch = require("torch", "teacher training")
    if t.scaler:
        t.scaler.unscale_(t.optimizer)
    torch.nn.utils.clip_grad_norm_(t.model.parameters(), t.cfg.clip)
    if t.scaler:
        t.scaler.step(t.optimizer)
        t.scaler.update()
    else:
        t.optimizer.step()
    t.scheduler.step()
    t.optimizer.zero_grad(set_to_none=True)


def _epoch(t: _Trainer, batches: list[np.ndarray], rows: list[list[int]], labels: np.ndarray, desc: str) -> float:
    """Train one epoch over ``batches`` (index arrays); the mean training loss."""
    tqdm = require("tqdm", "teacher training").tqdm
    t.model.train()
    bar = tqdm(batches, desc=desc, unit="batch", disable=not t.cfg.progress, leave=False)
    running, seen = 0.0, 0
    t.optimizer.zero_grad(set_to_none=True)
    for step, idx in enumerate(bar, start=1):
        running += _step(t, [rows[i] for i in idx], labels[idx]) * len(idx)
        seen += len(idx)
        if step % t.cfg.grad_accum == 0 or step == len(batches):
            _apply(t)
        bar.set_postfix(loss=f"{running / seen:.4f}")
    bar.close()
    return running / max(1, seen)


def _val_split(labeled: Corpus, validation: Corpus | None, cfg: TrainConfig) -> tuple[np.ndarray, Corpus, str]:
    """The training rows of ``labeled``, the epoch-choosing texts, and where those came from."""
    if validation is not None and len(validation):
        if not validation.is_labeled:
            raise DataError("the validation set has rows without a class")
        if tuple(validation.label_names) != tuple(labeled.label_names):
            raise DataError(
                f"validation classes {list(validation.label_names)} differ from {list(labeled.label_names)}"
            )
        return np.arange(len(labeled)), validation, f"the validation set ({validation.source})"
    tr_idx, va_idx = carve_validation(labeled, cfg.val_fraction, cfg.seed)
    return tr_idx, labeled.take(va_idx), f"carved from the labeled set ({cfg.val_fraction:.0%})"


@dataclass
class _Progress:
    """The epochs trained so far, over every round: their history and the best state on validation."""

    rows: list[list[int]]
    val_rows: list[list[int]]
    tr_idx: np.ndarray
    val: Corpus
    history: list[dict[str, Any]] = field(default_factory=list)
    best: tuple[float, int, dict] | None = None
    extended: str | None = None  # why a second round of epochs ran (epochs="auto" only)


def _train_epochs(t: _Trainer, r: _Progress, labels: np.ndarray, lengths: np.ndarray, rng, t0: float) -> None:
    """Train ``t.cfg.epochs`` more epochs on a fresh schedule, scoring each on validation."""
    _optimise(t, len(r.tr_idx))
    start, total = len(r.history), len(r.history) + t.cfg.epochs
    for epoch in range(start + 1, total + 1):
        batches = [r.tr_idx[b] for b in bucketed_batches(lengths[r.tr_idx], t.cfg.batch_size, rng)]
        loss = _epoch(t, batches, r.rows, labels, f"epoch {epoch}/{total}")
        logits = torch_logits(t.model, t.encoder, r.val_rows, device=t.device.name, autocast=t.device.autocast)
        acc = float(np.mean(logits.argmax(1) == r.val.labels))
        entry = {
            "epoch": epoch,
            "train_loss": loss,
            "val_accuracy": acc,
            "elapsed_s": round(time.perf_counter() - t0, 1),
        }
        r.history.append(entry)
        if t.cfg.progress:
            print(
                f"epoch {epoch}: train loss {loss:.4f}, val accuracy {acc:.4f} ({len(r.val)} texts), "
                f"{entry['elapsed_s']}s",
                file=sys.stderr,
                flush=True,
            )
        if r.best is None or acc >= r.best[0]:  # a tie goes to the later, longer-trained epoch
            r.best = (acc, epoch, copy.deepcopy({n: w.detach().cpu() for n, w in t.model.state_dict().items()}))


def fine_tune(
    labeled: Corpus, cfg: TrainConfig, out_dir: str | Path, validation: Corpus | None = None
) -> TeacherResult:
    """Fine-tune on ``labeled``, keep the epoch best on ``validation`` (where given and non-empty:
    every labeled row trains) or on a split carved from ``labeled``; save it to
    ``out_dir/teacher`` with its ``training.json`` record. Under ``epochs="auto"`` a teacher that
    has not yet learned its labeled texts trains one more round (:func:`options.underfit_reason`)."""
    t, tokenizer = _prepare(labeled, cfg)
    tr_idx, val, val_from = _val_split(labeled, validation, t.cfg)
    rows = t.encoder.encode(labeled.texts)
    r = _Progress(rows, t.encoder.encode(val.texts), tr_idx, val)
    lengths = np.array([len(x) for x in rows])
    rng = np.random.default_rng(t.cfg.seed)
    t0 = time.perf_counter()
    _train_epochs(t, r, labeled.labels, lengths, rng, t0)
    r.extended = underfit_reason(r.history, len(labeled.label_names)) if t.auto_epochs else None
    if r.extended:
        if t.cfg.progress:
            print(f"training {t.cfg.epochs} more epochs: {r.extended}", file=sys.stderr, flush=True)
        _train_epochs(t, r, labeled.labels, lengths, rng, t0)
    assert r.best is not None
    t.model.load_state_dict(r.best[2])
    record = _record(t, tokenizer, labeled, lengths, (tr_idx, val, val_from), r, time.perf_counter() - t0)
    target = save_teacher(t.model.to("cpu"), tokenizer, record, Path(out_dir) / "teacher")
    return result_of(target, record)


def _record(
    t: _Trainer,
    tokenizer,
    labeled: Corpus,
    lengths: np.ndarray,
    split: tuple[np.ndarray, Corpus, str],
    r: _Progress,
    seconds: float,
) -> dict[str, Any]:
    """``training.json``: settings, data, the token lengths (``lengths``: of the encoded labeled rows, as
    trained on), where the epoch was chosen, the history."""
    cfg, (tr_idx, val, val_from) = t.cfg, split
    return {
        "settings": {k: v for k, v in asdict(cfg).items() if k not in ("progress", "data")},
        "data": cfg.data,
        "label_names": list(labeled.label_names),
        "num_labels": len(labeled.label_names),
        "max_length": cfg.max_length,
        "max_length_chosen": "auto (follows the labeled texts)" if t.auto_length else "given",
        "length_profile": length_profile(tokenizer, labeled.texts, cfg.max_length),
        "epochs": len(r.history),
        "epochs_chosen": _epochs_chosen(t, r),
        "truncation": cfg.truncation,
        "device": t.device.name,
        "threads": t.device.threads,
        "n_train": len(tr_idx),
        "n_val": len(val),
        "validation": val_from,
        "val_ids": list(val.ids),
        "history": r.history,
        "best_epoch": r.best[1],
        "best_val_accuracy": r.best[0],
        "train_seconds": round(seconds, 1),
        "share_at_max_length": float(np.mean(lengths >= cfg.max_length)),
    }


def _epochs_chosen(t: _Trainer, r: _Progress) -> str:
    """How the number of epochs came about, for the record and the report."""
    if not t.auto_epochs:
        return "given"
    rule = f"auto ({SHORT_TEXT_EPOCHS} up to {SHORT_TEXT_TOKENS} tokens, else {LONG_TEXT_EPOCHS})"
    return f"{rule}, then {t.cfg.epochs} more: {r.extended}" if r.extended else rule


def trained_too_short(folder: Path) -> bool:
    """True for a saved teacher whose ``epochs="auto"`` training stopped where the second round
    (:func:`options.underfit_reason`) would have gone on: its cached run trains again."""
    try:
        record = read_record(folder)
        auto, history, n = record["epochs_chosen"].startswith("auto"), record["history"], record["num_labels"]
        one_round = len(history) == record["settings"]["epochs"]  # a second round doubles the planned epochs
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # the stage's own checks decide about a damaged teacher
    return auto and one_round and underfit_reason(history, n) is not None


def result_of(folder: Path, record: dict[str, Any]) -> TeacherResult:
    """The :class:`TeacherResult` of a saved teacher from its ``training.json`` record."""
    return TeacherResult(
        path=str(folder),
        model=str(record.get("settings", {}).get("model", "")),
        best_epoch=record["best_epoch"],
        best_val_accuracy=record["best_val_accuracy"],
        train_seconds=record["train_seconds"],
        n_train=record["n_train"],
        n_val=record["n_val"],
        max_length=record["max_length"],
        truncation=record["truncation"],
        history=record["history"],
        validation=record.get("validation", "carved from the labeled set"),
        length_profile=record.get("length_profile"),
        epochs_chosen=record.get("epochs_chosen", "given"),
    )


def save_teacher(model, tokenizer, record: dict[str, Any], target: Path) -> Path:
    """``save_pretrained`` model and tokenizer plus the record, as one atomic folder."""
    with atomic_dir(target) as tmp, quiet_transformers():
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / RECORD_NAME).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target
