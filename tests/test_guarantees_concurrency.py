"""One loaded student shared by 8 threads: 100,000 calls, every answer bit-identical to a lone thread.

The runtime promises that a classifier is safe to share (onnxruntime sessions are; nothing in
the classifier mutates state). A lost race would show up as a row from another call, a
wrong-length result or a changed probability, so every call is checked exactly against the
answer the same batch gets single-threaded. The calls mix the three entry points, batch sizes
1 to 8, empty, blank, surrogate and long texts, so batches of different shapes run together.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from student_support import fitted_student, synthetic_corpus

from edge_distill import runtime
from edge_distill.exporters.student import export_student

THREADS = 8
TOTAL_CALLS = 100_000
ODD = ["", "   ", "lone \ud800 surrogate", "great " * 2000, "ΚΑΛΌ 素晴らしい \x00 😀", "<br />awful<br />"]


@pytest.fixture(scope="module")
def clf(tmp_path_factory):
    out = tmp_path_factory.mktemp("concurrency") / "student.onnx"
    export_student(fitted_student(3), out, check_ops=False)
    return runtime.load(out, threads=1, kind="student")


def _batches() -> list[list[str]]:
    texts = synthetic_corpus(200, 3, seed=11)[0] + ODD
    rng = np.random.default_rng(5)
    out = [[t] for t in ODD]
    while len(out) < 64:
        out.append([texts[i] for i in rng.integers(0, len(texts), int(rng.integers(1, 9)))])
    return out


def test_eight_threads_100k_calls_match_single_threaded(clf):
    batches = _batches()
    want = [clf.predict_with_proba(b) for b in batches]  # single-threaded reference
    per_thread = TOTAL_CALLS // THREADS
    calls = [0] * THREADS
    mismatches: list[tuple[int, int, str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(tid: int) -> None:
        try:
            start.wait()
            for j in range(per_thread):
                b = (tid * 7919 + j * 31) % len(batches)
                labels, proba = want[b]
                method = j % 3
                if method == 0:
                    ok = np.array_equal(clf.predict_proba(batches[b]), proba)
                elif method == 1:
                    ok = clf.predict(batches[b]) == labels
                else:
                    got_labels, got = clf.predict_with_proba(batches[b])
                    ok = got_labels == labels and np.array_equal(got, proba)
                calls[tid] += 1
                if not ok:
                    mismatches.append((tid, j, ("predict_proba", "predict", "predict_with_proba")[method]))
        except BaseException as exc:  # reported below with the thread that raised
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors[:3]
    assert sum(calls) == TOTAL_CALLS and calls == [per_thread] * THREADS
    assert not mismatches, mismatches[:10]
    # the shared object is unchanged afterwards
    for b, (labels, proba) in zip(batches, want, strict=True):
        got_labels, got = clf.predict_with_proba(b)
        assert got_labels == labels and np.array_equal(got, proba)
