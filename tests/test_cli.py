"""The command line: help everywhere, one-line errors with exit code 2, the baseline end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge_distill.toolkit.cli import COMMANDS, build_parser, main


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_every_command_has_help(words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*words, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: edge-distill " + " ".join(words))


def test_top_level_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for words in COMMANDS:
        assert words[0] in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["baseline"], "the following arguments are required: --data"),
        (["baseline", "--data", "x", "--labeled", "many"], "expected a whole number or 'all'"),
        (["baseline", "--data", "x", "--recipe", "magic"], "invalid choice: 'magic'"),
        (["baseline", "--data", "x", "--label-names", "one"], "expected 2 or more distinct"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err


def test_bad_data_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train.jsonl").write_text('{"text": "a", "label": 0}\n{oops\n')
    assert main(["baseline", "--data", str(tmp_path / "train.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "train.jsonl:2: not valid JSON" in err


def test_parser_builds_without_heavy_imports() -> None:
    """--help must work on a runtime-only install: building the parser imports no heavy package."""
    code = (
        "import sys; from edge_distill.toolkit.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch','transformers','sklearn','onnx','scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert build_parser().prog == "edge-distill"


def test_baseline_on_real_sample(imdb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "baseline",
        "--data",
        str(imdb_dir),
        "--label-names",
        "negative,positive",
        "--labeled",
        "300",
        "--test",
        "300",
        "--seed",
        "0",
        "--out",
        str(tmp_path),
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    saved = json.loads((tmp_path / "baseline.json").read_text())
    assert saved["metrics"]["accuracy"] == result["metrics"]["accuracy"]
    m = result["metrics"]
    assert m["n_test"] == 300 and 0.70 < m["accuracy"] < 0.95  # 300 labels: far above chance
    assert m["ci95"][0] < m["accuracy"] < m["ci95"][1]
    assert set(m["report"]) >= {"negative", "positive", "macro avg"}
    expected = {"source": str(imdb_dir), "seed": 0, "labeled": 300, "unlabeled": 0, "test": 300, "validation": 1000}
    assert result["data"] == expected  # a validation set is drawn beside the labeled one (up to 1,000)


def test_run_help_shows_every_data_option(capsys: pytest.CaptureFixture[str]) -> None:
    """run takes the data options every stage command takes (one DataOptions for all stages)."""
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    flags = ("--text-field", "--label-field", "--label-names", "--test-split", "--no-stratify", "--unlabeled")
    for flag in (*flags, "--unlabeled-data"):
        assert flag in out, flag
