"""Command-line values refused when parsed, and the shell's conventions (pipes, --out paths).

Each case was found by running the commands as a user would: ``--C 0`` crashed after the data was
read, ``--temperature nan`` after the student was fitted, ``--bench-rounds 0`` after the whole
run, ``--out`` naming a file gave a traceback, and ``predict ... | head -1`` a BrokenPipeError.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from student_support import fitted_student

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.arguments import BROKEN_PIPE_EXIT
from edge_distill.toolkit.cli import build_parser, main
from edge_distill.toolkit.student.distill import StudentConfig


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["student", "--out", "o", "--C", "0"], "--C"),
        (["student", "--out", "o", "--C", "-1"], "--C"),
        (["student", "--out", "o", "--temperature", "nan"], "--temperature"),
        (["student", "--out", "o", "--min-df", "0"], "--min-df"),
        (["run", "--data", "d", "--out", "o", "--bench-rounds", "0"], "--bench-rounds"),
        (["run", "--data", "d", "--out", "o", "--cascade-max-share", "1.5"], "--cascade-max-share"),
        (["teacher", "train", "--data", "d", "--out", "o", "--lr", "-1e-4"], "--lr"),
        (["teacher", "train", "--data", "d", "--out", "o", "--batch-size", "0"], "--batch-size"),
        (["teacher", "train", "--data", "d", "--out", "o", "--warmup", "2"], "--warmup"),
        (["export", "teacher", "t", "--out", "t.onnx", "--min-agreement", "2"], "--min-agreement"),
        (["predict", "m.onnx", "x", "--threads", "0"], "--threads"),
        (["predict", "m.onnx", "x", "--threshold", "-0.1"], "--threshold"),
    ],
)
def test_impossible_numbers_exit_2_when_parsed(argv: list[str], flag: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2 and f"argument {flag}" in capsys.readouterr().err


def test_out_naming_the_wrong_kind_of_path_exits_2(tmp_path: Path, capsys) -> None:
    afile, adir = tmp_path / "afile", tmp_path / "adir"
    afile.write_text("keep me")
    adir.mkdir()
    for argv in (["run", "--data", "d", "--out", str(afile)], ["baseline", "--data", "d", "--out", str(afile)]):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(argv)
        assert exc.value.code == 2 and "is a file; --out names a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "student", "s", "--out", str(adir)])
    assert "is a folder; --out names the file" in capsys.readouterr().err
    assert afile.read_text() == "keep me"


def test_stage_options_are_flags_of_run() -> None:
    """The teacher's and the student's options are ordinary flags of run (no command line inside a string)."""
    from edge_distill.toolkit.commands.run import run_config

    argv = ["run", "--data", "d", "--out", "o", "--with-gold", "--epochs", "2"]
    cfg = run_config(build_parser().parse_args(argv))
    assert cfg.student.with_gold and cfg.teacher.epochs == 2
    with pytest.raises(DataError, match="--test must be at least 1"):
        run_config(build_parser().parse_args(["run", "--data", "d", "--out", "o", "--test", "0"]))


def test_baseline_without_test_texts_exits_2(tmp_path: Path, capsys) -> None:
    data = tmp_path / "d.csv"
    data.write_text("text,label\n" + "".join(f"{w} film {i},{w}\n" for i in range(20) for w in ("good", "bad")))
    assert main(["baseline", "--data", str(data), "--labeled", "20", "--test", "0"]) == 2
    assert "--test must be at least 1" in capsys.readouterr().err


def test_cascade_options_without_a_cascade_exit_2(capsys) -> None:
    assert main(["predict", "no-such.onnx", "text", "--threshold", "0.8"]) == 2
    assert "go with --cascade" in capsys.readouterr().err


def test_student_settings_are_checked_in_the_library_too() -> None:
    for bad in ({"C": 0}, {"C": float("inf")}, {"temperature": float("nan")}, {"gold_weight": -1}, {"max_bytes": 0}):
        with pytest.raises(DataError, match=next(iter(bad))):
            StudentConfig(**bad)


def test_predict_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    from edge_distill.exporters.student import export_student

    model = tmp_path / "s.onnx"
    export_student(fitted_student(2), model, check_ops=False)
    texts = tmp_path / "texts.txt"
    texts.write_bytes(b"a good film\n" * 50_000)
    cmd = [sys.executable, "-m", "edge_distill.toolkit.cli", "predict", str(model), "--plain"]
    with open(texts, "rb") as stdin:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b'{"label"')
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == BROKEN_PIPE_EXIT and "Traceback" not in err, err
