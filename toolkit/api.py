"""The Python API of the whole job: one typed function per stage, each returning a dataclass.

Stage functions take Python objects (the drawn sets, fitted models, paths of models they load)
and return typed results; reading the data source is the caller's job, done once with
:func:`load_data` (a :class:`LoadedData` holds the options, every split as read, and the sets
drawn from it). Given ``out``, a stage also writes its files there; only the pipeline
(``edge-distill run``) and the CLI decide where, and only the pipeline caches. Every
``edge-distill`` command is a thin layer over one of these (it parses arguments, loads the data,
calls the function and prints the result's :meth:`to_dict` with ``--json``). Settings are the
stages' own config dataclasses (:class:`TrainConfig`, :class:`StudentConfig`,
:class:`LabelOptions`, :class:`TeacherExportOptions`).

=====================  ==========================  =============================
function               CLI                         result
=====================  ==========================  =============================
load_data              (every command with data)   :class:`LoadedData`
train_baseline         ``baseline``                :class:`BaselineResult`
train_teacher          ``teacher train``           :class:`TeacherResult`
label_transfer_set     ``teacher label``           :class:`LabelResult`
merge_logits           ``teacher merge``           :class:`MergeResult`
distill_student        ``student``                 :class:`StudentResult`
export_student_onnx    ``export student``          :class:`StudentExportResult`
export_teacher_onnx    ``export teacher``          :class:`TeacherExportResult`
build_cascade          (``run``)                   :class:`CascadeResult`
evaluate_models        (``run``)                   :class:`EvaluationResult`
run_benchmark          (``run``)                   :class:`BenchmarkResult`
write_run_report       (``run``)                   :class:`ReportResult`
=====================  ==========================  =============================

The export gates take their real texts from the caller: :func:`student_gate_texts` and
:func:`teacher_gate_texts` draw them from loaded data (or the data a model records, failing
with the missing path's name rather than gating on fewer texts).

Importing this module needs only the base install; each function imports the optional extra
it needs (torch, scikit-learn, onnx, ...) when called, through :func:`runtime.extras.require`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill import runtime
from edge_distill.runtime.atomic import atomic_path, atomic_write_json, atomic_write_text
from edge_distill.runtime.base import validate_texts
from edge_distill.runtime.errors import DataError, MissingExtraError
from edge_distill.toolkit import API
from edge_distill.toolkit import cascade as cascade_plan
from edge_distill.toolkit.baseline import BaselineResult, run_baseline
from edge_distill.toolkit.data import (
    AUTO,
    AUTO_BUDGET_CHARS,
    Corpus,
    Splits,
    load_dataset,
    load_unlabeled,
    make_splits,
    within_budget,
)
from edge_distill.toolkit.evaluate import compare_models
from edge_distill.toolkit.logits import LogitsTable, load_logits, save_data_record
from edge_distill.toolkit.options import CALIBRATION_AUTO_TEXTS, DataOptions, LabelOptions, TeacherExportOptions
from edge_distill.toolkit.peers import load_peer
from edge_distill.toolkit.records import iter_jsonl
from edge_distill.toolkit.report import build_report, write_report  # figures need the 'bench' extra
from edge_distill.toolkit.student.distill import StudentConfig, evaluate, fit_student, gold_and_dev
from edge_distill.toolkit.student.model import StudentModel
from edge_distill.toolkit.student.prune import estimated_onnx_bytes
from edge_distill.toolkit.student.store import load_student, save_student
from edge_distill.toolkit.teacher.backbone import read_record
from edge_distill.toolkit.teacher.heldout import GateTexts, heldout_texts, int8_gate_texts
from edge_distill.toolkit.teacher.label import LabelResult, label_corpus, onnx_labeler, torch_labeler
from edge_distill.toolkit.teacher.shards import merge_shards, parse_shard
from edge_distill.toolkit.teacher.train import TeacherResult, TrainConfig, fine_tune
from edge_distill.toolkit.transfer import recorded_options, transfer_of

log = logging.getLogger("edge_distill.data")

#: transfer texts (besides the test texts) the student export's gate takes from the student's data
GATE_TRANSFER_TEXTS = 2000


class _Result:
    """``to_dict()`` for the result dataclasses: JSON-able, optional fields left out when unset."""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}  # type: ignore[call-overload]


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class LoadedData:
    """A data source read once: the options, every split as read, and the sets drawn from it.

    ``splits.unlabeled`` is the transfer set of ``options.unlabeled``; ``pool`` is every transfer
    text the draw could give, in its order, so :meth:`sized` gives the draw of another size (a
    prefix: the draw of ``n`` texts is the first ``n`` of a larger one) without reading again.
    ``dataset`` feeds the held-out draws outside the sets (the export gates, the cascade).
    """

    options: DataOptions
    dataset: dict[str, Corpus] = field(repr=False)
    splits: Splits
    pool: Corpus = field(repr=False)

    def sized(self, unlabeled: int | str | None) -> LoadedData:
        """The same draw with a transfer set of ``unlabeled`` texts (None: all, "auto": the budget's)."""
        if unlabeled == self.options.unlabeled:
            return self
        n = len(self.pool) if unlabeled is None else unlabeled
        if n == AUTO:
            n = within_budget(self.pool.texts, AUTO_BUDGET_CHARS)
        elif n > len(self.pool):
            log.warning(
                "asked for up to %d unlabeled texts; %s has %d: using all of them", n, self.pool.source, len(self.pool)
            )
        transfer = self.pool.take(np.arange(min(int(n), len(self.pool))))
        return replace(
            self, options=self.options.sized(unlabeled=unlabeled), splits=replace(self.splits, unlabeled=transfer)
        )

    def resolved(self) -> LoadedData:
        """The same data with ``unlabeled="auto"`` replaced by the count it gives (the same texts),
        so stage keys and reports name a number."""
        if self.options.unlabeled != AUTO:
            return self
        return replace(self, options=self.options.sized(unlabeled=len(self.splits.unlabeled)))

    def record(self, label_names: Sequence[str] | None = None) -> dict[str, Any]:
        """The options as stored with a model (:meth:`DataOptions.record`)."""
        return self.options.record(tuple(label_names) if label_names is not None else None)


def _draw(
    options: DataOptions, dataset: dict[str, Corpus], extra: list[Corpus], n_unlabeled: int | str | None
) -> Splits:
    """The sets of ``options`` drawn from the read ``dataset``, with ``n_unlabeled`` transfer texts."""
    o = options
    return make_splits(
        dataset,
        n_labeled=o.labeled,
        n_unlabeled=n_unlabeled,
        n_test=o.test,
        seed=o.seed,
        stratify=o.stratify,
        test_split=o.test_split,
        n_validation=o.validation,
        extra_unlabeled=extra,
    )


def load_data(options: DataOptions) -> LoadedData:
    """Read the source of ``options`` (and its ``unlabeled_data`` sources) once and draw the sets.

    The same sets as :meth:`DataOptions.load`: the transfer pool is drawn whole and cut to the
    size asked for (see :meth:`LoadedData.sized`).
    """
    o = options
    dataset = load_dataset(
        o.source, text_field=o.text_field, label_field=o.label_field or None, label_names=o.label_names
    )
    extra = load_unlabeled(o.unlabeled_data if o.unlabeled != 0 else (), text_field=o.text_field)
    whole = _draw(o, dataset, extra, None if o.unlabeled != 0 else 0)
    if not len(whole.unlabeled) and o.unlabeled not in (0, None):
        _draw(o, dataset, extra, o.unlabeled)  # no transfer pool at all: the draw's own error
    return LoadedData(o.sized(unlabeled=None), dataset, whole, whole.unlabeled).sized(o.unlabeled)


def _data_summary(data: LoadedData) -> dict[str, Any]:
    """What a stage that never sees the transfer set records of its data."""
    return {"source": data.options.source, "seed": data.options.seed, **data.sized(0).splits.summary()}


# ----------------------------------------------------------------------------- baseline
def train_baseline(
    data: LoadedData, *, recipe: str = "tfidf", out: str | os.PathLike[str] | None = None
) -> BaselineResult:
    """Fit the baseline on the labeled set, score the test set; with ``out``, write
    ``out/baseline.json`` and the test probabilities to ``out/predictions/baseline.npz``."""
    splits = data.splits  # the baseline never sees the transfer set
    result, proba = run_baseline(splits.labeled, splits.test, recipe, random_state=data.options.seed)
    result.data = _data_summary(data)
    if out is not None:
        out = Path(out)
        target = out / "predictions" / "baseline.npz"
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, ids=np.asarray(splits.test.ids), probabilities=proba.astype(np.float32))
        result.predictions, result.path = str(target), str(out / "baseline.json")
        atomic_write_json(out / "baseline.json", result.to_dict())
    return result


