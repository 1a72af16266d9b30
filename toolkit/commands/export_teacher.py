"""Export the fine-tuned teacher (DIR/teacher) to one self-contained ONNX file.

The graph is exported with eager attention and the TorchScript exporter, fused by
onnxruntime's BERT optimizer, and carries its tokenizer, labels, max length, truncation and
a checksum. A parity gate runs first: fp32 must match PyTorch within 1e-4 on real texts
of many lengths (batch 1 unpadded included) and adversarial texts. With --int8, the nodes kept
in fp32 are chosen by measured sensitivity on --calibration held-out texts, then the gate
decides once on other texts: the 95% Wilson lower bound of int8's label agreement with fp32,
on the --check labeled texts plus --agreement unlabeled texts, must reach --min-agreement,
and the lower end of the interval of the accuracy drop may not pass --max-accuracy-drop.
A failed gate writes nothing and exits 5.

Held-out texts are redrawn from the data recorded in DIR/teacher/training.json: labeled
training-pool texts that are in neither the labeled set nor the test set.

example:
  edge-distill export teacher runs/r1/teacher --out runs/r1/teacher.onnx --int8
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_distill.runtime.extras import require_extra
from edge_distill.toolkit.arguments import out_file
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.options import TeacherExportOptions
from edge_distill.toolkit.settings import add_arguments as add_fields
from edge_distill.toolkit.settings import from_args

HELP = "export the teacher to ONNX (fp32, and int8 with --int8) behind a parity gate"
#: the gates' own settings (``run`` takes these too; the data and threads come from its other options)
GATE_FIELDS = ("check", "fp32_tolerance", "min_agreement", "max_accuracy_drop", "seed", "calibration", "agreement")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Source, outputs and gate settings."""
    p.add_argument("teacher", metavar="DIR/teacher", help="folder written by 'edge-distill teacher train'")
    p.add_argument("--out", type=out_file, required=True, metavar="FILE", help="fp32 ONNX file (e.g. DIR/teacher.onnx)")
    p.add_argument("--int8", action="store_true", help="also write the dynamic-int8 file (see --int8-out)")
    p.add_argument(
        "--int8-out", metavar="FILE", default=None, help="int8 file (default: next to --out, named <stem>.int8.onnx)"
    )
    add_fields(p, TeacherExportOptions)
    p.add_argument("--seed", dest="seed", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # old name
    add_json(p)


def run(args: argparse.Namespace) -> int:
    """Draw held-out texts, export, gate, write."""
    require_extra("train", "exporting the teacher")  # both extras before the model and its data are read
    require_extra("export", "exporting the teacher")
    from edge_distill.toolkit.api import export_teacher_onnx, teacher_gate_texts  # the 'train' extra

    out = Path(args.out)
    int8_out = None
    if args.int8 or args.int8_out:
        int8_out = Path(args.int8_out) if args.int8_out else out.with_name(out.stem + ".int8.onnx")
    options = from_args(TeacherExportOptions, args)
    gate = teacher_gate_texts(args.teacher, options, int8=int8_out is not None)
    result = export_teacher_onnx(args.teacher, out, gate, int8_out=int8_out, options=options)
    fp32 = result.fp32
    lines = [
        f"fp32: {fp32['path']} ({fp32['bytes'] / 1e6:.1f} MB), "
        f"max |Δlogit| vs PyTorch {max(fp32['max_abs_batched'], fp32['max_abs_batch1']):.2g} "
        f"on {fp32['texts']} texts; fused {result.fused}"
    ]
    if result.int8:
        q = result.int8
        lines.append(
            f"int8: {q['path']} ({q['bytes'] / 1e6:.1f} MB), agreement {q['agreement']:.4f}, "
            f"accuracy {q['accuracy_int8']:.4f} vs fp32 {q['accuracy_fp32']:.4f} on {q['reviews']} texts"
        )
    emit(args, result, "\n".join(lines))
    return 0
