"""Loaders on small files the tests make (good and bad), the splitter, and the real shared data."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from edge_distill.toolkit import data
from edge_distill.toolkit.data import Corpus, DataError, load_dataset, make_splits, text_id

REVIEWS = {
    ("train", "pos"): ["A great film.<br /><br />Loved it", "Wonderful acting", "Superb, moving"],
    ("train", "neg"): ["Awful plot", "Boring and slow", "Worst movie ever"],
    ("train", "unsup"): ["Saw it twice", "Not sure what to think"],
    ("test", "pos"): ["Brilliant", "Wonderful acting"],  # the second one is also in train
    ("test", "neg"): ["Terrible", "Dull"],
}


def _write_acl(root: Path) -> None:
    for (split, kind), texts in REVIEWS.items():
        folder = root / "aclImdb" / split / kind
        folder.mkdir(parents=True)
        for i, t in enumerate(texts):
            (folder / f"{i}_{7 if kind == 'pos' else 2}.txt").write_text(t, encoding="utf-8")


def _check_acl(ds: dict[str, Corpus]) -> None:
    assert sorted(ds) == ["test", "train", "unsup"]
    assert ds["train"].label_names == ("negative", "positive")
    train = dict(zip(ds["train"].texts, ds["train"].labels, strict=True))
    assert train["Awful plot"] == 0 and train["Wonderful acting"] == 1
    assert ds["unsup"].is_unlabeled and len(ds["unsup"]) == 2
    assert len(ds["test"]) == 4 and ds["test"].is_labeled


def test_aclimdb_folder(tmp_path: Path) -> None:
    _write_acl(tmp_path)
    _check_acl(load_dataset(tmp_path))
    _check_acl(load_dataset(tmp_path / "aclImdb"))


def test_aclimdb_tarball_read_in_place(tmp_path: Path) -> None:
    _write_acl(tmp_path / "src")
    tar_path = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(tmp_path / "src" / "aclImdb", arcname="aclImdb")
    before = set(tmp_path.iterdir())
    _check_acl(load_dataset(tar_path))
    assert set(tmp_path.iterdir()) == before  # nothing extracted


def test_tarball_member_paths_cannot_escape(tmp_path: Path) -> None:
    """Members are read, never extracted: a '../' name writes nothing outside."""
    tar_path = tmp_path / "evil.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        for name, text in [("../../escape/train/pos/0_9.txt", b"good"), ("aclImdb/train/neg/0_1.txt", b"bad")]:
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text))
    ds = load_dataset(tar_path)
    assert sorted(ds["train"].texts) == ["bad", "good"]
    assert not (tmp_path.parent.parent / "escape").exists()


def test_damaged_tarball(tmp_path: Path) -> None:
    bad = tmp_path / "broken.tar.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DataError, match=r"broken\.tar\.gz"):
        load_dataset(bad)


def _jsonl(path: Path, rows: list, gz: bool = False) -> Path:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_and_gz_with_names(tmp_path: Path) -> None:
    _jsonl(tmp_path / "train.jsonl.gz", [{"text": "a", "label": "pos"}, {"text": "b", "label": "neg"}], gz=True)
    ds = load_dataset(tmp_path / "train.jsonl.gz")
    assert ds["train"].label_names == ("neg", "pos")
    assert list(ds["train"].labels) == [1, 0]
    ds = load_dataset(tmp_path / "train.jsonl.gz", label_names=["pos", "neg"])
    assert list(ds["train"].labels) == [0, 1]


def test_multiclass_int_labels_and_unlabeled(tmp_path: Path) -> None:
    p = _jsonl(
        tmp_path / "x.jsonl",
        [{"text": "a", "label": 2}, {"text": "b", "label": 0}, {"text": "c", "label": -1}, {"text": "d", "label": 1}],
    )
    c = load_dataset(p)["x"]
    assert c.label_names == ("0", "1", "2")
    assert list(c.labels) == [2, 0, -1, 1]
    assert not c.is_labeled and not c.is_unlabeled


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (['{"text": "a", "label": 0}', "{not json"], r"x.jsonl:2: not valid JSON"),
        (['{"text": "a", "label": 0}', '{"label": 1}'], r"x.jsonl:2: no 'text' field"),
        (['{"text": "a"}'], r"x.jsonl:1: no 'label' field"),
        (['{"text": 5, "label": 0}'], r"x.jsonl:1: text is int"),
        (["[1, 2]"], r"x.jsonl:1: expected a JSON object"),
        (['{"text": "a", "label": 0}', '{"text": "b", "label": 7}'], r"x.jsonl:2: label 7 is not a class id"),
        (['{"text": "a", "label": "pos"}', '{"text": "b", "label": "meh"}'], r"x.jsonl:2: unknown label 'meh'"),
        (['{"text": "a", "label": 0.5}'], r"x.jsonl:1: label 0.5 is not a whole number"),
        (['{"text": "a", "label": [0]}'], r"x.jsonl:1: label \[0\] is a list"),
        (['{"text": "a", "label": -2}'], r"x.jsonl:1: negative label -2"),
        ([], r"x.jsonl: empty file"),
    ],
)
def test_bad_jsonl(tmp_path: Path, rows: list[str], message: str) -> None:
    p = _jsonl(tmp_path / "x.jsonl", rows)
    names = ["pos", "neg"] if "pos" in "".join(rows) else ["n", "p"]
    with pytest.raises(DataError, match=message):
        load_dataset(p, label_names=names)


def test_invalid_utf8_names_file(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"text": "ok", "label": 0}\n{"text": "\xff\xfe", "label": 1}\n')
    with pytest.raises(DataError, match=r"x\.jsonl: not valid UTF-8"):
        load_dataset(p)


def test_csv_and_tsv(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text('id,review,sentiment\n1,"Great, really",pos\n2,"Bad ""film""",neg\n')
    c = load_dataset(tmp_path / "r.csv", text_field="review", label_field="sentiment")["r"]
    assert c.texts == ["Great, really", 'Bad "film"'] and list(c.labels) == [1, 0]
    (tmp_path / "r.tsv").write_text("text\tlabel\nnice\t1\nmeh\t0\n")
    c = load_dataset(tmp_path / "r.tsv")["r"]
    assert c.texts == ["nice", "meh"] and list(c.labels) == [1, 0]
    c = load_dataset(tmp_path / "r.tsv", text_field="0", label_field=None)["r"]
    assert c.is_unlabeled


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        ("", {}, r"r.csv: empty file"),
        ("text,label\n", {}, r"r.csv: empty file \(no records\)"),
        ("body,label\nx,1\n", {}, r"r.csv: no text column 'text'"),
        ("text,stars\nx,1\n", {}, r"r.csv: no label column 'label'"),
        ("text, label\nx,1\n", {}, r"no label column 'label' .*' label' has spaces around it"),
        ("text,label\nx,1\ny\n", {}, r"r.csv:3: 1 fields, the header has 2"),
        ("text,label\nx,1\ny,\n", {"label_names": ["a", "b"]}, r"r.csv:3: missing label"),
        ('text,label\n"x,1\n', {}, r"r.csv:\d+: malformed CSV"),
    ],
)
def test_bad_csv(tmp_path: Path, content: str, kwargs: dict, message: str) -> None:
    (tmp_path / "r.csv").write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path / "r.csv", **kwargs)


