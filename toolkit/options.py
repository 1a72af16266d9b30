"""The options every stage shares, as typed dataclasses: the one place the CLI, ``run`` and the API
describe which texts a stage sees and how the teacher is labeled and exported.

:class:`DataOptions` is the data source, its fields and the split sizes and seed: every stage
that draws texts draws them from one of these, so ``teacher train``, ``teacher label`` and
``student`` agree on the texts as long as they are given the same options (``run`` gives them
one object). It is stored with every model (:meth:`DataOptions.record`) so a later step redraws
the same splits (:meth:`DataOptions.from_record`).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, replace
from typing import Any

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.data import AUTO, SPLITS_VERSION, Splits, load_splits

#: name of the data record written next to a run's logits (``DIR/logits/data.json``)
DATA_RECORD = "data.json"


#: which teacher labels the transfer set
LABEL_WITH = ("int8", "fp32", "torch")
#: what a cascade's threshold aims at (see :mod:`toolkit.cascade`)
CASCADE_TARGETS = ("max_share", "match_teacher")


#: texts this short (the teacher's chosen maximum length, in tokens) train for SHORT_TEXT_EPOCHS epochs
#: under ``epochs="auto"``: emotion's teacher (1,000 tweets, 56 tokens) reached 0.726 validation
#: accuracy after 3 epochs, and 0.752 / 0.816 / 0.831 / 0.835 after epochs 3-6 of a 6-epoch schedule,
#: at about 45 s an epoch on 2 cores; an IMDB epoch at 512 tokens takes 6-11 minutes, so long texts keep 3
SHORT_TEXT_TOKENS = 128
SHORT_TEXT_EPOCHS = 6
LONG_TEXT_EPOCHS = 3
#: the peak learning rate of the teacher's new classification head (the backbone's is --lr, 1e-4), as
#: SetFit gives its head a rate of its own: a head at the backbone's rate barely learned TREC's 50 fine
#: classes in 6 epochs (validation accuracy 0.668, under the TF-IDF baseline's 0.698 on test). Validation
#: accuracy (never test), 1,000 labels, seed 0, head at 1e-4 -> 2e-3: TREC fine 0.668 -> 0.783, TREC 0.931 ->
#: 0.934, emotion 0.835 -> 0.850 (1,996 tweets), SST-2 0.848 -> 0.842, IMDB at 128 tokens 0.849 -> 0.854
HEAD_LR = 2e-3


#: under ``epochs="auto"``, a teacher whose mean training loss in its last planned epoch is still above this
#: share of chance (ln K for K classes) while that epoch is its best so far on validation has not
#: learned its own labeled texts yet: it trains one more round of as many epochs (a fresh warm-up and
#: decay). IMDB's star ratings (8 classes, long reviews) ended 3 epochs at loss 1.49 (0.72 of ln 8) and
#: validation 0.286 / 0.371 / 0.382, predicting almost only 1 and 10 stars; the short sets end near 0
#: (TREC 0.006 of ln 6 after 6 epochs, TREC's 50 fine classes 0.11 of ln 50), and so does IMDB (0.18 of
#: ln 2 after 3 epochs even at 128 tokens, where it fits less than at its 512): none of them extends
UNDERFIT_LOSS_SHARE = 0.5


def auto_epochs(max_length: int) -> int:
    """The teacher's epochs under ``epochs="auto"``: more where an epoch is cheap (short texts)."""
    return SHORT_TEXT_EPOCHS if max_length <= SHORT_TEXT_TOKENS else LONG_TEXT_EPOCHS


def underfit_reason(history: list[dict[str, Any]], n_classes: int) -> str | None:
    """Why a teacher trained under ``epochs="auto"`` should train another round, or None.

    ``history``: one entry per epoch with ``train_loss`` and ``val_accuracy``. Both signs must hold:
    the training loss far from zero (the model has not fitted its labeled texts) and the last epoch
    the best on validation so far (more training still pays); either alone is noise or overfitting.
    """
    if len(history) < 2 or n_classes < 2:
        return None
    last, chance = history[-1], math.log(n_classes)
    rising = last["val_accuracy"] > max(h["val_accuracy"] for h in history[:-1])
    loss = last["train_loss"]
    if not math.isfinite(loss) or loss <= UNDERFIT_LOSS_SHARE * chance or not rising:  # NaN: diverged, not slow
        return None
    return (
        f"training loss {loss:.3f} above {UNDERFIT_LOSS_SHARE:g} x ln {n_classes} = "
        f"{UNDERFIT_LOSS_SHARE * chance:.3f} while validation accuracy was still rising "
        f"(its best so far, {history[-2]['val_accuracy']:.4f} -> {last['val_accuracy']:.4f})"
    )


