"""Labeled text from every format users have, and one deterministic, leak-free splitter.

Readers return ``dict[split_name, Corpus]``. Sources: the aclImdb folder or its tarball (read
straight from the archive, never extracted), JSONL / JSONL.gz, CSV / TSV, Parquet, a folder of such
files (one split per file, named by the file's stem, as in ``../shared/data/imdb``), a Hugging
Face ``datasets`` name (``hf:NAME``), and ``imdb`` (the official tarball, downloaded once into
a cache folder and verified by sha256).

Files are read by :mod:`toolkit.records`, labels by :mod:`toolkit.classes` (where class names
come from). The label ``-1`` or JSON ``null`` means *unlabeled*: a split's unlabeled rows join
the transfer pool; a file of a split not named train, test or validation may lack the label
column (all unlabeled texts).

Splits: ``train`` is the labeled pool; ``test`` (else, where no labeled test split exists, the
validation split) the test pool; a ``validation`` / ``valid`` / ``dev`` / ``val`` split that is
not the test split is the validation set (model and setting selection); without one, the
validation set is carved from train. Every bad input raises :class:`DataError` naming the file
and line, or the class.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tarfile
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.atomic import atomic_path
from edge_distill.runtime.errors import DataError
from edge_distill.runtime.extras import require
from edge_distill.toolkit.classes import (
    CLASSES_FILE,
    NAMES_FROM_IDS,
    UNLABELED,
    Classes,
    check_class_count,
    embedded_classes,
    infer_classes_of,
    label_id,
    normal_label,
    resolve_classes,
)
from edge_distill.toolkit.records import (
    PARQUET_SUFFIXES,
    VALIDATION_NAMES,
    Record,
    data_files,
    file_split_name,
    read_file_records,
    read_folder,
)

log = logging.getLogger("edge_distill.data")

SENTIMENT_LABELS = ("negative", "positive")
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_ACL_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")


def text_id(text: str) -> str:
    """A stable id for a text: the first 16 hex digits of the sha1 of its UTF-8 bytes."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class Corpus:
    """One split: texts, int64 class ids (``-1`` = unlabeled), stable ids, class names.

    ``names_from`` says where the class names came from (``--label-names``, a ``classes.txt``,
    the label strings, or :data:`NAMES_FROM_IDS` when the labels were bare integers).
    """

    texts: list[str]
    labels: np.ndarray
    label_names: tuple[str, ...]
    ids: list[str] = field(default_factory=list)
    source: str = ""
    names_from: str = "given"

    @property
    def names_given(self) -> bool:
        """False when the class names are only the class ids ("0".."K-1")."""
        return self.names_from != NAMES_FROM_IDS

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
            self.names_from,
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
            parts[0].names_from if parts else "given",
        )


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
        splits.setdefault(split, []).append((int(_id), Record(text, label, f"{origin}:{name}")))


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
        # the aclImdb layout names its classes itself (folders neg/ and pos/)
        out[split] = _to_corpus([r for _, r in rows], ACL_CLASSES, f"{origin}[{split}]")
    return out


def _to_corpus(records: list[Record], classes: Classes, source: str) -> Corpus:
    texts, labels = [], []
    for r in records:
        if not isinstance(r.text, str):
            raise DataError(f"{r.where}: text is {type(r.text).__name__}, expected a string")
        if not r.text.strip():
            raise DataError(f"{r.where}: empty text")
        texts.append(r.text)
        labels.append(label_id(r.label, classes, r.where))
    return Corpus(texts, np.asarray(labels, dtype=np.int64), classes.names, source=source, names_from=classes.origin)


# ----------------------------------------------------------------------------- sources
ACL_CLASSES = Classes(SENTIMENT_LABELS, "the aclImdb folders neg/ and pos/")


def _is_acl_dir(path: Path) -> Path | None:
    for root in (path, path / "aclImdb"):
        if (root / "train" / "pos").is_dir() or (root / "test" / "pos").is_dir():
            return root
    return None


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


