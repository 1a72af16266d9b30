"""Export the fine-tuned teacher (DIR/teacher) to one self-contained ONNX file.

The graph is exported with eager attention and the TorchScript exporter, fused by
onnxruntime's BERT optimizer, and carries its tokenizer, labels, max length, truncation and
a checksum. A parity gate runs first: fp32 must match PyTorch within 1e-4 on real reviews
of many lengths (batch 1 unpadded included) and adversarial texts. With --int8, the nodes kept
in fp32 are chosen by measured sensitivity on --calibration held-out texts, then the gate
decides once on other texts: the 95% Wilson lower bound of int8's label agreement with fp32,
on the --check labeled reviews plus --agreement unlabeled texts, must reach --min-agreement,
and accuracy may drop at most --max-accuracy-drop. A failed gate writes nothing and exits 2.

Held-out reviews are redrawn from the data recorded in DIR/teacher/training.json: labeled
training-pool texts that are in neither the labeled set nor the test set.

example:
  edge-distill export teacher runs/r1/teacher --out runs/r1/teacher.onnx --int8
"""

from __future__ import annotations

import argparse

from edge_distill.toolkit.commands.common import add_json, emit

HELP = "export the teacher to ONNX (fp32, and int8 with --int8) behind a parity gate"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Source, outputs and gate settings."""
    p.add_argument("teacher", metavar="DIR/teacher", help="folder written by 'edge-distill teacher train'")
    p.add_argument("--out", required=True, metavar="FILE", help="fp32 ONNX file (e.g. DIR/teacher.onnx)")
    p.add_argument("--int8", action="store_true", help="also write the dynamic-int8 file (see --int8-out)")
    p.add_argument(
        "--int8-out", metavar="FILE", default=None, help="int8 file (default: next to --out, named <stem>.int8.onnx)"
    )
    p.add_argument(
        "--check", type=int, default=1000, metavar="N", help="held-out labeled reviews for the gates (default: 1000)"
    )
    p.add_argument(
        "--calibration",
        type=int,
        default=1000,
        metavar="N",
        help="held-out texts (disjoint from --check) that choose int8's fp32 nodes (default: %(default)s)",
    )
    p.add_argument(
        "--agreement",
        type=int,
        default=2000,
        metavar="N",
        help="unlabeled texts added to the int8 agreement (it needs no labels) (default: %(default)s)",
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="where the training data is now, if it moved since training (default: from training.json)",
    )
    p.add_argument("--fp32-tolerance", type=float, default=1e-4, help="max |Δlogit| fp32 vs PyTorch (default: 1e-4)")
    p.add_argument(
        "--min-agreement",
        type=float,
        default=0.985,
        help="minimum of the 95%% Wilson lower bound of int8 vs fp32 label agreement (default: %(default)s)",
    )
    p.add_argument("--max-accuracy-drop", type=float, default=0.005, help="int8 accuracy loss vs fp32 (default: 0.005)")
    p.add_argument("--seed", type=int, default=1234, help="seed of the held-out draw (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: the cores this process may use)")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    """Draw held-out reviews, export, gate, write."""
    from pathlib import Path

    from edge_distill.exporters.teacher import ParityError, Tolerances, export_teacher
    from edge_distill.toolkit.data import DataError
    from edge_distill.toolkit.teacher.backbone import read_record
    from edge_distill.toolkit.teacher.heldout import heldout_reviews, int8_gate_texts

    if args.check < 1 or args.calibration < 0 or args.agreement < 0:
        raise DataError(
            f"--check must be >= 1, --calibration and --agreement >= 0: got {args.check}, "
            f"{args.calibration}, {args.agreement}"
        )
    out = Path(args.out)
    int8_out = None
    if args.int8 or args.int8_out:
        int8_out = Path(args.int8_out) if args.int8_out else out.with_name(out.stem + ".int8.onnx")
    record = read_record(args.teacher)
    data = record.get("data", {})
    if int8_out:
        gate = int8_gate_texts(data, args.check, args.calibration, args.agreement, args.seed, source=args.data)
        heldout, calibration, extra = gate.check, gate.calibration, gate.agreement
    else:
        heldout, calibration, extra = heldout_reviews(data, args.check, args.seed, source=args.data), [], []
    tol = Tolerances(args.fp32_tolerance, args.min_agreement, args.max_accuracy_drop)
    try:
        report = export_teacher(
            args.teacher,
            out,
            int8_out=int8_out,
            heldout=heldout,
            calibration=calibration or None,
            agreement_texts=extra,
            tolerances=tol,
            threads=args.threads,
        )
    except ParityError as exc:
        raise DataError(f"{exc}; nothing was written") from exc
    lines = [
        f"fp32: {report['fp32']['path']} ({report['fp32']['bytes'] / 1e6:.1f} MB), "
        f"max |Δlogit| vs PyTorch {max(report['fp32']['max_abs_batched'], report['fp32']['max_abs_batch1']):.2g} "
        f"on {report['fp32']['texts']} texts; fused {report['fused']}"
    ]
    if "int8" in report:
        q = report["int8"]
        lines.append(
            f"int8: {q['path']} ({q['bytes'] / 1e6:.1f} MB), agreement {q['agreement']:.4f} "
            f"(95% CI {q['agreement_ci'][0]:.4f}-{q['agreement_ci'][1]:.4f}, {q['texts']} texts), "
            f"accuracy {q['accuracy_int8']:.4f} vs fp32 {q['accuracy_fp32']:.4f} on {q['reviews']} reviews, "
            f"{len(q['selection']['fp32_nodes'])} nodes kept fp32 by sensitivity"
        )
    emit(args, report, "\n".join(lines))
    return 0
