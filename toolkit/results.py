"""The docs' results page, generated from run folders: never copied by hand.

``edge-distill results RUN_DIR... --out docs/results.md`` reads each run folder's ``report.json``,
keeps a small JSON digest of the figures the page shows under ``docs/results/`` (run folders are
not in git, the digests are), and writes the page from every digest there: one row per run with
its data set, version, the command that reproduces it, its run time, and accuracy / macro-F1 of
the baseline, the teacher in fp32 and int8, the student, the cascade and the peers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from edge_distill.runtime.atomic import atomic_write_json, atomic_write_text
from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.options import DataOptions

#: bumped when the digest's fields change meaning (a reader refuses another version)
DIGEST_VERSION = 1
#: report model name -> the page's column, in column order
MODEL_COLUMNS = {
    "baseline": "baseline",
    "teacher": "teacher fp32",
    "teacher_int8": "teacher int8",
    "student": "**student**",
    "fasttext": "fastText",
    "model2vec": "Model2Vec + LR",
}
#: data option -> its flag, for the command that reproduces a run (the options a report records)
RUN_FLAGS = {
    "label_names": "--label-names",
    "text_field": "--text-field",
    "label_field": "--label-field",
    "test_split": "--test-split",
    "labeled": "--labeled",
    "unlabeled": "--unlabeled",
    "unlabeled_data": "--unlabeled-data",
    "test": "--test",
    "validation": "--validation",
    "seed": "--seed",
}


def _run_defaults() -> dict[str, Any]:
    """The data options' defaults (those of ``edge-distill run`` too), so the command shown for a
    run names only what differed from them."""
    return {f.name: f.default for f in dataclasses.fields(DataOptions)}


def _flag_value(value: Any) -> str:
    """A recorded option as the command line spells it (None is every text there is: ``all``)."""
    if value is None:
        return "all"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _as_typed(source: str) -> str:
    """A recorded (absolute) local source as typed from the working directory (``../shared/data/trec``)."""
    return os.path.relpath(source) if os.path.isabs(source) and os.path.exists(source) else source


def reproducing_command(run: dict[str, Any], name: str, defaults: dict[str, Any] | None = None) -> str:
    """The ``edge-distill run`` command that reproduces a run, from the options its report records."""
    defaults = _run_defaults() if defaults is None else defaults
    words = ["edge-distill", "run", "--data", _as_typed(str(run.get("data") or run.get("source")))]
    for key, flag in RUN_FLAGS.items():
        value = run.get(key)
        if key == "label_names" and not value:
            continue
        if key == "unlabeled_data":
            for path in value or []:
                words += [flag, str(path)]
            continue
        if key in run and value != defaults.get(key):
            words += [flag, _flag_value(value)]
    if run.get("stratify") is False:
        words.append("--no-stratify")
    return shlex.join([*words, "--out", f"runs/{name}"])


def _transfer_texts(run: dict[str, Any]) -> int | None:
    """How many transfer texts the teacher labeled: the run's number, or the count its sets sentence names."""
    if isinstance(run.get("unlabeled"), int):
        return run["unlabeled"]
    found = re.search(r"([\d,]+) unlabeled", str(run.get("splits") or ""))
    return int(found.group(1).replace(",", "")) if found else None


def _int8_state(run: dict[str, Any], models: dict[str, Any]) -> str | None:
    """``accepted``, ``refused`` (its gate said no: no int8 row), or None where the run does not say."""
    if "teacher_int8" in models:
        return "accepted"
    return "refused" if (run.get("teacher_int8") or {}).get("ok") is False else None


def digest(report: dict[str, Any], name: str, folder: str, version: str | None = None) -> dict[str, Any]:
    """The figures of one run's ``report.json`` that the results page shows.

    ``version`` is the edge-distill version that made the run, for reports that do not record one.
    """
    run, models = report.get("run") or {}, report.get("models") or {}
    cascade = report.get("cascade") or {}
    test = cascade.get("test") or {}
    figures = {
        m: {k: models[m][k] for k in ("accuracy", "macro_f1") if k in models[m]} for m in MODEL_COLUMNS if m in models
    }
    return {
        "digest_version": DIGEST_VERSION,
        "name": name,
        "run_folder": folder,
        "data": Path(str(run.get("data") or "?")).name,
        "version": run.get("version") or version,
        "command": reproducing_command(run, name),
        "minutes": round(run["compute_seconds"] / 60, 1) if "compute_seconds" in run else None,
        "labeled": run.get("labeled"),
        "transfer_texts": _transfer_texts(run),
        "n_test": next((m["n_test"] for m in models.values() if "n_test" in m), None),
        "classes": len((report.get("classes") or {}).get("names") or []) or None,
        "teacher_model": run.get("teacher_model"),
        "int8": _int8_state(run, models),
        "models": figures,
        "cascade": {"accuracy": test["accuracy"], "teacher_share": test.get("teacher_share")}
        if cascade.get("ok") and "accuracy" in test
        else None,
    }


