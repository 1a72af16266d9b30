"""``edge-distill run``: data to deployable artifacts and a report, one cached stage at a time.

Each stage is one call of the Python API (:mod:`toolkit.api`) with the options of one
:class:`RunConfig`, cached by :mod:`toolkit.stages`: a rerun after a crash, or with one changed
option, redoes only the stages whose settings or inputs changed. A stage's key holds every
setting of its config dataclass, so a changed default reruns it too. The data source is read
once (:func:`toolkit.api.load_data`), and every stage gets its texts from that one read.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.atomic import atomic_write_json
from edge_distill.runtime.errors import DataError, EdgeDistillError, MissingExtraError, ParityError
from edge_distill.runtime.extras import require_extra
from edge_distill.toolkit.api import (
    LoadedData,
    build_cascade,
    distill_student,
    evaluate_models,
    export_student_onnx,
    export_teacher_onnx,
    label_transfer_set,
    load_data,
    run_benchmark,
    student_gate_texts,
    teacher_gate_texts,
    train_baseline,
    train_teacher,
    write_run_report,
)
from edge_distill.toolkit.data import source_digest
from edge_distill.toolkit.features import FEATURE_DEFAULTS
from edge_distill.toolkit.logits import load_logits
from edge_distill.toolkit.options import (
    CASCADE_TARGETS,
    LABEL_WITH,
    DataOptions,
    LabelOptions,
    RunOptions,
    TeacherExportOptions,
)
from edge_distill.toolkit.peers import DEFAULTS, PEERS, folder_bytes, installed, make_peer, missing, training_set
from edge_distill.toolkit.stages import StageResult, run_stage
from edge_distill.toolkit.student.distill import StudentConfig
from edge_distill.toolkit.teacher.backbone import DEFAULT_MODEL, read_record
from edge_distill.toolkit.teacher.train import TrainConfig, trained_too_short

log = logging.getLogger("edge_distill.run")

PEERS_DIR = "peers"


@dataclass(kw_only=True)
class RunConfig(RunOptions):
    """Everything that decides what a run produces (and so, what its stages are keyed by): each
    stage's options, and what the run decides itself (:class:`toolkit.options.RunOptions`: which
    teacher labels, the benchmark, the peers, the cascade, the scaling study).

    ``data.unlabeled`` is the student's transfer size; ``scaling`` adds smaller (or larger)
    students drawn from one labeled pool. ``teacher.seed`` and ``student.random_state`` are
    set by the caller (the ``run`` command sets them to ``data.seed``).
    """

    data: DataOptions
    out: Path
    teacher: TrainConfig = field(default_factory=TrainConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    export: TeacherExportOptions = field(default_factory=TeacherExportOptions)
    label: LabelOptions = field(default_factory=LabelOptions)

    def data_key(self) -> dict[str, Any]:
        """The split settings every stage's key starts from (the transfer size is added where it matters)."""
        return {k: v for k, v in self.data.key().items() if k not in ("unlabeled", "unlabeled_data")}

    def transfer_key(self, n_unlabeled: int | None) -> dict[str, Any]:
        """What decides a transfer set: its size and, when given, the other sources it draws from
        with their contents' digests (texts added to a file later are labeled on the next run)."""
        extra = {"unlabeled_data": self._source_digests} if self.data.unlabeled_data else {}
        return {"unlabeled": n_unlabeled, **extra}

    @functools.cached_property
    def _source_digests(self) -> list[list[str | None]]:
        """Each ``--unlabeled-data`` source with its digest, read once per run (not once per stage key)."""
        return [[s, source_digest(s)] for s in self.data.unlabeled_data]

    def teacher_key(self) -> dict[str, Any]:
        """The fine-tuning settings that decide the teacher (not progress bars or threads)."""
        return {k: v for k, v in asdict(self.teacher).items() if k not in ("progress", "threads", "data")}

    def student_key(self) -> dict[str, Any]:
        """The student's settings, with the feature defaults they fill in and whether they are chosen
        on the transfer set (with the selection's grid, so a changed grid reruns the student)."""
        key = {**self.student.key(), "feature_defaults": FEATURE_DEFAULTS, "selects": self.student.selects}
        if self.student.selects:
            key["selection_grid"] = _code_version("edge_distill.toolkit.student.selection", "SETTINGS_GRID")
            key["selection"] = _code_version("edge_distill.toolkit.student.selection", "SELECTION_VERSION")
        return key

    def teacher_model(self) -> str | None:
        """The teacher's backbone as the report and the Model2Vec peer name it (None: the packaged one)."""
        return None if self.teacher.model == DEFAULT_MODEL else self.teacher.model


