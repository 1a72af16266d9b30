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
    from edge_distill.toolkit.api import merge_logits  # the 'train' extra

    result = merge_logits(args.dir)
    emit(args, result, f"merged {result.shards} shards, {result.texts} texts, into {result.path}")
    return 0