def test_missing_source_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"unknown file type \(expected .*\.parquet"):
        load_dataset(tmp_path / "x.xlsx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no \.jsonl"):
        load_dataset(tmp_path / "empty")


def test_imdb_download_cached_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_acl(tmp_path / "src")
    tar_path = tmp_path / "upstream.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(tmp_path / "src" / "aclImdb", arcname="aclImdb")
    monkeypatch.setenv("EDGE_DISTILL_CACHE", str(tmp_path / "cache"))
    good = data.sha256_file(tar_path)
    with pytest.raises(DataError, match="does not match the expected"):
        data.fetch_imdb(tar_path.as_uri(), "0" * 64)
    assert not (tmp_path / "cache" / "aclImdb_v1.tar.gz").exists()  # a bad download is not kept
    got = data.fetch_imdb(tar_path.as_uri(), good)
    assert data.sha256_file(got) == good
    tar_path.unlink()  # second call must reuse the cache, not download
    assert data.fetch_imdb(tar_path.as_uri(), good) == got
    monkeypatch.setattr(data, "IMDB_SHA256", good)
    monkeypatch.setattr(data, "IMDB_URL", tar_path.as_uri())
    _check_acl(load_dataset("imdb"))


def test_imdb_download_without_network_says_pass_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_DISTILL_CACHE", str(tmp_path))
    with pytest.raises(DataError, match="pass a path instead"):
        data.fetch_imdb("http://127.0.0.1:9/aclImdb_v1.tar.gz", "0" * 64, timeout=2)


