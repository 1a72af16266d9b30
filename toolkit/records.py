"""Raw records from the files users have: JSON Lines, CSV / TSV, plain text, and a folder of them.

A record is a text, its raw label (int, str, bool, float or None, as the file holds it; the
:mod:`toolkit.classes` rules read it) and where it came from (``file:line``, for every message).
Files are read as users' tools write them: a leading UTF-8 byte order mark is dropped, a CSV field
may be any length, a TSV has no quoting (a ``"`` is text, as in GLUE's files). A folder holds one
split per file, named by its stem; two files of one split are refused, never one dropped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_distill.runtime.errors import DataError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
#: plain text, one unlabeled text a line (read as a file named on its own, never as a member of a data folder,
#: where classes.txt lives)
TXT_SUFFIXES = (".txt", ".txt.gz")
#: split names taken for a validation split (in this order of preference)
VALIDATION_NAMES = ("validation", "valid", "dev", "val")


@dataclass(frozen=True)
class Record:
    """One row of a file, its label not yet read (:func:`toolkit.classes.label_id` reads it)."""

    text: str
    label: object  # as the file holds it: int, str, bool, float or None (unlabeled)
    where: str  # "file:line" for error messages


def _open_text(path: Path) -> io.TextIOBase:
    """Open a (possibly gzipped) UTF-8 text file, a leading byte order mark dropped (Excel and
    Notepad write one)."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with _open_text(path) as fh:
            yield from enumerate(fh, start=1)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc


def iter_text_lines(path: Path) -> Iterator[Record]:
    """Unlabeled records of a plain-text file, one text a line (blank lines skipped)."""
    for lineno, line in read_lines(path):
        text = line.rstrip("\r\n")
        if text.strip():
            yield Record(text, None, f"{path}:{lineno}")


def iter_jsonl(
    path: Path, text_field: str = "text", label_field: str | None = "label", label_optional: bool = False
) -> Iterator[Record]:
    """Records of a JSON Lines file (blank lines skipped; ``label_optional``: a record without the
    label field is unlabeled)."""
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        if text_field not in obj:
            raise DataError(f"{where}: no {text_field!r} field (fields: {sorted(obj)})")
        if label_field is not None and label_field not in obj and not label_optional:
            raise DataError(f"{where}: no {label_field!r} field (fields: {sorted(obj)})")
        yield Record(obj[text_field], obj.get(label_field) if label_field else None, where)


def _column(header: list[str], name: str | int, path: Path, what: str) -> int:
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit() and name not in header):
        idx = int(name)
        if idx >= len(header):
            raise DataError(f"{path}: {what} column {idx} does not exist ({len(header)} columns)")
        return idx
    if name not in header:
        spaced = [h for h in header if h.strip() == name]
        hint = f"; {spaced[0]!r} has spaces around it: write the header without them" if spaced else ""
        raise DataError(f"{path}: no {what} column {name!r} (columns: {header}){hint}")
    return header.index(name)


#: the longest CSV field read (the csv module's default, 128 KiB, refuses a long review)
CSV_FIELD_LIMIT = 2**31 - 1


def iter_csv(
    path: Path,
    text_field: str | int = "text",
    label_field: str | int | None = "label",
    delimiter: str | None = None,
    label_optional: bool = False,
) -> Iterator[Record]:
    """Records of a CSV/TSV file with a header row; columns by name or 0-based index.

    A tab-separated file has no quoting (as GLUE's and most TSVs: a text may start with ``"``);
    ``label_optional``: a file without the label column is all unlabeled texts.
    """
    if delimiter is None:
        delimiter = "\t" if ".tsv" in path.suffixes else ","
    # the limit is process-wide in the csv module; it is only ever raised here
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    lines = (line for _, line in read_lines(path))
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(lines, delimiter=delimiter, strict=True, quoting=quoting)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: empty file (expected a header row)") from None
    except csv.Error as exc:
        raise DataError(f"{path}:1: malformed header ({exc})") from exc
    ti = _column(header, text_field, path, "text")
    optional = label_optional and isinstance(label_field, str) and not label_field.isdigit()
    optional = optional and label_field not in header
    li = None if label_field is None or optional else _column(header, label_field, path, "label")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from exc
        where = f"{path}:{reader.line_num}"
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{where}: {len(row)} fields, the header has {len(header)}")
        yield Record(row[ti], None if li is None else row[li], where)


def file_split_name(path: Path) -> str:
    """The split a file holds: its name without the data suffixes (``train.jsonl.gz`` -> ``train``)."""
    name = path.name
    for suffix in JSONL_SUFFIXES + CSV_SUFFIXES + TXT_SUFFIXES + (".json.gz",):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def read_file_records(
    path: Path,
    text_field: str | int,
    label_field: str | int | None,
    delimiter: str | None,
    label_optional: bool = False,
) -> list[Record]:
    """Every record of one data file, by its type (JSONL, CSV / TSV, plain text); an empty file is refused."""
    name = path.name
    if name.endswith(JSONL_SUFFIXES):
        records = list(iter_jsonl(path, text_field, label_field, label_optional))
    elif name.endswith(CSV_SUFFIXES):
        records = list(iter_csv(path, text_field, label_field, delimiter, label_optional))
    elif name.endswith(TXT_SUFFIXES):
        records = list(iter_text_lines(path))
    else:
        raise DataError(f"{path}: unknown file type (expected .jsonl[.gz], .csv[.gz], .tsv[.gz], .txt[.gz] or .tar.gz)")
    if not records:
        raise DataError(f"{path}: empty file (no records)")
    return records


def read_folder(
    path: Path, text_field: str | int, label_field: str | int | None, delimiter: str | None
) -> dict[str, list[Record]]:
    """One split per data file, named by its stem; two files of one split are refused (neither is
    dropped). A file of a split not named train, test or validation may lack the label column: its
    texts are unlabeled (an ``unsup.csv`` beside ``train.csv``)."""
    files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(JSONL_SUFFIXES + CSV_SUFFIXES))
    if not files:
        raise DataError(f"{path}: no .jsonl[.gz], .csv or .tsv files and no aclImdb layout")
    by_split: dict[str, Path] = {}
    raw: dict[str, list[Record]] = {}
    for f in files:
        split = file_split_name(f)
        if split in by_split:
            raise DataError(f"{path}: {by_split[split].name} and {f.name} are both the {split!r} split: keep one")
        by_split[split] = f
        optional = split not in ("train", "test", *VALIDATION_NAMES)
        raw[split] = read_file_records(f, text_field, label_field, delimiter, label_optional=optional)
    return raw