# ----------------------------------------------------------------------------- teacher
def train_teacher(data: LoadedData, out: str | os.PathLike[str], config: TrainConfig | None = None) -> TeacherResult:
    """Fine-tune the teacher on the labeled set of ``data``; saved to ``out/teacher``.

    The epoch is chosen on the data's validation set (every labeled row trains), or where it is
    empty on a split carved from the labeled set; never on the test split. The data options are
    recorded in ``training.json`` so the export's gate can redraw held-out texts the teacher never saw.
    """
    config = replace(config or TrainConfig(), data=data.record())
    splits = data.splits
    origin = splits.origins.get("validation")  # e.g. "the 'validation' split", "carved from 'train': ..."
    validation = replace(splits.validation, source=origin) if origin else splits.validation
    return fine_tune(splits.labeled, config, out, validation=validation)


def label_transfer_set(
    teacher: str | os.PathLike[str],
    data: LoadedData,
    out: str | os.PathLike[str],
    options: LabelOptions | None = None,
) -> LabelResult:
    """Write the teacher's logits for the transfer set of ``data`` to ``out/logits`` (resumable,
    shardable), and the data options next to them so ``student`` can redraw the same texts."""
    options = options or LabelOptions()
    try:
        shard = parse_shard(options.shard)
    except ValueError as exc:
        raise DataError(f"--shard: {exc}") from exc
    backend = options.backend
    if backend == "auto":
        backend = "onnx" if str(teacher).endswith(".onnx") else "torch"
    make = onnx_labeler if backend == "onnx" else torch_labeler
    labeler = make(teacher, options.threads, options.batch_size)
    result = label_corpus(
        data.splits.unlabeled,
        labeler,
        out,
        shard=shard,
        chunk_size=options.chunk_size,
        restart=options.restart,
        progress=options.progress,
    )
    save_data_record(out, data.record())
    return result