@dataclass
class RunResult:
    """A finished run: the report (``report.json``'s content) and where it is."""

    report: dict[str, Any]
    out: str

    def to_dict(self) -> dict[str, Any]:
        """The report (``--json``)."""
        return self.report


def run_pipeline(cfg: RunConfig) -> RunResult:
    """Run (or resume) every stage and write the report."""
    if cfg.label_with not in LABEL_WITH:
        raise DataError(f"label_with must be one of {LABEL_WITH}, got {cfg.label_with!r}")
    if cfg.cascade_target not in CASCADE_TARGETS or not 0 <= cfg.cascade_max_share <= 1:
        raise DataError(
            f"cascade target must be one of {CASCADE_TARGETS} and its max share in [0, 1], "
            f"got {cfg.cascade_target!r}, {cfg.cascade_max_share}"
        )
    t0 = time.perf_counter()
    cfg = _within_extras(cfg)
    data = _load(cfg)  # the one read of the data; data that needs a missing extra stops here, nothing written
    cfg = replace(cfg, data=data.options)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    baseline = run_stage(
        out, "baseline", cfg.data_key(), [], ["baseline.json", "predictions/baseline.npz"], lambda: _baseline(data, out)
    )
    teacher, export_t, export_q = _teacher_stages(cfg, data, out)
    labels, label_with = _label_stage(cfg, data, out, export_t, export_q)
    student = _student_stage(cfg, data, out, "student", labels)
    peers = _peers_stage(cfg, out, labels, data)
    graph = {"graph": _code_version("edge_distill.exporters.student_graph", "GRAPH_VERSION")}
    export_s = run_stage(out, "export_student", graph, [student], ["student.onnx"], lambda: _export_student(data, out))
    evaluation = run_stage(
        out,
        "evaluate",
        cfg.data_key(),
        [baseline, export_t, export_q, export_s, peers],
        ["evaluation.json"],
        lambda: _evaluate(data, out),
    )
    done = [baseline, teacher, export_t, export_q, labels, student, peers, export_s, evaluation]
    cascade = _cascade_stage(cfg, data, out, [export_s, export_t, export_q, evaluation])
    if cascade is not None:
        done.append(cascade)
    scaling = _scaling_stages(cfg, data, out, labels, student, done)
    bench = None
    if cfg.bench:
        key = {"rounds": cfg.bench_rounds, "cold_repeats": cfg.cold_repeats}
        done.append(
            run_stage(
                out, "bench", key, [export_s, export_t, export_q, peers], ["bench.json"], lambda: _bench(cfg, data, out)
            )
        )
        bench = json.loads((out / "bench.json").read_text())
    run_info = _run_info(cfg, data, time.perf_counter() - t0, done, teacher, export_q, peers, label_with)
    run_info["student_settings"] = student.info.get("settings_choice")
    run_info["objective"] = (student.info.get("objective") or {}).get("name") or cfg.student.objective
    evaluation_data = json.loads((out / "evaluation.json").read_text())
    report = write_run_report(out, run_info, evaluation_data, bench, scaling, _cascade_report(out, cascade)).report
    log.info("%-16s done: %s", "report", out / "report.md")
    return RunResult(report, str(out))


def _within_extras(cfg: RunConfig) -> RunConfig:
    """Before any work: a missing extra the run needs (train, export) stops it with a
    :class:`MissingExtraError` naming it; a missing one that only adds a part leaves that part
    out with a note (bench: the benchmark; peers: skipped by their own stage)."""
    require_extra("train", "a run")
    require_extra("export", "a run's ONNX exports")
    if not cfg.bench:
        return cfg
    try:
        require_extra("bench", "a run's benchmark")
    except MissingExtraError as exc:
        log.warning("%-16s skipped: %s", "bench", exc)
        return replace(cfg, bench=False)
    return cfg