# ----------------------------------------------------------------------------- splitter
def _toy(n_train: int = 60, n_test: int = 20, n_unsup: int = 30) -> dict[str, Corpus]:
    rng = np.random.default_rng(1)
    names = ("neg", "pos")
    train = Corpus([f"train text {i}" for i in range(n_train)], rng.integers(0, 2, n_train), names)
    test_texts = [f"test text {i}" for i in range(n_test - 2)] + ["train text 0", "train text 1"]
    test = Corpus(test_texts, rng.integers(0, 2, n_test), names)
    unsup = Corpus([f"unsup {i}" for i in range(n_unsup)] + ["test text 3"], np.full(n_unsup + 1, -1), names)
    return {"train": train, "test": test, "unsup": unsup}


def test_splits_are_deterministic_disjoint_and_stratified() -> None:
    ds = _toy()
    a = make_splits(ds, n_labeled=20, n_unlabeled=40, n_test=None, seed=3)
    b = make_splits(ds, n_labeled=20, n_unlabeled=40, n_test=None, seed=3)
    c = make_splits(ds, n_labeled=20, n_unlabeled=40, n_test=None, seed=4)
    assert a.labeled.texts == b.labeled.texts and a.unlabeled.texts == b.unlabeled.texts
    assert a.labeled.texts != c.labeled.texts
    lab, unl, tst = set(a.labeled.texts), set(a.unlabeled.texts), set(a.test.texts)
    assert not (lab & unl) and not (lab & tst) and not (unl & tst)
    assert len(a.test) == 20 and "train text 0" in tst  # the full test split, its overlap kept there
    assert a.unlabeled.is_unlabeled and len(a.unlabeled) == 40
    # validation: a tenth of the train rows left after the labeled draw (more than a tenth of the labeled set)
    assert a.summary() == {"labeled": 20, "unlabeled": 40, "test": 20, "validation": 4}
    val = set(a.validation.texts)  # carved from train (no validation split), disjoint from the rest
    assert a.validation.is_labeled and not val & (lab | unl | tst)
    assert "no validation split" in a.origins["validation"]
    frac = ds["train"].labels[[i for i, t in enumerate(ds["train"].texts) if t in lab]].mean()
    assert abs(a.labeled.labels.mean() - ds["train"].labels.mean()) <= 0.05 and frac == a.labeled.labels.mean()


def test_unlabeled_pool_all_and_too_many() -> None:
    ds = _toy()
    s = make_splits(ds, n_labeled=20, n_unlabeled=None, n_test=10, seed=0)
    # unsup (30 + 1 that is a test text only if drawn) + train rows not labeled (40, minus test overlaps)
    assert all(t not in set(s.test.texts) for t in s.unlabeled.texts)
    assert len(s.unlabeled) >= 30 + 40 - 2 - len(s.validation)  # validation rows are carved from train
    with pytest.raises(DataError, match="asked for 500 labeled texts"):
        make_splits(ds, n_labeled=500, n_unlabeled=0, n_test=10, seed=0)


