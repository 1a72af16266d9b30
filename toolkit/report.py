"""The report users read: how much accuracy the student keeps, how much faster and smaller it is.

``build_report`` merges the evaluation and the benchmark into ``report.json`` (for machines);
``write_report`` also writes ``report.md`` and the PNG figures under ``figures/`` (for people):
accuracy and macro-F1 of every model, per-class precision / recall / F1, a confusion matrix per
model, the classes (and whether they were named), how the student's settings were chosen.

The report speaks of "texts", never of "reviews": it runs on any data. The seed notebook's
table (IMDB, 1,000 labels) appears only where the run's recorded data source is IMDB, as
:func:`is_imdb_source` decides from ``run["data"]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from edge_distill.runtime.atomic import atomic_path, atomic_write_json, atomic_write_text
from edge_distill.runtime.extras import MissingExtraError, require
from edge_distill.toolkit.peers import PEERS

#: the seed notebook's numbers (IMDB, 1,000 labels, 1,000 test reviews)
SEED_TABLE = {"baseline": 0.79, "teacher": 0.89, "student": 0.87}
#: which benchmark contender measures which evaluated model (a peer is measured under its own name)
BENCH_OF = {"student": "student_onnx", "teacher": "teacher_onnx", "teacher_int8": "teacher_int8"}
#: what a user would deploy instead of the student
PEER_NAMES = tuple(PEERS)


def is_imdb_source(source: object) -> bool:
    """Whether a run's recorded data source is IMDB: ``imdb`` (the download), ``hf:imdb`` or
    ``hf:stanfordnlp/imdb``, the aclImdb tarball or folder, or a folder or file named ``imdb``
    (as ``../shared/data/imdb``), compared without case. Only then is the seed notebook, whose
    figures are IMDB's, a fair comparison."""
    if not source:
        return False
    spec = str(source).strip().rstrip("/\\").lower()
    if spec.startswith("hf:"):
        return spec[3:].split("/")[-1] == "imdb"
    parts = [p for p in re.split(r"[/\\]", spec) if p]
    if not parts:
        return False
    stem = re.sub(r"(\.tar\.gz|\.tgz|\.tar|\.jsonl\.gz|\.jsonl|\.csv|\.tsv)$", "", parts[-1])
    return stem in ("imdb", "aclimdb", "aclimdb_v1") or (len(parts) > 1 and parts[-2] in ("imdb", "aclimdb"))


def classes_of(run: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, Any]:
    """The classes: ``run["classes"]`` as recorded (names, given, from), else the evaluation's names.

    Without a record, names that are exactly "0".."K-1" count as not given.
    """
    if run.get("classes"):
        return dict(run["classes"])
    names = list(evaluation.get("label_names") or [])
    given = names != [str(i) for i in range(len(names))]
    return {"names": names, "given": given, "from": "recorded" if given else "class ids (no names given)"}


