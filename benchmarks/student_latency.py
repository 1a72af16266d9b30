"""Student latency and throughput: the ONNX graph against its scikit-learn pipeline, one run.

Builds two students on real IMDB text (vocabularies of ``--small`` and ``--large`` n-grams:
the most frequent word 1-2-grams of train + unsup, weights fitted on the train labels; the
weights do not affect the cost) and measures, interleaved so machine load hits all alike:

- batch-1 latency on one ~230-word review, 1 thread: ONNX p50, the speed-up over
  scikit-learn, and ONNX at ``--large`` over ONNX at ``--small`` (the cost should follow the
  text, not the vocabulary). Interleaved (the harness's round-robin: each call may find its
  caches evicted by another contender, the cold regime) and in blocks (contenders take turns
  running 25 calls each, the first of each block dropped: the warm regime of a service
  answering a stream of requests);
- throughput at batch 256 (test reviews), ONNX over scikit-learn.

Ratios, not absolute times, are the result on a shared machine. Example::

    python -m edge_distill.benchmarks.student_latency --data ../shared/data/imdb --out bench/student_latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from edge_distill.benchmarks.harness import Contender, block_latency, environment, interleaved_latency, throughput
from edge_distill.runtime.atomic import atomic_write_text
from edge_distill.runtime.base import open_session
from edge_distill.runtime.student import StudentClassifier
from edge_distill.toolkit.data import load_dataset


def review_of_length(texts: list[str], words: int) -> str:
    """The text whose whitespace word count is closest to ``words`` (first on ties)."""
    return min(texts, key=lambda t: abs(len(t.split()) - words))


def build_students(data: str, sizes: list[int], seed: int = 0):
    """Students over the ``size`` most frequent n-grams for each size (plain data + sklearn)."""
    from sklearn.linear_model import LogisticRegression

    from edge_distill.toolkit.student.model import model_from_fitted
    from edge_distill.toolkit.student.rows import fit_features

    ds = load_dataset(data)
    train = ds["train"]
    extra = ds["unsup"].texts[:25_000] if "unsup" in ds else []
    t0 = time.perf_counter()
    feats = fit_features(train.texts + list(extra), {"ngram_range": (1, 2), "min_df": 2})
    print(f"vectorizer: {feats.raw.shape[1]:,} n-grams in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    doc_freq = np.asarray((feats.raw > 0).sum(axis=0)).ravel()
    order = np.argsort(-doc_freq, kind="stable")
    models = []
    for size in sizes:
        if size > len(order):
            raise SystemExit(f"only {len(order):,} n-grams available, asked for {size:,}")
        keep = np.sort(order[:size])
        clf = LogisticRegression(C=30.0, max_iter=300, random_state=seed).fit(
            feats.rows(keep)[: len(train)], train.labels
        )
        models.append(model_from_fitted(feats.vectorizer, clf, train.label_names, {"benchmark": True}, keep))
    return models, ds["test"].texts


def student_contenders(model, name: str, threads: int) -> tuple[Contender, Contender]:
    """The exported student (through the runtime) and its scikit-learn pipeline."""
    from edge_distill.exporters.student import export_bytes

    data = export_bytes(model, check_ops=False)
    sess, meta = open_session(data, f"{name}.onnx", threads=threads)
    onnx_clf = StudentClassifier.from_session(Path(f"{name}.onnx"), sess, meta)
    pipe = model.pipeline()
    return (
        Contender(f"onnx_{name}", onnx_clf.predict_proba, size_bytes=len(data)),
        Contender(f"sklearn_{name}", pipe.predict_proba),
    )


def _parser() -> argparse.ArgumentParser:
    """The options; the module docstring is the --help text."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="the IMDB folder (train/test/unsup JSONL)")
    p.add_argument("--small", type=int, default=20_000, help="n-grams of the small student (default: 20000)")
    p.add_argument("--large", type=int, default=500_000, help="n-grams of the large student (default: 500000)")
    p.add_argument("--words", type=int, default=230, help="length of the batch-1 review (default: 230 words)")
    p.add_argument("--rounds", type=int, default=400, help="batch-1 rounds per contender (default: 400)")
    p.add_argument("--batch", type=int, default=256, help="throughput batch size (default: 256)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (default: 1)")
    p.add_argument("--out", default=None, help="also write the JSON result here")
    return p