def _has_extra(extra: str) -> bool:
    """Whether the optional ``extra`` is installed."""
    try:
        require_extra(extra)
    except MissingExtraError:
        return False
    return True


#: what the report says of the teacher's fine-tuning (from its training.json, which every version wrote)
TEACHER_TRAINING_FIELDS = ("epochs_chosen", "best_epoch", "best_val_accuracy", "n_val", "validation", "history")


def _teacher_training(folder: Path) -> dict[str, Any]:
    record = read_record(folder)
    return {k: record[k] for k in TEACHER_TRAINING_FIELDS if k in record}


def _run_info(
    cfg: RunConfig,
    data: LoadedData,
    wall: float,
    done: list[StageResult],
    teacher: StageResult,
    export_q: StageResult,
    peers: StageResult,
    label_with: str,
) -> dict[str, Any]:
    """The run block of the report: settings, classes, sets, what each stage cost and whether it was cached."""
    splits = data.splits  # with the transfer set, so the sets' sizes are the run's
    return {
        **cfg.data_key(),
        "data": cfg.data.source,
        "classes": splits.classes_record(),
        "splits": splits.describe(),
        "unlabeled": cfg.data.unlabeled,
        "unlabeled_data": list(cfg.data.unlabeled_data),
        "objective": cfg.student.objective,
        "label_with": label_with,
        "teacher_model": teacher.info.get("model") or f"{DEFAULT_MODEL} (packaged)",
        "teacher_training": _teacher_training(Path(cfg.out) / "teacher"),
        "wall_seconds": wall,
        "teacher_int8": export_q.info,
        "peers": peers.info,
        "stages": {s.name: {"cached": s.cached, "seconds": round(s.seconds, 1)} for s in done},
        "compute_seconds": round(sum(s.seconds for s in done), 1),
    }


def _load(cfg: RunConfig) -> LoadedData:
    """The run's data, read once: the student's sets, and the transfer pool every student size draws from."""
    sizes = [cfg.data.unlabeled, *cfg.scaling]
    if cfg.data.unlabeled == 0 and any(n != 0 for n in sizes):  # only the scaling students draw transfer texts
        return load_data(cfg.data.sized(unlabeled=None)).sized(0)
    return load_data(cfg.data).resolved()


def _baseline(data: LoadedData, out: Path) -> dict[str, Any]:
    result = train_baseline(data, out=out)
    return {"accuracy": result.metrics["accuracy"], "chosen": result.chosen, "n_features": result.n_features}


def _teacher_stages(cfg: RunConfig, data: LoadedData, out: Path) -> tuple[StageResult, StageResult, StageResult]:
    """Fine-tune, export fp32 behind its gate, and try the int8 export (a refusal is recorded, not fatal)."""
    teacher = run_stage(
        out,
        "teacher_train",
        {**cfg.data_key(), "teacher": cfg.teacher_key()},
        [],
        ["teacher"],
        lambda: train_teacher(data, out, replace(cfg.teacher, progress=cfg.progress)).to_dict(),
        current=lambda: not trained_too_short(out / "teacher"),
    )
    export_t = run_stage(
        out,
        "export_teacher",
        cfg.export.key(),
        [teacher],
        ["teacher.onnx"],
        lambda: _export_fp32(cfg, data, out),
    )
    int8_key = {**cfg.export.key(), "scheme": _code_version("edge_distill.exporters.teacher", "INT8_SCHEME")}
    export_q = run_stage(
        out, "export_teacher_int8", int8_key, [export_t], [], lambda: _export_int8(cfg, data, out),
        optional_outputs=["teacher.int8.onnx"],  # written only when its gate accepts it
    )  # fmt: skip
    return teacher, export_t, export_q


def _export_fp32(cfg: RunConfig, data: LoadedData, out: Path) -> dict[str, Any]:
    """The fp32 teacher behind its gate, on held-out texts of the run's data."""
    gate = teacher_gate_texts(out / "teacher", cfg.export, data=data)
    return export_teacher_onnx(out / "teacher", out / "teacher.onnx", gate, options=cfg.export).to_dict()