@dataclass
class MergeResult(_Result):
    """The merged logits table of a sharded labeling."""

    path: str
    shards: int
    texts: int


def merge_logits(out: str | os.PathLike[str]) -> MergeResult:
    """Check the shards under ``out/logits/shards`` and merge them into ``out/logits/logits.npz``."""
    path, summary = merge_shards(Path(out))
    return MergeResult(str(path), summary["shards"], summary["texts"])


# ----------------------------------------------------------------------------- student
@dataclass
class StudentResult(_Result):
    """A fitted student: its size, choices and test metrics; ``model`` itself (not in :meth:`to_dict`)."""

    recipe: str
    student: str | None  # the saved folder (DIR/student); None: not saved
    sizes: dict[str, int]
    metrics: dict[str, Any]
    objective: dict[str, Any]
    n_features: int
    tuning: list[dict[str, Any]]
    estimated_bytes: int | None = None  # of the exported student.onnx
    unpruned: dict[str, Any] | None = None  # the model before pruning to a budget
    settings_choice: dict[str, Any] | None = None  # how "auto" settings were chosen (None: given)
    model: StudentModel | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: every field but the model, optional ones left out when unset."""
        return _Result.to_dict(replace(self, model=None))


def _check_classes(table: LogitsTable, transfer: Corpus) -> None:
    """The logits name the data's classes, in the same order."""
    if table.label_names != transfer.label_names:
        raise DataError(
            f"the logits' classes {list(table.label_names)} differ from the data's {list(transfer.label_names)}"
        )


