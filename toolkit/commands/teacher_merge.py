"""Merge the logits shards of DIR/logits/shards into DIR/logits/logits.npz.

Refuses when a shard is missing, present twice (shards of different N mixed, or a shard
file holding another shard's texts), unfinished, or labeled with another teacher or data.
An unsharded 'teacher label' run merges by itself; this is for --shard I/N runs.
"""

from __future__ import annotations

import argparse

from edge_distill.toolkit.commands.common import add_json, emit

HELP = "merge teacher logits shards into DIR/logits/logits.npz"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The run folder."""
    p.add_argument("dir", metavar="DIR", help="run folder holding logits/shards/")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    """Check and merge."""
    from edge_distill.toolkit.data import DataError
    from edge_distill.toolkit.logits import LogitsError
    from edge_distill.toolkit.teacher.shards import merge_shards

    try:
        path, summary = merge_shards(args.dir)
    except LogitsError as exc:
        raise DataError(str(exc)) from exc
    emit(args, summary, f"merged {summary['shards']} shards, {summary['texts']} texts, into {path}")
    return 0
