"""Export a fitted student to one self-contained ONNX file, after its parity gate passes.

The gate runs the exported graph through the real runtime and compares it with the
scikit-learn pipeline the student stands for, on a built-in adversarial set (accents, CJK,
emoji, NUL, lone surrogates, RTL, odd HTML line breaks, empty rows, a 1 MB text) plus real
texts: by default the test texts and 2,000 transfer texts of the data the student was trained
on (re-drawn from its record; where that data is not here the command fails naming it), or the
JSONL given with --texts, or none with --no-data. Probabilities must match
within --tolerance and labels exactly; otherwise the command fails and writes nothing.
Settings that cannot be exported exactly (the seed recipe, for one) are refused by name.
"""

from __future__ import annotations

import argparse

from edge_distill.runtime.extras import require_extra
from edge_distill.toolkit.arguments import out_file, positive_float
from edge_distill.toolkit.commands.common import add_json, emit

HELP = "export a student to ONNX (exact, checked by a parity gate)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Student folder, output file, gate texts and tolerance."""
    p.add_argument("student", metavar="DIR", help="the run folder (or its student/ folder) of 'edge-distill student'")
    p.add_argument("--out", type=out_file, required=True, metavar="FILE", help="the .onnx file to write")
    p.add_argument(
        "--texts",
        metavar="JSONL",
        default=None,
        help='real texts for the gate, one {"text": ...} per line (default: the student\'s data)',
    )
    p.add_argument("--no-data", action="store_true", help="gate on the built-in adversarial set only")
    p.add_argument("--tolerance", type=positive_float, default=1e-6, help="max |Δ probability| (default: %(default)g)")
    p.add_argument(
        "--format",
        choices=["onnx", "ort"],
        default="onnx",
        help="ort: also write the ORT-format file (.ort, sealed, gated against the .onnx) for minimal and mobile "
        "onnxruntime builds, and its reduced-operator config (default: %(default)s)",
    )
    add_json(p)


def run(args: argparse.Namespace) -> int:
    """Export through the gate, report."""
    require_extra("train", "exporting a student")  # both extras before the model and its data are read
    require_extra("export", "exporting a student")
    from edge_distill.toolkit.api import export_student_onnx, student_gate_texts  # the 'train' extra
    from edge_distill.toolkit.student.store import load_student

    model = load_student(args.student)
    if args.texts is not None or args.no_data:
        texts, origin = (args.texts, None) if args.texts is not None else ([], "none")
    else:  # the student's own data, read again: a source that is not here fails, naming it
        texts, origin = student_gate_texts(model.info.get("data") or {})
    result = export_student_onnx(
        model, args.out, texts=texts, origin=origin, tolerance=args.tolerance, format=args.format
    )
    par, ort = result.parity, result.ort
    human = (
        f"wrote {result.path} ({result.bytes / 1e6:.2f} MB, {result.n_features:,} n-grams); "
        f"parity on {par['texts']:,} texts ({result.gate_texts}): max |Δp| {par['max_abs_diff']:.2g}, "
        f"labels {par['label_agreement']:.2%}"
    )
    if ort:
        human += (
            f"\nwrote {ort['path']} ({ort['bytes'] / 1e6:.2f} MB) and {ort['config']}; against the .onnx on "
            f"{ort['texts']:,} texts: max |Δp| {ort['max_abs_diff']:.2g}, labels {ort['label_agreement']:.2%}"
        )
    emit(args, result, human)
    return 0