def load_transfer_set(
    logits: str | os.PathLike[str], options: DataOptions | None = None
) -> tuple[LoadedData, LogitsTable]:
    """The data of a ``teacher label`` folder (its transfer set: the texts the logits hold) and the logits.

    Without ``options`` the options recorded beside the logits are used; with ``options`` whose
    ``unlabeled`` is None, the pool is narrowed to the texts that have logits; with an explicit
    size, exactly that draw (every text needs logits).
    """
    table = load_logits(logits)
    options = options or recorded_options(logits)
    data = load_data(options)
    _check_classes(table, data.splits.unlabeled)
    transfer, _ = transfer_of(data.splits.unlabeled, table, exact=options.unlabeled is not None)
    return replace(data, splits=replace(data.splits, unlabeled=transfer)), table


def distill_student(
    splits: Splits,
    logits: LogitsTable,
    *,
    config: StudentConfig | None = None,
    data: LoadedData | Mapping[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> StudentResult:
    """Distill the teacher's ``logits`` on ``splits.unlabeled`` (every text needs its row) into a student.

    ``splits.labeled`` gives gold rows and, without a non-empty ``splits.validation``, the tuning
    dev set; the student is measured on ``splits.test`` (never used for a choice). "auto" settings
    are chosen on the transfer set (see :func:`toolkit.student.distill.resolve_settings`).
    ``data`` (loaded data, or a record) is stored with the model as where its texts came from.
    The fitted model is ``result.model``; with ``out`` it is also saved to ``out/student``.
    """
    config = config or StudentConfig()
    transfer, labeled, test = splits.unlabeled, splits.labeled, splits.test
    _check_classes(logits, transfer)
    model, unpruned, trials = _fit(transfer, logits.lookup(transfer.ids), labeled, config, splits.validation)
    metrics = {}
    if len(test) and test.is_labeled:
        metrics["test"] = evaluate(model.pipeline().predict_proba(test.texts), test.labels)
        if "model" in unpruned:
            unpruned["test"] = evaluate(unpruned.pop("model").pipeline().predict_proba(test.texts), test.labels)
    sizes = {"labeled": len(labeled), "unlabeled": len(transfer), "test": len(test), "transfer": len(transfer)}
    model.info.update({"sizes": {**sizes, "n_features": model.n_features}, "metrics": metrics})
    record = data.record(transfer.label_names) if isinstance(data, LoadedData) else dict(data or {})
    model.info["data"] = record
    if trials:
        model.info["tuning"] = trials
    folder = save_student(model, out) if out is not None else None
    return StudentResult(
        recipe=config.recipe,
        student=str(folder) if folder is not None else None,
        sizes=sizes,
        metrics=metrics,
        objective=model.info.get("objective", {}),
        n_features=model.n_features,
        tuning=trials,
        estimated_bytes=estimated_onnx_bytes(model.vocabulary, model.coef.shape[0])
        if model.recipe == "tfidf"
        else None,
        unpruned=unpruned or None,
        settings_choice=model.info.get("settings_choice"),
        model=model,
    )


def _fit(transfer: Corpus, logits: np.ndarray, labeled: Corpus, config: StudentConfig, validation: Corpus | None):
    """The model, the unpruned model's numbers and the tuning trials, for the config's recipe."""
    if config.recipe == "seed":
        from edge_distill.toolkit.student.seed import fit_seed  # imports scikit-learn at its top

        return fit_seed(transfer.texts, logits, transfer.label_names), {}, []
    (gold_texts, gold_labels), dev = gold_and_dev(labeled, config, validation)
    labeled_val = validation is not None and validation.is_labeled  # fit_student skips an empty one
    val = (list(validation.texts), validation.labels) if labeled_val else None
    fit = fit_student(
        transfer.texts,
        logits,
        transfer.label_names,
        config,
        gold_texts=gold_texts,
        gold_labels=gold_labels,
        dev=dev,
        validation=val,
    )
    return fit.model, fit.unpruned or {}, fit.tuning


# ----------------------------------------------------------------------------- exports
@dataclass
class StudentExportResult(_Result):
    """A written ``student.onnx`` and the parity gate it passed."""

    path: str
    bytes: int
    n_features: int
    parity: dict[str, Any]
    gate_texts: str  # where the gate's real texts came from
    ort: dict[str, Any] | None = None  # the ORT-format sibling and its own gate (``format="ort"``)


def _check_source(src: str, what: str, hint: str) -> None:
    """A recorded data source that is not here is a :class:`DataError` naming it (and what to do)."""
    if not src:
        raise DataError(f"{what}: no source recorded: {hint}")
    if src != "imdb" and not src.startswith("hf:") and not Path(src).exists():
        raise DataError(f"{src}: {what} is not here: {hint}")


def student_gate_texts(data: LoadedData | Mapping[str, Any]) -> tuple[list[str], str]:
    """Real texts for the student gate and their origin: the test texts and the first
    :data:`GATE_TRANSFER_TEXTS` transfer texts of ``data``, or of the data a student records (its
    ``model.info["data"]``), read again; a recorded source that is not here is a :class:`DataError`
    naming it (no gate on fewer texts)."""
    if not isinstance(data, LoadedData):
        src = data.get("source") or data.get("data") or ""
        _check_source(src, "the student's data", "give the gate's texts (--texts) or none (--no-data)")
        data = load_data(DataOptions.from_record(dict(data)))
    splits = data.splits
    src = data.record()["source"]
    return splits.test.texts + splits.unlabeled.texts[:GATE_TRANSFER_TEXTS], f"{src} (test + transfer)"


def export_student_onnx(
    student: StudentModel | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    texts: Sequence[str] | str | os.PathLike[str],
    origin: str | None = None,
    tolerance: float = 1e-6,
    format: str = "onnx",
) -> StudentExportResult:
    """Export a student (a model, or its folder) to one ONNX file behind the parity gate.

    The gate runs the built-in adversarial set plus the real ``texts`` (a list, ``[]`` for none, or
    a JSONL file of ``{"text": ...}``; :func:`student_gate_texts` draws them from data, and
    ``origin`` says where they came from). A failed gate raises :class:`ParityError` and writes
    nothing; a setting ONNX cannot reproduce raises a :class:`DataError` naming it.
    ``format="ort"`` also writes the ORT-format sibling (``out`` may end in ``.ort``; the ``.onnx``
    goes beside it), sealed and gated against the ``.onnx``, with its reduced-operator config.
    """
    if format not in ("onnx", "ort"):
        raise DataError(f"format must be 'onnx' or 'ort', got {format!r}")
    if Path(out).is_dir():  # found now, not after the parity gate
        raise DataError(f"{out} is a folder: give the path of the file to write")
    if format == "ort" and str(out).endswith(".ort"):
        out = str(out)[: -len(".ort")] + ".onnx"
    from edge_distill.exporters.ort_format import export_ort  # the 'export' extra
    from edge_distill.exporters.student import export_student

    model = student if isinstance(student, StudentModel) else load_student(student)
    if isinstance(texts, (str, os.PathLike)):
        gate, origin = [r.text for r in iter_jsonl(Path(texts), label_field=None)], origin or str(texts)
    else:
        gate = validate_texts(texts)  # a bad text named by its own position, before the adversarial set
        origin = origin or (f"{len(gate)} given texts" if gate else "none")
    r = export_student(model, out, texts=gate, tol=tolerance)
    ort = export_ort(out, texts=gate, tol=tolerance).as_dict() if format == "ort" else None
    return StudentExportResult(r["path"], r["bytes"], r["n_features"], r["parity"], origin, ort)


@dataclass
class TeacherExportResult(_Result):
    """The written teacher ONNX files and the gates they passed (``int8`` only when asked for)."""

    labels: list[str]
    max_length: int
    truncation: str
    fused: dict[str, int]
    fp32: dict[str, Any]
    int8: dict[str, Any] | None = None


def teacher_gate_texts(
    teacher: str | os.PathLike[str],
    options: TeacherExportOptions | None = None,
    *,
    int8: bool = False,
    data: LoadedData | None = None,
) -> GateTexts:
    """The teacher gates' held-out texts: labeled texts of the teacher's training data in none of its
    labeled, test and validation sets (and, for ``int8``, disjoint calibration and agreement texts).

    The draw follows the data recorded in the teacher's ``training.json``; ``data`` is that data
    already read (else it is read from the record, or from ``options.data`` where it moved).
    """
    options = options or TeacherExportOptions()
    record = read_record(teacher).get("data", {})
    dataset, splits = (data.dataset, data.splits) if data is not None else (None, None)
    if dataset is None:
        src = options.data or record.get("data") or record.get("source") or ""
        _check_source(src, "the teacher's training data", "pass --data with where it is now")
    if not int8:
        return GateTexts(heldout_texts(record, options.check, options.seed, options.data, dataset, splits), [], [])
    n_cal = CALIBRATION_AUTO_TEXTS if options.calibration == AUTO else options.calibration
    o = options
    return int8_gate_texts(record, o.check, n_cal, o.agreement, o.seed, o.data, dataset, splits)


def export_teacher_onnx(
    teacher: str | os.PathLike[str],
    out: str | os.PathLike[str],
    gate: GateTexts | Corpus,
    *,
    int8_out: str | os.PathLike[str] | None = None,
    options: TeacherExportOptions | None = None,
) -> TeacherExportResult:
    """Export ``DIR/teacher`` to fp32 ONNX (and int8 with ``int8_out``) behind the parity gates.

    ``gate``: the gates' held-out labeled texts (a corpus), or those with the int8 calibration and
    agreement texts (:func:`teacher_gate_texts`). A failed gate raises :class:`ParityError` and
    writes nothing.
    """
    from edge_distill.exporters.teacher import export_with_options  # 'export' extra

    gate = GateTexts(gate, [], []) if isinstance(gate, Corpus) else gate
    r = export_with_options(teacher, out, gate, options or TeacherExportOptions(), int8_out=int8_out)
    return TeacherExportResult(r["labels"], r["max_length"], r["truncation"], r["fused"], r["fp32"], r.get("int8"))


# ----------------------------------------------------------------------------- cascade
@dataclass
class CascadeResult(_Result):
    """A run's cascade (student first, the teacher where the student is unsure), or why there is none.

    ``plan``: the threshold, the share sent to the teacher and the accuracy, chosen on held-out
    labeled texts (``heldout``) the student never trained on; ``test``: accuracy and teacher
    share on the test texts; ``bench``: the cascade timed one text at a time (mean, p50, p99).
    """

    ok: bool
    heldout: str  # where the threshold's labeled texts came from
    note: str | None = None  # why there is no cascade
    teacher: str | None = None
    plan: dict[str, Any] | None = None
    test: dict[str, Any] | None = None
    bench: dict[str, Any] | None = None
    curve: dict[str, Any] | None = None
    figure: str | None = None
    path: str | None = None  # cascade.json, the spec ``edge-distill predict --cascade`` and the runtime load


def cascade_heldout(
    data: DataOptions,
    splits: Splits,
    trained_on: set[str],
    n: int = 1000,
    seed: int = 1234,
    *,
    dataset: Mapping[str, Corpus] | None = None,
) -> tuple[Corpus | None, str]:
    """Labeled texts to choose a cascade's threshold on, none of them test texts or texts the
    student trained on: the data's validation split where it has one, else held-out labeled
    train texts (:func:`heldout_texts`; from ``dataset`` where the caller read it, ``splits``
    then being its draw), else the validation set carved from train."""

    def fresh(corpus: Corpus) -> Corpus:
        return corpus.take([i for i, k in enumerate(corpus.ids) if k not in trained_on])

    if splits.validation_is_split and len(fresh(splits.validation)):
        return fresh(splits.validation), f"validation set: {splits.origins.get('validation')}"
    try:
        held = fresh(
            heldout_texts(
                data.record(splits.label_names),
                n,
                seed,
                dataset=dataset,
                splits=splits if dataset is not None else None,
            )
        )
    except DataError:
        held = None
    if held is not None and len(held):
        return held, "labeled train texts in none of the labeled, test, validation and transfer sets"
    if len(fresh(splits.validation)):
        return fresh(splits.validation), f"validation set: {splits.origins.get('validation')}"
    return None, "none"


def build_cascade(
    out: str | os.PathLike[str],
    data: LoadedData,
    *,
    target: str = "max_share",
    max_teacher_share: float = 0.15,
    heldout: int = 1000,
    seed: int = 1234,
    bench_texts: int | None = 1000,
) -> CascadeResult:
    """The cascade of a run folder (``student.onnx``, the teacher ONNX, ``logits/``,
    ``predictions/test.npz``): ``cascade.json``, ``cascade_report.json``, ``figures/cascade.png``.

    Without labeled held-out texts outside the student's transfer set there is no cascade: the
    result says why (``ok=False``) and no spec is written.
    """

    share_ok = isinstance(max_teacher_share, (int, float)) and not isinstance(max_teacher_share, bool)
    if target not in cascade_plan.TARGETS or not (share_ok and 0 <= max_teacher_share <= 1):
        raise DataError(f"cascade target must be one of {cascade_plan.TARGETS} and 0 <= max share <= 1, "
                        f"got {target!r}, {max_teacher_share!r}")  # fmt: skip
    if isinstance(heldout, bool) or not isinstance(heldout, int) or heldout < 1:
        raise DataError(f"heldout must be a number of texts >= 1, got {heldout!r}")
    out = Path(out)
    splits = data.sized(0).splits
    trained_on = set(load_logits(out / "logits").ids) | set(splits.labeled.ids)
    held, origin = cascade_heldout(data.options, splits, trained_on, heldout, seed, dataset=data.dataset)
    (out / "cascade.json").unlink(missing_ok=True)  # never leave a stale spec beside a skipped cascade
    if held is None:
        note = "no labeled held-out texts outside the labeled, test and transfer sets: no cascade"
        return CascadeResult(False, origin, note=note)
    try:  # the 'bench' extra times the cascade; without it, the plan and its accuracy alone
        from edge_distill.benchmarks.cascade import time_cascade
    except MissingExtraError as exc:
        time_cascade = None
        log.warning("%-16s not timed: %s", "cascade", exc)
    try:
        r = cascade_plan.build_cascade(out, held, splits.test, timer=time_cascade, trained_on=trained_on,
                                       target=target, max_teacher_share=max_teacher_share,
                                       bench_texts=bench_texts)  # fmt: skip
    except DataError as exc:
        return CascadeResult(False, origin, note=f"no cascade: {exc}")
    return CascadeResult(True, f"{len(held):,} texts: {origin}", None, r["teacher"], r["plan"], r["test"],
                         r["bench"], r["curve"], r.get("figure"), str(out / "cascade.json"))  # fmt: skip


# ----------------------------------------------------------------------------- evaluation, benchmark, report
@dataclass
class EvaluationResult(_Result):
    """Every model's metrics on the same test texts, each paired against the reference (teacher)."""

    models: dict[str, dict[str, Any]]
    reference: str
    n_test: int
    path: str | None = None  # evaluation.json, once written


def _probabilities(path: Path, texts: list[str]) -> np.ndarray:
    """An ONNX artifact through the runtime, a folder as a saved peer."""
    return load_peer(path).predict_proba(texts) if path.is_dir() else runtime.load(path).predict_proba(texts)


def evaluate_models(
    models: Mapping[str, str | os.PathLike[str]],
    test: Corpus,
    *,
    probabilities: Mapping[str, np.ndarray] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> EvaluationResult:
    """Score every model (name -> ONNX file or peer folder; or ready ``probabilities``) on ``test``.

    With ``out``: ``out/evaluation.json`` and every model's probabilities in
    ``out/predictions/test.npz`` (with the test ids and labels).
    """
    if not len(test) or not test.is_labeled:
        raise DataError(f"evaluation needs labeled test texts, got {len(test):,} ({test.source or 'no source'})")
    probas = {name: np.asarray(p) for name, p in (probabilities or {}).items()}
    for name, path in models.items():
        probas[name] = _probabilities(Path(path), test.texts)
    result = compare_models(test.labels, probas, test.label_names)
    evaluation = EvaluationResult(result["models"], result["reference"], result["n_test"])
    if out is not None:
        out = Path(out)
        predictions = {name: p.astype(np.float32) for name, p in probas.items()}
        with atomic_path(out / "predictions" / "test.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, ids=np.asarray(test.ids), labels=test.labels, **predictions)
        evaluation.path = str(out / "evaluation.json")
        atomic_write_json(out / "evaluation.json", result)
    return evaluation


@dataclass
class BenchmarkResult(_Result):
    """Latency, throughput, size and cold start of every contender (see :mod:`benchmarks.suite`)."""

    contenders: dict[str, dict[str, Any]]
    reference: str
    settings: dict[str, Any]
    environment: dict[str, Any]
    path: str | None = None  # bench.json, once written


def run_benchmark(
    artifacts: Sequence[str | os.PathLike[str]],
    texts: Sequence[str],
    *,
    rounds: int = 300,
    cold_repeats: int = 3,
    seed: int = 0,
    progress: bool = True,
    out: str | os.PathLike[str] | None = None,
) -> BenchmarkResult:
    """Measure every artifact on texts drawn from ``texts``; with ``out``, write bench.json and bench.md."""
    from edge_distill.benchmarks.suite import markdown, run_suite  # the 'bench' extra

    r = run_suite(
        [str(a) for a in artifacts], texts, rounds=rounds, progress=progress, seed=seed, cold_repeats=cold_repeats
    )
    result = BenchmarkResult(r["contenders"], r["reference"], r["settings"], r["environment"])
    if out is not None:
        result.path = str(atomic_write_json(Path(out) / "bench.json", r))
        atomic_write_text(Path(out) / "bench.md", markdown(r) + "\n")
    return result


@dataclass
class ReportResult(_Result):
    """The run's report (``report.json``'s content) and the files written for it."""

    report: dict[str, Any]
    paths: dict[str, str]


def write_run_report(
    out: str | os.PathLike[str],
    run: dict[str, Any],
    evaluation: EvaluationResult | Mapping[str, Any],
    bench: BenchmarkResult | Mapping[str, Any] | None = None,
    scaling: list[dict[str, Any]] | None = None,
    cascade: CascadeResult | Mapping[str, Any] | None = None,
) -> ReportResult:
    """Merge evaluation, benchmark and cascade into ``report.json``, ``report.md`` and ``figures/*.png``."""

    ev = evaluation.to_dict() if isinstance(evaluation, EvaluationResult) else dict(evaluation)
    bench_data = bench.to_dict() if isinstance(bench, BenchmarkResult) else (dict(bench) if bench else None)
    if bench_data is not None:
        bench_data.pop("path", None)
    cascade_data = cascade.to_dict() if isinstance(cascade, CascadeResult) else (dict(cascade) if cascade else None)
    report = build_report(run, ev, bench_data, scaling, cascade_data)
    return ReportResult(report, write_report(Path(out), report))


__all__ = list(API)  # the list lives in the package, so importing the package stays light