def source_digest(source: str) -> str | None:
    """The sha256 of a local file, or of a folder's files (names and contents), ``hf:PATH`` too;
    None for ``imdb`` and a hub name. A stage key holding it reruns the stage when the texts behind
    a path change."""
    path = Path(source.removeprefix("hf:"))
    if source == "imdb" or not path.exists():
        return None
    if path.is_file():
        return sha256_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    listing = "".join(f"{p.relative_to(path).as_posix()}\0{sha256_file(p)}\n" for p in files)
    return hashlib.sha256(listing.encode("utf-8", "surrogatepass")).hexdigest()


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

    datasets = require("datasets", "reading a Hugging Face dataset by name")
    ds = datasets.load_dataset(name)
    out = {}
    for split, table in ds.items():
        feature = table.features.get(label_field) if label_field else None
        names = tuple(feature.names) if getattr(feature, "names", None) else None
        records = [
            Record(row[text_field], row[label_field] if label_field else None, f"{name}[{split}]:{i + 1}")
            for i, row in enumerate(table)
        ]
        classes = Classes(names, f"hf:{name} features") if names else infer_classes_of(records)
        out[split] = _to_corpus(records, classes, f"hf:{name}[{split}]")
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
        classes_file = path / CLASSES_FILE
        files = data_files(path)
        raw = read_folder(path, files, text_field, label_field, delimiter)
    elif path.name.endswith(_TAR_SUFFIXES):
        return _finish_acl(str(path), _collect_acl(_iter_tar(path), str(path)))
    else:
        classes_file, files = path.parent / CLASSES_FILE, [path]
        raw = {file_split_name(path): read_file_records(path, text_field, label_field, delimiter)}
    records = [r for rs in raw.values() for r in rs]
    parquet = [f for f in files if f.name.endswith(PARQUET_SUFFIXES)]
    classes = resolve_classes(label_names, classes_file, records, embedded_classes(parquet, label_field))
    if not classes.names:  # an all-unlabeled source: classes come from the labeled data it is used with
        classes = Classes(("0", "1"), NAMES_FROM_IDS)
    if len(classes.names) < 2:  # names from the labels (the others are checked already)
        check_class_count(classes.names, str(path), sum(normal_label(r.label, r.where) is None for r in records))
    return {split: _to_corpus(rs, classes, f"{path}[{split}]") for split, rs in raw.items()}


def _collect_acl(items: Iterable[tuple[str, bytes]], origin: str) -> dict[str, list]:
    raw: dict[str, list] = {}
    _acl_records(items, origin, raw)
    return raw


# ----------------------------------------------------------------------------- splitting
def _empty(like: Corpus, source: str = "none") -> Corpus:
    return Corpus([], np.zeros(0, np.int64), like.label_names, source=source, names_from=like.names_from)


@dataclass(frozen=True)
class Splits:
    """Labeled, unlabeled transfer (labels dropped), test and validation sets, disjoint by text.

    ``validation`` is for choices (the teacher's epoch, the student's settings), never ``test``;
    it is empty when none was asked for. ``origins`` says where each set came from.
    """

    labeled: Corpus
    unlabeled: Corpus
    test: Corpus
    validation: Corpus | None = None
    origins: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.validation is None:
            object.__setattr__(self, "validation", _empty(self.labeled))

    @property
    def label_names(self) -> tuple[str, ...]:
        """The class names, in id order."""
        return self.labeled.label_names

    @property
    def names_given(self) -> bool:
        """False when the classes are only ids "0".."K-1" (no --label-names, classes.txt or label strings)."""
        return self.labeled.names_given

    @property
    def validation_is_split(self) -> bool:
        """True when the validation set is a split of the data (not carved from train)."""
        return len(self.validation) > 0 and self.origins.get("validation", "").startswith("the ")

    def classes_record(self) -> dict[str, Any]:
        """The classes as the report records them: names, whether they were given, and from where."""
        return {"names": list(self.label_names), "given": self.names_given, "from": self.labeled.names_from}

    def summary(self) -> dict[str, int]:
        """Sizes, for logs and run records."""
        return {
            "labeled": len(self.labeled),
            "unlabeled": len(self.unlabeled),
            "test": len(self.test),
            "validation": len(self.validation),
        }

    def describe(self) -> str:
        """One sentence: the sizes, where each set came from, and where the class names came from."""
        parts = [
            f"{n:,} {k}" + (f" ({self.origins[k]})" if k in self.origins else "") for k, n in self.summary().items()
        ]
        return f"{'; '.join(parts)}; classes {list(self.label_names)} from {self.labeled.names_from}."


