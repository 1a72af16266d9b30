"""The exported student in every JavaScript client equals the Python runtime.

Clients: the web page (examples/web) in headless Chromium, served by Python's http.server;
onnxruntime-web's WASM build and onnxruntime-node under Node, through the page's own module
(examples/web/student.js). Texts: real ones from every data set, the adversarial set (NUL,
lone surrogates, emoji, ...) and texts made of the letters onnxruntime-web lowercases
differently. Needs node, chromium and ``npm ci`` (scripts/install.sh): skipped here when they
are missing, a failure in CI.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from js_support import UNICODE14_TEXTS, max_diff, need_js, real_texts, unicode14_student
from js_support import real_student as real_student_model
from student_support import fitted_student

from edge_distill import runtime
from edge_distill.benchmarks import js_clients
from edge_distill.exporters import platform_ops
from edge_distill.exporters.student import export_student
from edge_distill.exporters.student_parity import adversarial_texts, measure_parity

#: the page classifies a batch in one call, padded to its longest text: keep the batch small
MAX_CHARS = 20_000


@pytest.fixture(scope="module")
def js() -> None:
    need_js()


#: both read the real data sets (and the real student's fit + gate take ~15 s): slow
@pytest.fixture(
    scope="module",
    params=[
        pytest.param("real", marks=pytest.mark.slow),
        pytest.param("real-characters", marks=pytest.mark.slow),
        pytest.param("synthetic-3-class", marks=pytest.mark.slow),
    ],
)
def real_student(request, tmp_path_factory, real_data_dir):
    """A student exported to a file (fitted on real SST-2 + IMDB texts, with word n-grams or
    with character n-grams too, or a 3-class one on synthetic texts in several scripts), and
    the texts to compare on."""
    if request.param == "synthetic-3-class":
        model = fitted_student(3)
    else:
        chars = {"char_ngram_range": (2, 5)} if request.param == "real-characters" else {}
        model = real_student_model(real_data_dir, **chars)
    path = tmp_path_factory.mktemp("web") / "student.onnx"
    texts = real_texts(real_data_dir) + [t for t in adversarial_texts(model.vocabulary) if len(t) < MAX_CHARS]
    export_student(model, path, texts=texts, check_ops=False)
    return path, texts + UNICODE14_TEXTS


def test_page_equals_python_runtime(js, real_student):
    path, texts = real_student
    typed = "A wonderful film, ΚΑΛΌ and 素晴らしい"
    out = js_clients.drive_page(path, {"texts": texts, "typed": typed})
    assert out["errors"] == [] and out["crossOriginIsolated"] is True
    clf = runtime.load(path)
    labels, proba = clf.predict_with_proba(texts)
    assert out["labels"] == list(clf.labels)
    assert max_diff(out["rows"], labels, proba, clf.labels) <= 1e-6
    # what a person sees after typing: the label and the probabilities (6 decimals), and a time
    (want,), p = clf.predict_with_proba([typed])
    assert out["typed"]["label"] == want
    assert out["typed"]["probabilities"] == [[n, f"{x:.6f}"] for n, x in zip(clf.labels, p[0], strict=True)]
    assert out["typed"]["time"].endswith(" ms") and float(out["typed"]["time"].split()[0]) > 0


@pytest.mark.parametrize("client", ["node", "web"])
def test_node_clients_equal_python_runtime(js, real_student, client):
    path, texts = real_student
    out = js_clients.classify_in(client, path, texts)
    clf = runtime.load(path)
    labels, proba = clf.predict_with_proba(texts)
    assert max_diff(out["rows"], labels, proba, clf.labels) <= 1e-6


def test_page_refuses_a_tampered_file(js, tmp_path):
    model = fitted_student(2)
    path = tmp_path / "student.onnx"
    export_student(model, path, check_ops=False)
    data = bytearray(path.read_bytes())
    data[bytes(data).index(model.intercept.tobytes())] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        js_clients.drive_page(path, {"texts": ["x"]})


@pytest.mark.parametrize("chars", [{}, {"char_ngram_range": (2, 5)}], ids=["words", "characters"])
def test_unicode14_letters_give_the_same_answers_everywhere(js, tmp_path, monkeypatch, chars):
    """A vocabulary holding letters onnxruntime-web does not lowercase: exact in Python (against
    scikit-learn), onnxruntime-node, onnxruntime-web under Node and the page; and without the
    exporter's word (and character) variants the WASM build does differ (so this test can fail)."""
    model = unicode14_student(**chars)
    assert any(ch in "".join(model.vocabulary) for ch in "𐖗ⱟꟁꟈ"), "the vocabulary should hold the letters"
    if chars:
        assert any(ch in model.char_alphabet for ch in "𐖗ⱟꟁꟈ"), "the alphabet should hold the letters"
    texts = UNICODE14_TEXTS + [t.upper() for t in UNICODE14_TEXTS] + [t.lower() for t in UNICODE14_TEXTS]
    path = tmp_path / "student.onnx"
    export_student(model, path, texts=texts, check_ops=False)
    path.with_suffix(".copy.onnx").write_bytes(path.read_bytes())
    clf = runtime.load(path)
    assert measure_parity(clf, model.pipeline(), texts).ok
    labels, proba = clf.predict_with_proba(texts)
    for client in ("node", "web"):
        assert max_diff(js_clients.classify_in(client, path, texts)["rows"], labels, proba, clf.labels) <= 1e-6
    page = js_clients.drive_page(path, {"texts": texts, "upload": str(path.with_suffix(".copy.onnx"))})
    assert max_diff(page["rows"], labels, proba, clf.labels) <= 1e-6  # loaded from ?model=URL
    assert max_diff(page["uploaded"], labels, proba, clf.labels) <= 1e-6  # loaded with the file picker

    monkeypatch.setattr(platform_ops, "CLIENTS", {})  # the graph without the client spellings
    naive = tmp_path / "naive.onnx"
    export_student(model, naive, texts=texts, check_ops=False)
    rows = js_clients.classify_in("web", naive, texts)["rows"]
    got = np.array([[r["probabilities"][n] for n in clf.labels] for r in rows])
    assert np.abs(got - proba).max() > 0.05, "the WASM build should differ without the word variants"


def test_platform_table_is_what_the_clients_do(js):
    """Re-measure every code point in each client: the exporter's table must be current."""
    measured = platform_ops.measure()
    for client, info in measured.items():
        stored = platform_ops.CLIENTS[client]
        assert info["lower"] == stored["lower"], client
        assert (info["word_added"], info["word_removed"]) == (stored["word_added"], stored["word_removed"])
    assert len(platform_ops.CLIENTS["onnxruntime-web"]["lower"]) == 69


def test_clean_module(js):
    """clean.js: lone surrogates -> U+FFFD, NUL -> U+0001, valid pairs and everything else kept."""
    script = (
        'import("./clean.js").then(({ sanitize }) => console.log(JSON.stringify(['
        'sanitize("a\\uD800b\\uDFFFc\\uD83D"), sanitize("\\uD83D\\uDE00 ok"), sanitize("ab\\0cd\\0"), sanitize("")])))'
    )
    proc = subprocess.run(
        ["node", "-e", script], cwd=js_clients.WEB, capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == '["a�b�c�","😀 ok","ab\\u0001cd\\u0001",""]'
