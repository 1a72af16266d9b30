"""The command-line arguments of the options dataclasses, and how a command's errors end it.

Shared by the ``edge-distill`` commands and the benchmarks' own command lines (``python -m
edge_distill.benchmarks.suite``, ``...benchmarks.cascade``), so every one of them reads data the
same way; it imports only the options, never the CLI or the pipeline (which the benchmarks may not).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from edge_distill.runtime.errors import DataError, EdgeDistillError
from edge_distill.toolkit.data import AUTO_BUDGET_CHARS
from edge_distill.toolkit.options import DataOptions, parse_size


def add_data_arguments(
    p: argparse.ArgumentParser,
    *,
    labeled: int | None = 1000,
    unlabeled: int | str | None = None,
    test: int | None = 1000,
    data_required: bool = True,
    transfer: bool = True,
) -> None:
    """``--data``, its fields and the split sizes; a size of ``all`` (or -1) means every row left.
    Every command that draws texts takes these, so they all draw the same ones; ``transfer=False``
    leaves out the transfer-set options for commands that read only the test set."""
    g = p.add_argument_group("data")
    g.add_argument(
        "--data",
        required=data_required,
        metavar="PATH",
        help="a folder of JSONL/CSV splits (e.g. ../shared/data/imdb), the aclImdb folder or tarball, "
        "a .jsonl[.gz]/.csv/.tsv file, 'imdb' (download once), or 'hf:NAME'",
    )
    g.add_argument("--text-field", default="text", help="text column/field (default: %(default)s)")
    g.add_argument("--label-field", default="label", help="label column/field (default: %(default)s)")
    g.add_argument(
        "--label-names",
        type=_names,
        default=None,
        metavar="A,B,...",
        help="class names in id order (default: a classes.txt beside the data, else the label strings; "
        "integer labels without names: ids 0..K-1 become 0..K-1, other integers name classes by value)",
    )
    g.add_argument("--test-split", default=None, help="split to test on (default: test, else validation)")
    g.add_argument("--labeled", type=size, default=labeled, metavar="N", help="labeled texts (default: %(default)s)")
    if transfer:
        _add_transfer_arguments(g, unlabeled)
    else:
        p.set_defaults(unlabeled=0, unlabeled_data=[])  # no transfer set: data_options reads the same names
    g.add_argument("--test", type=size, default=test, metavar="N", help="test texts, or 'all' (default: %(default)s)")
    g.add_argument(
        "--validation",
        type=size,
        default=None,
        metavar="N",
        help="validation texts for model and settings choices, never the test split: from the data's validation "
        "split, else carved from train; 0 = none (default: all of the split, else a tenth of --labeled)",
    )
    g.add_argument("--no-stratify", dest="stratify", action="store_false", help="draw without stratifying by class")
    add_seed(p)


def _add_transfer_arguments(g: argparse._ArgumentGroup, unlabeled: int | str | None) -> None:
    """``--unlabeled`` and ``--unlabeled-data``: what the teacher labels for the student."""
    g.add_argument(
        "--unlabeled",
        type=size,
        default=unlabeled,
        metavar="N",
        help="unlabeled transfer texts, 'all', or 'auto': all up to a labeling budget of "
        f"{AUTO_BUDGET_CHARS:,} characters (default: %(default)s)",
    )
    g.add_argument(
        "--unlabeled-data",
        action="append",
        default=[],
        metavar="PATH",
        help="more unlabeled texts for the teacher to label (repeatable): any file or folder --data takes, or a "
        ".txt file with one text a line; labels in it are ignored, texts also in the test set are left out",
    )


def add_seed(p: argparse.ArgumentParser) -> None:
    """``--seed``: every random choice in the command follows it."""
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")


def argparse_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` as an argparse ``type=``: its ValueError becomes argparse's message."""

    def parsed(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parsed.__name__ = parse.__name__
    return parsed


#: a split size for argparse (:func:`toolkit.options.parse_size`)
size = argparse_type(parse_size)


def _names(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(","))
    if len(names) < 2 or any(not n for n in names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"expected 2 or more distinct comma-separated names, got {text!r}")
    return names


def data_options(args: argparse.Namespace, **sizes: int | None) -> DataOptions:
    """The :class:`DataOptions` the data arguments describe (``sizes`` override the given ones)."""
    return DataOptions(
        source=str(args.data),
        labeled=args.labeled,
        unlabeled=args.unlabeled,
        test=args.test,
        seed=args.seed,
        stratify=args.stratify,
        text_field=args.text_field,
        label_field=args.label_field,
        label_names=args.label_names,
        test_split=args.test_split,
        validation=args.validation,
        unlabeled_data=tuple(args.unlabeled_data),
    ).sized(**sizes)


def run_command(prog: str, body: Callable[[], int | None]) -> int:
    """Run a command's body: an :class:`EdgeDistillError` or a missing file becomes one line on
    stderr and the exit code of its type (not a traceback); Ctrl-C exits 130."""
    try:
        return int(body() or 0)
    except (EdgeDistillError, FileNotFoundError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, EdgeDistillError) else DataError.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