def dedup_key(text: str) -> str:
    """The key under which two texts count as the same one (splits never share a key)."""
    # exact text: what "duplicate" means in the IMDB README; whitespace-only variants are folded
    return " ".join(text.split())


def _quotas(counts: np.ndarray, n: int) -> np.ndarray:
    """Per-class counts for a stratified draw of ``n``: proportional, every class at least one when n allows."""
    quota = np.floor(counts / counts.sum() * n).astype(int)
    rest = n - quota.sum()
    # give the remainder to the largest fractional parts (ties: lowest class id)
    frac = counts / counts.sum() * n - quota
    for c in np.argsort(-frac, kind="stable")[:rest]:
        quota[c] += 1
    if n >= len(counts):  # a rare class still gets one example, taken from the largest quota
        for c in np.flatnonzero(quota == 0):
            quota[int(np.argmax(quota))] -= 1
            quota[c] = 1
    return quota


def _draw(
    corpus: Corpus,
    n: int | None,
    rng: np.random.Generator,
    exclude: set[str],
    stratify: bool,
    what: str,
    dedup: bool = True,
    at_most: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices drawn from ``corpus`` (and the ones left), skipping excluded (and repeated) texts.

    ``at_most``: ``n`` is a cap (test and transfer sets: a small data set gives what it has, with a
    warning); otherwise asking for more than there is, is an error (the labeled set)."""
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
    if n > len(eligible) and at_most:
        log.warning("asked for up to %d %s texts; %s has %d: using all of them", n, what, corpus.source, len(eligible))
        n = len(eligible)
    if n > len(eligible):
        raise DataError(
            f"asked for {n} {what} texts (--{what}) but {corpus.source or 'the pool'} has only {len(eligible)} "
            "distinct ones left (after removing repeats and texts used by other splits)"
        )
    if not stratify or n == 0 or not corpus.is_labeled:
        return eligible[:n], eligible[n:]
    labels = corpus.labels[eligible]
    classes, counts = np.unique(labels, return_counts=True)
    chosen = np.zeros(len(eligible), bool)
    for c, q in zip(classes, _quotas(counts, n), strict=True):
        chosen[np.flatnonzero(labels == c)[:q]] = True
    return eligible[chosen], eligible[~chosen]


def check_every_class(corpus: Corpus, what: str) -> None:
    """Refuse a labeled set in which some declared class has no example (nothing could learn it)."""
    if not len(corpus):
        return
    counts = np.bincount(corpus.labels[corpus.labels >= 0], minlength=len(corpus.label_names))
    missing = [f"{corpus.label_names[c]!r} (id {c})" for c in np.flatnonzero(counts == 0)]
    if missing:
        raise DataError(
            f"class {', '.join(missing)} has no example among the {len(corpus):,} {what} texts drawn from "
            f"{corpus.source or 'the data'} (classes from {corpus.names_from}); give it examples or drop it"
        )


@dataclass(frozen=True)
class SplitRoles:
    """Which split plays which part: labeled pool, test pool, validation split, unlabeled pools."""

    train: str
    test: str | None  # None: the test set is carved from train
    validation: str | None  # None: the validation set is carved from train
    unlabeled: list[str]


def split_roles(dataset: dict[str, Corpus], test_split: str | None = None) -> SplitRoles:
    """Decide the roles from split names: ``train``; ``test`` (else a labeled validation split); validation."""
    if "train" not in dataset:
        if len(dataset) == 1:
            train = next(iter(dataset))
        else:
            raise DataError(f"no 'train' split among {sorted(dataset)}")
    else:
        train = "train"
    if test_split is None:
        for cand in ("test", *VALIDATION_NAMES):
            if cand in dataset and cand != train and not dataset[cand].is_unlabeled:
                test_split = cand
                break
    elif test_split not in dataset:
        raise DataError(f"no split {test_split!r} among {sorted(dataset)}")
    validation = next(
        (s for s in VALIDATION_NAMES if s in dataset and s not in (train, test_split) and not dataset[s].is_unlabeled),
        None,
    )
    unlabeled = [s for s, c in dataset.items() if s not in (train, test_split, validation) and c.is_unlabeled]
    return SplitRoles(train, test_split, validation, unlabeled)


def _set_apart_unlabeled_rows(dataset: dict[str, Corpus], roles: SplitRoles) -> tuple[dict[str, Corpus], SplitRoles]:
    """The unlabeled rows (-1 or null) of the train, test and validation splits become unlabeled
    splits of their own (``train[unlabeled]``): one file of a few labeled and many unlabeled texts
    gives both."""
    dataset, pools = dict(dataset), list(roles.unlabeled)
    for name in (roles.train, roles.test, roles.validation):
        corpus = dataset.get(name) if name else None
        if corpus is None or corpus.is_labeled or corpus.is_unlabeled:
            continue
        unl = corpus.labels == UNLABELED
        dataset[name] = corpus.take(np.flatnonzero(~unl))
        dataset[f"{name}[unlabeled]"] = corpus.take(np.flatnonzero(unl))
        pools.append(f"{name}[unlabeled]")
    return dataset, replace(roles, unlabeled=pools)


#: "auto", the one spelling of "chosen from the data": ``--unlabeled auto`` (every unlabeled text up to a
#: labeling budget, the default of ``run``), the teacher's ``--epochs auto`` and the student's objective
AUTO = "auto"
#: the budget of ``auto``, in characters: labeling cost grows with the text the teacher reads, so
#: short-text sets give all their texts and long ones a part: more transfer texts is the student's
#: largest lever, and the budget caps what labeling them costs
AUTO_BUDGET_CHARS = 8_000_000
#: a text counts at most this many characters (the teacher reads about 512 tokens of it)
AUTO_TEXT_CHARS = 2_500


def within_budget(texts: Sequence[str], budget: int = AUTO_BUDGET_CHARS) -> int:
    """How many of ``texts``, taken in order, fit ``budget`` characters (each counted up to
    :data:`AUTO_TEXT_CHARS`)."""
    spent = np.cumsum([min(len(t), AUTO_TEXT_CHARS) for t in texts])
    return int(np.searchsorted(spent, budget, side="right"))


#: version of the rules that draw the sets (part of every run stage's key): 2 = validation sets of up
#: to MAX_VALIDATION texts, test and transfer sizes as caps
SPLITS_VERSION = "2"
#: the most texts carved for validation by default: enough that choosing an epoch or a threshold is
#: not decided by noise (on a hundred texts, epochs tie to within a text or two)
MAX_VALIDATION = 1000


def default_validation_size(n_labeled: int, n_classes: int, n_pool: int = 0) -> int:
    """How many train texts to carve for validation when the data has no validation split: a tenth of
    the labeled set or of the train rows left (they would otherwise be transfer texts), whichever is
    larger, at most :data:`MAX_VALIDATION`, at least one per class."""
    return max(n_classes, min(MAX_VALIDATION, max(round(0.1 * n_labeled), round(0.1 * n_pool))))


def make_splits(
    dataset: dict[str, Corpus],
    *,
    n_labeled: int | None,
    n_unlabeled: int | str | None,
    n_test: int | None,
    seed: int,
    stratify: bool = True,
    test_split: str | None = None,
    unlabeled_from_train: bool = True,
    n_validation: int | None = None,
    extra_unlabeled: Sequence[Corpus] = (),
) -> Splits:
    """Draw labeled, unlabeled, test and validation sets with a seed, disjoint by (cleaned) text.

    The test set comes from the test split (or, where there is none, from train) and is drawn
    first, repeats included; its texts are never drawn into the other sets, which hold no
    repeats. A validation split (see :func:`split_roles`) gives the validation set (``None``:
    all of it); without one it is carved from the train rows left after the labeled draw
    (``None``: :func:`default_validation_size`); ``0`` means no validation set. ``None``
    elsewhere means "all that is left". The unlabeled pool is every all-unlabeled split
    (``unsup``) plus, with ``unlabeled_from_train``, the train rows not drawn, labels dropped, plus
    ``extra_unlabeled`` (texts from other sources, :func:`load_unlabeled`).
    """
    rng = np.random.default_rng(seed)
    dataset, roles = _set_apart_unlabeled_rows(dataset, split_roles(dataset, test_split))
    train = dataset[roles.train]
    if not train.is_labeled:
        raise DataError(f"the {roles.train!r} split has no labeled rows (-1 and null mark unlabeled texts)")
    test, test_idx = _test_set(dataset, roles, n_test, rng, stratify)
    used = {dedup_key(t) for t in test.texts}
    origins = {"test": f"the {roles.test!r} split" if roles.test else f"carved from {roles.train!r}"}
    validation = None
    if roles.validation is not None and n_validation != 0:
        val_idx, _ = _draw(dataset[roles.validation], n_validation, rng, used, stratify, "validation")
        validation = dataset[roles.validation].take(val_idx)
        used |= {dedup_key(t) for t in validation.texts}
        origins["validation"] = f"the {roles.validation!r} split"
    labeled, rest = _labeled_set(train, n_labeled, rng, used, stratify, test_idx if roles.test is None else None)
    used |= {dedup_key(t) for t in labeled.texts}
    if roles.validation is None and n_validation != 0:
        validation, rest = _carve_validation(train, rest, n_validation, len(labeled), rng, used, stratify)
        used |= {dedup_key(t) for t in validation.texts}
        why = (
            f"its validation split {roles.test!r} is the test set"
            if roles.test in VALIDATION_NAMES
            else "the data has no validation split"
        )
        origins["validation"] = f"carved from {roles.train!r}: {why}"
    pools = _unlabeled_pools(dataset, roles, rest, unlabeled_from_train, extra_unlabeled)
    unlabeled = _unlabeled_set(pools, dataset[roles.train], n_unlabeled, rng, used)
    if extra_unlabeled:
        origins["unlabeled"] = _extra_origin(unlabeled, extra_unlabeled)
    return Splits(labeled, unlabeled, test, validation, origins)


def _extra_origin(unlabeled: Corpus, extra: Sequence[Corpus]) -> str:
    """How many transfer texts came from the other sources, and which they are."""
    extra_ids = {i for c in extra for i in c.ids}
    sources = sorted({c.source.rsplit("[", 1)[0] for c in extra})
    return f"{sum(i in extra_ids for i in unlabeled.ids):,} of them from {', '.join(sources)}"


def _test_set(
    dataset: dict[str, Corpus], roles: SplitRoles, n_test: int | None, rng: np.random.Generator, stratify: bool
) -> tuple[Corpus, np.ndarray]:
    """The test set and its row ids in its pool: the test split, or train where there is none.

    It is drawn first and from nothing used, so the other sets give way to it, never the reverse.
    """
    pool = dataset[roles.train] if roles.test is None else dataset[roles.test]
    # repeats inside the test split stay (the full IMDB test set is 25,000 rows); only the
    # texts shared with the other sets are removed, from the other sets
    idx, _ = _draw(pool, n_test, rng, set(), stratify, "test", dedup=False, at_most=roles.test is not None)
    return pool.take(idx), idx


def _labeled_set(
    train: Corpus,
    n_labeled: int | None,
    rng: np.random.Generator,
    used: set[str],
    stratify: bool,
    test_idx: np.ndarray | None,
) -> tuple[Corpus, np.ndarray]:
    """The labeled set, checked to hold every class, and the train rows left for the other sets
    (without ``test_idx``: the test rows, where the test set was carved from train too)."""
    lab_idx, rest = _draw(train, n_labeled, rng, used, stratify, "labeled")
    labeled = train.take(lab_idx)
    check_every_class(labeled, "labeled")
    if test_idx is not None:  # test rows came from train too
        rest = np.setdiff1d(rest, test_idx, assume_unique=False)
    return labeled, rest


def _unlabeled_pools(
    dataset: dict[str, Corpus], roles: SplitRoles, rest: np.ndarray, from_train: bool, extra: Sequence[Corpus]
) -> list[Corpus]:
    """Where transfer texts come from, labels dropped: every all-unlabeled split, the train rows
    no other set took (with ``from_train``), and the texts of other sources."""
    train = dataset[roles.train]
    pools = [dataset[s].take(np.arange(len(dataset[s])), drop_labels=True) for s in roles.unlabeled]
    if from_train and len(rest):
        pools.append(train.take(np.sort(rest), drop_labels=True))
    return pools + [replace(c, label_names=train.label_names, names_from=train.names_from) for c in extra]


def _unlabeled_set(
    pools: list[Corpus], train: Corpus, n_unlabeled: int | str | None, rng: np.random.Generator, used: set[str]
) -> Corpus:
    """The unlabeled (transfer) set drawn from ``pools``, none of it in ``used`` (test, labeled, validation)."""
    if pools:
        pool = Corpus.concat(pools)
        auto = n_unlabeled == AUTO
        unl_idx, _ = _draw(pool, None if auto else n_unlabeled, rng, used, False, "unlabeled", at_most=True)
        if auto:  # a prefix of the same order: the draw of that many texts gives the same ones
            unl_idx = unl_idx[: within_budget([pool.texts[i] for i in unl_idx], AUTO_BUDGET_CHARS)]
        return pool.take(unl_idx, drop_labels=True)
    if n_unlabeled:
        raise DataError("no unlabeled texts are available (no unlabeled split and nothing left in train)")
    return _empty(train)


def load_unlabeled(sources: Sequence[str], *, text_field: str = "text", delimiter: str | None = None) -> list[Corpus]:
    """The texts of other sources, labels ignored: more transfer texts for the teacher to label.

    Each source is anything :func:`load_dataset` reads, or a ``.txt`` file (one text a line);
    every split of it is read with ``text_field`` and its labels, if any, are dropped.
    """
    out = []
    for source in sources:
        for split, corpus in load_dataset(source, text_field=text_field, label_field=None, delimiter=delimiter).items():
            texts_only = corpus.take(np.arange(len(corpus)), drop_labels=True)
            out.append(replace(texts_only, source=f"{source}[{split}]"))
    return out


def _carve_validation(
    train: Corpus,
    rest: np.ndarray,
    n: int | None,
    n_labeled: int,
    rng: np.random.Generator,
    used: set[str],
    stratify: bool,
) -> tuple[Corpus, np.ndarray]:
    """A validation set from the train rows ``rest`` (not labeled, not test), and the rows still left."""
    pool = train.take(np.sort(rest))
    if n is None:  # the default size, as many as there are when fewer are left
        eligible = len({dedup_key(t) for t in pool.texts} - used)
        n = min(default_validation_size(n_labeled, len(train.label_names), eligible), eligible)
    idx, _ = _draw(pool, n, rng, used, stratify, "validation")
    taken = np.sort(rest)[idx]
    return pool.take(idx), np.setdiff1d(rest, taken)


def load_splits(
    source: str | os.PathLike[str],
    *,
    n_labeled: int | None,
    n_unlabeled: int | str | None,
    n_test: int | None,
    seed: int,
    stratify: bool = True,
    n_validation: int | None = None,
    unlabeled_data: Sequence[str] = (),
    **read_options,
) -> Splits:
    """:func:`load_dataset` then :func:`make_splits`: what every CLI command starts with
    (``unlabeled_data``: other sources whose texts join the transfer pool, :func:`load_unlabeled`)."""
    test_split = read_options.pop("test_split", None)
    extra = load_unlabeled(  # not read where no transfer text is asked for
        unlabeled_data if n_unlabeled != 0 else (),
        text_field=read_options.get("text_field", "text"),
        delimiter=read_options.get("delimiter"),
    )
    return make_splits(
        load_dataset(source, **read_options),
        n_labeled=n_labeled,
        n_unlabeled=n_unlabeled,
        n_test=n_test,
        seed=seed,
        stratify=stratify,
        test_split=test_split,
        n_validation=n_validation,
        extra_unlabeled=extra,
    )
