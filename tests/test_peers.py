"""Peers (fastText, Model2Vec + LR): fit, predict, save/load, the pipeline stage, the report rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_distill.toolkit.peers import installed, is_peer, load_peer, make_peer, missing, training_set
from edge_distill.toolkit.report import build_report, markdown, peer_verdict

POS, NEG, FILL = ["good", "great", "superb"], ["bad", "dull", "awful"], ["the", "film", "plot", "was", "a"]


def _texts(n: int, seed: int = 0, classes: int = 2) -> tuple[list[str], np.ndarray]:
    """Reviews whose class is given by which word list they draw from (class 2: 'meh' words)."""
    rng = np.random.default_rng(seed)
    pools = [NEG, POS, ["meh", "so-so", "average"]][:classes]
    y = rng.integers(0, classes, n)
    texts = [" ".join([*rng.choice(FILL, 3), *rng.choice(pools[c], 2), "<br />Film."]) for c in y]
    return texts, y


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """The tiny BERT checkpoint and data of the pipeline test (Model2Vec distills from it)."""
    pytest.importorskip("torch")
    from tiny_teacher import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny"))


def test_training_set_is_teacher_softmax_then_one_hot_gold() -> None:
    texts, targets = training_set(["a", "b"], np.array([[0.0, 0.0], [0.0, np.log(3.0)]]), ["g"], [1])
    assert texts == ["a", "b", "g"]
    np.testing.assert_allclose(targets, [[0.5, 0.5], [0.25, 0.75], [0.0, 1.0]])
    with pytest.raises(ValueError, match="transfer texts"):
        training_set(["a"], np.zeros((2, 2)))


@pytest.mark.skipif(not installed("fasttext"), reason="the 'peers' extra (fasttext-wheel) is not installed")
def test_fasttext_fits_predicts_and_round_trips(tmp_path: Path) -> None:
    # class 2 is the most frequent, so fastText's internal label order differs from the class ids
    texts, y = _texts(300, classes=3)
    texts, y = texts + ["meh average film"] * 60, np.concatenate([y, np.full(60, 2)])
    peer = make_peer("fasttext", ["neg", "pos", "mid"], epoch=20).fit(texts, y)
    assert peer.model_.labels[0] == "__label__2"
    test, y_test = _texts(100, seed=1, classes=3)
    p = peer.predict_proba(test)
    assert p.shape == (100, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(p.argmax(axis=1) == y_test) > 0.9
    # the top probability agrees with fastText's own top-1 answer (its k>1 answer is broken in 0.9.2)
    from edge_distill.toolkit.peers.fasttext_peer import preprocess

    labels, probs = peer.model_.predict(preprocess(test[:5]), k=1)
    assert [int(lab[0][len("__label__") :]) for lab in labels] == list(p[:5].argmax(axis=1))
    np.testing.assert_allclose([q[0] for q in probs], p[:5].max(axis=1), atol=1e-4)
    assert peer.predict(["a great superb film"]) == ["pos"]
    assert peer.predict_proba([]).shape == (0, 3)
    with pytest.raises(TypeError, match="single str"):
        peer.predict_proba("a bare string")
    folder = peer.save(tmp_path / "ft")
    assert is_peer(folder) and sorted(f.name for f in folder.iterdir()) == ["model.bin", "peer.json"]
    again = load_peer(folder)
    np.testing.assert_array_equal(again.predict_proba(test), p)
    # a fixed seed and one thread: the same data gives the same model
    twin = make_peer("fasttext", ["neg", "pos", "mid"], epoch=20).fit(texts, y)
    np.testing.assert_array_equal(twin.predict_proba(test), p)


@pytest.mark.skipif(not installed("model2vec"), reason="the 'peers' extra (model2vec) or the train extra is missing")
def test_model2vec_fits_soft_targets_and_round_trips(tiny, tmp_path: Path) -> None:
    from tiny_teacher import _review

    rng = np.random.default_rng(3)
    y = np.arange(240) % 2
    texts = [_review(rng, int(c)) for c in y]
    soft = np.where(np.eye(2)[y] == 1, 0.8, 0.2)  # soft targets: the teacher is 80% sure
    peer = make_peer("model2vec", ["negative", "positive"], backbone=str(tiny["ckpt"]), pca_dims=16).fit(texts, soft)
    assert peer.static_.dim == 16 and peer.coef_.shape == (1, 16)
    test_y = np.arange(80) % 2
    test = [_review(rng, int(c)) for c in test_y]
    p = peer.predict_proba(test)
    assert p.shape == (80, 2) and np.mean(p.argmax(axis=1) == test_y) > 0.8
    # soft targets at 0.8 keep the head from saturating: a hard-label fit is more confident
    hard = make_peer("model2vec", ["negative", "positive"], pca_dims=16)
    hard.static_ = peer.static_
    hard.fit(texts, y)
    assert np.abs(p - 0.5).mean() < np.abs(hard.predict_proba(test) - 0.5).mean()
    folder = peer.save(tmp_path / "m2v")
    assert not list(folder.rglob("*.pkl")) and (folder / "static" / "model.safetensors").is_file()
    with np.load(folder / "head.npz", allow_pickle=False) as z:
        assert z["coef"].shape == (1, 16)
    again = load_peer(folder)
    np.testing.assert_array_equal(again.predict_proba(test), p)
    assert again.predict(["good great excellent film"]) == ["positive"]


def _stage_setup(tiny: dict[str, Path], out: Path):
    """A run folder holding teacher logits for the transfer set (a word-count teacher), and its config."""
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.logits import LogitsTable, save_logits
    from edge_distill.toolkit.options import DataOptions
    from edge_distill.toolkit.pipeline import RunConfig
    from edge_distill.toolkit.stages import StageResult
    from edge_distill.toolkit.teacher.train import TrainConfig

    cfg = RunConfig(
        data=DataOptions(str(tiny["data"]), labeled=60, unlabeled=200, test=40),
        out=out,
        teacher=TrainConfig(model=str(tiny["ckpt"])),
        peer_params={"model2vec": {"pca_dims": 16}},
        progress=False,
    )
    unl = load_splits(tiny["data"], n_labeled=60, n_unlabeled=200, n_test=40, seed=0).unlabeled
    score = np.array(
        [
            sum(w in ("good", "great", "excellent", "wonderful", "fun", "superb") for w in t.split())
            - sum(w in ("bad", "awful", "boring", "terrible", "dull", "poor") for w in t.split())
            for t in unl.texts
        ],
        np.float32,
    )
    save_logits(
        out / "logits" / "logits.npz", LogitsTable(unl.ids, np.stack([-score, score], axis=1), ("negative", "positive"))
    )
    return cfg, StageResult("teacher_label", "k", {}, True, 0.0)


@pytest.mark.skipif(not (installed("fasttext") and installed("model2vec")), reason="the 'peers' extra is missing")
@pytest.mark.parametrize("progress", [False, True])
def test_model2vec_distilling_shows_its_bars_only_with_progress(tiny, capfd, progress: bool) -> None:
    """run --no-progress printed transformers' "Loading weights" and model2vec's "Encoding tokens"
    bars (a minute of carriage returns in a log file); both follow the peer's progress now."""
    from model2vec.distill import inference

    bar = inference.tqdm
    peer = make_peer("model2vec", ["negative", "positive"], backbone=str(tiny["ckpt"]), pca_dims=16, progress=progress)
    peer.distill()
    err = capfd.readouterr().err
    assert ("Encoding tokens" in err) is progress, err[-300:]
    assert inference.tqdm is bar  # model2vec's module is left as it was
    assert "progress" not in peer.get_params()  # not a setting: no stage reruns for it


