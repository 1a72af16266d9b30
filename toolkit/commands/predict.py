"""Classify texts with an exported student or teacher (needs only the runtime install).

Texts come from the arguments, or from stdin as JSON Lines ({"text": ...} per line; plain
lines with --plain). One JSON object per text is printed: {"label": ..., "probabilities":
{class: p, ...}}. Examples:

  edge-distill predict student.onnx "A wonderful film." "Dull and far too long."
  zcat reviews.jsonl.gz | edge-distill predict teacher.int8.onnx > predictions.jsonl
  edge-distill predict student.onnx "So-so." --cascade teacher.int8.onnx --spec cascade.json
    (the student answers; below the spec's confidence threshold the teacher is asked too)

Bad records (a line that is not valid UTF-8, not JSON, not an object, or has no string text
field) are each reported on stderr as one line, "stdin:LINE: problem". Exit codes:
  0  every record answered
  2  bad arguments or bad records: stdout then holds the answers for the records before the
     first bad one, stderr one line per bad record in the whole input
  3  --skip-bad and some records were bad: every good record was answered (each answer then
     carries its stdin "line" number), and stderr lists the bad ones
  4  a model file refused (damaged, wrong kind or format version)
  141  stdout closed early (| head): the answers stop, no traceback
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from edge_distill import runtime
from edge_distill.runtime.cascade import CascadeClassifier, read_spec
from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.arguments import non_negative_float, positive_int

HELP = "classify texts with a student or teacher ONNX file"
EXIT_SKIPPED = 3


@dataclass(frozen=True)
class Record:
    """One input record: its 1-based stdin line (or argument position) and its text or problem."""

    line: int
    text: str | None = None
    problem: str | None = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Model, texts and batching."""
    p.add_argument("model", metavar="MODEL", help="a student.onnx or teacher(.int8).onnx file")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify (default: read stdin)")
    p.add_argument("--plain", action="store_true", help="stdin holds one text per line instead of JSON Lines")
    p.add_argument("--field", default="text", help="the text field of each JSON line (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=256, help="texts per call (default: %(default)s)")
    p.add_argument("--threads", type=positive_int, default=None, help="onnxruntime threads (default: its choice)")
    p.add_argument("--cascade", metavar="TEACHER", help="MODEL is a student; ask TEACHER where it is unsure")
    p.add_argument(
        "--threshold", type=non_negative_float, help="with --cascade: ask the teacher below this student confidence"
    )
    p.add_argument(
        "--spec", metavar="FILE", help="with --cascade: take --threshold and the combination from a cascade.json"
    )
    p.add_argument("--combine", choices=("average", "teacher"), default=None, help="with --cascade (default: average)")
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="answer the good records and report the bad ones on stderr (exit 3 if any was bad) "
        "instead of stopping at the first bad record (exit 2)",
    )


def _stdin_lines() -> Iterator[tuple[int, bytes | str]]:
    """Raw stdin lines without their line break; bytes when stdin has a binary buffer, so that
    invalid UTF-8 is one bad record instead of a crash of the whole stream."""
    source = getattr(sys.stdin, "buffer", sys.stdin)
    for lineno, line in enumerate(source, start=1):
        yield lineno, line.rstrip(b"\r\n" if isinstance(line, bytes) else "\r\n")


def _decode(raw: bytes | str, lineno: int) -> tuple[str | None, str | None]:
    """The line as str, or the problem that stops it from being one."""
    if isinstance(raw, str):
        return raw, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)"
    if lineno == 1 and text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark some editors put at the start of a file
    return text, None


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type, as the user wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {list: "an array", dict: "an object", str: "a string"}.get(type(value), type(value).__name__)


def parse_record(raw: bytes | str, lineno: int, plain: bool, field: str) -> Record | None:
    """One stdin line as a :class:`Record`; ``None`` for a blank JSON Lines line (skipped)."""
    line, problem = _decode(raw, lineno)
    if line is None:
        return Record(lineno, problem=problem)
    if plain:
        return Record(lineno, text=line)
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Record(lineno, problem=f"not valid JSON ({exc.msg}); use --plain for plain text")
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting deeper than Python's stack
        return Record(lineno, problem=f"not readable JSON ({type(exc).__name__}: {str(exc)[:80]})")
    if not isinstance(obj, dict):
        return Record(lineno, problem=f"expected a JSON object with a string {field!r} field, got {_json_type(obj)}")
    if field not in obj:
        return Record(lineno, problem=f"no {field!r} field (keys: {str(sorted(obj)[:5])[:120]})")
    if not isinstance(obj[field], str):
        return Record(lineno, problem=f"field {field!r} is {_json_type(obj[field])}, expected a string")
    return Record(lineno, text=obj[field])


def _records(args: argparse.Namespace) -> Iterator[Record]:
    if args.texts:
        for i, t in enumerate(args.texts, start=1):
            yield Record(i, text=t)
        return
    for lineno, raw in _stdin_lines():
        rec = parse_record(raw, lineno, args.plain, args.field)
        if rec is not None:
            yield rec


def _cascade(args: argparse.Namespace):
    """MODEL (a student) and --cascade TEACHER, with the threshold from --threshold or --spec."""

    if (args.threshold is None) == (args.spec is None):
        raise DataError("--cascade needs exactly one of --threshold T or --spec cascade.json")
    spec = read_spec(args.spec) if args.spec else {"threshold": args.threshold, "combine": "average"}
    if not (0 <= spec["threshold"] < float("inf")):
        raise DataError(f"--threshold must be a number >= 0, got {spec['threshold']}")
    student = runtime.load(args.model, threads=args.threads, kind="student")
    teacher = runtime.load(args.cascade, threads=args.threads, kind="teacher")
    return CascadeClassifier(student, teacher, spec["threshold"], args.combine or spec["combine"])


def run(args: argparse.Namespace) -> int:
    """Load the model once, stream batches, print one JSON line per good text."""
    if not args.cascade and (args.threshold is not None or args.spec or args.combine):
        raise DataError("--threshold, --spec and --combine go with --cascade TEACHER")
    clf = _cascade(args) if args.cascade else runtime.load(args.model, threads=args.threads)
    out, err = sys.stdout, sys.stderr

    def answer(batch: list[Record]) -> None:
        texts = [r.text or "" for r in batch]
        labels, proba = clf.predict_with_proba(texts)
        for rec, label, row in zip(batch, labels, proba.tolist(), strict=True):
            obj = {"label": label, "probabilities": dict(zip(clf.labels, row, strict=True))}
            if args.skip_bad:
                obj["line"] = rec.line
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()

    batch: list[Record] = []
    bad = 0
    for rec in _records(args):
        if rec.problem is not None:
            bad += 1
            err.write(f"edge-distill: error: stdin:{rec.line}: {rec.problem}\n")
            err.flush()
            if not args.skip_bad and bad == 1 and batch:
                answer(batch)  # the records before the first bad one are still answered
                batch = []
            continue
        if bad and not args.skip_bad:
            continue  # keep reading only to report every bad record
        batch.append(rec)
        if len(batch) == args.batch_size:
            answer(batch)
            batch = []
    if batch:
        answer(batch)
    if bad:
        return EXIT_SKIPPED if args.skip_bad else 2
    return 0