def build_report(
    run: dict[str, Any],
    evaluation: dict[str, Any],
    bench: dict[str, Any] | None,
    scaling: list[dict[str, Any]] | None = None,
    cascade: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One JSON document: run settings, classes, per-model metrics and speed, the cascade, the seed's
    table (IMDB only)."""
    models = {}
    contenders = (bench or {}).get("contenders", {})
    for name, m in evaluation["models"].items():
        entry = {k: m[k] for k in ("accuracy", "macro_f1", "ci95", "n_test", "ece", "per_class", "confusion") if k in m}
        for k in ("agreement_with_teacher", "mcnemar_vs_teacher"):
            if k in m:
                entry[k] = m[k]
        speed = contenders.get(BENCH_OF.get(name, name))
        if speed:
            entry["speed"] = {
                k: speed[k]
                for k in (
                    "p50_ms",
                    "p99_ms",
                    "warm_p50_ms",
                    "throughput_per_s",
                    "size_bytes",
                    "cold_start_ms",
                    "peak_rss_mb",
                )
                if k in speed
            }
        models[name] = entry
    return {
        "run": run,
        "classes": classes_of(run, evaluation),
        "models": models,
        "bench": bench,
        "scaling": scaling or [],
        "peers": peer_verdict(models, (run.get("peers") or {}).get("skipped", {})),
        "seed_notebook": SEED_TABLE if is_imdb_source(run.get("data")) else None,
        "cascade": _cascade_block(cascade),
    }


def _cascade_block(cascade: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cascade as the report keeps it: the plan, test numbers, timing, the chosen curve point."""
    if not cascade:
        return None
    keep = ("ok", "note", "heldout", "teacher", "plan", "test", "bench", "figure", "path")
    block = {k: cascade[k] for k in keep if cascade.get(k) is not None}
    curve = cascade.get("curve") or {}
    if curve:
        block["curve"] = {k: curve[k] for k in ("chosen", "student_ms", "teacher_ms", "combine") if k in curve}
    return block


def _cascade_lines(report: dict[str, Any]) -> list[str]:
    """The Cascade section: the plan chosen on held-out texts, its test numbers and timing."""
    c = report.get("cascade")
    if not c:
        return []
    lines = ["", "## Cascade", ""]
    if not c.get("ok"):
        return [*lines, f"No cascade in this run: {c.get('note', 'not built')}."]
    plan, test, bench = c.get("plan") or {}, c.get("test") or {}, c.get("bench") or {}  # bench: None untimed
    teacher_acc = report["models"].get("teacher", {}).get("accuracy")
    lines += [
        f"The student answers; where its confidence is below {plan.get('threshold', 0):.4f} the teacher "
        f"(`{c.get('teacher')}`) is asked and the two are combined ({plan.get('combine')}). The threshold was "
        f"chosen for `{plan.get('target')}` on {c.get('heldout')} (never the test set): there it sends "
        f"{_pct(plan.get('teacher_share', 0))} of the texts to the teacher for accuracy "
        f"{_pct(plan.get('accuracy', 0))} (student alone {_pct(plan.get('student_accuracy', 0))}, teacher "
        f"{_pct(plan.get('teacher_accuracy', 0))})" + ("." if plan.get("met", True) else "; the target was not met."),
        "",
        "| | accuracy | sent to the teacher | mean ms | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
        f"| cascade on the test set | {_pct(test.get('accuracy', 0))} | {_pct(test.get('teacher_share', 0))} | "
        f"{_ms(bench.get('mean_ms'))} | {_ms(bench.get('p50_ms'))} | {_ms(bench.get('p99_ms'))} |",
    ]
    if teacher_acc is not None:
        lines += ["", f"The teacher alone: {_pct(teacher_acc)} on the same test texts."]
    if c.get("figure"):
        lines += ["", "![cascade: accuracy against mean latency](figures/cascade.png)"]
    return lines


def _ms(x: object) -> str:
    return "–" if not isinstance(x, (int, float)) else f"{x:.3f}"


def peer_verdict(models: dict[str, Any], skipped: dict[str, str] | None = None) -> dict[str, Any]:
    """Whether the ONNX student beats every measured peer on accuracy AND on p50 latency.

    ``student_beats_all`` is None when it cannot be said: no peer, or a number missing.
    """
    student = models.get("student", {})
    rows, verdict = {}, None
    for name in PEER_NAMES:
        peer = models.get(name)
        if peer is None:
            continue
        s_lat, p_lat = student.get("speed", {}).get("p50_ms"), peer.get("speed", {}).get("p50_ms")
        acc = student["accuracy"] > peer["accuracy"] if "accuracy" in student else None
        lat = s_lat < p_lat if s_lat is not None and p_lat is not None else None
        s_warm, p_warm = student.get("speed", {}).get("warm_p50_ms"), peer.get("speed", {}).get("warm_p50_ms")
        rows[name] = {
            "more_accurate": acc,
            "faster_p50": lat,
            "accuracy": peer["accuracy"],
            "p50_ms": p_lat,
            "faster_warm_p50": s_warm < p_warm if s_warm is not None and p_warm is not None else None,
            "warm_p50_ms": p_warm,
        }
    if rows:
        flags = [v for r in rows.values() for v in (r["more_accurate"], r["faster_p50"])]
        verdict = None if None in flags else all(flags)
    return {"compared": rows, "student_beats_all": verdict, "skipped": dict(skipped or {})}


def _verdict_sentence(report: dict[str, Any]) -> str:
    """One sentence, from the numbers, on whether the student beats both peers on accuracy and latency."""
    peers, models = report.get("peers") or {}, report["models"]
    rows = peers.get("compared", {})
    if not rows:
        return "No peer was measured in this run."
    st = models["student"]
    parts = []
    for name, r in rows.items():
        lat = (
            f"p50 {st['speed']['p50_ms']:.3f} ms against {r['p50_ms']:.3f} ms"
            if r["p50_ms"] is not None and "speed" in st
            else "latency not measured"
        )
        if r.get("warm_p50_ms") is not None and "warm_p50_ms" in st.get("speed", {}):
            lat += f" (warm {st['speed']['warm_p50_ms']:.3f} ms against {r['warm_p50_ms']:.3f} ms)"
        parts.append(f"{name} (accuracy {_pct(st['accuracy'])} against {_pct(r['accuracy'])}, {lat})")
    both = "both peers" if len(rows) == len(PEER_NAMES) else f"the only measured peer ({', '.join(rows)})"
    verdict = peers.get("student_beats_all")
    if verdict is None:
        head = f"Whether the ONNX student beats {both} on accuracy and latency cannot be said (a number is missing)"
    elif verdict:
        head = f"The ONNX student beats {both} on accuracy AND latency"
    else:
        lost = [
            f"{n} on "
            + " and ".join(w for k, w in (("more_accurate", "accuracy"), ("faster_p50", "latency")) if r[k] is False)
            for n, r in rows.items()
            if False in (r["more_accurate"], r["faster_p50"])
        ]
        head = f"The ONNX student does not beat {both} on accuracy AND latency (it is not ahead of {'; '.join(lost)})"
    return head + ": " + "; ".join(parts) + "."


def _timing(run: dict[str, Any]) -> str:
    """How long the stages took when they ran, and how much of this invocation the cache saved."""
    stages = run.get("stages", {})
    cached = sum(1 for st in stages.values() if st.get("cached"))
    teacher = stages.get("teacher_train", {}).get("seconds")
    text = (
        f"The stages took {run.get('compute_seconds', 0):,.0f} s on this machine when they ran"
        + (f" (teacher fine-tuning {teacher:,.0f} s)" if teacher is not None else "")
        + "; this invocation took "
        f"{run.get('wall_seconds', 0):,.0f} s"
    )
    return text + (f", {cached} of {len(stages)} stages reused from the cache." if cached else ".")


def _count(n: int | None) -> str:
    """A set size as people read it: thousands separated; None means every text there is."""
    return "all" if n is None else f"{n:,}"


def _n_test(run: dict[str, Any], models: dict[str, Any]) -> int | None:
    """The test size as evaluated (a test split smaller than asked gives all it has), else as asked."""
    return next((m["n_test"] for m in models.values() if "n_test" in m), run.get("test"))


def _pct(x: float) -> str:
    return f"{x:.4f}"


def markdown(report: dict[str, Any], figures_note: str | None = None) -> str:
    """report.md: the headline table, the seed's table beside ours, speed, and figures (or, with
    ``figures_note``, why there are none)."""
    run = report["run"]
    lines = [*_header_lines(report), *_accuracy_lines(report["models"])]
    lines += _per_class_lines(report)
    lines += _teacher_lines(run.get("teacher_training"))
    lines += _settings_lines(run.get("student_settings"))
    lines += _cascade_lines(report)
    lines += _peer_lines(report)
    lines += _seed_lines(report)
    lines += _speed_lines(report.get("bench"))
    lines += _scaling_lines(report.get("scaling"))
    lines += ["", "## Figures", "", f"No figures: {figures_note}"] if figures_note else _figure_lines(report)
    return "\n".join(lines) + "\n"


def _header_lines(report: dict[str, Any]) -> list[str]:
    """What the run was (data, set sizes, teacher, objective, timing), its classes, and a refused
    int8 teacher up front, since every table below leaves it out."""
    run, models = report["run"], report["models"]
    lines = [
        "# edge-distill report",
        "",
        f"Data `{run.get('data')}`: {_count(run.get('labeled'))} labeled, {_count(run.get('unlabeled'))} unlabeled "
        f"(transfer), {_count(_n_test(run, models))} test texts, seed {run.get('seed')}. Teacher "
        f"`{run.get('teacher_model')}`; student "
        f"objective `{run.get('objective')}`. {_timing(run)}",
        "",
        *_data_lines(report),
    ]
    if run.get("teacher_int8", {}).get("ok") is False:
        lines += [
            "**The int8 teacher was refused by its parity gate** "
            f"({run['teacher_int8'].get('error', '')}); it is left out below.",
            "",
        ]
    return lines


def _accuracy_lines(models: dict[str, Any]) -> list[str]:
    """The headline table: every model's accuracy with its interval, macro-F1, calibration, and
    how it stands against the teacher."""
    lines = [
        "## Accuracy",
        "",
        "| model | accuracy | 95% CI | macro-F1 | ECE | agrees with teacher | McNemar p vs teacher |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for name, m in models.items():
        lo, hi = m["ci95"]
        agree = m.get("agreement_with_teacher")
        p = m.get("mcnemar_vs_teacher", {}).get("p_value")
        lines.append(
            f"| {name} | {_pct(m['accuracy'])} | {lo:.3f}–{hi:.3f} | {_pct(m['macro_f1'])} | "
            f"{m.get('ece', float('nan')):.3f} | {'' if agree is None else f'{agree:.4f}'} | "
            f"{'' if p is None else f'{p:.3g}'} |"
        )
    return lines


def _seed_lines(report: dict[str, Any]) -> list[str]:
    """The seed notebook's accuracies beside ours (IMDB runs only: elsewhere they compare nothing)."""
    if not report.get("seed_notebook"):
        return []
    models = report["models"]
    lines = ["", "## Against the seed notebook", "", "| model | seed notebook | this run |", "|---|---:|---:|"]
    for name, seed_acc in report["seed_notebook"].items():
        ours = models.get(name, {}).get("accuracy")
        lines.append(f"| {name} | {seed_acc:.2f} | {'' if ours is None else _pct(ours)} |")
    lines.append("")
    lines.append("The seed's numbers are bert-base on 1,000 IMDB test reviews; ours use the test set described above.")
    return lines


def _speed_lines(bench: dict[str, Any] | None) -> list[str]:
    """The benchmark table, then the student's speed-up and size against each other contender."""
    if not bench:
        return []
    from edge_distill.benchmarks import suite  # the 'bench' extra, as measuring the results did

    lines = ["", "## Speed and size", "", suite.markdown(bench)]
    ref = bench["contenders"].get("student_onnx")
    if not ref:
        return lines
    lines += ["", "The student (student_onnx, through the runtime):"]
    for name, r in bench["contenders"].items():
        if name != "student_onnx":
            warm = (
                f" ({r['warm_p50_ms'] / ref['warm_p50_ms']:.1f}× warm)"
                if "warm_p50_ms" in r and "warm_p50_ms" in ref
                else ""
            )
            lines.append(
                f"- against {name}: p50 {r['p50_ms'] / ref['p50_ms']:.1f}× lower{warm}, batch-256 "
                f"throughput {ref['throughput_per_s'] / r['throughput_per_s']:.1f}×, artifact "
                f"{ref['size_bytes'] / 1e6:.2f} MB against {r['size_bytes'] / 1e6:.2f} MB."
            )
    return lines


def _scaling_lines(scaling: list[dict[str, Any]] | None) -> list[str]:
    """The scaling study: the student's accuracy at each transfer-set size."""
    if not scaling:
        return []
    lines = [
        "",
        "## Student accuracy against transfer-set size",
        "",
        "| unlabeled (transfer) | student accuracy | macro-F1 |",
        "|---:|---:|---:|",
    ]
    for row in scaling:
        f1 = "–" if row.get("macro_f1") is None else _pct(row["macro_f1"])
        lines.append(f"| {_count(row['unlabeled'])} | {_pct(row['accuracy'])} | {f1} |")
    return lines


def _figure_lines(report: dict[str, Any]) -> list[str]:
    """Links to the figures, only those :func:`figures` draws for this report's numbers."""
    models, bench = report["models"], report.get("bench")
    lines = [
        "",
        "## Figures",
        "",
        # listed as figures() draws them: the first two need the benchmark's numbers
        *(
            ["![accuracy against latency](figures/accuracy_latency.png)"]
            if any("speed" in m for m in models.values())
            else []
        ),
        *(["![artifact sizes](figures/sizes.png)"] if (bench or {}).get("contenders") else []),
        *(f"![confusion matrix: {n}](figures/{_confusion_file(n)})" for n, m in models.items() if "confusion" in m),
    ]
    if report.get("scaling"):
        lines.append("![student accuracy against transfer-set size](figures/scaling.png)")
    return lines


#: Markdown's special characters: a class named ``a|b`` split a table row, ``<script>`` became HTML
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")
#: the longest class name a figure's axis shows (a 200-character name squeezed the matrix into a corner)
FIGURE_NAME_CHARS = 32


def md_text(text: object) -> str:
    """``text`` as literal Markdown: every special character escaped (backslash escapes, which tables
    and HTML-rendering viewers both honour)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def figure_text(name: str) -> str:
    """A class name for a figure's axis: ``$`` not taken for mathtext (``$x^$`` crashed the report),
    shortened to :data:`FIGURE_NAME_CHARS`."""
    short = name if len(name) <= FIGURE_NAME_CHARS else name[: FIGURE_NAME_CHARS - 1] + "…"
    return short.replace("$", r"\$")


def _data_lines(report: dict[str, Any]) -> list[str]:
    """The classes (and a warning when they have no names) and where each set came from."""
    run, classes = report["run"], report.get("classes") or {}
    names = classes.get("names") or []
    origin = md_text(classes.get("from", "?"))
    lines = [f"{len(names)} classes: {', '.join(md_text(n) for n in names)} (from {origin})."]
    if not classes.get("given", True):
        lines[-1] += (
            " **The class names were not given**: the labels are bare integers, shown as ids. Pass "
            "`--label-names A,B,...` or put a `classes.txt` (line i names class i) beside the data."
        )
    if run.get("splits"):
        lines.append(f"Sets: {md_text(run['splits'])}")
    return [*lines, ""]


def _score(value: float | None) -> str:
    """A per-class score, or – where it is undefined (a class neither in the test texts nor predicted)."""
    return "–" if value is None else f"{value:.3f}"


def _per_class_lines(report: dict[str, Any]) -> list[str]:
    """F1 of each class for every model, then precision / recall / F1 of the teacher and the student."""
    models = {n: m for n, m in report["models"].items() if m.get("per_class")}
    if not models:
        return []
    first = next(iter(models.values()))["per_class"]
    lines = ["", "## Per class", "", "F1 of each class on the test texts (support: test texts of that class).", ""]
    absent = [r["class"] for r in first if r["support"] == 0]
    if absent:
        lines += [
            f"No test text is of class {', '.join(md_text(c) for c in absent)}: a model that never predicts "
            "such a class has no score for it (–), and macro-F1 averages the classes that were in the test "
            "texts or predicted.",
            "",
        ]
    lines += ["| class | support | " + " | ".join(models) + " |", "|---|---:|" + "---:|" * len(models)]
    for i, row in enumerate(first):
        f1s = " | ".join(_score(m["per_class"][i]["f1"]) for m in models.values())
        lines.append(f"| {md_text(row['class'])} | {row['support']:,} | {f1s} |")
    pair = [n for n in ("teacher", "student") if n in models]
    if pair:
        head = " | ".join(f"{n} {k}" for n in pair for k in ("precision", "recall", "F1"))
        lines += ["", f"| class | {head} |", "|---|" + "---:|" * (3 * len(pair))]
        for i, row in enumerate(first):
            cells = " | ".join(
                _score(models[n]["per_class"][i][k]) for n in pair for k in ("precision", "recall", "f1")
            )
            lines.append(f"| {md_text(row['class'])} | {cells} |")
    return lines


def _teacher_lines(training: dict[str, Any] | None) -> list[str]:
    """How long the teacher trained and why, and the epoch kept: validation accuracy per epoch."""
    history = (training or {}).get("history") or []
    if not history:
        return []
    lines = [
        "",
        "## Teacher training",
        "",
        f"{len(history)} epochs{_epochs_why(training)}. Kept epoch {training.get('best_epoch')}: "
        f"validation accuracy {training.get('best_val_accuracy', 0):.4f} on {_count(training.get('n_val'))} texts, "
        f"{md_text(training.get('validation'))}.",
        "",
        "| epoch | training loss | validation accuracy |",
        "|---:|---:|---:|",
    ]
    lines += [f"| {h['epoch']} | {h['train_loss']:.4f} | {h['val_accuracy']:.4f} |" for h in history]
    return lines


def _epochs_why(training: dict[str, Any]) -> str:
    chosen = training.get("epochs_chosen")
    return f": {md_text(chosen)}" if chosen else ""


def _settings_lines(choice: dict[str, Any] | None) -> list[str]:
    """What the student's settings selection chose, why, and every candidate it weighed."""
    if not choice:
        return []
    chosen = choice["chosen"]
    lines = [
        "",
        "## Student settings",
        "",
        f"Chosen: {', '.join(f'{k} `{v}`' for k, v in chosen.items())}. {choice['reason']}",
        "",
        "| n-grams | character n-grams | min_df | C | T | objective | agreement with the teacher | seconds |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for row in choice.get("candidates", []):
        lines.append(
            f"| {tuple(row['ngram_range'])} | {tuple(row.get('char_ngram_range') or ()) or 'none'} | {row['min_df']} | "
            f"{row['C']:g} | {row['temperature']:g} | "
            f"{row['objective']} | {row['agreement']:.4f} | {row['seconds']:.1f} |"
        )
    gold = choice.get("gold")
    if gold:
        lines += ["", f"Gold labels (the labeled set, on the validation set, never test): {gold['reason']}."]
    return lines


def _peer_lines(report: dict[str, Any]) -> list[str]:
    """The student beside its peers: accuracy and speed in one table, the verdict, any skip notes."""
    models, peers = report["models"], report.get("peers") or {}
    names = [n for n in ("student", *PEER_NAMES) if n in models]
    if not peers.get("compared") and not peers.get("skipped"):
        return []
    lines = [
        "",
        "## The student against its peers",
        "",
        "Peers are what a user would deploy instead, fitted on the same data: the teacher's labels of the "
        "transfer set plus the gold labeled set (fastText: the teacher's argmax; Model2Vec, distilled from "
        "the teacher's backbone, + logistic regression: the teacher's probabilities).",
        "",
    ]
    if peers.get("compared"):
        lines += [
            "| model | accuracy | 95% CI | macro-F1 | p50 ms | p99 ms | warm p50 ms | batch-256 texts/s "
            "| cold start ms | peak RSS MB | size MB |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in names:
            m = models[name]
            sp = m.get("speed", {})
            lo, hi = m["ci95"]

            def cell(key: str, fmt: str, scale: float = 1.0, sp: dict[str, Any] = sp) -> str:
                return "–" if key not in sp else format(sp[key] / scale, fmt)

            lines.append(
                f"| {name} | {_pct(m['accuracy'])} | {lo:.3f}–{hi:.3f} | {_pct(m['macro_f1'])} | "
                f"{cell('p50_ms', '.3f')} | "
                f"{cell('p99_ms', '.3f')} | {cell('warm_p50_ms', '.3f')} | "
                f"{cell('throughput_per_s', '.0f')} | "
                f"{cell('cold_start_ms', '.0f')} | {cell('peak_rss_mb', '.0f')} | "
                f"{cell('size_bytes', '.2f', 1e6)} |"
            )
        lines += ["", _verdict_sentence(report)]
    for name, note in peers.get("skipped", {}).items():
        lines += ["", f"**{name} was skipped**: {note}"]
    return lines


def figures(report: dict[str, Any], out: Path) -> list[Path]:
    """PNG figures: accuracy vs latency (log x), artifact sizes, and the scaling curve if any."""

    matplotlib = require("matplotlib", "report figures")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    models = report["models"]
    pts = [(n, m["speed"]["p50_ms"], m["accuracy"]) for n, m in models.items() if "speed" in m]
    if pts:
        fig, ax = plt.subplots(figsize=(6, 4))
        placed: list[tuple[float, float]] = []
        for name, lat, acc in sorted(pts, key=lambda p: p[1]):
            ax.scatter(lat, acc, s=40, marker="s" if name in PEER_NAMES else "o")
            # a label near an earlier one (within 2x in latency and 0.005 in accuracy) goes below its point
            near = any(abs(np.log(lat / x)) < np.log(2) and abs(acc - y) < 0.005 for x, y in placed)
            ax.annotate(name, (lat, acc), textcoords="offset points", xytext=(5, -12 if near else 5))
            placed.append((lat, acc))
        ax.set_xscale("log")
        ax.set_xlabel("p50 latency, batch 1, 1 thread (ms, log scale)")
        ax.set_ylabel("test accuracy")
        ax.set_title("Accuracy against latency")
        ax.grid(True, which="both", alpha=0.3)
        written.append(_save(fig, out / "accuracy_latency.png"))
    bench = report.get("bench") or {}
    if bench.get("contenders"):
        names = list(bench["contenders"])
        sizes = [bench["contenders"][n]["size_bytes"] / 1e6 for n in names]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.barh(names, sizes)
        ax.set_xscale("log")
        ax.set_xlabel("artifact size (MB, log scale)")
        ax.set_title("Artifact sizes")
        for i, s in enumerate(sizes):
            ax.annotate(f"{s:.2f}", (s, i), xytext=(3, -3), textcoords="offset points")
        written.append(_save(fig, out / "sizes.png"))
    names = (report.get("classes") or {}).get("names") or []
    for name, m in models.items():
        if "confusion" in m:
            written.append(_confusion_figure(name, np.asarray(m["confusion"]), names, out))
    if report.get("scaling"):
        rows = sorted(report["scaling"], key=lambda r: r["unlabeled"])
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([r["unlabeled"] for r in rows], [r["accuracy"] for r in rows], marker="o", label="student")
        teacher = models.get("teacher", {}).get("accuracy")
        if teacher is not None:
            ax.axhline(teacher, color="gray", linestyle="--", label="teacher")
        ax.set_xscale("log")
        ax.set_xlabel("unlabeled transfer texts (log scale)")
        ax.set_ylabel("test accuracy")
        ax.set_title("Student accuracy against transfer-set size")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        written.append(_save(fig, out / "scaling.png"))
    return written


def _confusion_file(model: str) -> str:
    return f"confusion_{re.sub(r'[^A-Za-z0-9_.-]', '_', model)}.png"


def _confusion_figure(model: str, counts: np.ndarray, names: list[str], out: Path) -> Path:
    """Counts of (true, predicted) classes, each cell shaded by its share of the true class."""
    import matplotlib.pyplot as plt

    k = counts.shape[0]
    names = [figure_text(n) for n in names] if len(names) == k else [str(i) for i in range(k)]
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.0 + 0.6 * k
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(
                j, i, f"{counts[i, j]:,}", ha="center", va="center", color="white" if share[i, j] > 0.5 else "black"
            )
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"Confusion matrix: {model}")
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
    return _save(fig, out / _confusion_file(model))


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def write_report(out_dir: Path, report: dict[str, Any]) -> dict[str, str]:
    """Write report.json, report.md and figures/*.png under ``out_dir``; without the extra that
    draws the figures, report.md says so in their place (the figures are a view, not a result)."""
    paths = {"json": atomic_write_json(out_dir / "report.json", report)}
    note = None
    try:
        drawn = figures(report, out_dir / "figures")
    except MissingExtraError as exc:
        drawn, note = [], str(exc)
    paths["md"] = atomic_write_text(out_dir / "report.md", markdown(report, figures_note=note))
    for p in drawn:
        paths[p.stem] = p
    return {k: str(v) for k, v in paths.items()}
