"""Class names and labels: where the names come from and what each raw label means.

Classes, in this order (never guessed from a data set's or file's name): ``label_names``
(``--label-names``); else a ``classes.txt`` beside the data (line *i* names class *i*; for a
single file, in its folder); else the names a Parquet file's Hugging Face ``ClassLabel`` column
carries; else the label strings themselves (sorted). Integer labels without
names become ``"0"``..``"K-1"`` and the corpus records ``names_given=False`` so the report can
say so; other integers (star ratings) are classes named by their values. An int label is an index
into the names, a string label must be one of them; JSON ``true``/``false`` read as the strings
``"true"``/``"false"`` (as a CSV gives them) and ``"3.0"`` as ``3`` (as pandas writes an integer
column with gaps). The label ``-1`` or JSON ``null`` means *unlabeled*, never a class; an empty
label cell is an error. Every bad label is named by its file and line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.records import Record, parquet_class_names, read_lines

log = logging.getLogger("edge_distill.data")

UNLABELED = -1
CLASSES_FILE = "classes.txt"
#: what the names are when none were given: the class ids as strings
NAMES_FROM_IDS = "class ids (no names given)"
#: integer labels that are not the ids 0..K-1 (star ratings 1..5, codes 10, 20, 30): each value is a class
NAMES_FROM_VALUES = "the label values"


@dataclass(frozen=True)
class Classes:
    """The class names in id order and where they came from (for messages and the report)."""

    names: tuple[str, ...]
    origin: str  # "--label-names", a classes.txt path, "the label strings" or NAMES_FROM_IDS

    @property
    def given(self) -> bool:
        """False when the names are only the class ids."""
        return self.origin != NAMES_FROM_IDS

    @cached_property
    def by_value(self) -> bool:
        """Integer labels name their class by value (:func:`names_are_values`), decided once per data set."""
        return names_are_values(self.names)


#: an integer label as text: ASCII digits ("³" is a name) without leading zeros ("007" is a name, or
#: "7" and "007" would be one class), "3.0" as pandas writes an int column with gaps
_INT_LABEL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.0*)?")


def normal_label(raw: object, where: str) -> int | str | None:
    """A raw label as a class id or value (int), a name (stripped str), or None (unlabeled: -1 or
    null); what cannot be a label is refused here, naming the file and line."""
    if isinstance(raw, bool):
        return str(raw).lower()  # JSON true/false, as a CSV gives them
    if isinstance(raw, np.integer):
        raw = int(raw)
    if isinstance(raw, float):
        if not raw.is_integer():
            raise DataError(f"{where}: label {raw!r} is not a whole number (a class id, value or name)")
        raw = int(raw)
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            raise DataError(f"{where}: missing label (an empty cell; -1 marks an unlabeled text)")
        if _INT_LABEL.fullmatch(raw):
            raw = int(raw.split(".")[0])
    if raw is None or raw == UNLABELED:
        return None
    if isinstance(raw, int) and raw < 0:
        raise DataError(f"{where}: negative label {raw} (only -1, meaning unlabeled, is allowed)")
    if not isinstance(raw, (int, str)):
        raise DataError(f"{where}: label {raw!r} is a {type(raw).__name__}, expected a class id or name")
    return raw


def label_id(raw: object, classes: Classes, where: str) -> int:
    names = classes.names
    if isinstance(raw, str) and raw.strip() in names:  # a given name as written ("007", "3.0")
        return names.index(raw.strip())
    value = normal_label(raw, where)
    if value is None:
        return UNLABELED
    if isinstance(value, int) and not classes.by_value:
        if value < len(names):
            return value
        raise DataError(
            f"{where}: label {value} is not a class id 0..{len(names) - 1} "
            f"(classes from {classes.origin}: {list(names)})"
        )
    if str(value) in names:
        return names.index(str(value))
    raise DataError(f"{where}: unknown label {raw!r} (classes from {classes.origin}: {list(names)})")


def names_are_values(names: Sequence[str]) -> bool:
    """True where every class name is an integer and the names are not the ids "0".."K-1": an integer
    label then names its class by value (star ratings 1..5), whether the names were inferred or given
    (a later stage gets the inferred names as ``label_names``)."""
    return all(n.lstrip("-").isdigit() for n in names) and tuple(names) != tuple(map(str, range(len(names))))


def infer_classes(raw_labels: Iterable[object]) -> Classes:
    """Classes from raw labels alone: ints 0..K-1 are ids (names "0".."K-1", not given), other
    ints their sorted values (:data:`NAMES_FROM_VALUES`), strings sorted."""
    return infer_classes_of(Record("", raw, f"labels[{i}]") for i, raw in enumerate(raw_labels))


def infer_classes_of(records: Iterable[Record]) -> Classes:
    """:func:`infer_classes` of records, each bad label named by its file and line."""
    ints: dict[int, str] = {}
    strs: dict[str, str] = {}
    for r in records:
        value = normal_label(r.label, r.where)
        if value is not None:
            (ints if isinstance(value, int) else strs).setdefault(value, r.where)  # type: ignore[arg-type]
    if ints and strs:
        (i, wi), (n, wn) = next(iter(ints.items())), next(iter(strs.items()))
        raise DataError(
            f"{wn}: label {n!r} is a name but {wi} has the integer label {i}: "
            "give the class names (--label-names, or a classes.txt) to read both"
        )
    if strs:
        names = tuple(sorted(strs))
        _warn_case_twins(names)
        return Classes(names, "the label strings")
    if ints and len(ints) != max(ints) + 1:  # 1..5 stars are 5 classes, not 6 with an empty class 0
        return Classes(tuple(str(i) for i in sorted(ints)), NAMES_FROM_VALUES)
    return Classes(tuple(str(i) for i in range(max(ints) + 1)) if ints else (), NAMES_FROM_IDS)


def _warn_case_twins(names: Sequence[str]) -> None:
    """Names that differ only in case are different classes: say so, as it is rarely meant."""
    by_folded: dict[str, list[str]] = {}
    for n in names:
        by_folded.setdefault(n.casefold(), []).append(n)
    for twins in (t for t in by_folded.values() if len(t) > 1):
        log.warning("the labels %s differ only in case: they are %d different classes", twins, len(twins))


def read_classes_file(path: Path) -> tuple[str, ...]:
    """Class names from a ``classes.txt``: one a line, line *i* names class *i*.

    Empty lines (but blank lines at the end, as editors leave them), duplicate names and a single
    class are refused.
    """
    names: list[str] = []
    lines = [line.rstrip("\r\n") for _, line in read_lines(path)]
    while lines and not lines[-1].strip():
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            raise DataError(f"{path}:{lineno}: empty line (line i must name class i)")
        if name in names:
            raise DataError(f"{path}:{lineno}: duplicate class name {name!r} (also line {names.index(name) + 1})")
        names.append(name)
    check_class_count(names, str(path))
    return tuple(names)


def check_class_count(names: Sequence[str], origin: str, n_unlabeled: int = 0) -> None:
    if len(names) < 2:
        why = f" ({n_unlabeled:,} rows labeled -1 or null are unlabeled texts, not a class)" if n_unlabeled else ""
        raise DataError(
            f"{origin}: {len(names)} class{'' if len(names) == 1 else 'es'} {list(names)}: "
            f"a classifier needs at least two{why}"
        )


def embedded_classes(files: Sequence[Path], label_field: str | int | None) -> Classes | None:
    """The names a Hugging Face ``ClassLabel`` label column carries in Parquet ``files``' metadata
    (None where none does); files that name the classes differently are refused."""
    found = [(f, names) for f in files if (names := parquet_class_names(f, label_field))]
    for f, names in found[1:]:
        if names != found[0][1]:
            raise DataError(
                f"{found[0][0]} and {f} name the classes differently: {list(found[0][1])} and {list(names)}"
            )
    if not found:
        return None
    where = f"{found[0][0]}" if len(found) == 1 else f"{found[0][0].parent} ({len(found)} Parquet files)"
    return Classes(found[0][1], f"{where}: ClassLabel")


def resolve_classes(
    label_names: Sequence[str] | None,
    classes_file: Path | None,
    records: Iterable[Record],
    embedded: Classes | None = None,
) -> Classes:
    """``label_names``, else ``classes_file`` (when it exists), else the names the files carry
    (``embedded``), else the labels themselves."""
    if label_names:
        names = tuple(str(n).strip() for n in label_names)
        if len(set(names)) != len(names) or not all(names):
            raise DataError(f"--label-names {list(names)}: names must be distinct and non-empty")
        if str(UNLABELED) in names:
            raise DataError(f"--label-names {list(names)}: -1 cannot name a class (-1 marks an unlabeled text)")
        check_class_count(names, "--label-names")
        return Classes(names, "--label-names")
    if classes_file is not None and classes_file.is_file():
        return Classes(read_classes_file(classes_file), str(classes_file))
    if embedded is not None:
        check_class_count(embedded.names, embedded.origin)
        return embedded
    return infer_classes_of(records)
