"""Write the docs' results page from run folders: one row per run, never copied by hand.

Reads each RUN_DIR/report.json, keeps a small JSON digest of the figures the page shows under
DIGESTS (default: the page's path without .md, e.g. docs/results/), and writes the page from every
digest there, so a page can be made again from the committed digests plus any new run folders.
A digest is named after its run folder: a newer run in a folder of the same name replaces it.

examples:
  edge-distill results runs/imdb runs/sst2 runs/trec runs/emotion --out docs/results.md
  edge-distill results --out docs/results.md            # again, from the digests alone
"""

from __future__ import annotations

import argparse
import shlex

from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.results import write_results

HELP = "write the docs' results page from run folders (their report.json)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The run folders, the page and where the digests are kept."""
    p.add_argument("runs", nargs="*", metavar="RUN_DIR", help="run folders holding a report.json")
    p.add_argument("--out", default="docs/results.md", metavar="FILE", help="the page (default: %(default)s)")
    p.add_argument(
        "--digests",
        default=None,
        metavar="DIR",
        help="where each run's digest is kept (default: the page's path without .md)",
    )
    p.add_argument(
        "--run-version",
        default=None,
        metavar="VERSION",
        help="the edge-distill version that made the runs, for reports that do not record one",
    )
    add_json(p)


def _command(args: argparse.Namespace) -> str:
    """The command as the page states it made the page."""
    words = ["edge-distill", "results", *args.runs, "--out", args.out]
    if args.digests is not None:
        words += ["--digests", args.digests]
    if args.run_version is not None:
        words += ["--run-version", args.run_version]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    """Digest the runs and write the page."""
    result = write_results(args.runs, args.out, args.digests, args.run_version, command=_command(args))
    emit(args, result, f"{result['page']}: {result['runs']} runs ({len(result['digests'])} digested now)")
    return 0
