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
