"""Raw records from the files users have: JSON Lines, CSV / TSV, Parquet, plain text, and a folder of them.

A record is a text, its raw label (int, str, bool, float or None, as the file holds it; the
:mod:`toolkit.classes` rules read it) and where it came from (``file:line``, for every message).
Files are read as users' tools write them: a leading UTF-8 byte order mark is dropped, a CSV field
may be any length, a TSV has no quoting (a ``"`` is text, as in GLUE's files). A folder holds one
split per file, named by its stem; two files of one split are refused, never one dropped, except the
numbered shards of one split (``train-00000-of-00002.parquet``, the Hugging Face hub's layout), which
are read in order, all of them or none. Parquet needs the ``parquet`` extra (pyarrow); a Hugging Face
``ClassLabel`` column's names come from the file's metadata (:func:`parquet_class_names`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from edge_distill.runtime.errors import DataError
from edge_distill.runtime.extras import require

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet",)
#: the files a data folder is made of
DATA_SUFFIXES = JSONL_SUFFIXES + CSV_SUFFIXES + PARQUET_SUFFIXES
#: one numbered part of a split, as the Hugging Face hub and Spark write them: ``train-00000-of-00002``
_SHARD = re.compile(r"^(?P<split>.+)-(?P<index>\d+)-of-(?P<total>\d+)$")
#: rows read from a Parquet file at a time
_PARQUET_BATCH = 65536
#: what pyarrow raises for a damaged or unreadable file (its error types derive from these)
_PARQUET_ERRORS = (OSError, ValueError, TypeError, KeyError, NotImplementedError)
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


def _columns(
    header: list[str], text_field: str | int, label_field: str | int | None, label_optional: bool, path: Path
) -> tuple[int, int | None]:
    """The text and label columns of a table; no label column where it is optional and absent."""
    ti = _column(header, text_field, path, "text")
    optional = label_optional and isinstance(label_field, str) and not label_field.isdigit()
    optional = optional and label_field not in header
    li = None if label_field is None or optional else _column(header, label_field, path, "label")
    return ti, li


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
    ti, li = _columns(header, text_field, label_field, label_optional, path)
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


def iter_parquet(
    path: Path, text_field: str | int = "text", label_field: str | int | None = "label", label_optional: bool = False
) -> Iterator[Record]:
    """Records of a Parquet file, columns by name or 0-based index; ``where`` is ``file:row N``."""
    pq = require("pyarrow.parquet", "reading Parquet files")
    try:
        with pq.ParquetFile(path) as table:
            header = list(table.schema_arrow.names)
            ti, li = _columns(header, text_field, label_field, label_optional, path)
            names = list(dict.fromkeys([header[ti]] + ([] if li is None else [header[li]])))  # may be one column
            tc, lc = names.index(header[ti]), None if li is None else names.index(header[li])
            row = 0
            for batch in table.iter_batches(batch_size=_PARQUET_BATCH, columns=names):
                texts = batch.column(tc).to_pylist()
                labels = [None] * len(texts) if lc is None else batch.column(lc).to_pylist()
                for text, label in zip(texts, labels, strict=True):
                    row += 1
                    yield Record(text, label, f"{path}:row {row}")
    except DataError:
        raise
    except _PARQUET_ERRORS as exc:
        raise DataError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from exc


def parquet_class_names(path: Path, label_field: str | int | None) -> tuple[str, ...] | None:
    """The class names of a Hugging Face ``ClassLabel`` label column, from the metadata that
    ``datasets`` writes into a Parquet file (``b"huggingface"``); None where there are none."""
    if label_field is None:
        return None
    pq = require("pyarrow.parquet", "reading Parquet files")
    try:
        schema = pq.read_schema(path)
    except _PARQUET_ERRORS as exc:
        raise DataError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from exc
    header = list(schema.names)
    try:
        name = header[_column(header, label_field, path, "label")]
    except DataError:  # a split without labels (unsup) has no label column
        return None
    try:
        features = json.loads((schema.metadata or {}).get(b"huggingface", b"{}"))["info"]["features"]
        feature = features[name]
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    names = feature.get("names") if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return tuple(names)


def _split_and_shard(path: Path) -> tuple[str, re.Match[str] | None]:
    """The split a file holds and, for a numbered shard (``train-00000-of-00002``), its match."""
    stem = file_split_stem(path)
    shard = _SHARD.match(stem)
    return (shard["split"] if shard else stem), shard


def file_split_name(path: Path) -> str:
    """The split a file holds: its name without the data suffixes (``train.jsonl.gz`` -> ``train``)
    and without a shard number (``train-00000-of-00002.parquet`` -> ``train``)."""
    return _split_and_shard(path)[0]


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
    elif name.endswith(PARQUET_SUFFIXES):
        records = list(iter_parquet(path, text_field, label_field, label_optional))
    elif name.endswith(TXT_SUFFIXES):
        records = list(iter_text_lines(path))
    else:
        raise DataError(
            f"{path}: unknown file type (expected .jsonl[.gz], .csv[.gz], .tsv[.gz], .parquet, .txt[.gz] or .tar.gz)"
        )
    if not records:
        raise DataError(f"{path}: empty file (no records)")
    return records


def _split_files(path: Path, files: Sequence[Path]) -> dict[str, list[Path]]:
    """Data files by split: one file a split, or every numbered shard of it, in order."""
    groups: dict[str, list[tuple[Path, re.Match[str] | None]]] = {}
    for f in files:
        split, shard = _split_and_shard(f)
        groups.setdefault(split, []).append((f, shard))
    out: dict[str, list[Path]] = {}
    for split, group in groups.items():
        shards = [m for _, m in group if m]
        if len(group) > 1 and len(shards) < len(group):
            raise DataError(f"{path}: {group[0][0].name} and {group[1][0].name} are both the {split!r} split: keep one")
        if shards:  # then every file of the split is a shard
            _check_shards(path, split, [(int(m["index"]), int(m["total"])) for m in shards])
            group = sorted(group, key=lambda fm: int(fm[1]["index"]))  # type: ignore[index]
        out[split] = [f for f, _ in group]
    return out


def _check_shards(path: Path, split: str, numbers: Sequence[tuple[int, int]]) -> None:
    """Refuse a split whose shards (``NAME-i-of-n``) are not exactly 0..n-1 of one n."""
    totals = {total for _, total in numbers}
    missing = sorted(set(range(max(totals))) - {index for index, _ in numbers})
    if len(totals) > 1 or missing or len(numbers) != max(totals):
        raise DataError(
            f"{path}: the {split!r} split's shards do not add up (numbered of {sorted(totals)}, "
            f"{len(numbers)} files, missing {missing[:5]}): copy every shard"
        )


def file_split_stem(path: Path) -> str:
    """A data file's name without its data suffixes (the shard number kept)."""
    for suffix in DATA_SUFFIXES + TXT_SUFFIXES + (".json.gz",):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.stem


