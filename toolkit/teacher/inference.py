"""Raw logits from a PyTorch teacher: the reference the ONNX export must reproduce."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Sequence

import numpy as np
import torch

from edge_distill.runtime.teacher import BATCH_SIZE, MAX_BATCH_TOKENS  # batched exactly as the ONNX runtime batches
from edge_distill.runtime.truncation import TeacherEncoder, length_sorted_batches


def torch_logits(
    model,
    encoder: TeacherEncoder,
    rows: Sequence[Sequence[int]],
    *,
    device: str = "cpu",
    autocast=None,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """float32 logits ``[N, K]`` for encoded ``rows``, in their order (length-sorted batches)."""
    model.eval()
    k = model.config.num_labels
    out = np.zeros((len(rows), k), np.float32)
    takes_types = "token_type_ids" in _forward_args(model)
    with torch.inference_mode():
        for idx in length_sorted_batches([len(r) for r in rows], batch_size, MAX_BATCH_TOKENS):
            b = encoder.pad([rows[i] for i in idx])
            feeds = {"input_ids": b.input_ids, "attention_mask": b.attention_mask}
            if takes_types:
                feeds["token_type_ids"] = b.token_type_ids
            feeds = {n: torch.from_numpy(a).to(device) for n, a in feeds.items()}
            with (autocast or contextlib.nullcontext)():
                logits = model(**feeds).logits
            out[idx] = logits.float().cpu().numpy()
    return out


def _forward_args(model) -> set[str]:
    return set(inspect.signature(model.forward).parameters)
