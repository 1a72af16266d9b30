"""Output options several commands share: ``--json`` and how a result is printed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_json(p: argparse.ArgumentParser) -> None:
    """``--json``: print one JSON object instead of the human-readable report."""
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def emit(args: argparse.Namespace, result: Any, human: str) -> None:
    """Print ``result`` (an API result, or a dict) as JSON with ``--json``, else the human-readable text."""
    if getattr(args, "json", False):
        data = result.to_dict() if hasattr(result, "to_dict") else result
        json.dump(data, sys.stdout, indent=2, sort_keys=True, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(human.rstrip("\n") + "\n")
