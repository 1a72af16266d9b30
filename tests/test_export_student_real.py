"""Exact parity of the exported student on real IMDB reviews (slow: reads the real data)."""

from __future__ import annotations

import numpy as np
import pytest

from edge_distill.exporters.student import export_bytes
from edge_distill.exporters.student_parity import adversarial_texts, measure_parity
from edge_distill.runtime.base import open_session
from edge_distill.runtime.student import StudentClassifier
from edge_distill.toolkit.student import StudentConfig, fit_student

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("ngram_range", [(1, 2), (1, 3)])
def test_exact_on_real_imdb_reviews(imdb, ngram_range):
    rng = np.random.default_rng(0)
    train, test = imdb["train"], imdb["test"]
    pick = rng.permutation(len(train))[:4000]
    texts = [train.texts[i] for i in pick]
    # logits only shape the weights here (parity does not depend on them): gold labels + noise
    z = (2.0 * train.labels[pick] - 1.0) * 2.0 + rng.normal(0, 1, len(pick))
    model = fit_student(
        texts,
        np.stack([-z / 2, z / 2], 1),
        train.label_names,
        StudentConfig(C=30.0, features={"ngram_range": ngram_range}),
    ).model
    data = export_bytes(model, check_ops=False)
    sess, meta = open_session(data, "real.onnx", threads=1)
    clf = StudentClassifier.from_session("real.onnx", sess, meta)
    gate = [test.texts[i] for i in rng.permutation(len(test))[:3000]] + adversarial_texts(model.vocabulary)
    report = measure_parity(clf, model.pipeline(), gate)
    assert report.ok and report.max_abs_diff < 1e-6 and report.label_agreement == 1.0, report


def test_same_answers_at_any_thread_count_on_batches_of_long_reviews(imdb):
    """Graph 4: no scatter op, so intra-op threads cannot race on a row's sums. With graph 3's
    ScatterND add, an 8-class student lost updates on batches of 256 long reviews at 2 threads."""
    rng = np.random.default_rng(1)
    train, test = imdb["train"], imdb["test"]
    pick = rng.permutation(len(train))[:4000]
    logits = rng.normal(0, 1, (len(pick), 8)) + 2.0 * np.eye(8)[rng.integers(0, 8, len(pick))]  # 8 classes, as stars
    names = [str(k) for k in range(8)]
    model = fit_student([train.texts[i] for i in pick], logits, names, StudentConfig()).model
    longest = sorted(test.texts, key=len)[-2048:]
    batches = [longest[i : i + 256] for i in range(0, len(longest), 256)]
    ref = [model.pipeline().predict_proba(b) for b in batches]
    sess, meta = open_session(export_bytes(model, check_ops=False), "real.onnx", threads=2)
    clf = StudentClassifier.from_session("real.onnx", sess, meta)
    for _ in range(3):
        for batch, expected in zip(batches, ref, strict=True):
            _, proba = clf.predict_with_proba(batch)
            assert np.abs(proba - expected).max() < 1e-6
