"""Parquet files and the Hugging Face hub's layout: numbered shards of a split, ClassLabel names
carried in the files' metadata, and a clear line for every way such a folder can be wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge_distill.runtime.extras import MissingExtraError, require
from edge_distill.toolkit.data import DataError, load_dataset, load_unlabeled, source_digest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

NAMES = ["World", "Sports", "Business", "Sci/Tech"]  # AG News's ClassLabel order: not sorted


def _write(path: Path, columns: dict[str, list], class_names: list[str] | None = None, label: str = "label") -> Path:
    """A Parquet file as ``datasets`` writes one (its features in the b"huggingface" metadata)."""
    table = pa.table(columns)
    if class_names is not None:
        features = {name: {"dtype": "string", "_type": "Value"} for name in columns}
        features[label] = {"names": class_names, "_type": "ClassLabel"}
        meta = {b"huggingface": json.dumps({"info": {"features": features}}).encode()}
        table = table.replace_schema_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def _hub_folder(root: Path) -> Path:
    """train in two shards, test in one, each with its ClassLabel names: the hub's ``data/`` layout."""
    data = root / "data"
    _write(data / "train-00001-of-00002.parquet", {"text": ["c", "d"], "label": [2, 3]}, NAMES)
    _write(data / "train-00000-of-00002.parquet", {"text": ["a", "b"], "label": [0, 1]}, NAMES)
    _write(data / "test-00000-of-00001.parquet", {"text": ["e", "f"], "label": [3, 0]}, NAMES)
    return data


def test_hub_shards_read_in_order_with_their_class_names(tmp_path: Path) -> None:
    data = _hub_folder(tmp_path)
    ds = load_dataset(data)
    assert sorted(ds) == ["test", "train"]
    assert ds["train"].texts == ["a", "b", "c", "d"]  # shard 0 first, whatever the listing order
    assert list(ds["train"].labels) == [0, 1, 2, 3]
    assert ds["train"].label_names == tuple(NAMES)  # ClassLabel order kept, not sorted
    assert list(ds["test"].labels) == [3, 0]


def test_a_folder_holding_the_data_in_a_subfolder_says_which(tmp_path: Path) -> None:
    _hub_folder(tmp_path)
    (tmp_path / "README.md").write_text("# a dataset card\n")
    with pytest.raises(DataError, match=r"data files are in data/: pass --data .*data"):
        load_dataset(tmp_path)


def test_names_given_elsewhere_come_first(tmp_path: Path) -> None:
    data = _hub_folder(tmp_path)
    (data / "classes.txt").write_text("w\ns\nb\nt\n")
    assert load_dataset(data)["train"].label_names == ("w", "s", "b", "t")
    renamed = load_dataset(data, label_names=["a", "b", "c", "d"])
    assert renamed["train"].label_names == ("a", "b", "c", "d")


def test_string_labels_columns_by_index_and_an_unlabeled_split(tmp_path: Path) -> None:
    _write(tmp_path / "train.parquet", {"id": [1, 2, 3], "body": ["x", "y", "z"], "y": ["pos", "neg", None]})
    _write(tmp_path / "unsup.parquet", {"id": [4], "body": ["w"]})
    ds = load_dataset(tmp_path, text_field="1", label_field="y")
    assert ds["train"].label_names == ("neg", "pos")
    assert list(ds["train"].labels) == [1, 0, -1]  # null: unlabeled
    assert ds["unsup"].texts == ["w"] and list(ds["unsup"].labels) == [-1]
    one = load_dataset(tmp_path / "train.parquet", text_field="body", label_field="y")
    assert one["train"].texts == ["x", "y", "z"]
    assert [c.texts for c in load_unlabeled([str(tmp_path / "unsup.parquet")], text_field="body")] == [["w"]]


def test_float_labels_as_pandas_writes_them(tmp_path: Path) -> None:
    _write(tmp_path / "train.parquet", {"text": ["a", "b", "c"], "label": [0.0, 1.0, None]})
    ds = load_dataset(tmp_path / "train.parquet")
    assert list(ds["train"].labels) == [0, 1, -1]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"train-00000-of-00003.parquet": [0], "train-00002-of-00003.parquet": [1]}, r"missing \[1\]"),
        ({"train-00000-of-00002.parquet": [0], "train-00001-of-00003.parquet": [1]}, r"numbered of \[2, 3\]"),
        ({"train.parquet": [0], "train-00000-of-00001.parquet": [1]}, r"both the 'train' split: keep one"),
    ],
)
def test_shards_that_do_not_add_up_are_refused(tmp_path: Path, files: dict[str, list[int]], message: str) -> None:
    for name, labels in files.items():
        _write(tmp_path / name, {"text": [f"t{labels[0]}"], "label": labels})
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path)


