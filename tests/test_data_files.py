"""Users' files as they come: what spreadsheets, pandas, editors and GLUE-style TSVs write.

Each case was found by feeding such a file to ``edge-distill baseline``: valid data that was
refused or misread, and bad data whose error did not name the file and line.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from edge_distill.toolkit.classes import infer_classes
from edge_distill.toolkit.data import DataError, load_dataset, make_splits

GOOD = ("a fine film", "loved every minute", "great cast and story", "a joy to watch")
BAD = ("a dull film", "hated every minute", "weak cast and story", "a chore to watch")


def _csv(path: Path, labels: list[str], header=("text", "label"), sep=",", prefix="") -> Path:
    """``labels[i]`` for the i-th text, alternating good and bad reviews."""
    texts = [(GOOD if i % 2 else BAD)[i % 4] + f" #{i}" for i in range(len(labels))]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(prefix)
        w = csv.writer(fh, delimiter=sep)
        w.writerow(header)
        w.writerows(zip(texts, labels, strict=True))
    return path


def _jsonl(path: Path, rows: list[dict], prefix: str = "") -> Path:
    path.write_text(prefix + "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_byte_order_mark_is_not_part_of_the_first_column_record_or_class(tmp_path: Path) -> None:
    c = load_dataset(_csv(tmp_path / "r.csv", ["neg", "pos"] * 3, prefix="\ufeff"))["r"]
    assert c.label_names == ("neg", "pos") and list(c.labels) == [0, 1] * 3
    rows = [{"text": "nice", "label": 1}, {"text": "poor", "label": 0}]
    assert list(load_dataset(_jsonl(tmp_path / "j.jsonl", rows, prefix="\ufeff"))["j"].labels) == [1, 0]
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / "classes.txt").write_text("\ufeffnegative\npositive\n", encoding="utf-8")
    _jsonl(folder / "train.jsonl", rows)
    assert load_dataset(folder)["train"].label_names == ("negative", "positive")


def test_classes_file_may_end_with_blank_lines(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("negative\r\npositive\r\n\r\n\n", encoding="utf-8")
    _jsonl(tmp_path / "train.jsonl", [{"text": "nice", "label": 1}, {"text": "poor", "label": 0}])
    assert load_dataset(tmp_path)["train"].label_names == ("negative", "positive")


def test_an_empty_label_cell_is_an_error_even_without_names(tmp_path: Path) -> None:
    """It was read as a class named "" (a three-class model of 'negative', 'positive' and '')."""
    p = _csv(tmp_path / "r.csv", ["negative", "positive", "negative", "", "positive"])
    with pytest.raises(DataError, match=r"r\.csv:5: missing label"):
        load_dataset(p)


def test_two_files_of_one_split_are_refused_not_one_dropped(tmp_path: Path) -> None:
    _csv(tmp_path / "train.csv", ["neg", "pos"] * 10)
    _jsonl(tmp_path / "train.jsonl", [{"text": "nice", "label": "pos"}, {"text": "poor", "label": "neg"}])
    with pytest.raises(DataError, match=r"train\.csv and train\.jsonl are both the 'train' split"):
        load_dataset(tmp_path)


def test_labels_that_only_look_like_digits_are_names(tmp_path: Path) -> None:
    """``"³".isdigit()`` is true but it is no integer: it crashed with a ValueError."""
    c = load_dataset(_csv(tmp_path / "r.csv", ["³", "²"] * 3))["r"]
    assert c.label_names == ("²", "³") and list(c.labels) == [1, 0] * 3


def test_integer_labels_written_as_floats_read_as_in_json(tmp_path: Path) -> None:
    """pandas writes an int column with gaps as 0.0 / 1.0: the same classes as JSON's 0 and 1."""
    c = load_dataset(_csv(tmp_path / "r.csv", ["0.0", "1.0"] * 3))["r"]
    assert c.label_names == ("0", "1") and list(c.labels) == [0, 1] * 3
    named = load_dataset(tmp_path / "r.csv", label_names=["negative", "positive"])["r"]
    assert list(named.labels) == [0, 1] * 3


def test_zero_padded_labels_keep_their_zeros_and_never_merge(tmp_path: Path) -> None:
    """'001' was read as 1 (class "1"), so '7' and '007' became one class without a word."""
    c = load_dataset(_csv(tmp_path / "z.csv", ["001", "002", "003"] * 2))["z"]
    assert c.label_names == ("001", "002", "003")
    with pytest.raises(DataError, match=r"y\.csv:3: label '007' is a name but .*y\.csv:2 has the integer label 7"):
        load_dataset(_csv(tmp_path / "y.csv", ["7", "007", "12"]))


