"""Which nodes must int8 leave in fp32? Agreement with fp32 per recipe, and each node's sensitivity.

Exports the teacher once, then quantizes it with the feed-forward output MatMul of the first
``k`` layers kept in fp32 for each ``k`` asked (the fixed recipe of
:func:`exporters.teacher.int8_fp32_nodes`), and reports label agreement with the fp32 file
(with its 95% Wilson interval), accuracy and mean |Δlogit| on the held-out reviews the export
gate uses. With ``--sensitivity`` it also ranks every quantizable node by its error when it
alone is int8 (on a disjoint calibration draw, as the export does) and measures the *ranked*
recipes: the ``k`` most sensitive nodes in fp32. JSON on stdout. Example::

    python -m edge_distill.benchmarks.int8_agreement --teacher runs/seed/teacher --layers 0,1,2,4 --n 2000 --sensitivity
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np


def _row(got: np.ndarray, ref: np.ndarray, labels: np.ndarray, size: int, nodes: list[str]) -> dict:
    from edge_distill.exporters.teacher import agreement_figures

    fig = agreement_figures(ref, got)
    return {
        "fp32_nodes": nodes,
        "agreement": fig["agreement"],
        "agreement_ci": fig["agreement_ci"],
        "accuracy_int8": float(np.mean(got.argmax(1) == labels)),
        "mean_abs_dlogit": fig["mean_abs_dlogit"],
        "bytes": size,
    }


def measure(
    teacher_dir: Path, layers: list[int], n: int, threads: int = 1, sensitivity: bool = False, rank_texts: int = 256
) -> dict:
    """Agreement, accuracy and logit error of each recipe against fp32 on ``n`` held-out reviews."""
    from edge_distill.exporters import teacher as et
    from edge_distill.toolkit.teacher.backbone import load_classifier, load_tokenizer, pick_device, read_record
    from edge_distill.toolkit.teacher.heldout import heldout_gate_sets

    pick_device(threads)
    record = read_record(teacher_dir)
    tokenizer = load_tokenizer(str(teacher_dir))
    model = load_classifier(str(teacher_dir), attn="eager").eval()
    held, cal = heldout_gate_sets(record["data"], n, rank_texts if sensitivity else 0)
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    meta = et.teacher_metadata(teacher_dir, record, labels, tokenizer)
    with tempfile.TemporaryDirectory(prefix="edge-distill-int8-") as tmp:
        work = Path(tmp)
        et.to_onnx_graph(model, et._model_inputs(model, tokenizer), work / "raw.onnx")
        fused, _ = et.fuse(work / "raw.onnx", model.config)
        fp32 = et._open(et.sealed_bytes(fused, meta), "fp32", threads)
        rows = fp32.encoder.encode(held.texts)
        ref = fp32.logits_of_ids(rows)
        result = {
            "teacher": str(teacher_dir),
            "reviews": len(held),
            "accuracy_fp32": float(np.mean(ref.argmax(1) == held.labels)),
            "recipes": [],
        }
        for k in layers:
            qmodel = et.quantize_int8(fused, work, ffn_layers=k)
            got = et._open(et.sealed_bytes(qmodel, meta), f"int8-{k}", threads).logits_of_ids(rows)
            row = _row(got, ref, held.labels, len(qmodel.SerializeToString()), et.int8_fp32_nodes(fused, k))
            result["recipes"].append({"fp32_ffn_layers": k, **row})
            print(json.dumps(result["recipes"][-1]), file=sys.stderr, flush=True)
        if sensitivity:
            cal_rows = fp32.encoder.encode(cal.texts)
            variants = et.Int8Variants(fused, work, meta, threads)
            ranking = et.rank_sensitivity(variants, cal_rows, fp32.logits_of_ids(cal_rows))
            result["ranking"], result["ranked_recipes"] = ranking, []
            for k in layers:
                nodes = [r["node"] for r in ranking[:k]]
                qmodel = et.quantize_int8(fused, work, fp32_nodes=nodes)
                got = et._open(et.sealed_bytes(qmodel, meta), f"ranked-{k}", threads).logits_of_ids(rows)
                row = _row(got, ref, held.labels, len(qmodel.SerializeToString()), nodes)
                result["ranked_recipes"].append({"most_sensitive_in_fp32": k, **row})
                print(json.dumps(result["ranked_recipes"][-1]), file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", type=Path, required=True, help="a fine-tuned teacher folder (DIR/teacher)")
    p.add_argument("--layers", default="0,1,2", help="counts of fp32 nodes to try (default: %(default)s)")
    p.add_argument("--n", type=int, default=1000, help="held-out reviews (default: %(default)s)")
    p.add_argument("--sensitivity", action="store_true", help="also rank the nodes and measure the ranked recipes")
    p.add_argument("--rank-texts", type=int, default=256, help="calibration texts of the ranking (default: 256)")
    p.add_argument("--threads", type=int, default=1, help="threads (default: %(default)s)")
    args = p.parse_args(argv)
    layers = [int(x) for x in args.layers.split(",") if x.strip()]
    result = measure(args.teacher, layers, args.n, args.threads, args.sensitivity, args.rank_texts)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
