"""Classify texts with an exported student or teacher (needs only the runtime install).

Texts come from the arguments, or from stdin as JSON Lines ({"text": ...} per line; plain
lines with --plain). One JSON object per text is printed: {"label": ..., "probabilities":
{class: p, ...}}. Examples:

  edge-distill predict student.onnx "A wonderful film." "Dull and far too long."
  zcat reviews.jsonl.gz | edge-distill predict teacher.int8.onnx > predictions.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

HELP = "classify texts with a student or teacher ONNX file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Model, texts and batching."""
    p.add_argument("model", metavar="MODEL", help="a student.onnx or teacher(.int8).onnx file")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify (default: read stdin)")
    p.add_argument("--plain", action="store_true", help="stdin holds one text per line instead of JSON Lines")
    p.add_argument("--field", default="text", help="the text field of each JSON line (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=256, help="texts per call (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: its choice)")


def _stdin_texts(plain: bool, field: str) -> Iterator[str]:
    from toolkit.data import DataError

    for lineno, line in enumerate(sys.stdin, start=1):
        if plain:
            yield line.rstrip("\r\n")
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"stdin:{lineno}: not valid JSON ({exc.msg}); use --plain for plain text") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get(field), str):
            raise DataError(f"stdin:{lineno}: expected an object with a string {field!r} field")
        yield obj[field]


def _batches(texts: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for t in texts:
        batch.append(t)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run(args: argparse.Namespace) -> int:
    """Load the model once, stream batches, print one JSON line per text."""
    import runtime
    from toolkit.data import DataError

    if args.batch_size < 1:
        raise DataError(f"--batch-size must be >= 1, got {args.batch_size}")
    clf = runtime.load(args.model, threads=args.threads)
    texts = iter(args.texts) if args.texts else _stdin_texts(args.plain, args.field)
    out = sys.stdout
    for batch in _batches(texts, args.batch_size):
        if hasattr(clf, "predict_with_proba"):
            labels, proba = clf.predict_with_proba(batch)
        else:
            proba = clf.predict_proba(batch)
            labels = [clf.labels[i] for i in proba.argmax(axis=1)]
        for label, row in zip(labels, proba.tolist(), strict=True):
            out.write(json.dumps({"label": label, "probabilities": dict(zip(clf.labels, row, strict=True))},
                                 ensure_ascii=False) + "\n")
        out.flush()
    return 0
