"""The teacher end to end on a tiny BERT built here (2 layers, hidden 32, a WordPiece vocab
written by the test): train, export behind the parity gates, label (resume after kill -9,
shards and merge), and the runtime without torch. No download; the whole file runs in
well under two minutes on two cores.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")

from tiny_teacher import build_tiny

from edge_distill.toolkit.cli import main

PYTHON = sys.executable
ENV = {**os.environ, "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """A tiny data folder (train/test/unsup) and a tiny BERT checkpoint with its tokenizer."""
    return build_tiny(tmp_path_factory.mktemp("teacher"))


def _train_args(tiny: dict[str, Path], out: Path) -> list[str]:
    return [
        "teacher",
        "train",
        "--data",
        str(tiny["data"]),
        "--labeled",
        "160",
        "--test",
        "40",
        "--seed",
        "0",
        "--model",
        str(tiny["ckpt"]),
        "--max-length",
        "24",
        "--truncation",
        "head+tail",
        "--lr",
        "3e-3",
        "--epochs",
        "6",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]


def _data_args(tiny: dict[str, Path]) -> list[str]:
    return ["--data", str(tiny["data"]), "--labeled", "160", "--test", "40", "--seed", "0"]


@pytest.fixture(scope="module")
def run_dir(tiny) -> Path:
    """A trained tiny teacher in RUN/teacher."""
    out = tiny["root"] / "run"
    assert main(_train_args(tiny, out)) == 0
    return out


@pytest.fixture(scope="module")
def exported(run_dir, tiny) -> dict:
    """RUN/teacher.onnx and RUN/teacher.int8.onnx, exported through the CLI with the gates."""
    assert (
        main(
            [
                "export",
                "teacher",
                str(run_dir / "teacher"),
                "--out",
                str(run_dir / "teacher.onnx"),
                "--int8",
                "--check",
                "60",
                # the tiny data holds 80 held-out texts: 60 of 60 agreeing has a 95% Wilson lower bound of 0.94
                "--min-agreement",
                "0.9",
                "--threads",
                "1",
                "--json",
            ]
        )
        == 0
    )
    return {"fp32": run_dir / "teacher.onnx", "int8": run_dir / "teacher.int8.onnx"}


def test_training_saves_model_tokenizer_and_record(run_dir):
    folder = run_dir / "teacher"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training.json"):
        assert (folder / name).is_file(), name
    record = json.loads((folder / "training.json").read_text())
    assert record["truncation"] == "head+tail" and record["max_length"] == 24
    assert len(record["history"]) == 6 and 1 <= record["best_epoch"] <= 6
    assert record["epochs"] == 6 and record["epochs_chosen"] == "given"
    assert record["best_val_accuracy"] == max(h["val_accuracy"] for h in record["history"])
    assert record["best_val_accuracy"] >= 0.75  # the tiny task is learnable
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "positive"}


def test_training_is_reproducible(tiny, run_dir):
    out = tiny["root"] / "run-again"
    assert main(_train_args(tiny, out)) == 0
    a = json.loads((run_dir / "teacher" / "training.json").read_text())
    b = json.loads((out / "teacher" / "training.json").read_text())
    assert a["history"][-1]["train_loss"] == b["history"][-1]["train_loss"]
    weights = "model.safetensors"
    assert (run_dir / "teacher" / weights).read_bytes() == (out / "teacher" / weights).read_bytes()


def test_export_passes_the_gates_and_carries_metadata(exported):
    import onnx

    from edge_distill import runtime

    model = onnx.load(str(exported["fp32"]))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["edge_distill.kind"] == "teacher" and meta["edge_distill.format_version"] == "1"
    assert json.loads(meta["edge_distill.labels"]) == ["negative", "positive"]
    assert meta["edge_distill.max_length"] == "24" and meta["edge_distill.truncation"] == "head+tail"
    assert json.loads(meta["edge_distill.tokenizer"])["model"]["type"] == "WordPiece"
    assert json.loads(meta["edge_distill.parity"])["max_abs_batch1"] <= 1e-4
    ops = {n.op_type for n in model.graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops  # the optimizer fused the graph
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    dims = [d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "sequence"]
    q = runtime.load(exported["int8"])
    assert q.metadata["edge_distill.precision"] == "int8"
    qops = {n.op_type for n in onnx.load(str(exported["int8"])).graph.node}
    assert "QAttention" in qops and qops & {"DynamicQuantizeMatMul", "MatMulInteger"}
    assert exported["int8"].stat().st_size < exported["fp32"].stat().st_size


def test_int8_keeps_exactly_the_measured_fp32_nodes(exported):
    import onnx

    from edge_distill import runtime
    from edge_distill.exporters.teacher import INT8_SCHEME, head_nodes, quantizable_nodes

    fp32, int8 = onnx.load(str(exported["fp32"])), onnx.load(str(exported["int8"]))
    parity = json.loads(runtime.load(exported["int8"]).metadata["edge_distill.parity"])
    assert parity["scheme"] == INT8_SCHEME and parity["selection"]["passed"]
    chosen = set(parity["selection"]["fp32_nodes"])
    assert set(parity["fp32_nodes"]) == set(head_nodes(fp32)) | chosen
    float_nodes = {n.name for n in int8.graph.node if n.op_type in ("MatMul", "Attention")}
    assert {n for n in quantizable_nodes(fp32) if n in float_nodes} == chosen  # the rest were quantized
    lo, hi = parity["agreement_ci"]
    assert lo <= parity["agreement"] <= hi and lo >= parity["min_agreement"]


def test_int8_agreement_benchmark_compares_recipes(run_dir, tiny):
    from edge_distill.benchmarks.int8_agreement import measure

    result = measure(run_dir / "teacher", [0, 1], n=30)
    none, first = result["recipes"]
    assert result["reviews"] == 30 and 0.0 <= none["agreement"] <= 1.0
    assert len(first["fp32_nodes"]) == len(none["fp32_nodes"]) + 1  # one more FFN output kept in fp32
    assert first["bytes"] > none["bytes"]


def test_gate_fails_when_the_export_differs_from_pytorch(run_dir, tiny, monkeypatch):
    import edge_distill.exporters.teacher as et
    from edge_distill.toolkit.teacher.heldout import heldout_texts

    real = et.to_onnx_graph

    def tampered(model, names, path, opset=17):
        import torch

        with torch.no_grad():
            model.classifier.weight.add_(0.05)  # the exported graph no longer matches the reference
        try:
            real(model, names, path, opset)
        finally:
            with torch.no_grad():
                model.classifier.weight.sub_(0.05)

    monkeypatch.setattr(et, "to_onnx_graph", tampered)
    record = json.loads((run_dir / "teacher" / "training.json").read_text())
    held = heldout_texts(record["data"], 20)
    out = tiny["root"] / "tampered.onnx"
    with pytest.raises(et.ParityError, match=r"max \|Δlogit\|.*tolerance 0.0001"):
        et.export_teacher(run_dir / "teacher", out, heldout=held, threads=1)
    assert not out.exists()


def test_int8_gate_failure_writes_nothing(run_dir, tiny, capsys):
    out = tiny["root"] / "strict.onnx"
    code = main(
        [
            "export",
            "teacher",
            str(run_dir / "teacher"),
            "--out",
            str(out),
            "--int8",
            "--check",
            "30",
            "--min-agreement",
            "1",  # a lower bound from finite texts never reaches 1
            "--threads",
            "1",
        ]
    )
    assert code == 5  # ParityError: a failed gate, not bad input
    err = capsys.readouterr().err
    assert "int8 teacher parity failed" in err and "nothing was written" in err
    assert "(tolerance: lower bound >= 1)" in err  # the agreement's interval, against the given limit
    assert not out.exists() and not out.with_name("strict.int8.onnx").exists()


def test_runtime_loads_without_torch(exported, run_dir):
    code = (
        "import sys, json\nfrom edge_distill import runtime\n"
        f"c = runtime.load({str(exported['int8'])!r})\n"
        "p = c.predict_proba(['good great fun', 'awful boring bad', '', '😀 这部电影', 'the ' * 500])\n"
        "assert p.shape == (5, 2) and abs(float(p.sum()) - 5) < 1e-4\n"
        "assert c.predict(['superb excellent']) == ['positive'], c.predict(['superb excellent'])\n"
        "assert c.predict_proba([]).shape == (0, 2)\n"
        "bad = [m for m in ('torch', 'transformers', 'sklearn', 'toolkit', 'exporters') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print(type(c).__name__)\n"
    )
    res = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "TeacherClassifier"


def test_runtime_matches_torch_on_the_same_texts(exported, run_dir):
    from edge_distill import runtime
    from edge_distill.runtime.truncation import TeacherEncoder
    from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer
    from edge_distill.toolkit.teacher.inference import torch_logits

    texts = ["good movie", "the plot was dull and boring " * 10, "<br />great<br />"]
    tok = load_tokenizer(str(run_dir / "teacher"))
    enc = TeacherEncoder(tok.backend_tokenizer, 24, "head+tail")
    ref = torch_logits(load_classifier(str(run_dir / "teacher")), enc, enc.encode(texts))
    clf = runtime.load(exported["fp32"])
    got = clf.logits(texts)
    assert np.abs(ref - got).max() <= 1e-4
    # logits() keeps predict()'s input contract: a bare string or a non-string item is refused by position
    with pytest.raises(TypeError, match="wrap a single text in a list"):
        clf.logits("good movie")
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        clf.logits(["good movie", 3])
    assert clf.logits([]).shape == (0, 2) and np.array_equal(clf.logits(iter(texts)), got)


@pytest.mark.parametrize("tokenizer_value", [None, "{not json", '{"model": {"type": "Nope"}}'])
def test_missing_or_corrupt_tokenizer_is_an_artifact_error(exported, tmp_path, tokenizer_value):
    import onnx

    from edge_distill import runtime
    from edge_distill.exporters.teacher import sealed_bytes

    model = onnx.load(str(exported["fp32"]))
    meta = {p.key: p.value for p in model.metadata_props if p.key != "edge_distill.checksum"}
    if tokenizer_value is None:
        del meta["edge_distill.tokenizer"]
    else:
        meta["edge_distill.tokenizer"] = tokenizer_value
    path = tmp_path / "broken-teacher.onnx"
    path.write_bytes(sealed_bytes(model, meta))
    with pytest.raises(runtime.ArtifactError, match=r"broken-teacher\.onnx.*tokenizer"):
        runtime.load(path)


def _label_cmd(teacher: Path, tiny, out: Path, *extra: str) -> list[str]:
    return [
        PYTHON,
        "-m",
        "edge_distill.toolkit.cli",
        "teacher",
        "label",
        "--teacher",
        str(teacher),
        *_data_args(tiny),
        "--unlabeled",
        "all",
        "--out",
        str(out),
        "--threads",
        "1",
        "--no-progress",
        "--json",
        *extra,
    ]


def _merged(out: Path):
    from edge_distill.toolkit.logits import load_logits

    return load_logits(out / "logits")


def test_kill_9_midway_then_rerun_finishes_without_recomputing(run_dir, tiny, exported):
    teacher = run_dir / "teacher"
    ref_out, out = tiny["root"] / "label-ref", tiny["root"] / "label-killed"
    res = subprocess.run(
        _label_cmd(teacher, tiny, ref_out, "--chunk-size", "8"), capture_output=True, text=True, env=ENV, timeout=120
    )
    assert res.returncode == 0, res.stderr
    work = out / "logits" / "work" / "shard-00000-of-00001"
    proc = subprocess.Popen(
        _label_cmd(teacher, tiny, out, "--chunk-size", "8"),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 90
    while time.time() < deadline and len(list(work.glob("chunk-*.npz"))) < 3 and proc.poll() is None:
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(work.glob("chunk-*.npz")))
    assert not (out / "logits" / "logits.npz").exists(), "the run finished before it could be killed"
    assert finished >= 3
    (work / ".chunk-99999.npz.half.tmp").write_bytes(b"half a file")  # what a kill mid-write leaves
    res = subprocess.run(
        _label_cmd(teacher, tiny, out, "--chunk-size", "8"), capture_output=True, text=True, env=ENV, timeout=120
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["resumed_texts"] >= 8 * 3
    a, b = _merged(ref_out), _merged(out)
    assert a.ids == b.ids and np.array_equal(a.logits, b.logits)
    assert a.logits.dtype == np.float32 and len(a) > 250


def test_a_damaged_chunk_is_recomputed(exported, tiny):
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.teacher.label import label_corpus, onnx_labeler

    splits = load_splits(tiny["data"], n_labeled=160, n_unlabeled=None, n_test=40, seed=0)
    labeler = onnx_labeler(exported["fp32"], threads=1)
    out = tiny["root"] / "label-damaged"
    first = label_corpus(splits.unlabeled, labeler, out, chunk_size=50, progress=False)
    work = out / "logits" / "work" / "shard-00000-of-00001"
    # rebuild the work folder as a crashed run would leave it, with one damaged chunk
    label_corpus(splits.unlabeled, labeler, tiny["root"] / "tmp-chunks", chunk_size=50, progress=False)
    src = tiny["root"] / "tmp-chunks" / "logits"
    (out / "logits" / "shards" / "shard-00000-of-00001.npz").unlink()
    work.mkdir(parents=True)
    import edge_distill.toolkit.teacher.label as lab

    manifest = {
        "fingerprint": json.loads((src / "shards" / "shard-00000-of-00001.json").read_text())["fingerprint"],
        "chunk_size": 50,
        "shard": "shard-00000-of-00001",
        "n_texts": first.texts,
    }
    (work / "manifest.json").write_text(json.dumps(manifest))
    (work / "chunk-00000.npz").write_bytes(b"PK\x03\x04 damaged")
    again = lab.label_corpus(splits.unlabeled, labeler, out, chunk_size=50, progress=False)
    assert again.resumed_texts == 0 and again.merged_texts == first.merged_texts
    assert np.allclose(_merged(out).logits, _merged(src.parent).logits, atol=1e-6)


def test_a_grown_transfer_set_labels_only_its_new_texts(exported, tiny):
    from dataclasses import replace

    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.teacher.label import label_corpus, onnx_labeler

    small = load_splits(tiny["data"], n_labeled=160, n_unlabeled=100, n_test=40, seed=0).unlabeled
    big = load_splits(tiny["data"], n_labeled=160, n_unlabeled=None, n_test=40, seed=0).unlabeled
    assert set(small.ids) < set(big.ids)
    labeler = onnx_labeler(exported["fp32"], threads=1)
    asked: list[int] = []

    def counted(rows):
        asked.append(len(rows))
        return labeler.logits(rows)

    out, fresh = tiny["root"] / "label-grown", tiny["root"] / "label-grown-ref"
    label_corpus(small, labeler, out, chunk_size=32, progress=False)
    grown = label_corpus(big, replace(labeler, logits=counted), out, chunk_size=32, progress=False)
    assert grown.reused_texts == len(small) and sum(asked) == len(big) - len(small)
    label_corpus(big, labeler, fresh, chunk_size=32, progress=False)
    a, b = _merged(out), _merged(fresh)
    assert a.ids == b.ids and np.allclose(a.logits, b.logits, atol=1e-5)
    # another teacher file, or --restart: nothing is reused
    assert label_corpus(big, onnx_labeler(exported["int8"], threads=1), out, progress=False).reused_texts == 0
    assert label_corpus(big, labeler, fresh, restart=True, progress=False).reused_texts == 0
    # a damaged earlier table is not read: every text is labeled again
    (fresh / "logits" / "logits.npz").write_bytes(b"PK\x03\x04 damaged")
    again = label_corpus(big, labeler, fresh, progress=False)
    assert again.reused_texts == 0 and np.allclose(_merged(fresh).logits, b.logits, atol=1e-5)


def test_shards_cover_every_text_once_and_merge_checks_them(exported, tiny):
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.logits import LogitsError
    from edge_distill.toolkit.teacher.label import label_corpus, onnx_labeler
    from edge_distill.toolkit.teacher.shards import MergeError, ShardSpec, merge_shards

    splits = load_splits(tiny["data"], n_labeled=160, n_unlabeled=None, n_test=40, seed=0)
    labeler = onnx_labeler(exported["fp32"], threads=1)  # int8 activations depend on the batch
    whole, out = tiny["root"] / "label-whole", tiny["root"] / "label-sharded"
    label_corpus(splits.unlabeled, labeler, whole, progress=False)
    sizes = []
    for i in range(3):
        r = label_corpus(splits.unlabeled, labeler, out, shard=ShardSpec(i, 3), progress=False)
        assert r.merged is None
        sizes.append(r.texts)
    assert sum(sizes) == len(splits.unlabeled) and min(sizes) > 0
    assert main(["teacher", "merge", str(out)]) == 0
    merged, ref = _merged(out), _merged(whole)
    assert sorted(merged.ids) == sorted(splits.unlabeled.ids) == ref.ids
    assert np.allclose(merged.lookup(ref.ids), ref.logits, atol=1e-4)

    shards = out / "logits" / "shards"
    # a missing shard
    moved = shutil.move(shards / "shard-00001-of-00003.npz", out / "aside.npz")
    with pytest.raises(MergeError, match=r"shards \[1\] of 3 are missing"):
        merge_shards(out)
    # a duplicated shard: shard 0's texts filed as shard 1
    shutil.copy(shards / "shard-00000-of-00003.npz", shards / "shard-00001-of-00003.npz")
    rec = json.loads((shards / "shard-00000-of-00003.json").read_text())
    (shards / "shard-00001-of-00003.json").write_text(json.dumps({**rec, "index": 1}))
    with pytest.raises(LogitsError, match="another shard"):
        merge_shards(out)
    shutil.move(moved, shards / "shard-00001-of-00003.npz")
    (shards / "shard-00001-of-00003.json").write_text(json.dumps({**rec, "index": 1, "n_texts": sizes[1]}))
    merge_shards(out)
    # shards of two different splittings mixed
    shutil.copy(shards / "shard-00000-of-00003.npz", shards / "shard-00000-of-00002.npz")
    with pytest.raises(MergeError, match="different splittings"):
        merge_shards(out)
    assert main(["teacher", "merge", str(out)]) == 2


def test_shard_spec_parsing():
    from edge_distill.toolkit.teacher.shards import ShardSpec, parse_shard

    assert parse_shard("2/4") == ShardSpec(2, 4)
    assert parse_shard("auto", {"RANK": "1", "WORLD_SIZE": "2"}) == ShardSpec(1, 2)
    assert parse_shard("auto", {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}) == ShardSpec(3, 4)
    assert parse_shard("auto", {}) == ShardSpec(0, 1)
    for bad in ("4/4", "x", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_resume_with_other_settings_is_refused(exported, tiny):
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.teacher.label import ResumeError, label_corpus, onnx_labeler
    from edge_distill.toolkit.teacher.shards import ShardSpec, work_dir

    splits = load_splits(tiny["data"], n_labeled=160, n_unlabeled=None, n_test=40, seed=0)
    out = tiny["root"] / "label-refuse"
    work = work_dir(out, ShardSpec())
    work.mkdir(parents=True)
    (work / "manifest.json").write_text(json.dumps({"chunk_size": 3}))
    labeler = onnx_labeler(exported["int8"], threads=1)
    with pytest.raises(ResumeError, match="--restart"):
        label_corpus(splits.unlabeled, labeler, out, progress=False)
    assert label_corpus(splits.unlabeled, labeler, out, restart=True, progress=False).merged_texts > 0


@pytest.mark.parametrize(
    "words", [["teacher", "train"], ["teacher", "label"], ["teacher", "merge"], ["export", "teacher"]]
)
def test_cli_help(words):
    res = subprocess.run(
        [PYTHON, "-m", "edge_distill.toolkit.cli", *words, "--help"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "usage:" in res.stdout
    if words[1] == "label":
        assert "torchrun" in res.stdout and "SLURM_ARRAY_TASK_ID" in res.stdout


def test_label_then_student_without_repeating_the_sizes(exported, tiny, capsys):
    """'teacher label --unlabeled N --out R' then 'student --logits R': the student takes its transfer set
    from what the logits record (R, R/logits or R/logits/logits.npz; --data optional)."""
    run = tiny["root"] / "chain"
    label = ["teacher", "label", "--teacher", str(exported["int8"]), *_data_args(tiny), "--unlabeled", "100"]
    assert main([*label, "--out", str(run), "--threads", "1", "--no-progress"]) == 0
    capsys.readouterr()
    chains = [
        [str(run), "--out", str(run)],  # no data options at all: the recorded ones
        [str(run / "logits"), *_data_args(tiny), "--out", str(run / "a")],  # data given, sizes not repeated
        [
            str(run / "logits" / "logits.npz"),
            "--data",
            str(tiny["data"]),
            "--labeled",
            "160",
            "--test",
            "40",
            "--out",
            str(run / "b"),
        ],
    ]
    for logits, *rest in chains:
        assert main(["student", "--logits", logits, *rest, "--min-df", "1", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["sizes"]["transfer"] == 100 and result["metrics"]["test"]["n"] == 40, logits
    # other data options than the labeling's: the logits' texts are not all in the pool, and that is said
    code = main(["student", "--logits", str(run), "--data", str(tiny["data"]), "--labeled", "160", "--test", "40",
                 "--seed", "1", "--out", str(run / "c")])  # fmt: skip
    assert code == 2 and "not in this data's transfer pool" in capsys.readouterr().err