def _export_int8(cfg: RunConfig, data: LoadedData, out: Path) -> dict[str, Any]:
    """The int8 teacher, or a record of why its gate refused it: the run goes on without it.

    The export re-creates the fp32 file as the int8 gate's reference; it goes to a scratch
    folder so the fp32 artifact of the previous stage is left as it is.
    """
    scratch = out / ".int8-work"
    gate = teacher_gate_texts(out / "teacher", cfg.export, int8=True, data=data)
    try:
        result = export_teacher_onnx(
            out / "teacher", scratch / "teacher.onnx", gate, int8_out=out / "teacher.int8.onnx", options=cfg.export
        )
    except ParityError as exc:
        log.warning("%-16s refused by its parity gate: %s; continuing without it", "teacher int8", exc)
        (out / "teacher.int8.onnx").unlink(missing_ok=True)  # never evaluate, bench or cascade a stale one
        return {"ok": False, "error": str(exc)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"ok": True, "int8": result.int8 or {}}


def _label_stage(
    cfg: RunConfig, data: LoadedData, out: Path, export_t: StageResult, export_q: StageResult
) -> tuple[StageResult, str]:
    """Label the largest transfer set any student needs, with the teacher ``label_with`` names
    (fp32 when the int8 file was refused)."""
    sizes = [cfg.data.unlabeled, *cfg.scaling]
    largest = None if None in sizes else max(s for s in sizes if s is not None)
    int8_ok = bool(export_q.info.get("ok")) and (out / "teacher.int8.onnx").is_file()
    label_with = cfg.label_with if (cfg.label_with != "int8" or int8_ok) else "fp32"
    if label_with != cfg.label_with:
        log.warning("%-16s the int8 teacher failed its gate: labeling with the fp32 teacher", "teacher_label")
    labeler = {"int8": out / "teacher.int8.onnx", "fp32": out / "teacher.onnx", "torch": out / "teacher"}[label_with]
    options = replace(cfg.label, progress=cfg.progress, backend="auto", shard="0/1")
    labels = run_stage(
        out,
        "teacher_label",
        {**cfg.data_key(), **cfg.transfer_key(largest), "with": label_with, "batch_size": options.batch_size},
        [export_t, export_q],
        ["logits/logits.npz"],
        lambda: label_transfer_set(labeler, data.sized(largest), out, options).to_dict(),
    )
    return labels, label_with


def _student_stage(
    cfg: RunConfig, data: LoadedData, out: Path, name: str, labels: StageResult, logits_dir: Path | None = None
) -> StageResult:
    """A student on the transfer set of ``data`` (logits from ``logits_dir``, default ``out``)."""
    return run_stage(
        out,
        name,
        {**cfg.data_key(), **cfg.transfer_key(data.options.unlabeled), "student": cfg.student_key()},
        [labels],
        ["student"],
        lambda: _distill(cfg, data, out, logits_dir or out),
    )


def _distill(cfg: RunConfig, data: LoadedData, out: Path, logits_dir: Path) -> dict[str, Any]:
    """The student stage: the labeling's logits for this data's transfer set, distilled and saved."""
    logits = load_logits(logits_dir)
    return distill_student(data.splits, logits, config=cfg.student, data=data, out=out).to_dict()


def _export_student(data: LoadedData, out: Path) -> dict[str, Any]:
    texts, origin = student_gate_texts(data)
    result = export_student_onnx(out, out / "student.onnx", texts=texts, origin=origin)
    return {k: v for k, v in result.to_dict().items() if k != "parity"} | {"parity": result.parity}


def _scaling_stages(
    cfg: RunConfig, data: LoadedData, out: Path, labels: StageResult, student: StageResult, done: list[StageResult]
) -> list[dict[str, Any]]:
    """A student per extra transfer size (appended to ``done``); the accuracy-by-size rows."""
    rows = []
    for n in cfg.scaling:
        tag = "all" if n is None else n
        st = _student_stage(cfg, data.sized(n), out / "scaling" / f"unlabeled-{tag}", f"scaling_{tag}", labels, out)
        done.append(st)
        rows.append(_scaling_row(st, n))
    if not rows:
        return []
    rows.append(_scaling_row(student, cfg.data.unlabeled))
    return sorted({r["unlabeled"]: r for r in rows}.values(), key=lambda r: r["unlabeled"])


