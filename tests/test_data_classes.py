"""Where class names come from, the validation split, and every kind of bad input the issue lists.

Files use headers the loaders have never seen (``utterance``/``intent``, ``body``/``cat``), in
CSV, TSV and JSONL, with string and integer labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_distill.toolkit.classes import NAMES_FROM_IDS, NAMES_FROM_VALUES
from edge_distill.toolkit.data import (
    DataError,
    load_dataset,
    load_splits,
    make_splits,
)

INTENTS = ("book", "cancel", "weather")


def _rows(n: int, k: int = 3) -> list[tuple[str, int]]:
    return [(f"utterance number {i} about {INTENTS[i % k]}", i % k) for i in range(n)]


def _csv(path: Path, rows, sep: str = ",", header=("utterance", "intent")) -> Path:
    path.write_text(sep.join(header) + "\n" + "".join(f"{t}{sep}{y}\n" for t, y in rows), encoding="utf-8")
    return path


def _jsonl(path: Path, rows, text="body", label="cat") -> Path:
    path.write_text("".join(json.dumps({text: t, label: y}) + "\n" for t, y in rows), encoding="utf-8")
    return path


def _classes(folder: Path, names) -> Path:
    (folder / "classes.txt").write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return folder / "classes.txt"


def test_int_labels_without_names_are_ids_and_recorded(tmp_path: Path) -> None:
    p = _csv(tmp_path / "intents.csv", _rows(30))
    c = load_dataset(p, text_field="utterance", label_field="intent")["intents"]
    assert c.label_names == ("0", "1", "2") and not c.names_given and c.names_from == NAMES_FROM_IDS
    s = make_splits({"train": c}, n_labeled=9, n_unlabeled=5, n_test=6, seed=0)
    assert not s.names_given and "no names given" in s.describe()
    assert s.classes_record() == {"names": ["0", "1", "2"], "given": False, "from": NAMES_FROM_IDS}


def test_int_labels_that_are_not_the_ids_0_to_k_are_values(tmp_path: Path) -> None:
    """Star ratings 1, 2, 4, 5 (no 0, no 3) are four classes named by their values, not six ids with
    two empty classes (which stopped the run: "class '0' (id 0) has no example")."""
    stars = [f"review {i}: {'great' if s > 3 else 'poor'} film" for i, s in enumerate([1, 2, 4, 5] * 10)]
    rows = list(zip(stars, [1, 2, 4, 5] * 10, strict=True))
    p = _jsonl(tmp_path / "reviews.jsonl", rows, text="review", label="stars")
    c = load_dataset(p, text_field="review", label_field="stars")["reviews"]
    assert c.label_names == ("1", "2", "4", "5") and c.names_from == NAMES_FROM_VALUES and c.names_given
    assert c.labels[:4].tolist() == [0, 1, 2, 3]
    s = make_splits({"train": c}, n_labeled=8, n_unlabeled=0, n_test=8, seed=0, n_validation=0)
    assert s.classes_record() == {"names": ["1", "2", "4", "5"], "given": True, "from": NAMES_FROM_VALUES}
    # a later stage of a run gets the inferred names as label_names: the values still name the classes
    given = load_dataset(p, text_field="review", label_field="stars", label_names=["1", "2", "4", "5"])["reviews"]
    assert given.labels.tolist() == c.labels.tolist()
    _csv(tmp_path / "more.csv", [("a", 1), ("b", 3), ("c", 1), ("d", 4)], header=("review", "stars"))
    more = load_dataset(tmp_path / "more.csv", text_field="review", label_field="stars")["more"]
    assert more.label_names == ("1", "3", "4") and more.labels.tolist() == [0, 1, 0, 2]  # CSV strings, same rule
    _csv(tmp_path / "pair.csv", [("a", 1), ("b", 2)], header=("review", "stars"))
    pair = load_dataset(tmp_path / "pair.csv", text_field="review", label_field="stars")["pair"]
    assert pair.label_names == ("1", "2")


def test_names_from_option_then_classes_txt_then_strings(tmp_path: Path) -> None:
    p = _csv(tmp_path / "intents.tsv", _rows(30), sep="\t")
    kw = {"text_field": "utterance", "label_field": "intent"}
    _classes(tmp_path, INTENTS)
    c = load_dataset(p, **kw)["intents"]  # classes.txt beside a single file
    assert c.label_names == INTENTS and c.names_given and c.names_from.endswith("classes.txt")
    c = load_dataset(p, label_names=["B", "C", "W"], **kw)["intents"]  # the option wins
    assert c.label_names == ("B", "C", "W") and c.names_from == "--label-names"
    strings = [(t, INTENTS[y]) for t, y in _rows(30)]
    (tmp_path / "classes.txt").unlink()
    c = load_dataset(_jsonl(tmp_path / "s.jsonl", strings), text_field="body", label_field="cat")["s"]
    assert c.label_names == INTENTS and c.names_from == "the label strings"
    assert [c.label_names[y] for y in c.labels] == [y for _, y in strings]
    # string labels mapped through a classes.txt in another order keep the file's order
    _classes(tmp_path, ("weather", "book", "cancel"))
    c = load_dataset(tmp_path / "s.jsonl", text_field="body", label_field="cat")["s"]
    assert c.label_names == ("weather", "book", "cancel")
    assert [c.label_names[y] for y in c.labels] == [y for _, y in strings]


def test_folder_with_dev_split_and_classes_txt(tmp_path: Path) -> None:
    rows = _rows(120)
    _jsonl(tmp_path / "train.jsonl", rows[:80])
    _jsonl(tmp_path / "dev.jsonl", rows[80:100])
    _jsonl(tmp_path / "test.jsonl", rows[100:])
    _classes(tmp_path, INTENTS)
    s = load_splits(tmp_path, n_labeled=30, n_unlabeled=None, n_test=None, seed=0, text_field="body", label_field="cat")
    assert s.label_names == INTENTS
    assert set(s.test.texts) == {t for t, _ in rows[100:]}
    assert set(s.validation.texts) == {t for t, _ in rows[80:100]} and s.origins["validation"] == "the 'dev' split"
    assert not set(s.unlabeled.texts) & set(s.validation.texts)
    s = make_splits(
        load_dataset(tmp_path, text_field="body", label_field="cat"),
        n_labeled=30,
        n_unlabeled=0,
        n_test=None,
        seed=0,
        test_split="dev",
    )
    assert set(s.test.texts) == {t for t, _ in rows[80:100]}
    assert "carved from 'train'" in s.origins["validation"] and set(s.validation.texts) <= {t for t, _ in rows[:80]}
    none = make_splits(
        load_dataset(tmp_path, text_field="body", label_field="cat"),
        n_labeled=30,
        n_unlabeled=0,
        n_test=None,
        seed=0,
        n_validation=0,
    )
    assert len(none.validation) == 0 and "validation" not in none.origins


@pytest.mark.parametrize(
    ("classes", "rows", "message"),
    [
        (INTENTS[:2], _rows(12), r"train\.csv:4: label 2 is not a class id 0\.\.1 \(classes from .*classes\.txt"),
        (("book", "cancel", "book"), _rows(12), r"classes\.txt:3: duplicate class name 'book' \(also line 1\)"),
        (("book", "", "weather"), _rows(12), r"classes\.txt:2: empty line"),
        (("book",), _rows(12, 1), r"classes\.txt: 1 class \['book'\]: a classifier needs at least two"),
        (("book", "cancel"), [("a", "book"), ("b", "travel")], r"train\.csv:3: unknown label 'travel' \(classes from"),
    ],
)
def test_classes_txt_that_disagrees_with_the_data(tmp_path: Path, classes, rows, message: str) -> None:
    _classes(tmp_path, classes)
    _csv(tmp_path / "train.csv", rows)
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path, text_field="utterance", label_field="intent")


@pytest.mark.parametrize(
    ("rows", "kwargs", "message"),
    [
        (
            [("a", 0), ("b", 5)],
            {"label_names": ["x", "y"]},
            r"r\.csv:3: label 5 is not a class id 0\.\.1 \(classes from --label-names",
        ),
        ([("a", "x"), ("b", "z")], {"label_names": ["x", "y"]}, r"r\.csv:3: unknown label 'z'"),
        ([("a", "x"), ("b", "x")], {}, r"r\.csv: 1 class \['x'\]: a classifier needs at least two"),
        ([("a", 0), ("b", 0)], {}, r"r\.csv: 1 class \['0'\]"),
        ([("a", 0), ("b", 1)], {"label_names": ["only"]}, r"--label-names: 1 class"),
        ([("a", 0), ("", 1)], {}, r"r\.csv:3: empty text"),
        ([("a", 0), ("   ", 1)], {}, r"r\.csv:3: empty text"),
    ],
)
def test_bad_labels_and_texts(tmp_path: Path, rows, kwargs, message: str) -> None:
    _csv(tmp_path / "r.csv", rows, header=("body", "cat"))
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path / "r.csv", text_field="body", label_field="cat", **kwargs)


def test_empty_text_column_jsonl(tmp_path: Path) -> None:
    p = _jsonl(tmp_path / "x.jsonl", [("fine", 0), ("", 1)], text="utterance", label="intent")
    with pytest.raises(DataError, match=r"x\.jsonl:2: empty text"):
        load_dataset(p, text_field="utterance", label_field="intent")


def test_class_without_labeled_example_names_the_class(tmp_path: Path) -> None:
    _classes(tmp_path, (*INTENTS, "complain"))  # declared, never used by the data
    _csv(tmp_path / "train.csv", _rows(40))
    ds = load_dataset(tmp_path, text_field="utterance", label_field="intent")
    with pytest.raises(DataError, match=r"class 'complain' \(id 3\) has no example among the 20 labeled texts"):
        make_splits(ds, n_labeled=20, n_unlabeled=0, n_test=10, seed=0)
    # a rare class still gets one labeled example in a stratified draw
    rows = _rows(60, 2) + [("the only weather question", 2)] * 1 + [("another weather one", 2)]
    _csv(tmp_path / "train.csv", rows)
    (tmp_path / "classes.txt").unlink()
    s = make_splits(
        load_dataset(tmp_path, text_field="utterance", label_field="intent"),
        n_labeled=10,
        n_unlabeled=0,
        n_test=0,
        seed=0,
        n_validation=0,
    )
    assert np.bincount(s.labeled.labels).tolist()[2] == 1
    with pytest.raises(DataError, match=r"class '2' \(id 2\) has no example"):
        make_splits(
            load_dataset(tmp_path, text_field="utterance", label_field="intent"),
            n_labeled=2,
            n_unlabeled=0,
            n_test=0,
            seed=0,
            n_validation=0,
        )


def test_heldout_texts_never_test_nor_training(tmp_path: Path) -> None:
    from edge_distill.toolkit.teacher.heldout import heldout_texts

    rows = _rows(150)
    _jsonl(tmp_path / "train.jsonl", rows[:100])
    _jsonl(tmp_path / "validation.jsonl", rows[100:120])
    _jsonl(tmp_path / "test.jsonl", rows[120:])
    record = {"data": str(tmp_path), "labeled": 30, "test": None, "seed": 0, "text_field": "body", "label_field": "cat"}
    s = load_splits(tmp_path, n_labeled=30, n_unlabeled=0, n_test=None, seed=0, text_field="body", label_field="cat")
    held = heldout_texts(record, 500)
    assert len(held) == 70 and held.is_labeled
    assert not set(held.texts) & (set(s.labeled.texts) | set(s.test.texts) | set(s.validation.texts))
    record["labeled"] = 100  # all of train is labeled: the validation set is what is left
    assert set(heldout_texts(record, 500).texts) == {t for t, _ in rows[100:120]}
