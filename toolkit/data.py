"""Labeled text from every format users have, and one deterministic, leak-free splitter.

Readers return ``dict[split_name, Corpus]``. Sources: the aclImdb folder or its tarball (read
straight from the archive, never extracted), JSONL / JSONL.gz, CSV / TSV, a folder of such
files (one split per file, named by the file's stem, as in ``../shared/data/imdb``), a Hugging
Face ``datasets`` name (``hf:NAME``), and ``imdb`` (the official tarball, downloaded once into
a cache folder and verified by sha256).

Labels are mapped to class ids explicitly: ``label_names`` fixes the classes (an int label is
an index into it, a string label must be one of the names); without it the classes are
inferred. The label ``-1`` (or ``None`` when the label column is optional) means *unlabeled*.
Every bad input raises :class:`DataError` naming the file and line.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.atomic import atomic_path

UNLABELED = -1
SENTIMENT_LABELS = ("negative", "positive")
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_ACL_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")


def text_id(text: str) -> str:
    """A stable id for a text: the first 16 hex digits of the sha1 of its UTF-8 bytes."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class Corpus:
    """One split: texts, int64 class ids (``-1`` = unlabeled), stable ids, class names."""

    texts: list[str]
    labels: np.ndarray
    label_names: tuple[str, ...]
    ids: list[str] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        if not self.ids:
            object.__setattr__(self, "ids", [text_id(t) for t in self.texts])
        if not (len(self.texts) == len(self.labels) == len(self.ids)):
            raise ValueError("texts, labels and ids must have the same length")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def is_labeled(self) -> bool:
        """True when every text has a class."""
        return len(self) > 0 and bool(np.all(self.labels >= 0))

    @property
    def is_unlabeled(self) -> bool:
        """True when no text has a class."""
        return bool(np.all(self.labels == UNLABELED))

    def take(self, index: Sequence[int] | np.ndarray, *, drop_labels: bool = False) -> Corpus:
        """The rows at ``index``, in that order (labels set to -1 with ``drop_labels``)."""
        index = np.asarray(index, dtype=np.int64)
        labels = np.full(len(index), UNLABELED, np.int64) if drop_labels else self.labels[index]
        return Corpus(
            [self.texts[i] for i in index],
            labels,
            self.label_names,
            [self.ids[i] for i in index],
            self.source,
        )

    @staticmethod
    def concat(parts: Sequence[Corpus]) -> Corpus:
        """Join corpora that share class names."""
        names = {p.label_names for p in parts}
        if len(names) > 1:
            raise DataError(f"cannot join splits with different classes: {sorted(names)}")
        return Corpus(
            [t for p in parts for t in p.texts],
            np.concatenate([p.labels for p in parts]) if parts else np.zeros(0, np.int64),
            parts[0].label_names if parts else (),
            [i for p in parts for i in p.ids],
            "+".join(p.source for p in parts),
        )


# ----------------------------------------------------------------------------- raw records
@dataclass(frozen=True)
class _Record:
    text: str
    label: object  # raw label: int, str, or None (unlabeled)
    where: str  # "file:line" for error messages