def _no_data_files(path: Path) -> DataError:
    nested = sorted(
        d.name for d in path.iterdir() if d.is_dir() and any(f.name.endswith(DATA_SUFFIXES) for f in d.iterdir())
    )
    hint = f"; data files are in {nested[0]}/: pass --data {path / nested[0]}" if nested else ""
    return DataError(f"{path}: no .jsonl[.gz], .csv, .tsv or .parquet files and no aclImdb layout{hint}")


def data_files(path: Path) -> list[Path]:
    """The data files of a folder, in name order."""
    return sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(DATA_SUFFIXES))


def read_folder(
    path: Path, files: Sequence[Path], text_field: str | int, label_field: str | int | None, delimiter: str | None
) -> dict[str, list[Record]]:
    """One split per data file, named by its stem; two files of one split are refused (neither is
    dropped), but the numbered shards of a split are read in order. A file of a split not named
    train, test or validation may lack the label column: its texts are unlabeled (an ``unsup.csv``
    beside ``train.csv``). ``files``: :func:`data_files` of ``path``."""
    if not files:
        raise _no_data_files(path)
    raw: dict[str, list[Record]] = {}
    for split, group in _split_files(path, files).items():
        optional = split not in ("train", "test", *VALIDATION_NAMES)
        raw[split] = [r for f in group for r in read_file_records(f, text_field, label_field, delimiter, optional)]
    return raw
