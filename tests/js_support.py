"""What the JavaScript-client tests share: the rule that CI never skips them, real texts, a
student whose vocabulary holds the letters onnxruntime-web lowercases differently, and the
comparison of a client's rows with the Python runtime."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from student_support import synthetic_corpus

from edge_distill.benchmarks import js_clients

#: words made of Unicode 14 capitals and their lowercase letters (onnxruntime-web leaves the
#: capitals unchanged), mixed-case and next to other scripts, plus circled letters
UNICODE14_POSITIVE = ["𐕰𐕱𐕲", "Ⱟⰰⰱ", "ꟀꟁB", "good𐕳"]
UNICODE14_NEGATIVE = ["ꟇꟈꟉ", "𐖗𐕹𐕺", "ⰯⰯ", "Ꟶbad", "ⒶⒷⒸ"]
UNICODE14_TEXTS = [
    "𐕰𐕱𐕲 great",
    "𐖗𐖘𐖙 𐕰𐖘𐕲 𐖗𐕱𐖙",
    "Ⱟⰰⰱ ⱟⰰⰱ ⰯⰯ ⱟⱟ Ⱟⱟ",
    "ꟀꟁB ꟁꟁb ꟀꟀB",
    "ꟇꟈꟉ ꟈꟈꟊ ꟇꟇꟉ Ꟶbad ꟶbad",
    "GOOD𐕳 good𐖚 gOoD𐕳",
    "𐖗𐕹𐕺 𐕰𐕹𐕺 awful ⒶⒷⒸ ⓐⓑⓒ",
    "ⒶⒷⒸ wonderful ⓐⓑⓒ",
    "𐕰𐕱𐕲\x00Ⱟⰰⰱ\ud800ꟀꟁB",
]


def need_js(browser: bool = True) -> None:
    """Skip (locally) or fail (CI: ``EDGE_DISTILL_REQUIRE_DATA=1``) unless the clients can run."""
    reason = js_clients.missing(browser)
    if reason is None:
        return
    if os.environ.get("EDGE_DISTILL_REQUIRE_DATA") == "1":
        pytest.fail(f"{reason}; EDGE_DISTILL_REQUIRE_DATA=1 forbids skipping the JavaScript clients")
    pytest.skip(reason)


def real_texts(data_dir: Path, n: int = 150) -> list[str]:
    """Texts of every real set: the first ``n`` SST-2 validation sentences and IMDB test reviews
    (both sorted by label, so both labels occur), TREC questions and emotion tweets."""
    out = []
    for name, split in [("sst2", "validation"), ("imdb", "test"), ("trec", "test"), ("emotion", "test")]:
        path = data_dir / name / f"{split}.jsonl.gz"
        if not path.exists():
            continue
        rows = [r["text"] for r in _read(path)]
        step = max(1, len(rows) // n)
        out += rows[::step][:n]
    return out


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def real_student(data_dir: Path, n: int = 3000, **features):
    """A binary student fitted on ``n`` SST-2 and ``n // 6`` IMDB training texts (a real
    vocabulary of several thousand n-grams), distilled from logits made from the gold labels;
    ``features`` over the defaults (e.g. character n-grams)."""
    from edge_distill.toolkit.student import StudentConfig, fit_student

    rng = np.random.default_rng(0)
    rows = []
    for name, size in [("sst2", n), ("imdb", n // 6)]:
        records = _read(data_dir / name / "train.jsonl.gz")
        rows += [records[i] for i in rng.choice(len(records), size, replace=False)]
    labels = np.array([r["label"] for r in rows])
    logits = rng.normal(0, 0.5, (len(rows), 2))
    logits[np.arange(len(rows)), labels] += 2.0
    config = StudentConfig(objective="soft", C=10.0, features=features)
    return fit_student([r["text"] for r in rows], logits.astype(np.float32), ("negative", "positive"), config).model


def unicode14_student(k: int = 2, **features):
    """A student whose training texts (and so vocabulary, and character alphabet with
    ``char_ngram_range`` in ``features``) hold the Unicode 14 letters."""
    from edge_distill.toolkit.student import StudentConfig, fit_student

    texts, labels, logits = synthetic_corpus(300, k, seed=3)
    rng = np.random.default_rng(5)
    words = [UNICODE14_NEGATIVE, UNICODE14_POSITIVE, ["meh"]]
    texts = [t + " " + " ".join(rng.choice(words[y], 2)) for t, y in zip(texts, labels, strict=True)]
    names = ("negative", "positive", "neutral")[:k]
    config = StudentConfig(objective="soft", C=10.0, features={"min_df": 1, **features})
    return fit_student(texts, logits, names, config).model


def max_diff(rows: Sequence[dict], labels: Sequence[str], proba: np.ndarray, names: Sequence[str]) -> float:
    """Largest |Δp| of a client's rows against the Python runtime; asserts the labels agree."""
    assert len(rows) == len(labels)
    got = np.array([[r["probabilities"][n] for n in names] for r in rows], np.float64)
    bad = [i for i, r in enumerate(rows) if r["label"] != labels[i]]
    assert not bad, f"labels differ on {len(bad)} texts, first {bad[0]}"
    return float(np.abs(got - proba.astype(np.float64)).max())