def _open_text(path: Path) -> io.TextIOBase:
    """Open a (possibly gzipped) UTF-8 text file, failing clearly on bad bytes."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with _open_text(path) as fh:
            yield from enumerate(fh, start=1)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc


def iter_jsonl(path: Path, text_field: str = "text", label_field: str | None = "label") -> Iterator[_Record]:
    """Records of a JSON Lines file (blank lines skipped)."""
    for lineno, line in _read_lines(path):
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
        if label_field is not None and label_field not in obj:
            raise DataError(f"{where}: no {label_field!r} field (fields: {sorted(obj)})")
        yield _Record(obj[text_field], obj.get(label_field) if label_field else None, where)


def _column(header: list[str], name: str | int, path: Path, what: str) -> int:
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit() and name not in header):
        idx = int(name)
        if idx >= len(header):
            raise DataError(f"{path}: {what} column {idx} does not exist ({len(header)} columns)")
        return idx
    if name not in header:
        raise DataError(f"{path}: no {what} column {name!r} (columns: {header})")
    return header.index(name)


def iter_csv(
    path: Path,
    text_field: str | int = "text",
    label_field: str | int | None = "label",
    delimiter: str | None = None,
) -> Iterator[_Record]:
    """Records of a CSV/TSV file with a header row; columns by name or 0-based index."""
    if delimiter is None:
        delimiter = "\t" if ".tsv" in path.suffixes else ","
    lines = (line for _, line in _read_lines(path))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: empty file (expected a header row)") from None
    except csv.Error as exc:
        raise DataError(f"{path}:1: malformed header ({exc})") from exc
    ti = _column(header, text_field, path, "text")
    li = None if label_field is None else _column(header, label_field, path, "label")
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
        yield _Record(row[ti], None if li is None else row[li], where)


def _acl_records(items: Iterable[tuple[str, bytes]], origin: str, splits: dict[str, list]) -> None:
    """Sort aclImdb members (``split/pos|neg|unsup/ID_RATING.txt``) into ``splits``."""
    for name, data in items:
        m = _ACL_MEMBER.search(name)
        if not m:
            continue
        split, kind, _id, _rating = m.groups()
        split = "unsup" if kind == "unsup" else split
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{origin}:{name}: not valid UTF-8") from exc
        label = {"neg": 0, "pos": 1, "unsup": None}[kind]
        splits.setdefault(split, []).append((int(_id), _Record(text, label, f"{origin}:{name}")))


def _iter_tar(path: Path) -> Iterator[tuple[str, bytes]]:
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".txt"):
                    fh = tar.extractfile(member)
                    if fh is not None:
                        yield member.name, fh.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable tar archive ({exc})") from exc


def _iter_acl_dir(root: Path) -> Iterator[tuple[str, bytes]]:
    for split in ("train", "test"):
        for kind in ("neg", "pos", "unsup"):
            folder = root / split / kind
            if folder.is_dir():
                for f in sorted(folder.glob("*.txt")):
                    yield f"{split}/{kind}/{f.name}", f.read_bytes()


def _finish_acl(origin: str, raw: dict[str, list]) -> dict[str, Corpus]:
    if not raw:
        raise DataError(f"{origin}: no aclImdb reviews found (expected train/pos/*.txt and the like)")
    out = {}
    for split, rows in raw.items():
        rows.sort(key=lambda r: (r[1].label is None, r[1].label or 0, r[0]))
        out[split] = _to_corpus([r for _, r in rows], SENTIMENT_LABELS, f"{origin}[{split}]")
    return out


# ----------------------------------------------------------------------------- labels
def _label_id(raw: object, names: Sequence[str], where: str) -> int:
    if raw is None or raw == UNLABELED or raw == "-1":
        return UNLABELED
    if isinstance(raw, bool):
        raise DataError(f"{where}: label {raw!r} is a boolean, expected a class id or name")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        if 0 <= raw < len(names):
            return raw
        raise DataError(f"{where}: label {raw} is not a class id 0..{len(names) - 1} ({list(names)})")
    if isinstance(raw, str):
        s = raw.strip()
        if s in names:
            return list(names).index(s)
        if s.lstrip("-").isdigit():
            return _label_id(int(s), names, where)
        if s == "":
            raise DataError(f"{where}: missing label")
    raise DataError(f"{where}: unknown label {raw!r} (classes: {list(names)})")


def infer_label_names(raw_labels: Iterable[object]) -> tuple[str, ...]:
    """Class names from raw labels: ints 0..K-1 become "0".."K-1", strings are sorted."""
    ints, strs = set(), set()
    for raw in raw_labels:
        if raw is None or raw == UNLABELED or raw == "-1":
            continue
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise DataError(f"labels must be ints or strings, got {raw!r}")
        (ints if isinstance(raw, int) else strs).add(raw)
    if ints and strs:
        raise DataError(f"labels mix ids {sorted(ints)} and names {sorted(strs)}: pass label_names")
    if strs:
        return tuple(sorted(s.strip() for s in strs))
    if ints and min(ints) < 0:
        raise DataError(f"negative class id {min(ints)} (only -1, meaning unlabeled, is allowed)")
    return tuple(str(i) for i in range(max(ints) + 1)) if ints else ()


def _to_corpus(records: list[_Record], names: Sequence[str], source: str) -> Corpus:
    texts, labels = [], []
    for r in records:
        if not isinstance(r.text, str):
            raise DataError(f"{r.where}: text is {type(r.text).__name__}, expected a string")
        texts.append(r.text)
        labels.append(_label_id(r.label, names, r.where))
    return Corpus(texts, np.asarray(labels, dtype=np.int64), tuple(names), source=source)


# ----------------------------------------------------------------------------- sources
def _file_split_name(path: Path) -> str:
    name = path.name
    for suffix in _JSONL_SUFFIXES + _CSV_SUFFIXES + (".json.gz",):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _read_file_records(path: Path, text_field, label_field, delimiter) -> list[_Record]:
    name = path.name
    if name.endswith(_JSONL_SUFFIXES):
        records = list(iter_jsonl(path, text_field, label_field))
    elif name.endswith(_CSV_SUFFIXES):
        records = list(iter_csv(path, text_field, label_field, delimiter))
    else:
        raise DataError(f"{path}: unknown file type (expected .jsonl[.gz], .csv[.gz], .tsv[.gz] or .tar.gz)")
    if not records:
        raise DataError(f"{path}: empty file (no records)")
    return records


def _is_acl_dir(path: Path) -> Path | None:
    for root in (path, path / "aclImdb"):
        if (root / "train" / "pos").is_dir() or (root / "test" / "pos").is_dir():
            return root
    return None


def _is_sentiment_preset(path: Path) -> bool:
    """The shared IMDB and SST-2 folders: 0/1 labels mean negative/positive."""
    stems = {_file_split_name(p) for p in path.iterdir()}
    return {"train", "test", "unsup"} <= stems or {"train", "validation"} <= stems


def cache_dir() -> Path:
    """Where downloads go: ``$EDGE_DISTILL_CACHE`` or ``~/.cache/edge-distill``."""
    return Path(os.environ.get("EDGE_DISTILL_CACHE", Path.home() / ".cache" / "edge-distill"))


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_imdb(url: str | None = None, sha256: str | None = None, timeout: float = 30.0) -> Path:
    """The official aclImdb tarball, downloaded once into :func:`cache_dir` and verified."""
    url, sha256 = url or IMDB_URL, sha256 or IMDB_SHA256
    target = cache_dir() / "aclImdb_v1.tar.gz"
    if target.exists() and sha256_file(target) == sha256:
        return target
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, atomic_path(target) as tmp:
            with open(tmp, "wb") as out:
                while block := resp.read(1 << 20):
                    out.write(block)
            got = sha256_file(tmp)
            if got != sha256:
                raise DataError(f"{url}: sha256 {got} does not match the expected {sha256}; nothing was kept")
    except (OSError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"could not download IMDB from {url} ({exc}); with no network, pass a path instead: "
            "--data /path/to/aclImdb_v1.tar.gz, the extracted aclImdb folder, or a folder of JSONL files"
        ) from exc
    return target


def _read_hf(name: str, text_field: str, label_field: str | None) -> dict[str, Corpus]:
    from edge_distill.toolkit.extras import require

    datasets = require("datasets", "reading a Hugging Face dataset by name")
    ds = datasets.load_dataset(name)
    out = {}
    for split, table in ds.items():
        feature = table.features.get(label_field) if label_field else None
        names = tuple(feature.names) if getattr(feature, "names", None) else None
        records = [
            _Record(row[text_field], row[label_field] if label_field else None, f"{name}[{split}]:{i + 1}")
            for i, row in enumerate(table)
        ]
        names = names or infer_label_names(r.label for r in records)
        out[split] = _to_corpus(records, names, f"hf:{name}[{split}]")
    return out


def load_dataset(
    source: str | os.PathLike[str],
    *,
    text_field: str = "text",
    label_field: str | None = "label",
    label_names: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> dict[str, Corpus]:
    """Read every split of ``source`` (see the module docstring for what it can be)."""
    spec = os.fspath(source)
    if spec == "imdb":
        return _finish_acl(spec, _collect_acl(_iter_tar(fetch_imdb()), spec))
    if spec.startswith("hf:"):
        return _read_hf(spec[3:], text_field, label_field)
    path = Path(spec)
    if not path.exists():
        raise DataError(f"{spec}: no such file or folder (pass a path, 'imdb', or 'hf:NAME')")
    if path.is_dir():
        acl = _is_acl_dir(path)
        if acl is not None:
            return _finish_acl(str(acl), _collect_acl(_iter_acl_dir(acl), str(acl)))
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(_JSONL_SUFFIXES + _CSV_SUFFIXES))
        if not files:
            raise DataError(f"{path}: no .jsonl[.gz], .csv or .tsv files and no aclImdb layout")
        if label_names is None and _is_sentiment_preset(path):
            label_names = SENTIMENT_LABELS
        raw = {_file_split_name(f): _read_file_records(f, text_field, label_field, delimiter) for f in files}
    elif path.name.endswith(_TAR_SUFFIXES):
        return _finish_acl(str(path), _collect_acl(_iter_tar(path), str(path)))
    else:
        raw = {_file_split_name(path): _read_file_records(path, text_field, label_field, delimiter)}
    names = tuple(label_names) if label_names else infer_label_names(r.label for rs in raw.values() for r in rs)
    if not names:
        names = ("0", "1")  # an all-unlabeled source: classes come from the labeled data it is used with
    return {split: _to_corpus(rs, names, f"{path}[{split}]") for split, rs in raw.items()}


def _collect_acl(items: Iterable[tuple[str, bytes]], origin: str) -> dict[str, list]:
    raw: dict[str, list] = {}
    _acl_records(items, origin, raw)
    return raw


# ----------------------------------------------------------------------------- splitting
@dataclass(frozen=True)
class Splits:
    """A labeled set, an unlabeled transfer set (labels dropped) and a test set, disjoint by text."""

    labeled: Corpus
    unlabeled: Corpus
    test: Corpus

    def summary(self) -> dict[str, int]:
        """Sizes, for logs and run records."""
        return {"labeled": len(self.labeled), "unlabeled": len(self.unlabeled), "test": len(self.test)}


def dedup_key(text: str) -> str:
    """The key under which two texts count as the same one (splits never share a key)."""
    # exact text: what "duplicate" means in the IMDB README; whitespace-only variants are folded
    return " ".join(text.split())


def _draw(
    corpus: Corpus,
    n: int | None,
    rng: np.random.Generator,
    exclude: set[str],
    stratify: bool,
    what: str,
    dedup: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices drawn from ``corpus`` (and the ones left), skipping excluded (and repeated) texts."""
    order = rng.permutation(len(corpus))
    seen: set[str] = set(exclude)
    eligible = []
    for i in order:
        key = dedup_key(corpus.texts[i])
        if key not in seen:
            if dedup:
                seen.add(key)
            eligible.append(i)
    eligible = np.asarray(eligible, dtype=np.int64)
    if n is None:
        return eligible, np.zeros(0, np.int64)
    if n > len(eligible):
        raise DataError(
            f"asked for {n} {what} texts but {corpus.source or 'the pool'} has only {len(eligible)} "
            "distinct ones left (after removing repeats and texts used by other splits)"
        )
    if not stratify or n == 0 or not corpus.is_labeled:
        return eligible[:n], eligible[n:]
    labels = corpus.labels[eligible]
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts / counts.sum() * n).astype(int)
    rest = n - quota.sum()
    # give the remainder to the largest fractional parts (ties: lowest class id), capped by supply
    frac = counts / counts.sum() * n - quota
    for c in np.argsort(-frac, kind="stable")[:rest]:
        quota[c] += 1
    chosen = np.zeros(len(eligible), bool)
    for c, q in zip(classes, quota, strict=True):
        pos = np.flatnonzero(labels == c)[:q]
        chosen[pos] = True
    return eligible[chosen], eligible[~chosen]