def read_run(folder: str | Path, version: str | None = None) -> dict[str, Any]:
    """The digest of the run in ``folder`` (its ``report.json``); a missing or unreadable one is a DataError."""
    path = Path(folder) / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no report.json (has the run finished?)") from None
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not JSON ({e})") from None
    name = Path(folder).resolve().name
    return digest(report, name, str(folder), version)


def read_digests(folder: Path) -> list[dict[str, Any]]:
    """Every digest kept in ``folder`` (none when it does not exist)."""
    digests = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("digest_version") != DIGEST_VERSION:
            raise DataError(f"{path}: digest version {d.get('digest_version')}, expected {DIGEST_VERSION}")
        digests.append(d)
    return digests


def _pair(figures: dict[str, Any] | None) -> str:
    """``accuracy / macro-F1`` as the tables show them."""
    if not figures or "accuracy" not in figures:
        return "–"
    f1 = figures.get("macro_f1")
    return f"{figures['accuracy']:.3f}" + (f" / {f1:.3f}" if f1 is not None else "")


def _count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def _model_cell(d: dict[str, Any], model: str) -> str:
    """One model's figures in a run's row (an int8 teacher its gate refused says so)."""
    text = _pair(d["models"].get(model))
    if model == "teacher_int8" and text == "–" and d.get("int8") == "refused":
        return "refused by its gate"
    return f"**{text}**" if model == "student" and text != "–" else text


def _share_cells(d: dict[str, Any]) -> list[str]:
    """The student's share of its fp32 teacher's accuracy, and the cascade's accuracy (share sent)."""
    student, teacher = d["models"].get("student", {}), d["models"].get("teacher", {})
    share = "–"
    if "accuracy" in student and teacher.get("accuracy"):
        share = f"{student['accuracy'] / teacher['accuracy']:.1%}"
    cascade, cascade_text = d.get("cascade"), "–"
    if cascade:
        sent = cascade.get("teacher_share")
        cascade_text = f"{cascade['accuracy']:.3f}" + (f" ({sent:.1%})" if sent is not None else "")
    return [share, cascade_text]


def _row(d: dict[str, Any]) -> str:
    """One run as a row of the page's table: the models up to the student, the shares, then the peers."""
    minutes = d.get("minutes")
    cells = [
        f"{d['data']} (`{d['name']}`)",
        d.get("version") or "not recorded",
        "–" if minutes is None else f"{minutes:.1f} min",
        _count(d.get("transfer_texts")),
        _count(d.get("n_test")),
    ]
    models = list(MODEL_COLUMNS)
    cells += [_model_cell(d, m) for m in models[:4]]
    cells += _share_cells(d)
    cells += [_model_cell(d, m) for m in models[4:]]
    return "| " + " | ".join(cells) + " |"


def page(digests: Sequence[dict[str, Any]], command: str) -> str:
    """The results page: how it was made, one row per run, and each run's command."""
    header = [
        "run",
        "version",
        "run time",
        "transfer texts",
        "test texts",
        *list(MODEL_COLUMNS.values())[:4],
        "share of teacher",
        "cascade (share to teacher)",
        *list(MODEL_COLUMNS.values())[4:],
    ]
    ordered = sorted(digests, key=lambda d: (d["data"], d["name"]))
    lines = [
        "# Results",
        "",
        "<!-- generated: do not edit by hand -->",
        f"This page is generated by `{command}` from the runs' `report.json` files (a digest of each is kept "
        "under `docs/results/`, so the page can be made again without the run folders). Edit the runs, not "
        "the page.",
        "",
        "Accuracy / macro-F1 on each run's test texts, which no choice of the run ever looked at. Share of "
        "teacher: the student's accuracy over the fp32 teacher's. Cascade: its accuracy on the test texts and "
        "the share of them it sent to the teacher. Run time: the run's stages when they ran, on the machine "
        "that ran them.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", "---", *["---:"] * (len(header) - 2)]) + "|",
        *[_row(d) for d in ordered],
        "",
        "## How each run was made",
        "",
    ]
    for d in ordered:
        lines += [
            f"- `{d['name']}` ({d['data']}, {_count(d.get('labeled'))} labeled, {d.get('classes') or '?'} classes, "
            f"teacher `{d.get('teacher_model')}`, int8 teacher {d.get('int8') or 'not recorded'}):",
            "",
            "    ```bash",
            f"    {d['command']}",
            "    ```",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_results(
    runs: Iterable[str | Path],
    out: str | Path,
    digests_dir: str | Path | None = None,
    version: str | None = None,
    command: str = "edge-distill results",
) -> dict[str, Any]:
    """Digest each run folder into ``digests_dir`` (default: ``out`` without its suffix), then write
    the page ``out`` from every digest there. Returns what was written."""
    out = Path(out)
    folder = Path(digests_dir) if digests_dir is not None else out.with_suffix("")
    written = []
    for run in runs:
        d = read_run(run, version)
        written.append(str(atomic_write_json(folder / f"{d['name']}.json", d)))
    digests = read_digests(folder)
    if not digests:
        raise DataError(f"no run folders given and no digests in {folder}: nothing to show")
    atomic_write_text(out, page(digests, command))
    return {"page": str(out), "digests": written, "runs": len(digests)}
