"""The one error hierarchy of edge-distill: every error the library raises on purpose is an
:class:`EdgeDistillError`, and its type decides the command line's exit code.

| type | meaning | exit code |
|---|---|---|
| :class:`DataError` | bad input data or arguments | 2 |
| :class:`ArtifactError` | an artifact refused on load (damaged, wrong kind or version, bad checksum) | 4 |
| :class:`ParityError` | an export whose parity gate failed (nothing was written) | 5 |
| :class:`MissingExtraError` | a feature needs an optional extra that is not installed | 6 |

Exit code 3 is ``edge-distill predict --skip-bad`` answering all but some bad records; 1 is an
unexpected failure (a bug: please report it with the traceback).
"""

from __future__ import annotations


class EdgeDistillError(Exception):
    """Base class of every error edge-distill raises on purpose."""

    exit_code = 1


class DataError(EdgeDistillError, ValueError):
    """Bad input data or arguments: the message names the file and line, or the value, that was wrong."""

    exit_code = 2


class ArtifactError(EdgeDistillError, ValueError):
    """An artifact that cannot be used: the message names the file and what is wrong."""

    exit_code = 4


class IntegrityError(ArtifactError):
    """The artifact's bytes do not match the checksum it carries."""


class ParityError(EdgeDistillError, RuntimeError):
    """An export that does not reproduce its source within the stated tolerance; nothing was written."""

    exit_code = 5


class MissingExtraError(EdgeDistillError, ImportError):
    """A feature needs an optional extra that is not installed; the message names the pip command."""

    exit_code = 6


#: exit code -> meaning, for ``--help`` texts and the README
EXIT_CODES = {
    0: "success",
    1: "unexpected failure (a bug)",
    2: "bad input data or arguments, or a file that cannot be read or written",
    3: "predict --skip-bad: some records were bad, every good one was answered",
    4: "an artifact was refused (damaged, wrong kind or format version, checksum mismatch)",
    5: "a parity gate failed; nothing was written",
    6: "an optional extra is missing (the message names the pip command)",
    141: "the output pipe was closed early (| head): output stopped, no traceback",
}
