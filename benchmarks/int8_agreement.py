"""How many feed-forward outputs must int8 leave in fp32? Agreement with fp32 per recipe, one run.

Exports the teacher once, then quantizes it with the feed-forward output MatMul of the first
``k`` layers kept in fp32 for each ``k`` asked (see :func:`exporters.teacher.int8_fp32_nodes`),
and reports label agreement with the fp32 file, accuracy and mean |Δlogit| on the held-out
reviews the export gate uses. JSON on stdout. Example (the table in toolkit/teacher/NOTES.md)::

    python -m edge_distill.benchmarks.int8_agreement --teacher runs/seed/teacher --layers 0,1,2,3,6 --n 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np


def measure(teacher_dir: Path, layers: list[int], n: int, threads: int = 1) -> dict:
    """Agreement, accuracy and logit error of each recipe against fp32 on ``n`` held-out reviews."""
    from edge_distill.exporters.teacher import (
        _model_inputs,
        _open,
        fuse,
        int8_fp32_nodes,
        quantize_int8,
        sealed_bytes,
        teacher_metadata,
        to_onnx_graph,
    )
    from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer, pick_device, read_record
    from edge_distill.toolkit.teacher.heldout import heldout_reviews

    pick_device(threads)
    record = read_record(teacher_dir)
    tokenizer = load_tokenizer(str(teacher_dir))
    model = load_classifier(str(teacher_dir), attn="eager").eval()
    held = heldout_reviews(record["data"], n)
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    meta = teacher_metadata(teacher_dir, record, labels, tokenizer)
    with tempfile.TemporaryDirectory(prefix="edge-distill-int8-") as tmp:
        work = Path(tmp)
        to_onnx_graph(model, _model_inputs(model, tokenizer), work / "raw.onnx")
        fused, _ = fuse(work / "raw.onnx", model.config)
        fp32 = _open(sealed_bytes(fused, meta), "fp32", threads)
        rows = fp32.encoder.encode(held.texts)
        ref = fp32.logits_of_ids(rows)
        result = {
            "teacher": str(teacher_dir),
            "reviews": len(held),
            "accuracy_fp32": float(np.mean(ref.argmax(1) == held.labels)),
            "recipes": [],
        }
        for k in layers:
            qmodel = quantize_int8(fused, work, ffn_layers=k)
            size = len(qmodel.SerializeToString())
            got = _open(sealed_bytes(qmodel, meta), f"int8-{k}", threads).logits_of_ids(rows)
            result["recipes"].append(
                {
                    "fp32_ffn_layers": k,
                    "fp32_nodes": int8_fp32_nodes(fused, k),
                    "agreement": float(np.mean(got.argmax(1) == ref.argmax(1))),
                    "accuracy_int8": float(np.mean(got.argmax(1) == held.labels)),
                    "mean_abs_dlogit": float(np.abs(got - ref).mean()),
                    "bytes": size,
                }
            )
            print(json.dumps(result["recipes"][-1]), file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", type=Path, required=True, help="a fine-tuned teacher folder (DIR/teacher)")
    p.add_argument("--layers", default="0,1,2", help="counts of fp32 FFN outputs to try (default: %(default)s)")
    p.add_argument("--n", type=int, default=1000, help="held-out reviews (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="threads (default: %(default)s)")
    args = p.parse_args(argv)
    layers = [int(x) for x in args.layers.split(",") if x.strip()]
    print(json.dumps(measure(args.teacher, layers, args.n, args.threads), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
