"""Teacher labeling throughput: the PyTorch teacher vs its ONNX files, same texts, same run.

Measures texts per second of the two ``teacher label`` backends (encoding included, the way
labeling runs: length-sorted batches) on a sample of the unlabeled transfer texts, and prints
the ratio ONNX / torch with the label agreement. A ratio measured in one run on one machine,
not a timed test. Example (the issue asks for int8 >= 2x torch on the 2-core CPU)::

    python -m edge_distill.benchmarks.label_throughput --teacher runs/r1/teacher \\
        --onnx runs/r1/teacher.int8.onnx --onnx runs/r1/teacher.onnx --data ../shared/data/imdb --n 500
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from edge_distill.runtime.atomic import atomic_write_text
from edge_distill.toolkit.data import load_dataset


def sample_texts(data: str, n: int, seed: int) -> list[str]:
    """``n`` texts drawn with ``seed`` from the unlabeled splits (else from train)."""
    dataset = load_dataset(data)
    pool = [c for c in dataset.values() if c.is_unlabeled] or [dataset.get("train", next(iter(dataset.values())))]
    texts = [t for c in pool for t in c.texts]
    pick = np.random.default_rng(seed).permutation(len(texts))[:n]
    return [texts[i] for i in pick]


def timed(labeler, texts: list[str], repeats: int) -> tuple[float, np.ndarray]:
    """Best-of-``repeats`` seconds to encode and label ``texts``, and the logits."""
    best, logits = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        logits = labeler.logits(labeler.encoder.encode(texts))
        best = min(best, time.perf_counter() - t0)
    return best, logits


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", required=True, help="DIR/teacher (the torch backend)")
    p.add_argument("--onnx", action="append", required=True, help="an exported teacher .onnx (repeatable)")
    p.add_argument("--data", required=True, help="data folder (e.g. ../shared/data/imdb)")
    p.add_argument("--n", type=int, default=500, help="texts to label (default: 500)")
    p.add_argument("--threads", type=int, default=None, help="threads for both backends (default: all cores)")
    p.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default: 32)")
    p.add_argument("--repeats", type=int, default=1, help="timings per backend; the best counts (default: 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="also write the result JSON here")
    args = p.parse_args(argv)

    from edge_distill.toolkit.teacher.label import onnx_labeler, torch_labeler

    texts = sample_texts(args.data, args.n, args.seed)
    warm = texts[:8]
    result: dict = {"texts": len(texts), "threads": args.threads, "batch_size": args.batch_size}
    torch_lab = torch_labeler(args.teacher, args.threads, args.batch_size)
    torch_lab.logits(torch_lab.encoder.encode(warm))
    secs, ref = timed(torch_lab, texts, args.repeats)
    result["torch"] = {"seconds": round(secs, 2), "texts_per_s": round(len(texts) / secs, 2)}
    for path in args.onnx:
        lab = onnx_labeler(path, args.threads, args.batch_size)
        lab.logits(lab.encoder.encode(warm))
        s, logits = timed(lab, texts, args.repeats)
        result[Path(path).name] = {
            "seconds": round(s, 2),
            "texts_per_s": round(len(texts) / s, 2),
            "speedup_vs_torch": round(secs / s, 2),
            "label_agreement": float(np.mean(logits.argmax(1) == ref.argmax(1))),
            "max_abs_logit_diff": float(np.abs(logits - ref).max()),
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
