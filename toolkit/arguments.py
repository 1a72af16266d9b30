"""The typed parsers of command-line values, and how a command's errors end it.

Every value a user types (a split size such as ``10,000`` or ``all``, ``--C``, ``--ngram-range 1,2``,
``--max-bytes 5MB``) is read by one function here, refused with a message naming it when it cannot
work (``--C 0``, ``--temperature nan``), so a mistake ends the command when parsed, not after an hour
of work. The option dataclasses (:mod:`toolkit.options`) name these as their fields' ``parse``;
:func:`toolkit.settings.add_arguments` turns a ValueError into argparse's one-line message.
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
from edge_distill.toolkit.data import AUTO
from edge_distill.toolkit.settings import argparse_type


def parse_size(text: str) -> int | str | None:
    """A split size as people write it: a whole number >= 0 (``10_000``, ``10,000``), ``all``/``-1``
    for every row left (None), or ``auto`` (transfer sets: all, up to a labeling budget). A bad
    value is a ValueError naming it."""
    if text.strip().lower() in ("all", "-1"):
        return None
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"expected a whole number or 'all', got {text!r}") from None
    if n < 0:
        raise ValueError(f"expected a size >= 0, got {n}")
    return n


def parse_auto_count(text: str) -> int | str:
    """``auto`` or a whole number >= 0, written as :func:`parse_size` reads it (a ValueError naming a bad value)."""
    if text.strip().lower() in ("all", "-1"):
        raise ValueError(f"expected a whole number or 'auto', got {text!r}")
    return parse_size(text)


def parse_epochs(text: str) -> int | str:
    """``auto`` or a whole number >= 1 (a ValueError naming a bad value)."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number or 'auto', got {text!r}") from None
    if n < 1:
        raise ValueError(f"expected at least 1 epoch, got {n}")
    return n


def parse_max_length(text: str) -> int | str:
    """``auto`` or a whole number of tokens."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number or 'auto', got {text!r}") from None


def parse_bytes(text: str) -> int:
    """A size in bytes as people write it: ``5MB``, ``800KiB``, ``800000``."""
    units = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "b": 1}
    t = text.strip().lower().replace("_", "")
    for unit, mult in sorted(units.items(), key=lambda u: -len(u[0])):
        if t.endswith(unit):
            t, scale = t[: -len(unit)], mult
            break
    else:
        scale = 1
    try:
        value = float(t) * scale
    except ValueError:
        raise ValueError(f"expected a size such as 5MB or 800000, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"expected a positive size, got {text!r}")
    return int(value)


def parse_ngram_range(text: str) -> tuple[int, int]:
    """``MIN,MAX`` with ``1 <= MIN <= MAX``."""
    try:
        lo, hi = (int(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"expected MIN,MAX such as 1,2, got {text!r}") from None
    if not 1 <= lo <= hi:
        raise ValueError(f"expected 1 <= MIN <= MAX, got {text!r}")
    return lo, hi


def parse_char_ngram_range(text: str) -> tuple[int, int] | tuple[()]:
    """``MIN,MAX``, or ``none`` for no character n-grams (the empty tuple: given, and none)."""
    return () if text.strip().lower() == "none" else parse_ngram_range(text)


def parse_names(text: str) -> tuple[str, ...]:
    """Two or more distinct comma-separated class names."""
    names = tuple(s.strip() for s in text.split(","))
    if len(names) < 2 or any(not n for n in names) or len(set(names)) != len(names):
        raise ValueError(f"expected 2 or more distinct comma-separated names, got {text!r}")
    return names


#: a split size for argparse (:func:`parse_size`)
size = argparse_type(parse_size)


def parse_sizes(text: str) -> list[int | None]:
    """Comma-separated split sizes (``1000,5000,all``)."""
    return [parse_size(t) for t in text.split(",") if t.strip()]


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
