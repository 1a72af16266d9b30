"""Fine-tuning the teacher on the labeled set.

AdamW with linear warm-up and decay, gradient clipping and accumulation, bucketed dynamic
padding, a validation split carved from the labeled set (stratified, seeded) scored after
every epoch, and the best epoch kept. The result is written atomically to ``DIR/teacher/``
with ``save_pretrained`` (model + tokenizer) and ``training.json`` (settings and metrics).
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.truncation import STRATEGIES, TeacherEncoder
from edge_distill.toolkit.atomic import atomic_dir
from edge_distill.toolkit.data import Corpus
from edge_distill.toolkit.extras import require
from edge_distill.toolkit.teacher.backbone import (
    DEFAULT_MODEL,
    RECORD_NAME,
    load_classifier,
    load_tokenizer,
    pick_device,
    seed_everything,
)
from edge_distill.toolkit.teacher.batching import bucketed_batches
from edge_distill.toolkit.teacher.inference import torch_logits


@dataclass
class TrainConfig:
    """Fine-tuning settings (defaults chosen on validation data carved from IMDB train)."""

    model: str = DEFAULT_MODEL
    max_length: int = 512
    truncation: str = "head+tail"
    lr: float = 1e-4
    epochs: int = 3
    batch_size: int = 16
    grad_accum: int = 1
    warmup: float = 0.1
    weight_decay: float = 0.01
    clip: float = 1.0
    val_fraction: float = 0.1
    seed: int = 0
    threads: int | None = None
    progress: bool = True
    data: dict[str, Any] = field(default_factory=dict)  # how the labeled set was drawn (for the record)

    def check(self) -> None:
        """Refuse settings that cannot work, with the reason."""
        if self.truncation not in STRATEGIES:
            raise ValueError(f"truncation must be one of {STRATEGIES}, got {self.truncation!r}")
        for name in ("max_length", "epochs", "batch_size", "grad_accum"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (self.lr > 0 and 0 <= self.warmup < 1 and 0 < self.val_fraction < 1):
            raise ValueError("need lr > 0, 0 <= warmup < 1 and 0 < val_fraction < 1")


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
    torch = require("torch", "teacher training")
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "LayerNorm" in name or "norm" in name.lower() else decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr)


def _linear_schedule(optimizer, warmup_steps: int, total_steps: int):
    torch = require("torch", "teacher training")

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_teacher(labeled: Corpus, cfg: TrainConfig, out_dir: str | Path) -> dict[str, Any]:
    """Fine-tune on ``labeled``, save the best epoch to ``out_dir/teacher``, return the record."""
    cfg.check()
    torch = require("torch", "teacher training")
    tqdm = require("tqdm", "teacher training").tqdm
    if not labeled.is_labeled:
        raise ValueError("the labeled set has rows without a class")
    k = len(labeled.label_names)
    if len(np.unique(labeled.labels)) < 2:
        raise ValueError("the labeled set needs at least two classes present")
    seed_everything(cfg.seed)
    device = pick_device(cfg.threads)
    tokenizer = load_tokenizer(cfg.model)
    encoder = TeacherEncoder(tokenizer.backend_tokenizer, cfg.max_length, cfg.truncation, tokenizer.pad_token_id)
    model = load_classifier(cfg.model, labeled.label_names).to(device.name)
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit is not None and cfg.max_length > limit:
        raise ValueError(f"--max-length {cfg.max_length} exceeds what {cfg.model} supports ({limit} positions)")
    takes_types = "token_type_ids" in tokenizer.model_input_names

    tr_idx, va_idx = carve_validation(labeled, cfg.val_fraction, cfg.seed)
    rows = encoder.encode(labeled.texts)
    labels = labeled.labels
    lengths = np.array([len(r) for r in rows])
    rng = np.random.default_rng(cfg.seed)
    steps_per_epoch = -(-int(np.ceil(len(tr_idx) / cfg.batch_size)) // cfg.grad_accum)
    total = steps_per_epoch * cfg.epochs
    optimizer = _optimizer(model, cfg)
    scheduler = _linear_schedule(optimizer, round(cfg.warmup * total), total)
    scaler = torch.amp.GradScaler("cuda") if device.use_scaler else None

    history: list[dict[str, Any]] = []
    best: tuple[float, int, dict] | None = None
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        batches = [tr_idx[b] for b in bucketed_batches(lengths[tr_idx], cfg.batch_size, rng)]
        bar = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", disable=not cfg.progress, leave=False)
        running, seen = 0.0, 0
        optimizer.zero_grad(set_to_none=True)
        for step, idx in enumerate(bar, start=1):
            b = encoder.pad([rows[i] for i in idx])
            feeds = {"input_ids": b.input_ids, "attention_mask": b.attention_mask}
            if takes_types:
                feeds["token_type_ids"] = b.token_type_ids
            feeds = {n: torch.from_numpy(a).to(device.name) for n, a in feeds.items()}
            target = torch.from_numpy(labels[idx]).to(device.name)
            with device.autocast():
                logits = model(**feeds).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), target)
            scaled = loss / cfg.grad_accum
            (scaler.scale(scaled) if scaler else scaled).backward()
            if step % cfg.grad_accum == 0 or step == len(batches):
                if scaler:
                    scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                if scaler:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            running += float(loss.detach()) * len(idx)
            seen += len(idx)
            bar.set_postfix(loss=f"{running / seen:.4f}")
        bar.close()
        val_logits = torch_logits(
            model, encoder, [rows[i] for i in va_idx], device=device.name, autocast=device.autocast
        )
        acc = float(np.mean(val_logits.argmax(1) == labels[va_idx]))
        entry = {
            "epoch": epoch,
            "train_loss": running / max(1, seen),
            "val_accuracy": acc,
            "elapsed_s": round(time.perf_counter() - t0, 1),
        }
        history.append(entry)
        if cfg.progress:
            print(
                f"epoch {epoch}: train loss {entry['train_loss']:.4f}, val accuracy {acc:.4f} "
                f"({len(va_idx)} texts), {entry['elapsed_s']}s",
                file=sys.stderr,
                flush=True,
            )
        if best is None or acc > best[0]:
            best = (acc, epoch, copy.deepcopy({n: t.detach().cpu() for n, t in model.state_dict().items()}))
    assert best is not None
    model.load_state_dict(best[2])
    seconds = time.perf_counter() - t0
    record = {
        "settings": {k_: v for k_, v in asdict(cfg).items() if k_ not in ("progress", "data")},
        "data": cfg.data,
        "label_names": list(labeled.label_names),
        "num_labels": k,
        "max_length": cfg.max_length,
        "truncation": cfg.truncation,
        "device": device.name,
        "threads": device.threads,
        "n_train": len(tr_idx),
        "n_val": len(va_idx),
        "val_ids": [labeled.ids[i] for i in va_idx],
        "history": history,
        "best_epoch": best[1],
        "best_val_accuracy": best[0],
        "train_seconds": round(seconds, 1),
        "share_at_max_length": float(np.mean(lengths >= cfg.max_length)),
    }
    save_teacher(model.to("cpu"), tokenizer, record, Path(out_dir) / "teacher")
    return record


def save_teacher(model, tokenizer, record: dict[str, Any], target: Path) -> Path:
    """``save_pretrained`` model and tokenizer plus the record, as one atomic folder."""
    import json

    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / RECORD_NAME).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target