def test_json_booleans_are_the_classes_false_and_true_as_in_a_csv(tmp_path: Path) -> None:
    rows = [{"text": f"text {i}", "label": bool(i % 2)} for i in range(6)]
    c = load_dataset(_jsonl(tmp_path / "b.jsonl", rows))["b"]
    assert c.label_names == ("false", "true") and list(c.labels) == [0, 1] * 3
    csv_twin = load_dataset(_csv(tmp_path / "b.csv", ["false", "true"] * 3))["b"]
    assert csv_twin.label_names == c.label_names


def test_a_long_csv_field_is_read(tmp_path: Path) -> None:
    """The csv module refuses fields over 128 KiB by default; the same text in JSONL was read."""
    long_text = "great " * 180_000
    p = tmp_path / "long.csv"
    p.write_text(f"text,label\n{long_text},pos\nshort,neg\n", encoding="utf-8")
    assert load_dataset(p)["long"].texts[0] == long_text


def test_a_tsv_has_no_quoting(tmp_path: Path) -> None:
    """GLUE-style TSVs hold raw quotes; one opening a field was an error, or swallowed the file."""
    p = tmp_path / "q.tsv"
    p.write_text('text\tlabel\n"great" movie, really\tpos\n"unmatched quote\tneg\nplain\tpos\n', encoding="utf-8")
    c = load_dataset(p)["q"]
    assert c.texts == ['"great" movie, really', '"unmatched quote', "plain"]
    assert list(c.labels) == [1, 0, 1]


def test_a_text_only_file_beside_train_is_unlabeled(tmp_path: Path) -> None:
    _csv(tmp_path / "train.csv", ["neg", "pos"] * 20)
    (tmp_path / "unsup.csv").write_text("text\n" + "".join(f"more text {i}\n" for i in range(15)), encoding="utf-8")
    ds = load_dataset(tmp_path)
    assert ds["unsup"].is_unlabeled and len(ds["unsup"]) == 15
    s = make_splits(ds, n_labeled=10, n_unlabeled=None, n_test=10, seed=0, unlabeled_from_train=False)
    assert set(s.unlabeled.texts) == set(ds["unsup"].texts)
    (tmp_path / "test.csv").write_text("text\nno labels here\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"test\.csv: no label column 'label'"):
        load_dataset(tmp_path)  # a test file must hold labels


def test_one_file_of_labeled_and_unlabeled_rows_gives_both(tmp_path: Path) -> None:
    """-1 and null mark unlabeled rows: they become transfer texts, the others the labeled pool."""
    rows = [{"text": f"labeled {i}", "label": i % 2} for i in range(30)]
    rows += [{"text": f"unlabeled {i}", "label": -1 if i % 2 else None} for i in range(20)]
    ds = load_dataset(_jsonl(tmp_path / "mine.jsonl", rows), label_names=["neg", "pos"])
    s = make_splits(ds, n_labeled=10, n_unlabeled=None, n_test=8, seed=0, unlabeled_from_train=False)
    assert all(t.startswith("labeled") for t in [*s.labeled.texts, *s.test.texts])
    assert sorted(s.unlabeled.texts) == sorted(r["text"] for r in rows[30:])


def test_minus_one_is_never_a_class_and_the_message_says_why(tmp_path: Path) -> None:
    p = _csv(tmp_path / "pm.csv", ["-1", "1"] * 5)
    with pytest.raises(DataError, match=r"pm\.csv: 1 class \['1'\].*5 rows labeled -1 or null are unlabeled"):
        load_dataset(p)
    with pytest.raises(DataError, match=r"-1 cannot name a class"):
        load_dataset(p, label_names=["-1", "1"])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["pos", "3", "neg"], r"r\.csv:2: label 'pos' is a name but .*r\.csv:3 has the integer label 3"),
        (["1", "-2"], r"r\.csv:3: negative label -2"),
    ],
)
def test_bad_labels_name_their_file_and_line(tmp_path: Path, labels: list[str], message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_dataset(_csv(tmp_path / "r.csv", labels))


def test_names_that_differ_only_in_case_are_classes_and_a_warning(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="edge_distill.data"):
        c = load_dataset(_csv(tmp_path / "r.csv", ["Positive", "positive", "negative"] * 2))["r"]
    assert c.label_names == ("Positive", "negative", "positive")
    assert "differ only in case" in caplog.text


def test_api_labels_are_named_by_position(tmp_path: Path) -> None:
    assert infer_classes(np.array([0, 2, 1])).names == ("0", "1", "2")
    with pytest.raises(DataError, match=r"labels\[1\]: label 0\.5 is not a whole number"):
        infer_classes([1, 0.5])