def test_auto_unlabeled_takes_all_texts_up_to_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _toy()
    every = make_splits(ds, n_labeled=20, n_unlabeled=None, n_test=10, seed=0).unlabeled
    auto = make_splits(ds, n_labeled=20, n_unlabeled=data.AUTO, n_test=10, seed=0).unlabeled
    assert auto.texts == every.texts  # a short-text set fits the budget whole
    budget = sum(len(t) for t in every.texts[:7]) + 3  # room for 7 texts, not 8
    monkeypatch.setattr(data, "AUTO_BUDGET_CHARS", budget)
    assert data.within_budget(every.texts, budget) == 7
    small = make_splits(ds, n_labeled=20, n_unlabeled=data.AUTO, n_test=10, seed=0).unlabeled
    # a prefix of the same order: asking for that many texts draws the same ones
    assert small.texts == make_splits(ds, n_labeled=20, n_unlabeled=7, n_test=10, seed=0).unlabeled.texts
    # a long text counts as AUTO_TEXT_CHARS (the teacher reads about 512 tokens of it)
    assert data.within_budget(["x" * 10**6], 2000) == 0 and data.within_budget(["x" * 10**6] * 2, 5000) == 2


def test_auto_is_resolved_to_a_count_and_refused_elsewhere(tmp_path: Path) -> None:
    from edge_distill.toolkit.options import DataOptions, parse_size

    rows = [{"text": f"text number {i}", "label": i % 2} for i in range(200)]
    opts = DataOptions(str(_jsonl(tmp_path / "d.jsonl", rows)), labeled=20, test=20)
    assert opts.unlabeled == "auto" and parse_size("AUTO") == "auto" and parse_size("all") is None
    resolved = opts.resolved()
    assert isinstance(resolved.unlabeled, int) and resolved.unlabeled == len(opts.load().unlabeled) > 100
    assert resolved.load().unlabeled.texts == opts.load().unlabeled.texts and resolved.resolved() is resolved
    with pytest.raises(DataError, match="labeled must be a whole number"):
        DataOptions("x", labeled="auto")


def test_a_txt_file_is_one_unlabeled_text_a_line(tmp_path: Path) -> None:
    (tmp_path / "prod.txt").write_bytes(b"first text\r\n\n  \nsecond \xc3\xa9 text\nthird")
    corpus = load_dataset(tmp_path / "prod.txt")["prod"]
    assert corpus.texts == ["first text", "second é text", "third"] and corpus.is_unlabeled
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xff\n")
    with pytest.raises(DataError, match=r"bad.txt: not valid UTF-8"):
        load_dataset(tmp_path / "bad.txt")
    (tmp_path / "blank.txt").write_text("\n \n")
    with pytest.raises(DataError, match=r"blank.txt: empty file"):
        load_dataset(tmp_path / "blank.txt")


