"""The ``edge-distill`` command line.

Each command lives in ``toolkit/commands/<name>.py`` with ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``: its flags are made from the options dataclasses' fields
(:mod:`toolkit.options`, :mod:`toolkit.settings`); it parses, builds those dataclasses, calls one function of the
Python API (:mod:`toolkit.api`) and prints the result (``--json``: its ``to_dict()``). Those
modules and the API import nothing optional at their top, so ``--help`` and ``predict`` work on
a runtime-only install and a command that needs a missing extra says which one. Exit codes
follow the error's type (one line on stderr): see
:data:`edge_distill.runtime.errors.EXIT_CODES` and ``edge-distill --help``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from edge_distill import __version__
from edge_distill.runtime.errors import EXIT_CODES
from edge_distill.toolkit.arguments import run_command

#: command words -> module under toolkit.commands
COMMANDS: dict[tuple[str, ...], str] = {
    ("baseline",): "baseline",
    ("teacher", "train"): "teacher_train",
    ("teacher", "label"): "teacher_label",
    ("teacher", "merge"): "teacher_merge",
    ("student",): "student",
    ("export", "student"): "export_student",
    ("export", "teacher"): "export_teacher",
    ("predict",): "predict",
    ("run",): "run",
    ("results",): "results",
}
GROUP_HELP = {"teacher": "fine-tune the teacher and label the transfer set", "export": "export models to ONNX"}


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _command_modules() -> dict[tuple[str, ...], object]:
    return {words: importlib.import_module(f"edge_distill.toolkit.commands.{name}") for words, name in COMMANDS.items()}


def build_parser() -> argparse.ArgumentParser:
    """The full parser (every command registers its own arguments)."""
    parser = _Parser(
        prog="edge-distill",
        description="Distill a transformer teacher into a TF-IDF + logistic-regression student, "
        "export both to ONNX, and run them on a CPU.",
        epilog="exit codes:\n" + "\n".join(f"  {code}  {what}" for code, what in EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"edge-distill {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    groups: dict[str, argparse._SubParsersAction] = {}
    for words, mod in _command_modules().items():
        if len(words) == 1:
            p = sub.add_parser(words[0], help=mod.HELP, description=mod.__doc__)
        else:
            if words[0] not in groups:
                g = sub.add_parser(words[0], help=GROUP_HELP.get(words[0], ""))
                groups[words[0]] = g.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", parser_class=_Parser)
                groups[words[0]].required = True
            p = groups[words[0]].add_parser(words[1], help=mod.HELP, description=mod.__doc__)
        p.formatter_class = argparse.RawDescriptionHelpFormatter
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edge-distill`` console script: the exit code follows the error's type
    (:data:`edge_distill.runtime.errors.EXIT_CODES`)."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_command("edge-distill", lambda: args._run(args))


if __name__ == "__main__":
    sys.exit(main())
