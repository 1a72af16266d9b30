"""`edge-distill run` end to end on a tiny teacher: every artifact, the report, and the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from tiny_teacher import build_tiny, tiny_run_argv

from edge_distill import runtime
from edge_distill.toolkit.cli import main
from edge_distill.toolkit.peers import installed

#: the peers this install can fit (all of them where the 'peers' extra is installed, as scripts/install.sh does)
PEERS = [name for name in ("fasttext", "model2vec") if installed(name)]


_argv = tiny_run_argv


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("run")
    tiny = build_tiny(root)
    out = root / "out"
    assert main(_argv(tiny, out)) == 0
    return out, tiny


def test_run_writes_every_artifact_and_the_report(run_dir) -> None:
    out, _ = run_dir
    for name in (
        "baseline.json",
        "student.onnx",
        "teacher.onnx",
        "teacher.int8.onnx",
        "report.json",
        "report.md",
        "bench.json",
        "evaluation.json",
        "figures/accuracy_latency.png",
        "figures/sizes.png",
    ):
        assert (out / name).is_file(), name
    for name, kind in (("student.onnx", "student"), ("teacher.onnx", "teacher"), ("teacher.int8.onnx", "teacher")):
        model = runtime.load(out / name)
        assert model.kind == kind and model.predict_proba(["a good film"]).shape == (1, 2)
    report = json.loads((out / "report.json").read_text())
    for model in ("baseline", "teacher", "teacher_int8", "student"):
        m = report["models"][model]
        assert {"accuracy", "macro_f1", "ci95", "n_test"} <= set(m) and m["n_test"] == 40
    for contender in ("student_onnx", "student_sklearn", "teacher_torch", "teacher_onnx", "teacher_int8", *PEERS):
        c = report["bench"]["contenders"][contender]
        assert {"p50_ms", "p99_ms", "throughput_per_s", "size_bytes", "cold_start_ms"} <= set(c)
        assert c["p50_ms"] > 0 and c["size_bytes"] > 0 and c["cold_start_ms"] > 0 and c["throughput_per_s"] > 0
        # warm latency (contenders taking turns in blocks) for the fast ones; the teachers are timed cold only
        assert ("warm_p50_ms" in c) == ("teacher" not in contender), contender
    assert report["models"]["teacher"]["accuracy"] > 0.8  # the tiny task is easy: the teacher learned it
    md = (out / "report.md").read_text()
    assert "| student |" in md
    training = report["run"]["teacher_training"]  # from the saved teacher's training.json
    assert training["best_epoch"] in [h["epoch"] for h in training["history"]] and training["epochs_chosen"]
    assert "## Teacher training" in md and f"Kept epoch {training['best_epoch']}:" in md
    # the peers: evaluated on the same test texts, benchmarked, in the report with the verdict sentence
    assert set(report["run"]["peers"]["fitted"]) == set(PEERS)
    for name in PEERS:
        m = report["models"][name]
        assert m["n_test"] == 40 and "agreement_with_teacher" in m and m["speed"]["p50_ms"] > 0
        assert f"| {name} | {m['accuracy']:.4f} |" in md
    for name in {"fasttext", "model2vec"} - set(PEERS):
        assert f"**{name} was skipped**" in md
    if PEERS:
        assert "on accuracy AND latency" in md


def test_rerun_is_cached_and_a_changed_option_redoes_only_its_stages(run_dir, capsys) -> None:
    out, tiny = run_dir
    before = {p: p.stat().st_mtime_ns for p in (out / "teacher.onnx", out / "student.onnx")}
    assert main(_argv(tiny, out, "--json")) == 0
    run = json.loads(capsys.readouterr().out)["run"]
    stages = run["stages"]
    assert all(s["cached"] for s in stages.values()), stages
    # cached stages report the time they took when they ran; the report says what the cache saved
    assert stages["teacher_train"]["seconds"] > 0 and run["compute_seconds"] >= stages["teacher_train"]["seconds"]
    assert {"bench", "evaluate", "peers"} <= set(stages)
    assert f"{len(stages)} of {len(stages)} stages reused from the cache" in (out / "report.md").read_text()
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # another student objective: teacher stages stay cached, the student and what follows rerun
    assert main(_argv(tiny, out, "--objective", "hard", "--no-bench", "--json")) == 0
    stages = json.loads(capsys.readouterr().out)["run"]["stages"]
    assert stages["teacher_train"]["cached"] and stages["teacher_label"]["cached"]
    assert not stages["student"]["cached"] and not stages["export_student"]["cached"]
    assert (out / "teacher.onnx").stat().st_mtime_ns == before[out / "teacher.onnx"]


def test_a_refused_int8_teacher_leaves_the_rest_of_the_run(tmp_path, monkeypatch) -> None:
    """When the int8 gate refuses the int8 file, the run labels with fp32 and reports why."""
    import edge_distill.toolkit.pipeline as pipeline

    monkeypatch.setattr(pipeline, "_export_int8", lambda cfg, data, out: {"ok": False, "error": "agreement 0.98"})
    tiny = build_tiny(tmp_path)
    out = tmp_path / "out"
    assert main(_argv(tiny, out, "--no-bench", "--no-peers")) == 0
    assert not (out / "teacher.int8.onnx").exists() and (out / "student.onnx").is_file()
    report = json.loads((out / "report.json").read_text())
    assert not report["run"]["peers"]["fitted"] and not (out / "peers" / "fasttext").exists()
    assert set(report["run"]["peers"]["skipped"].values()) == {"peers turned off for this run"}
    assert "teacher_int8" not in report["models"] and "student" in report["models"]
    assert json.loads((out / "stages" / "teacher_label.json").read_text())["settings"]["with"] == "fp32"
    assert "refused by its parity gate** (agreement 0.98)" in (out / "report.md").read_text()


def test_a_cold_run_reads_its_data_once(tmp_path, monkeypatch) -> None:
    """Every stage of a cold run gets its texts from one read of the data source (each stage read
    it again: about 11 reads of the whole data set, and one warning per read)."""
    import edge_distill.toolkit.data as data_module

    reads: list[str] = []
    read = data_module.load_dataset

    def counted(source, **kwargs):
        reads.append(str(source))
        return read(source, **kwargs)

    for module in ("data", "api", "teacher.heldout"):  # every module that calls it by name
        monkeypatch.setattr(f"edge_distill.toolkit.{module}.load_dataset", counted, raising=False)
    tiny = build_tiny(tmp_path)
    assert main(_argv(tiny, tmp_path / "out", "--no-bench", "--no-peers", "--scaling", "100")) == 0
    assert reads == [str(tiny["data"])]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {"teacher_int8", "student"} <= set(report["models"]) and report["scaling"]


def test_a_failing_stage_exits_with_its_own_error(tmp_path, capsys) -> None:
    """run calls the API: a stage's error reaches the CLI with its type (bad data: exit 2) and its line."""
    (tmp_path / "train.jsonl").write_text('{"text": "a", "label": 0}\n{oops\n')
    argv = ["run", "--data", str(tmp_path / "train.jsonl"), "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "train.jsonl:2: not valid JSON" in err


def test_run_options_become_typed_configs(tmp_path, capsys) -> None:
    """The stages' options are flags of run, read into each stage's config; every data option
    reaches the one DataOptions all stages use."""
    from edge_distill.toolkit.cli import build_parser
    from edge_distill.toolkit.commands.run import run_config

    argv = [
        "run",
        "--data",
        "d",
        "--out",
        str(tmp_path),
        "--text-field",
        "review",
        "--label-names",
        "neg,pos",
        "--no-stratify",
        "--test-split",
        "validation",
        "--unlabeled",
        "all",
        "--seed",
        "7",
        *("--epochs", "2", "--max-length", "128"),
        *("--with-gold", "--max-bytes", "5MB", "--min-df", "1"),
        "--objective",
        "hard",
        "--check",
        "50",
    ]
    cfg = run_config(build_parser().parse_args(argv))
    d = cfg.data
    assert (d.text_field, d.label_names, d.stratify, d.test_split, d.unlabeled, d.seed) == (
        "review",
        ("neg", "pos"),
        False,
        "validation",
        None,
        7,
    )
    assert cfg.teacher.epochs == 2 and cfg.teacher.max_length == 128 and cfg.teacher.seed == 7
    s = cfg.student
    assert s.with_gold and s.max_bytes == 5_000_000 and s.features.min_df == 1 and s.objective == "hard"
    assert cfg.export.check == 50 and s.random_state == 7
    with pytest.raises(SystemExit) as exc:
        main([*argv[:-4], "--epochs", "many"])
    assert exc.value.code == 2
    assert "argument --epochs: expected a whole number or 'auto', got 'many'" in capsys.readouterr().err