def test_pipeline_stage_skips_a_missing_peer_with_a_note(tiny, tmp_path: Path, monkeypatch) -> None:
    import edge_distill.toolkit.pipeline as pipeline
    from edge_distill.toolkit.api import load_data

    cfg, labels = _stage_setup(tiny, tmp_path)
    data = load_data(cfg.data)
    both = pipeline._peers_stage(cfg, tmp_path, labels, data)
    assert set(both.info["fitted"]) == {"fasttext", "model2vec"} and not both.info["skipped"]
    assert both.info["fitted"]["fasttext"]["n_train"] == 260  # 200 teacher-labeled + 60 gold
    assert set(pipeline._fitted_peers(tmp_path)) == {"fasttext", "model2vec"}
    assert pipeline._peers_stage(cfg, tmp_path, labels, data).cached

    monkeypatch.setitem(sys.modules, "fasttext", None)  # as if fasttext-wheel were not installed
    one = pipeline._peers_stage(cfg, tmp_path, labels, data)
    assert not one.cached  # whether a peer's library is there is part of the key
    assert "pip install 'edge-distill[peers]'" in one.info["skipped"]["fasttext"]
    assert set(one.info["fitted"]) == {"model2vec"}
    assert not (tmp_path / "peers" / "fasttext").exists()  # no stale fastText for the evaluation to pick up
    assert set(pipeline._fitted_peers(tmp_path)) == {"model2vec"}

    monkeypatch.setitem(sys.modules, "model2vec", None)
    none = pipeline._peers_stage(cfg, tmp_path, labels, data)
    assert none.info["fitted"] == {} and set(none.info["skipped"]) == {"fasttext", "model2vec"}
    assert pipeline._fitted_peers(tmp_path) == {}
    assert json.loads((tmp_path / "peers" / "peers.json").read_text()) == none.info

    # another transfer size is another key
    monkeypatch.undo()
    cfg.unlabeled = 150
    assert not pipeline._peers_stage(cfg, tmp_path, labels, data).cached


