"""One source for each setting: every option dataclass field is a flag, with its default, made from the field."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

import pytest

from edge_distill.toolkit.cli import main
from edge_distill.toolkit.commands.export_teacher import GATE_FIELDS
from edge_distill.toolkit.commands.run import LABEL_FIELDS
from edge_distill.toolkit.options import (
    DataOptions,
    FeatureConfig,
    LabelOptions,
    RunOptions,
    StudentConfig,
    TeacherExportOptions,
    TrainConfig,
)
from edge_distill.toolkit.settings import add_arguments, cli_fields, flag_of, from_args, option, show_default

#: command -> (dataclass, prefix, fields left out, flags named by the command) whose fields it takes as flags
USES = {
    ("teacher", "train"): [(DataOptions, "", ("unlabeled",), {}), (TrainConfig, "", (), {})],
    ("teacher", "label"): [(DataOptions, "", ("unlabeled",), {}), (LabelOptions, "", (), {})],
    ("student",): [(DataOptions, "", ("unlabeled", "source"), {}), (StudentConfig, "", ("objective",), {})],
    ("export", "teacher"): [(TeacherExportOptions, "", (), {})],
    ("run",): [
        (DataOptions, "", (), {}),
        (TrainConfig, "", ("progress",), {"model": "--teacher"}),
        (StudentConfig, "", ("objective",), {}),
        (FeatureConfig, "", (), {}),
        (LabelOptions, "label-", tuple(f.name for f in cli_fields(LabelOptions) if f.name not in LABEL_FIELDS), {}),
        (
            TeacherExportOptions,
            "",
            tuple(f.name for f in cli_fields(TeacherExportOptions) if f.name not in GATE_FIELDS),
            {"seed": "--check-seed"},
        ),
        (RunOptions, "", (), {}),
    ],
}
USES[("student",)].append((FeatureConfig, "", (), {}))


def _help(words: tuple[str, ...], capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "2000")  # one line per option: defaults are not wrapped
    with pytest.raises(SystemExit):
        main([*words, "--help"])
    return capsys.readouterr().out


def test_run_takes_no_command_line_inside_a_string(capsys, monkeypatch) -> None:
    out = _help(("run",), capsys, monkeypatch)
    assert "--student-args" not in out and "--teacher-args" not in out
    for flag in ("--epochs", "--max-length", "--lr", "--batch-size", "--objective", "--C", "--temperature"):
        assert f" {flag} " in out, flag
    for flag in ("--with-gold", "--gold-weight", "--ngram-range", "--min-df", "--char-ngram-range", "--max-bytes"):
        assert f" {flag}" in out, flag
    for flag in ("--max-features", "--label-batch-size", "--label-with", "--check", "--no-cascade", "--no-bench"):
        assert f" {flag}" in out, flag


@pytest.mark.parametrize("words", sorted(USES))
def test_every_field_is_a_flag_with_its_default(words: tuple[str, ...], capsys, monkeypatch) -> None:
    lines = _help(words, capsys, monkeypatch).splitlines()
    lines = lines[lines.index("options:") :]  # the option list, not the examples above it
    for cls, prefix, left_out, flags in USES[words]:
        for f in cli_fields(cls):
            if f.name in left_out:
                continue
            flag = flags.get(f.name) or flag_of(f, prefix)
            at = next((i for i, ln in enumerate(lines) if ln.strip().split(" ")[0] in (flag, flag + ",")), None)
            assert at is not None, f"{words}: {cls.__name__}.{f.name} has no {flag}"
            line = " ".join(lines[at : at + 2])  # argparse puts the help on the next line after a long flag
            default = f.default
            shown = "(default" not in f.metadata["help"] and not isinstance(default, bool)
            if shown and default not in (None, (), dataclasses.MISSING) and f.default_factory is dataclasses.MISSING:
                assert f"(default: {show_default(default)})" in line, (words, flag, line)


def test_a_changed_default_shows_in_help(capsys, monkeypatch) -> None:
    """The default lives in the dataclass alone: change it there and --help and the parsed config follow."""
    batch = next(f for f in dataclasses.fields(TrainConfig) if f.name == "batch_size")
    monkeypatch.setattr(batch, "default", 7)
    out = _help(("teacher", "train"), capsys, monkeypatch)
    lines = out.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.strip().startswith("--batch-size"))
    assert "(default: 7)" in " ".join(lines[at : at + 2])


@dataclass(frozen=True)
class _Example:
    size: int = option(3, "how many")
    name: str | None = option(None, "a name (default: none given)")
    loud: bool = option(False, "shout")
    quiet_off: bool = option(True, "no quiet")
    words: tuple[str, ...] = option((), "repeatable")
    hidden: int = option(5, "set by code", cli=False)


def test_add_arguments_and_from_args_round_trip() -> None:
    p = argparse.ArgumentParser()
    add_arguments(p, _Example, prefix="x-")
    args = p.parse_args(["--x-size", "4", "--x-loud", "--no-x-quiet-off", "--x-words", "a", "--x-words", "b"])
    ex = from_args(_Example, args, prefix="x-")
    assert ex == _Example(size=4, name=None, loud=True, quiet_off=False, words=("a", "b"))
    assert "(default: 3)" in p.format_help() and from_args(_Example, p.parse_args([]), prefix="x-") == _Example()


def test_feature_settings_keep_given_apart_from_chosen() -> None:
    """Not given (chosen by the selection) differs from given; no character n-grams given is given."""
    assert StudentConfig().selects and not StudentConfig(features={"char_ngram_range": None}).selects
    none_given = StudentConfig(features={"char_ngram_range": None}).features
    assert none_given.char_ngram_range == () and none_given.settings() == {
        "char_ngram_range": None,
        "sublinear_tf": True,
    }
    assert FeatureConfig(min_df=1).merged({"ngram_range": [1, 3]}) == FeatureConfig(ngram_range=(1, 3), min_df=1)
    assert not StudentConfig(features=FeatureConfig(min_df=1)).selects
