"""Export a fitted student to one self-contained ONNX file, after its parity gate passes.

The gate runs the exported graph through the real runtime and compares it with the
scikit-learn pipeline the student stands for, on a built-in adversarial set (accents, CJK,
emoji, NUL, lone surrogates, RTL, odd HTML line breaks, empty rows, a 1 MB text) plus real
texts: by default the test texts and 2,000 transfer texts of the data the student was trained
on (re-drawn from its record), or the JSONL given with --texts. Probabilities must match
within --tolerance and labels exactly; otherwise the command fails and writes nothing.
Settings that cannot be exported exactly (the seed recipe, for one) are refused by name.
"""

from __future__ import annotations

import argparse

from edge_distill.toolkit.commands.common import add_json, emit

HELP = "export a student to ONNX (exact, checked by a parity gate)"
TRANSFER_TEXTS = 2000


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Student folder, output file, gate texts and tolerance."""
    p.add_argument("student", metavar="DIR", help="the run folder (or its student/ folder) of 'edge-distill student'")
    p.add_argument("--out", required=True, metavar="FILE", help="the .onnx file to write")
    p.add_argument(
        "--texts",
        metavar="JSONL",
        default=None,
        help='real texts for the gate, one {"text": ...} per line (default: the student\'s data)',
    )
    p.add_argument("--no-data", action="store_true", help="gate on the built-in adversarial set only")
    p.add_argument("--tolerance", type=float, default=1e-6, help="max |Δ probability| (default: %(default)g)")
    p.add_argument(
        "--format",
        choices=["onnx", "ort"],
        default="onnx",
        help="ort: also write the ORT-format file (.ort, sealed, gated against the .onnx) and its "
        "reduced-operator config for a minimal onnxruntime build (default: %(default)s)",
    )
    add_json(p)


def _gate_texts(args: argparse.Namespace, record: dict) -> tuple[list[str], str]:
    """Real texts for the gate and where they came from."""
    from pathlib import Path

    from edge_distill.toolkit.commands.common import load_splits_from_record
    from edge_distill.toolkit.data import iter_jsonl

    if args.no_data:
        return [], "none"
    if args.texts:
        return [r.text for r in iter_jsonl(Path(args.texts), label_field=None)], args.texts
    if not record or not Path(record.get("source", "")).exists():
        return [], "none (the student's data is not available here)"
    splits = load_splits_from_record(record)
    return splits.test.texts + splits.unlabeled.texts[:TRANSFER_TEXTS], f"{record['source']} (test + transfer)"


def run(args: argparse.Namespace) -> int:
    """Load the student, export it through the gate, report."""
    from edge_distill.exporters.student import ParityError, UnsupportedSetting, export_student
    from edge_distill.toolkit.data import DataError
    from edge_distill.toolkit.student import StudentError, load_student

    try:
        model = load_student(args.student)
    except StudentError as exc:
        raise DataError(str(exc)) from exc
    texts, origin = _gate_texts(args, model.info.get("data", {}))
    out = args.out[: -len(".ort")] + ".onnx" if args.format == "ort" and args.out.endswith(".ort") else args.out
    try:
        result = export_student(model, out, texts=texts, tol=args.tolerance)
        if args.format == "ort":
            from edge_distill.exporters.ort_format import export_ort

            result["ort"] = export_ort(out, texts=texts, tol=args.tolerance).as_dict()
    except (UnsupportedSetting, ParityError) as exc:
        raise DataError(str(exc)) from exc
    result["gate_texts"] = origin
    par = result["parity"]
    emit(
        args,
        result,
        f"wrote {result['path']} ({result['bytes'] / 1e6:.2f} MB, {result['n_features']:,} n-grams); "
        f"parity on {par['texts']:,} texts ({origin}): max |Δp| {par['max_abs_diff']:.2g}, "
        f"labels {par['label_agreement']:.2%}",
    )
    return 0