def _scaling_row(stage: StageResult, n: int | None) -> dict[str, Any]:
    m = stage.info.get("metrics", {}).get("test", {})
    transfer = stage.info.get("sizes", {}).get("transfer", n)
    return {"unlabeled": transfer, "accuracy": m.get("accuracy"), "macro_f1": m.get("macro_f1")}


def _code_version(module: str, name: str) -> str:
    """A version constant of the code behind a stage (e.g. the int8 recipe, the student graph's layout):
    part of the stage's key, so a changed algorithm reruns the stage even with the same options."""
    return str(getattr(importlib.import_module(module), name))


def _peer_settings(cfg: RunConfig) -> dict[str, dict[str, Any]]:
    """Each peer's fit settings: its defaults, the Model2Vec backbone, and ``cfg.peer_params``
    (plain data: the stage key is made without the peers' libraries, which may be missing)."""
    out = {}
    for name in PEERS:
        params = dict(DEFAULTS[name])
        if name == "model2vec":
            params["backbone"] = cfg.teacher_model()  # the teacher's starting point; None: the packaged one
        params.update({"random_state": cfg.data.seed, **cfg.peer_params.get(name, {})})
        out[name] = params
    return out


def _peers_stage(cfg: RunConfig, out: Path, labels: StageResult, data: LoadedData) -> StageResult:
    """fastText and Model2Vec on the student's data: keyed like the student, plus each peer's settings.

    Whether each peer's libraries are installed is part of the key, so installing the extra
    later reruns the stage instead of keeping the skip.
    """
    settings = _peer_settings(cfg) if cfg.peers else {}
    key = {
        **cfg.data_key(),
        **cfg.transfer_key(cfg.data.unlabeled),
        "gold": cfg.peer_gold,
        "temperature": 1.0,
        "options": settings,
        "installed": {name: installed(name) for name in PEERS},
    }
    return run_stage(out, "peers", key, [labels], [f"{PEERS_DIR}/peers.json"], lambda: _peers(cfg, out, settings, data))


def _peers(cfg: RunConfig, out: Path, settings: dict[str, dict[str, Any]], data: LoadedData) -> dict[str, Any]:
    """Fit each peer whose extra is installed; a missing extra (or a failed fit) is a note, not an error."""
    folder = out / PEERS_DIR
    info: dict[str, Any] = {"fitted": {}, "skipped": {}}
    todo = {}
    for name in PEERS:
        note = missing(name) if cfg.peers else "peers turned off for this run"
        if note is None:
            todo[name] = settings[name]
            continue
        log.warning("%-16s %s skipped: %s", "peers", name, note)
        info["skipped"][name] = note
        shutil.rmtree(folder / name, ignore_errors=True)  # never evaluate a stale peer
    if todo:
        splits = data.splits
        logits = load_logits(out / "logits").lookup(splits.unlabeled.ids)
        gold = (splits.labeled.texts, splits.labeled.labels) if cfg.peer_gold else ()
        texts, targets = training_set(splits.unlabeled.texts, logits, *gold)
        n_transfer = len(splits.unlabeled)
        for name, params in todo.items():
            log.info("%-16s fitting %s on %d texts (%d teacher-labeled)", "peers", name, len(texts), n_transfer)
            t0 = time.perf_counter()
            try:
                peer = make_peer(name, splits.unlabeled.label_names, progress=cfg.progress, **params)
                peer.fit(texts, targets)
                peer.save(folder / name)
            except Exception as exc:  # a peer is a comparison, not a product: the run goes on without it
                log.warning("%-16s %s failed: %s", "peers", name, exc)
                info["skipped"][name] = f"fit failed: {type(exc).__name__}: {exc}"
                shutil.rmtree(folder / name, ignore_errors=True)
                continue
            info["fitted"][name] = _peer_record(folder / name, params, t0, len(texts), n_transfer)
    atomic_write_json(folder / "peers.json", info)
    return info


def _peer_record(path: Path, params: dict[str, Any], t0: float, n_train: int, n_transfer: int) -> dict[str, Any]:
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "n_train": n_train,
        "transfer": n_transfer,
        "gold": n_train - n_transfer,
        "settings": params,
        "bytes": folder_bytes(path),
    }


