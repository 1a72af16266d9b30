"""The command-line arguments of the options dataclasses, and how a command's errors end it.

Shared by the ``edge-distill`` commands and the benchmarks' own command lines (``python -m
edge_distill.benchmarks.suite``, ``...benchmarks.cascade``), so every one of them reads data the
same way; it imports only the options, never the CLI or the pipeline (which the benchmarks may not).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
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
        help="a folder of JSONL/CSV/Parquet splits (e.g. ../shared/data/imdb, or a Hugging Face hub download's "
        "data/ folder of shards), the aclImdb folder or tarball, a .jsonl[.gz]/.csv/.tsv/.parquet file, "
        "'imdb' (download once), or 'hf:NAME' / 'hf:PATH'",
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


def _number(kind: type, low: float, *, inclusive: bool, high: float = math.inf) -> Callable[[str], Any]:
    """An argparse ``type=`` for a finite ``kind`` number above ``low`` (or at it, ``inclusive``)
    and at most ``high``: ``--C 0`` or ``--temperature nan`` are refused when parsed, not after
    an hour of work."""
    bound = f"{'>=' if inclusive else '>'} {low:g}" + ("" if high == math.inf else f" and <= {high:g}")

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__} {bound}, got {text!r}") from None
        if not (math.isfinite(value) and (value >= low if inclusive else value > low) and value <= high):
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__} {bound}, got {text!r}")
        return value

    parse.__name__ = f"{kind.__name__} {bound}"
    return parse


#: argparse types: whole numbers >= 1 and >= 0, numbers > 0 and >= 0, a share in [0, 1]
positive_int = _number(int, 1, inclusive=True)
non_negative_int = _number(int, 0, inclusive=True)
positive_float = _number(float, 0, inclusive=False)
non_negative_float = _number(float, 0, inclusive=True)
share = _number(float, 0, inclusive=True, high=1)


def out_folder(text: str) -> Path:
    """An output folder: refused when a file already has its name."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file; --out names a folder")
    return Path(text)


def out_file(text: str) -> Path:
    """An output file: refused when a folder already has its name."""
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; --out names the file to write")
    return Path(text)


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


#: the exit code of a command whose output pipe was closed early (``| head``): 128 + SIGPIPE, as a
#: shell reports a C tool stopped by the signal
BROKEN_PIPE_EXIT = 141


def run_command(prog: str, body: Callable[[], int | None]) -> int:
    """Run a command's body: an :class:`EdgeDistillError` or a file that cannot be read or
    written (missing, a folder, a full disk) becomes one line on stderr and the exit code of its
    type (not a traceback); Ctrl-C exits 130; a closed output pipe stops quietly."""
    try:
        return int(body() or 0)
    except BrokenPipeError:
        # ``| head`` read what it wanted; point stdout at /dev/null so the flush at exit cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT
    except (EdgeDistillError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, EdgeDistillError) else DataError.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