def split_roles(dataset: dict[str, Corpus], test_split: str | None = None) -> tuple[str, str | None, list[str]]:
    """Which split is the labeled pool, which the test pool, and which are unlabeled pools."""
    if "train" not in dataset:
        if len(dataset) == 1:
            train = next(iter(dataset))
        else:
            raise DataError(f"no 'train' split among {sorted(dataset)}")
    else:
        train = "train"
    if test_split is None:
        for cand in ("test", "validation", "valid", "dev"):
            if cand in dataset and dataset[cand].is_labeled:
                test_split = cand
                break
    elif test_split not in dataset:
        raise DataError(f"no split {test_split!r} among {sorted(dataset)}")
    unlabeled = [s for s, c in dataset.items() if s not in (train, test_split) and c.is_unlabeled]
    return train, test_split, unlabeled


def make_splits(
    dataset: dict[str, Corpus],
    *,
    n_labeled: int | None,
    n_unlabeled: int | None,
    n_test: int | None,
    seed: int,
    stratify: bool = True,
    test_split: str | None = None,
    unlabeled_from_train: bool = True,
) -> Splits:
    """Draw labeled, unlabeled and test sets with a seed, disjoint by (cleaned) text.

    The test set comes from the test split (or, where there is none, from train) and is drawn
    first, repeats included; its texts are never drawn into the labeled or unlabeled sets, which
    also hold no repeats. ``None`` means "all that is left". The unlabeled
    pool is every all-unlabeled split (``unsup``) plus, with ``unlabeled_from_train``, the train
    rows not drawn as labeled, with their labels dropped.
    """
    rng = np.random.default_rng(seed)
    train_name, test_name, unlabeled_names = split_roles(dataset, test_split)
    train = dataset[train_name]
    if not train.is_labeled:
        raise DataError(f"the {train_name!r} split has unlabeled rows; it must be fully labeled")
    test_pool = train if test_name is None else dataset[test_name]
    # repeats inside the test split stay (the full IMDB test set is 25,000 rows); only the
    # texts shared with the other sets are removed, from the other sets
    test_idx, _ = _draw(test_pool, n_test, rng, set(), stratify, "test", dedup=False)
    test = test_pool.take(test_idx)
    used = {dedup_key(t) for t in test.texts}
    lab_idx, rest = _draw(train, n_labeled, rng, used, stratify, "labeled")
    labeled = train.take(lab_idx)
    if test_name is None:  # test rows came from train too
        rest = np.setdiff1d(rest, test_idx, assume_unique=False)
    used |= {dedup_key(t) for t in labeled.texts}
    pools = [dataset[s].take(np.arange(len(dataset[s])), drop_labels=True) for s in unlabeled_names]
    if unlabeled_from_train and len(rest):
        pools.append(train.take(np.sort(rest), drop_labels=True))
    if pools:
        pool = Corpus.concat(pools)
        unl_idx, _ = _draw(pool, n_unlabeled, rng, used, False, "unlabeled")
        unlabeled = pool.take(unl_idx, drop_labels=True)
    elif n_unlabeled:
        raise DataError("no unlabeled texts are available (no unlabeled split and nothing left in train)")
    else:
        unlabeled = Corpus([], np.zeros(0, np.int64), train.label_names, source="none")
    return Splits(labeled, unlabeled, test)


def load_splits(
    source: str | os.PathLike[str],
    *,
    n_labeled: int | None,
    n_unlabeled: int | None,
    n_test: int | None,
    seed: int,
    stratify: bool = True,
    **read_options,
) -> Splits:
    """:func:`load_dataset` then :func:`make_splits`: what every CLI command starts with."""
    test_split = read_options.pop("test_split", None)
    return make_splits(
        load_dataset(source, **read_options),
        n_labeled=n_labeled,
        n_unlabeled=n_unlabeled,
        n_test=n_test,
        seed=seed,
        stratify=stratify,
        test_split=test_split,
    )