def parse_epochs(text: str) -> int | str:
    """``auto`` or a whole number >= 1 (a ValueError naming a bad value)."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"expected a whole number or 'auto', got {text!r}") from None
    if n < 1:
        raise ValueError(f"expected at least 1 epoch, got {n}")
    return n


def parse_auto_count(text: str) -> int | str:
    """``auto`` or a whole number >= 0, written as :func:`parse_size` reads it (a ValueError naming a bad value)."""
    if text.strip().lower() in ("all", "-1"):
        raise ValueError(f"expected a whole number or 'auto', got {text!r}")
    return parse_size(text)


def parse_size(text: str) -> int | str | None:
    """A split size as people write it: a whole number >= 0 (``10_000``, ``10,000``), ``all``/``-1``
    for every row left (None), or ``auto`` (transfer sets: all, up to a labeling budget). A bad
    value is a ValueError naming it."""
    if text.strip().lower() in ("all", "-1"):
        return None
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"expected a whole number or 'all', got {text!r}") from None
    if n < 0:
        raise ValueError(f"expected a size >= 0, got {n}")
    return n


def _absolute(source: str) -> str:
    """A local source made absolute (``imdb`` and ``hf:NAME`` are names, not paths)."""
    return source if source == "imdb" or source.startswith("hf:") else os.path.abspath(source)


@dataclass(frozen=True)
class DataOptions:
    """Where the texts come from and how the labeled, unlabeled and test sets are drawn.

    A size of ``None`` means every text left; ``unlabeled="auto"`` (the default) every unlabeled
    text up to a labeling budget of ``AUTO_BUDGET_CHARS`` characters (all of a short-text set,
    about 6,000 IMDB reviews). ``source`` is anything :func:`toolkit.data.load_dataset`
    reads (a folder of JSONL/CSV splits, a file, ``imdb``, ``hf:NAME``). ``unlabeled_data`` names
    other sources (a ``.txt`` file with one text a line too) whose texts join the transfer pool,
    labels ignored: unlabeled texts like the ones the model will meet, kept apart from the labeled data.
    """

    source: str
    labeled: int | None = 1000
    unlabeled: int | str | None = AUTO
    test: int | None = 1000
    seed: int = 0
    stratify: bool = True
    text_field: str = "text"
    label_field: str = "label"
    label_names: tuple[str, ...] | None = None
    test_split: str | None = None
    validation: int | None = None  # None: all of a validation split, else a tenth of --labeled carved from train
    unlabeled_data: tuple[str, ...] = ()  # other sources of transfer texts (labels ignored): load_unlabeled

    def __post_init__(self) -> None:
        for name in ("labeled", "unlabeled", "test", "validation"):
            n = getattr(self, name)
            if name == "unlabeled" and n == AUTO:
                continue
            if n is not None and (not isinstance(n, int) or n < 0):
                raise DataError(f"{name} must be a whole number >= 0 or None (all), got {n!r}")
        if self.label_names is not None:
            object.__setattr__(self, "label_names", tuple(self.label_names))
        if isinstance(self.unlabeled_data, (str, os.PathLike)):
            raise DataError(f"unlabeled_data must be a sequence of sources, got one: {self.unlabeled_data!r}")
        object.__setattr__(self, "unlabeled_data", tuple(str(u) for u in self.unlabeled_data))
        object.__setattr__(self, "source", str(self.source))

    def load(self) -> Splits:
        """Read the source and draw the splits (deterministic for these options)."""
        return load_splits(
            self.source,
            n_labeled=self.labeled,
            n_unlabeled=self.unlabeled,
            n_test=self.test,
            seed=self.seed,
            stratify=self.stratify,
            text_field=self.text_field,
            label_field=self.label_field or None,
            label_names=self.label_names,
            test_split=self.test_split,
            n_validation=self.validation,
            unlabeled_data=self.unlabeled_data,
        )

    def resolved(self) -> DataOptions:
        """The same draw with ``unlabeled="auto"`` replaced by the count it gives (the same texts:
        ``auto`` takes a prefix of the draw's order), so stage keys and reports name a number."""
        if self.unlabeled != AUTO:
            return self
        return replace(self, unlabeled=len(self.load().unlabeled))

    def sized(self, **sizes: int | None) -> DataOptions:
        """The same draw with other sizes (e.g. ``unlabeled=0`` for a stage that needs no transfer set)."""
        return replace(self, **sizes)

    def key(self) -> dict[str, Any]:
        """These options as JSON-able settings (part of every stage key)."""
        d = asdict(self)
        d["label_names"] = list(self.label_names) if self.label_names else None
        if self.unlabeled_data:  # absent when unused, so runs cached before the option keep their keys
            d["unlabeled_data"] = list(self.unlabeled_data)
        else:
            del d["unlabeled_data"]
        d["splits_version"] = SPLITS_VERSION  # how the sets are drawn: a changed rule redraws them
        return d

    def record(self, label_names: tuple[str, ...] | list[str] | None = None) -> dict[str, Any]:
        """The options as stored with a model; a local source is made absolute so the record
        still finds it from another working directory. ``data`` and ``source`` both name it
        (older readers look for either)."""
        src = _absolute(self.source)
        rec = {**self.key(), "source": src, "data": src}
        if self.unlabeled_data:
            rec["unlabeled_data"] = [_absolute(u) for u in self.unlabeled_data]
        if label_names is not None:
            rec["label_names"] = list(label_names)
        return rec

    @classmethod
    def from_record(cls, record: dict[str, Any], source: str | None = None) -> DataOptions:
        """The options a :meth:`record` (or a record of an earlier version) describes."""
        src = source or record.get("source") or record.get("data")
        if not src:
            raise DataError("the record names no data source; pass the data explicitly")
        names = record.get("label_names")
        return cls(
            source=str(src),
            labeled=record.get("labeled"),
            unlabeled=record.get("unlabeled"),
            test=record.get("test"),
            seed=int(record.get("seed", 0)),
            stratify=bool(record.get("stratify", True)),
            text_field=record.get("text_field") or "text",
            label_field=record.get("label_field") or "label",
            label_names=tuple(names) if names else None,
            test_split=record.get("test_split"),
            validation=record.get("validation"),
            unlabeled_data=tuple(record.get("unlabeled_data") or ()),
        )


@dataclass(frozen=True)
class LabelOptions:
    """How ``teacher label`` runs: backend, sharding, chunking (none of it changes the logits)."""

    backend: str = "auto"  # auto: onnx for a .onnx teacher, else torch
    shard: str = "0/1"  # I/N or 'auto' (the launcher's rank)
    chunk_size: int = 1024
    batch_size: int = 32
    threads: int | None = None
    restart: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.backend not in ("auto", "torch", "onnx"):
            raise DataError(f"backend must be auto, torch or onnx, got {self.backend!r}")
        if self.chunk_size < 1 or self.batch_size < 1:
            raise DataError(f"chunk size and batch size must be >= 1, got {self.chunk_size}, {self.batch_size}")


#: calibration texts drawn under ``calibration="auto"`` (the search reads as many as its token budget allows)
CALIBRATION_AUTO_TEXTS = 4000


@dataclass(frozen=True)
class TeacherExportOptions:
    """The teacher export's parity gates and where their held-out texts come from."""

    check: int = 1000  # held-out labeled texts for the gates
    fp32_tolerance: float = 1e-4
    min_agreement: float = 0.985  # of the 95% Wilson lower bound of int8's label agreement with fp32
    max_accuracy_drop: float = 0.005
    seed: int = 1234  # of the held-out draw
    # held-out texts (disjoint from the gate's) that choose int8's fp32 nodes; "auto": CALIBRATION_AUTO_TEXTS
    # drawn, read up to the token budget of 1,000 long texts (up to 4,000 short ones, so noise does not stop
    # the search early)
    calibration: int | str = AUTO
    agreement: int = 2000  # unlabeled texts added to the int8 agreement (it needs no labels)
    data: str | None = None  # where the training data is now, if it moved since training
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.calibration != AUTO and (not isinstance(self.calibration, int) or self.calibration < 0):
            raise DataError(f"calibration must be 'auto' or a whole number >= 0, got {self.calibration!r}")
        if self.check < 1 or self.agreement < 0:
            raise DataError(f"check must be >= 1 and agreement >= 0: got {self.check}, {self.agreement}")

    def key(self) -> dict[str, Any]:
        """The settings that decide the exported files (threads do not)."""
        return {k: v for k, v in asdict(self).items() if k != "threads"}