def _bench_row(p50: float, thr: float, size: float) -> dict:
    return {
        "p50_ms": p50,
        "p90_ms": p50 * 1.2,
        "p99_ms": p50 * 1.5,
        "latency_long": {"p50_ms": p50 * 2},
        "throughput_per_s": thr,
        "cold_start_ms": 500,
        "peak_rss_mb": 80,
        "size_bytes": size,
    }


def _report(student_p50: float, skipped: dict[str, str] | None = None) -> dict:
    from edge_distill.toolkit.evaluate import compare_models

    y = np.array([0, 1, 1, 0, 1, 0, 1, 0])
    probas = {
        "teacher": np.eye(2)[y],
        "student": np.eye(2)[[0, 1, 1, 0, 1, 0, 1, 1]],
        "fasttext": np.eye(2)[[0, 1, 1, 0, 0, 0, 1, 1]],
    }
    if not skipped or "model2vec" not in skipped:
        probas["model2vec"] = np.eye(2)[[1, 1, 1, 0, 0, 0, 1, 1]]
    evaluation = compare_models(y, probas, ["neg", "pos"])
    contenders = {
        "student_onnx": _bench_row(student_p50, 9000, 2e6),
        "teacher_onnx": _bench_row(40, 30, 9e7),
        "fasttext": _bench_row(0.2, 5000, 4e7),
    }
    if "model2vec" in probas:
        contenders["model2vec"] = _bench_row(0.3, 3000, 1.5e7)
    bench = {
        "contenders": contenders,
        "settings": {
            "rounds": 10,
            "warmup": 2,
            "batch": 256,
            "throughput_threads": 2,
            "review_words": {"typical": 230, "long": 700},
        },
        "environment": {"cpu": "test cpu", "logical_cpus": 2},
    }
    run = {
        "data": "x",
        "labeled": 4,
        "unlabeled": 8,
        "test": 8,
        "seed": 0,
        "wall_seconds": 1,
        "peers": {"fitted": {}, "skipped": skipped or {}},
    }
    return build_report(run, evaluation, bench)


def test_report_has_peer_rows_and_says_whether_the_student_beats_them(tmp_path: Path) -> None:
    from edge_distill.toolkit.report import write_report

    fast = _report(student_p50=0.1)
    assert fast["peers"]["student_beats_all"] is True
    assert fast["models"]["fasttext"]["speed"]["p50_ms"] == 0.2  # a peer's speed is its own contender's
    md = markdown(fast)
    assert "| fasttext | 0.7500 |" in md and "| model2vec | 0.6250 |" in md  # accuracy table rows
    assert "| fasttext | 0.7500 | " in md.split("## The student against its peers")[1]
    assert "The ONNX student beats both peers on accuracy AND latency" in md
    assert "| fasttext | 0.200 |" in md  # the speed table from the benchmark
    paths = write_report(tmp_path, fast)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert {"fasttext", "model2vec"} <= set(saved["models"]) and saved["peers"]["student_beats_all"] is True
    assert Path(paths["accuracy_latency"]).read_bytes()[:4] == b"\x89PNG"

    slow = _report(student_p50=0.25)  # slower than fastText (0.2 ms), faster than Model2Vec (0.3 ms)
    assert slow["peers"]["compared"]["fasttext"]["faster_p50"] is False
    assert slow["peers"]["student_beats_all"] is False
    assert "does not beat both peers on accuracy AND latency (it is not ahead of fasttext on latency)" in markdown(slow)


def test_report_notes_a_skipped_peer() -> None:
    note = "'model2vec' is needed for the model2vec peer but is not installed: pip install 'edge-distill[peers]'"
    rep = _report(student_p50=0.1, skipped={"model2vec": note})
    md = markdown(rep)
    assert f"**model2vec was skipped**: {note}" in md
    assert "the only measured peer (fasttext)" in md
    assert peer_verdict({"student": {"accuracy": 0.9}}, {})["student_beats_all"] is None


def test_missing_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "fasttext", None)
    assert not installed("fasttext")
    assert "edge-distill[peers]" in missing("fasttext")


@pytest.mark.skipif(not installed("fasttext"), reason="the 'peers' extra (fasttext-wheel) is not installed")
def test_a_saved_peer_is_a_benchmark_contender(tmp_path: Path) -> None:
    from edge_distill.benchmarks.contenders import artifact_kind, build
    from edge_distill.benchmarks.harness import cold_start

    texts, y = _texts(200)
    folder = make_peer("fasttext", ["neg", "pos"]).fit(texts, y).save(tmp_path / "fasttext")
    c = build(folder, None, 1, texts[0])
    assert artifact_kind(folder) == "peer" and c.name == "fasttext"
    assert c.predict(texts[:3]).shape == (3, 2) and c.size_bytes == sum(p.stat().st_size for p in folder.iterdir())
    cold = cold_start(c.cold_start_code, repeats=1)
    assert cold["cold_start_ms"] > 0 and cold["peak_rss_mb"] > 0