def _fitted_peers(out: Path) -> dict[str, Path]:
    """The peers the peers stage fitted (per its record), by name."""
    record = out / PEERS_DIR / "peers.json"
    if not record.is_file():
        return {}
    fitted = json.loads(record.read_text()).get("fitted", {})
    return {name: out / PEERS_DIR / name for name in fitted if (out / PEERS_DIR / name).is_dir()}


def _cascade_stage(cfg: RunConfig, data: LoadedData, out: Path, upstream: list[StageResult]) -> StageResult | None:
    """Student first, the teacher where it is unsure: the threshold chosen on held-out labeled texts
    (never test, never the student's transfer texts). No such texts: a note, not a failure."""
    if not cfg.cascade:  # no stale cascade files beside a run that asked for none
        for stale in ("cascade.json", "cascade_report.json", "figures/cascade.png"):
            (out / stale).unlink(missing_ok=True)
        return None
    key = {
        **cfg.data_key(),
        "target": cfg.cascade_target,
        "max_share": cfg.cascade_max_share,
        "code": _code_version("edge_distill.runtime.cascade", "SPEC_VERSION"),
        **({} if _has_extra("bench") else {"timed": False}),  # installing the extra later times it
    }
    return run_stage(out, "cascade", key, upstream, ["cascade_report.json"], lambda: _cascade(cfg, data, out))


def _cascade(cfg: RunConfig, data: LoadedData, out: Path) -> dict[str, Any]:
    """The cascade, or a note saying why there is none: a comparison the run can go on without."""
    try:
        result = build_cascade(out, data, target=cfg.cascade_target, max_teacher_share=cfg.cascade_max_share).to_dict()
    except EdgeDistillError as exc:  # a comparison: the rest of the run stands
        result = {"ok": False, "heldout": "none", "note": f"no cascade: {type(exc).__name__}: {exc}"}
        (out / "cascade.json").unlink(missing_ok=True)
    if not result["ok"]:
        log.warning("%-16s %s", "cascade", result["note"])
        (out / "figures" / "cascade.png").unlink(missing_ok=True)
    atomic_write_json(out / "cascade_report.json", result)  # the whole result (the library writes part of it)
    return {k: result.get(k) for k in ("ok", "heldout", "note")} | {"plan": result.get("plan")}


def _cascade_report(out: Path, stage: StageResult | None) -> dict[str, Any] | None:
    """The cascade block of the report (None when the run asked for none)."""
    if stage is None:
        return None
    path = out / "cascade_report.json"
    return json.loads(path.read_text()) if path.is_file() else {**stage.info, "ok": False}


def _evaluate(data: LoadedData, out: Path) -> dict[str, Any]:
    """Every model on the same test texts; the figures go to evaluation.json."""
    test = data.splits.test
    with np.load(out / "predictions" / "baseline.npz", allow_pickle=False) as z:
        if [str(i) for i in z["ids"]] != test.ids:
            raise RuntimeError("baseline predictions are for other test texts; rerun the baseline stage")
        probas = {"baseline": z["probabilities"]}
    models: dict[str, Path] = {}
    for name, path in (("teacher", "teacher.onnx"), ("teacher_int8", "teacher.int8.onnx"), ("student", "student.onnx")):
        if (out / path).is_file():
            models[name] = out / path
        else:
            log.warning("%-16s no %s (its export gate refused it): not evaluated", "evaluate", path)
    models.update(_fitted_peers(out))
    log.info("%-16s scoring %d test texts with %s", "evaluate", len(test), ", ".join(models))
    result = evaluate_models(models, test, probabilities=probas, out=out)
    return {name: {"accuracy": m["accuracy"]} for name, m in result.models.items()}


def _bench(cfg: RunConfig, data: LoadedData, out: Path) -> dict[str, Any]:
    test = data.splits.test
    names = ("student.onnx", "student", "teacher", "teacher.onnx", "teacher.int8.onnx")
    artifacts = [out / n for n in names if (out / n).exists()] + list(_fitted_peers(out).values())
    result = run_benchmark(
        artifacts,
        test.texts,
        rounds=cfg.bench_rounds,
        cold_repeats=cfg.cold_repeats,
        seed=cfg.data.seed,
        progress=cfg.progress,
        out=out,
    )
    return {name: {"p50_ms": r["p50_ms"]} for name, r in result.contenders.items()}


__all__ = ["RunConfig", "RunResult", "run_pipeline"]