def test_unlabeled_data_joins_the_transfer_pool_and_nothing_else(tmp_path: Path) -> None:
    from edge_distill.toolkit.options import DataOptions

    rows = [{"text": f"text number {i}", "label": i % 2} for i in range(200)]
    src = str(_jsonl(tmp_path / "d.jsonl", rows))
    base = DataOptions(src, labeled=20, test=20, unlabeled=None)
    plain = base.load()
    # a labeled CSV with other labels (ignored) and one test text, and a .txt
    (tmp_path / "more.csv").write_text(f"text,label\nfrom csv 1,spam\nfrom csv 2,ham\n{plain.test.texts[0]},spam\n")
    (tmp_path / "more.txt").write_text("from txt 1\nfrom txt 2\nfrom csv 1\n")
    opts = DataOptions(src, labeled=20, test=20, unlabeled=None, unlabeled_data=[tmp_path / "more.csv", "more.txt"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        s = opts.load()
        record = opts.record()
    for name in ("labeled", "test", "validation"):  # the same draws: the extra texts only join the transfer pool
        assert getattr(s, name).texts == getattr(plain, name).texts
    added = set(s.unlabeled.texts) - set(plain.unlabeled.texts)
    assert added == {"from csv 1", "from csv 2", "from txt 1", "from txt 2"}  # repeats once, the test text never
    assert len(s.unlabeled) == len(plain.unlabeled) + 4 and s.unlabeled.is_unlabeled
    assert "4 of them from" in s.describe() and "more.csv" in s.origins["unlabeled"]
    assert record["unlabeled_data"] == [str(tmp_path / "more.csv"), str(tmp_path / "more.txt")]
    assert DataOptions.from_record(record).load().unlabeled.texts == s.unlabeled.texts
    assert "unlabeled_data" not in base.key()  # unused: the keys of runs cached before the option are kept
    with pytest.raises(DataError, match="a sequence of sources"):
        DataOptions(src, unlabeled_data="more.txt")
    with pytest.raises(DataError, match=r"nowhere\.txt: no such file"):
        DataOptions(src, unlabeled_data=["nowhere.txt"]).load()


def test_single_file_source_carves_test_from_train(tmp_path: Path) -> None:
    rows = [{"text": f"t{i}", "label": i % 3} for i in range(90)]
    ds = load_dataset(_jsonl(tmp_path / "all.jsonl", rows))
    s = make_splits(ds, n_labeled=30, n_unlabeled=20, n_test=30, seed=0)
    assert not set(s.test.texts) & (set(s.labeled.texts) | set(s.unlabeled.texts))
    assert sorted(np.bincount(s.test.labels)) == [10, 10, 10]


def test_text_id_is_stable() -> None:
    assert text_id("hello") == "aaf4c61ddcc5e8a2"
    assert text_id("hello") != text_id("hello ")


# ----------------------------------------------------------------------------- real data
def test_real_imdb_as_shared(imdb: dict[str, Corpus]) -> None:
    assert {k: len(v) for k, v in imdb.items()} == {"train": 25000, "test": 25000, "unsup": 50000}
    # no names guessed from the folder's name: bare 0/1 ids (pass --label-names negative,positive)
    assert imdb["train"].label_names == ("0", "1") and not imdb["train"].names_given
    assert np.bincount(imdb["test"].labels).tolist() == [12500, 12500]
    s = make_splits(imdb, n_labeled=1000, n_unlabeled=None, n_test=None, seed=0)
    assert len(s.test) == 25000
    assert not set(s.test.texts) & set(s.labeled.texts)
    assert not set(s.test.texts) & set(s.unlabeled.texts)  # the 123 shared texts stay out of training
    assert len(s.unlabeled) > 70000


def test_real_sst2_as_shared(sst2_dir: Path) -> None:
    ds = load_dataset(sst2_dir, label_names=["negative", "positive"])
    assert len(ds["validation"]) == 872 and ds["test-unlabeled"].is_unlabeled
    assert ds["train"].names_from == "--label-names"
    for test_split in (None, "validation"):
        s = make_splits(ds, n_labeled=200, n_unlabeled=500, n_test=None, seed=0, test_split=test_split)
        assert len(s.test) == 872  # SST-2 tests on its validation split ...
        assert len(s.validation) == 1000 and "carved from 'train'" in s.origins["validation"]  # ... so carve one
        assert not set(s.validation.texts) & set(s.test.texts)


def test_real_emotion_uses_its_validation_split(real_data_dir: Path) -> None:
    """train/validation/test with classes.txt: six named classes, validation for choices, test for tests."""
    s = data.load_splits(real_data_dir / "emotion", n_labeled=1000, n_unlabeled=0, n_test=None, seed=0)
    assert s.label_names == ("sadness", "joy", "love", "anger", "fear", "surprise") and s.names_given
    assert len(s.test) == 2000 and s.origins["validation"] == "the 'validation' split"
    assert len(s.validation) >= 1990 and not set(s.validation.texts) & set(s.test.texts)  # shared texts dropped
    assert not set(s.labeled.texts) & (set(s.validation.texts) | set(s.test.texts))
    assert np.bincount(s.labeled.labels).min() >= 30  # stratified: 'surprise' is 3.6% of train


def test_real_trec_names_from_classes_txt(real_data_dir: Path) -> None:
    s = data.load_splits(real_data_dir / "trec", n_labeled=60, n_unlabeled=0, n_test=None, seed=0)
    assert s.label_names == ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    assert np.bincount(s.labeled.labels).min() >= 1  # ABBR is 1.6%: still one example of it
    single = data.load_dataset(real_data_dir / "trec" / "test.jsonl.gz")  # one file: classes.txt beside it
    assert single["test"].label_names[0] == "ABBR"
