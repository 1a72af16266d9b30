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

from edge_distill.toolkit.arguments import (
    argparse_type,
    non_negative_int,
    out_file,
    positive_float,
    positive_int,
    share,
)
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.data import AUTO
from edge_distill.toolkit.options import CALIBRATION_AUTO_TEXTS, TeacherExportOptions, parse_auto_count

HELP = "export the teacher to ONNX (fp32, and int8 with --int8) behind a parity gate"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Source, outputs and gate settings."""
    p.add_argument("teacher", metavar="DIR/teacher", help="folder written by 'edge-distill teacher train'")
    p.add_argument("--out", type=out_file, required=True, metavar="FILE", help="fp32 ONNX file (e.g. DIR/teacher.onnx)")
    p.add_argument("--int8", action="store_true", help="also write the dynamic-int8 file (see --int8-out)")
    p.add_argument(
        "--int8-out", metavar="FILE", default=None, help="int8 file (default: next to --out, named <stem>.int8.onnx)"
    )
    add_gate_arguments(p)
    p.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="where the training data is now, if it moved since training (default: from training.json)",
    )
    p.add_argument(
        "--threads", type=positive_int, default=None, help="CPU threads (default: the cores this process may use)"
    )
    add_json(p)


def add_gate_arguments(p: argparse.ArgumentParser, *, seed_alias: bool = True) -> None:
    """The gates' settings (also what ``run`` accepts, where ``--seed`` is the data's seed)."""
    p.add_argument(
        "--check",
        type=positive_int,
        default=1000,
        metavar="N",
        help="held-out labeled texts for the gates (default: 1000)",
    )
    p.add_argument(
        "--fp32-tolerance", type=positive_float, default=1e-4, help="max |Δlogit| fp32 vs PyTorch (default: 1e-4)"
    )
    p.add_argument(
        "--min-agreement",
        type=share,
        default=0.985,
        help="minimum of the 95%% Wilson lower bound of int8 vs fp32 label agreement (default: %(default)s)",
    )
    p.add_argument(
        "--calibration",
        type=argparse_type(parse_auto_count),
        default=AUTO,
        metavar="N",
        help="held-out texts (disjoint from --check) that choose int8's fp32 nodes, or 'auto': "
        f"{CALIBRATION_AUTO_TEXTS} drawn, read up to what 1,000 long texts cost (all of them where texts are short; "
        "default: %(default)s)",
    )
    p.add_argument(
        "--agreement",
        type=non_negative_int,
        default=2000,
        metavar="N",
        help="unlabeled texts added to the int8 agreement (it needs no labels) (default: %(default)s)",
    )
    p.add_argument(
        "--max-accuracy-drop",
        type=share,
        default=0.005,
        help="refuse int8 where the lower end of the 95%% interval of its accuracy loss vs fp32 passes this "
        "(default: 0.005)",
    )
    flags = ("--check-seed", "--seed") if seed_alias else ("--check-seed",)
    p.add_argument(*flags, dest="check_seed", type=int, default=1234, help="seed of the held-out draw (default: 1234)")


def gate_options(
    args: argparse.Namespace, *, data: str | None = None, threads: int | None = None
) -> TeacherExportOptions:
    """The :class:`TeacherExportOptions` the gate arguments describe."""
    return TeacherExportOptions(
        check=args.check,
        fp32_tolerance=args.fp32_tolerance,
        min_agreement=args.min_agreement,
        max_accuracy_drop=args.max_accuracy_drop,
        seed=args.check_seed,
        calibration=args.calibration,
        agreement=args.agreement,
        data=data,
        threads=threads,
    )


def run(args: argparse.Namespace) -> int:
    """Draw held-out texts, export, gate, write."""
    from edge_distill.toolkit.api import export_teacher_onnx  # the 'train' extra

    out = Path(args.out)
    int8_out = None
    if args.int8 or args.int8_out:
        int8_out = Path(args.int8_out) if args.int8_out else out.with_name(out.stem + ".int8.onnx")
    options = gate_options(args, data=args.data, threads=args.threads)
    result = export_teacher_onnx(args.teacher, out, int8_out=int8_out, options=options)
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