def test_bad_parquet_input_names_the_file_and_row(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "train.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=r"train\.parquet: not a readable Parquet file"):
        load_dataset(tmp_path / "bad")
    _write(tmp_path / "empty.parquet", {"text": ["a", "  ", "c"], "label": [0, 1, 0]})
    with pytest.raises(DataError, match=r"empty\.parquet:row 2: "):
        load_dataset(tmp_path / "empty.parquet")
    _write(tmp_path / "cols.parquet", {"body": ["a", "b"], "label": [0, 1]})
    with pytest.raises(DataError, match=r"cols\.parquet: no text column 'text' \(columns: \['body', 'label'\]\)"):
        load_dataset(tmp_path / "cols.parquet")
    same = load_dataset(tmp_path / "cols.parquet", text_field="body", label_field="body")  # one column, as a CSV
    assert same["cols"].texts == ["a", "b"] and same["cols"].label_names == ("a", "b")
    _write(tmp_path / "nested.parquet", {"text": ["a", "b"], "label": [[0, 1], [1]]})
    with pytest.raises(DataError, match=r"nested\.parquet:row 1"):
        load_dataset(tmp_path / "nested.parquet")


def test_files_naming_the_classes_differently_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "train.parquet", {"text": ["a", "b"], "label": [0, 1]}, ["neg", "pos"])
    _write(tmp_path / "test.parquet", {"text": ["c", "d"], "label": [0, 1]}, ["pos", "neg"])
    with pytest.raises(
        DataError,
        match=r"test.parquet and .*train.parquet name the classes differently: \['pos', 'neg'\] and \['neg', 'pos'\]",
    ):
        load_dataset(tmp_path)
    _write(tmp_path / "test.parquet", {"text": ["c", "d"], "label": [0, 1]}, ["neg"])
    with pytest.raises(DataError, match=r"name the classes differently"):
        load_dataset(tmp_path)
    _write(tmp_path / "train.parquet", {"text": ["a", "b"], "label": [0, 0]}, ["neg"])
    with pytest.raises(DataError, match=r"1 class \['neg'\]: a classifier needs at least two"):
        load_dataset(tmp_path)


def test_a_missing_pyarrow_names_the_extra() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'edge-distill\[parquet\]'"):
        require("pyarrow.not_a_module_here", "reading Parquet files")


def test_baseline_command_on_a_hub_folder(tmp_path: Path) -> None:
    """The command line end to end on shards: a label that is no ClassLabel id is refused with its row."""
    data = tmp_path / "data"
    words = ("election war", "match goal", "stock market", "chip software")
    texts = [f"{w} news story number {i}" for i in range(20) for w in words]
    labels = [k for _ in range(20) for k in range(4)]
    half = len(texts) // 2
    _write(data / "train-00000-of-00002.parquet", {"text": texts[:half], "label": labels[:half]}, NAMES)
    _write(data / "train-00001-of-00002.parquet", {"text": texts[half:], "label": labels[half:]}, NAMES)
    _write(data / "test-00000-of-00001.parquet", {"text": ["a match goal", "the stock market"], "label": [1, 2]}, NAMES)
    cmd = [sys.executable, "-m", "edge_distill.toolkit.cli", "baseline", "--data", str(data), "--labeled", "40"]
    env = {**os.environ, "EDGE_DISTILL_NO_PROGRESS": "1"}
    res = subprocess.run([*cmd, "--out", str(tmp_path / "b"), "--json"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["label_names"] == NAMES
    _write(data / "test-00000-of-00001.parquet", {"text": ["x", "y"], "label": [1, 7]}, NAMES)
    res = subprocess.run([*cmd, "--out", str(tmp_path / "c")], capture_output=True, text=True, env=env)
    assert res.returncode == 2
    assert "test-00000-of-00001.parquet:row 2" in res.stderr and "7" in res.stderr
    assert not (tmp_path / "c").exists()


def test_hf_prefix_reads_a_local_hub_folder_offline(tmp_path: Path) -> None:
    """``hf:PATH`` goes through ``datasets`` (the hf extra), with no network, to the same splits and names."""
    pytest.importorskip("datasets")
    data = _hub_folder(tmp_path / "hub")
    code = (
        "import sys, json; from edge_distill.toolkit.data import load_dataset; "
        "ds = load_dataset('hf:' + sys.argv[1]); "
        "print(json.dumps({k: [c.texts, list(map(int, c.labels)), list(c.label_names)] for k, c in ds.items()}))"
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    res = subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["train"] == [["a", "b", "c", "d"], [0, 1, 2, 3], NAMES]
    assert got["test"] == [["e", "f"], [3, 0], NAMES]


def test_a_local_hf_source_is_digested_so_cached_stages_see_a_change(tmp_path: Path) -> None:
    data = _hub_folder(tmp_path)
    before = source_digest(f"hf:{data}")
    assert before is not None and before == source_digest(str(data))
    _write(data / "test-00000-of-00001.parquet", {"text": ["e", "g"], "label": [3, 0]}, NAMES)
    assert source_digest(f"hf:{data}") not in (None, before)
    assert source_digest("hf:no/such-dataset-here") is None
