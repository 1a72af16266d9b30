"""``--epochs auto``: a teacher that has not learned its labeled texts trains one more round.

The rule (:func:`options.underfit_reason`) on the histories that motivated it, the second
round on the tiny BERT (forced, so the test does not hang on a threshold), and the stage
cache: a cached teacher the rule would have extended trains again, any other stays cached.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from edge_distill.toolkit.options import UNDERFIT_LOSS_SHARE, underfit_reason
from edge_distill.toolkit.stages import run_stage

#: IMDB's star ratings (8 classes, long reviews, 3 epochs) and TREC (6 classes, 6 epochs), as trained
STARS = [(2.03, 0.286), (1.76, 0.371), (1.49, 0.382)]
TREC = [(1.412, 0.817), (0.425, 0.908), (0.164, 0.915), (0.055, 0.924), (0.018, 0.924), (0.006, 0.934)]


def _history(pairs: list[tuple[float, float]]) -> list[dict]:
    return [{"epoch": i, "train_loss": loss, "val_accuracy": acc} for i, (loss, acc) in enumerate(pairs, 1)]


def test_underfit_rule_extends_the_stars_teacher_and_not_trec():
    reason = underfit_reason(_history(STARS), 8)
    assert reason is not None and "ln 8" in reason and "0.3710 -> 0.3820" in reason
    assert underfit_reason(_history(TREC), 6) is None


@pytest.mark.parametrize(
    ("pairs", "k", "extends"),
    [
        ([(2.0, 0.30), (1.9, 0.29)], 8, False),  # validation fell in the last epoch: more would overfit
        ([(2.0, 0.30), (1.9, 0.30)], 8, False),  # a tie is not a rise
        ([(2.0, 0.35), (1.9, 0.30), (1.8, 0.33)], 8, False),  # rose, but not past the best so far
        ([(0.6, 0.30), (0.4, 0.40)], 2, True),  # 0.4 is above half of ln 2 (0.347), and rising
        ([(2.0, 0.30)], 8, False),  # one epoch says nothing of a trend
        ([(2.0, 0.30), (float("nan"), 0.31)], 8, False),  # a diverged loss (fp16 overflow): more will not help
    ],
)
def test_underfit_rule_needs_both_signs(pairs, k, extends):
    assert (underfit_reason(_history(pairs), k) is not None) is extends


def test_underfit_rule_stops_at_half_of_chance():
    low = UNDERFIT_LOSS_SHARE * math.log(2) - 1e-3
    assert underfit_reason(_history([(0.69, 0.5), (low, 0.8)]), 2) is None
    assert underfit_reason(_history([(0.69, 0.5), (low + 2e-3, 0.8)]), 2) is not None


def _record(folder: Path, chosen: str, pairs, k: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    planned = len(pairs) // 2 if "more:" in chosen else len(pairs)  # the resolved epochs of one round
    record = {"epochs_chosen": chosen, "history": _history(pairs), "num_labels": k, "settings": {"epochs": planned}}
    (folder / "training.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def test_trained_too_short_reads_the_saved_record(tmp_path):
    pytest.importorskip("torch")
    from edge_distill.toolkit.teacher.train import trained_too_short

    auto = "auto (6 up to 128 tokens, else 3)"
    assert trained_too_short(_record(tmp_path / "a", auto, STARS, 8))
    assert not trained_too_short(_record(tmp_path / "b", auto + ", then 3 more: loss", STARS + STARS, 8))
    assert not trained_too_short(_record(tmp_path / "c", "given", STARS, 8))  # the user chose 3 epochs
    assert not trained_too_short(_record(tmp_path / "d", auto, TREC, 6))
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "training.json").write_text("{not json", encoding="utf-8")
    assert not trained_too_short(tmp_path / "e") and not trained_too_short(tmp_path / "missing")


def test_stage_that_is_no_longer_current_runs_again(tmp_path):
    calls = []

    def work():
        calls.append(1)
        (tmp_path / "out.txt").write_text(str(len(calls)), encoding="utf-8")
        return {"n": len(calls)}

    first = run_stage(tmp_path, "s", {"a": 1}, [], ["out.txt"], work, current=lambda: True)
    again = run_stage(tmp_path, "s", {"a": 1}, [], ["out.txt"], work, current=lambda: True)
    assert not first.cached and again.cached and len(calls) == 1
    stale = run_stage(tmp_path, "s", {"a": 1}, [], ["out.txt"], work, current=lambda: False)
    assert not stale.cached and stale.info == {"n": 2} and len(calls) == 2


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_teacher import build_tiny

    return build_tiny(tmp_path_factory.mktemp("epochs"))


def _train(tiny, out: Path):
    from edge_distill.toolkit.api import load_data, train_teacher
    from edge_distill.toolkit.options import DataOptions
    from edge_distill.toolkit.teacher.train import TrainConfig

    data = DataOptions(str(tiny["data"]), labeled=160, test=40, unlabeled=0)
    cfg = TrainConfig(model=str(tiny["ckpt"]), max_length=24, lr=3e-3, batch_size=8, threads=1, progress=False)
    result = train_teacher(load_data(data), out, cfg)
    return result, json.loads((out / "teacher" / "training.json").read_text())


def test_auto_epochs_train_a_second_round_when_the_rule_says_so(tiny, tmp_path, monkeypatch):
    from edge_distill.toolkit.teacher import train

    calls = []
    monkeypatch.setattr(train, "underfit_reason", lambda history, k: calls.append(len(history)) or "forced")
    result, record = _train(tiny, tmp_path / "run")
    assert calls == [6]  # asked once, after the planned 6 epochs (24 tokens: short texts)
    assert [h["epoch"] for h in record["history"]] == list(range(1, 13))
    assert record["epochs"] == 12 and record["epochs_chosen"].endswith("then 6 more: forced")
    assert record["best_val_accuracy"] == max(h["val_accuracy"] for h in record["history"])
    assert result.best_epoch == record["best_epoch"] and len(result.history) == 12
    assert not train.trained_too_short(tmp_path / "run" / "teacher")


def test_auto_epochs_stop_where_the_teacher_learned(tiny, tmp_path):
    _, record = _train(tiny, tmp_path / "run")
    last = record["history"][-1]
    assert last["train_loss"] < UNDERFIT_LOSS_SHARE * math.log(2)  # the tiny task is learned in 6 epochs
    assert record["epochs"] == 6 and "more" not in record["epochs_chosen"]