def main(argv: list[str] | None = None) -> int:
    """Build both students, check each graph against scikit-learn (only correct graphs are
    timed), time them interleaved, print the JSON (and write it with ``--out``)."""
    args = _parser().parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    models, test_texts = build_students(args.data, [args.small, args.large])
    small_onnx, small_sk = student_contenders(models[0], "small", args.threads)
    large_onnx, large_sk = student_contenders(models[1], "large", args.threads)
    review = review_of_length(test_texts, args.words)
    batch = test_texts[: args.batch * 8]
    for onnx_c, sk_c in ((small_onnx, small_sk), (large_onnx, large_sk)):  # time only correct graphs
        np.testing.assert_allclose(onnx_c.predict(batch[:256]), sk_c.predict(batch[:256]), atol=1e-6)

    contenders = [small_onnx, small_sk, large_onnx, large_sk]
    latency = interleaved_latency(contenders, [review], rounds=args.rounds)
    blocked = block_latency(contenders, [review], rounds=max(1, args.rounds // 10))
    thr = {c.name: throughput(c.predict, batch, batch=args.batch) for c in (large_onnx, large_sk, small_onnx, small_sk)}
    result = {
        "review_words": len(review.split()),
        "review_chars": len(review),
        "threads": args.threads,
        "n_features": {"small": models[0].n_features, "large": models[1].n_features},
        "onnx_bytes": {"small": small_onnx.size_bytes, "large": large_onnx.size_bytes},
        "latency": latency,
        "latency_blocked": blocked,
        "throughput": thr,
        "ratios": _ratios(latency, blocked, thr),
        "environment": environment(),
    }
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    print(text)
    print(_summary(result, args.batch), file=sys.stderr)
    return 0


def _ratios(latency: dict, blocked: dict, thr: dict) -> dict[str, float]:
    """The result proper on a shared machine: ratios (ONNX over scikit-learn, large over small),
    which machine load moves far less than the absolute times."""
    p50 = {k: v["p50_ms"] for k, v in latency.items()}
    warm = {k: v["p50_ms"] for k, v in blocked.items()}
    tps = {k: v["throughput_per_s"] for k, v in thr.items()}
    return {
        "onnx_p50_us_large": p50["onnx_large"] * 1e3,
        "speedup_batch1_large": p50["sklearn_large"] / p50["onnx_large"],
        "speedup_batch1_small": p50["sklearn_small"] / p50["onnx_small"],
        "onnx_large_over_small_p50": p50["onnx_large"] / p50["onnx_small"],
        "blocked_onnx_p50_us_large": warm["onnx_large"] * 1e3,
        "blocked_speedup_batch1_large": warm["sklearn_large"] / warm["onnx_large"],
        "blocked_speedup_batch1_small": warm["sklearn_small"] / warm["onnx_small"],
        "blocked_onnx_large_over_small_p50": warm["onnx_large"] / warm["onnx_small"],
        "throughput_speedup_large": tps["onnx_large"] / tps["sklearn_large"],
        "throughput_speedup_small": tps["onnx_small"] / tps["sklearn_small"],
    }


def _summary(result: dict, batch: int) -> str:
    """The numbers a reader looks for, on one line after the JSON."""
    p50 = {k: v["p50_ms"] for k, v in result["latency"].items()}
    warm = {k: v["p50_ms"] for k, v in result["latency_blocked"].items()}
    r, n = result["ratios"], result["n_features"]
    return (
        f"\nbatch-1 ({result['review_words']} words, {result['threads']} thread): ONNX p50 "
        f"{p50['onnx_small'] * 1e3:.0f} us @ {n['small']:,} / {p50['onnx_large'] * 1e3:.0f} us @ "
        f"{n['large']:,} n-grams (ratio {r['onnx_large_over_small_p50']:.2f}); speed-up over sklearn "
        f"{r['speedup_batch1_small']:.1f}x / {r['speedup_batch1_large']:.1f}x; batch-{batch} throughput "
        f"{r['throughput_speedup_small']:.1f}x / {r['throughput_speedup_large']:.1f}x; blocked (warm): ONNX p50 "
        f"{warm['onnx_small'] * 1e3:.0f} / {warm['onnx_large'] * 1e3:.0f} us, speed-up "
        f"{r['blocked_speedup_batch1_small']:.1f}x / {r['blocked_speedup_batch1_large']:.1f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
