"""The student in ORT format: sealed, loaded by ``edge_distill.load`` with its integrity check,
equal to the .onnx file (and to scikit-learn) in Python and in the JavaScript clients, with the
reduced-operator configuration of a minimal onnxruntime build."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from js_support import max_diff, need_js, unicode14_student
from student_support import fitted_student, synthetic_corpus

import edge_distill
from edge_distill.benchmarks import js_clients
from edge_distill.exporters.ort_format import export_ort, ort_bytes
from edge_distill.exporters.student import export_student
from edge_distill.exporters.student_parity import adversarial_texts, measure_parity
from edge_distill.runtime.errors import DataError, IntegrityError


@pytest.fixture(scope="module", params=[(2, ()), (3, ()), (3, (2, 5))], ids=["k2", "k3", "k3-chars"])
def exported(request, tmp_path_factory):
    k, chars = request.param
    model = fitted_student(k, **({"char_ngram_range": chars} if chars else {}))
    path = tmp_path_factory.mktemp("ort") / "student.onnx"
    export_student(model, path, check_ops=False)
    result = export_ort(path)
    return model, path, result


def test_ort_file_loads_with_its_checksum_and_equals_the_onnx_file(exported):
    model, path, result = exported
    ort_path = path.with_suffix(".ort")
    assert result.path == str(ort_path) and ort_path.read_bytes()[4:8] == b"ORTM"
    assert result.max_abs_diff <= 1e-6 and result.label_agreement == 1.0
    clf, ref = edge_distill.load(ort_path), edge_distill.load(path)
    assert clf.labels == ref.labels and clf.metadata == {
        **ref.metadata,
        "edge_distill.checksum": clf.metadata["edge_distill.checksum"],
    }
    texts = adversarial_texts(model.vocabulary) + synthetic_corpus(300, len(model.label_names), seed=9)[0]
    labels, proba = clf.predict_with_proba(texts)
    ref_labels, ref_proba = ref.predict_with_proba(texts)
    assert labels == ref_labels and abs(proba - ref_proba).max() <= 1e-6
    assert measure_parity(clf, model.pipeline(), texts).ok


def test_ort_file_refuses_tampering(exported, tmp_path):
    model, path, _ = exported
    data = bytearray(path.with_suffix(".ort").read_bytes())
    weight = bytes(data).index(model.intercept.tobytes())  # a weight: still loads, so only the checksum sees it
    data[weight] ^= 0x01
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        edge_distill.load(_write(tmp_path / "weight.ort", bytes(data)))
    data[weight] ^= 0x01
    data[-1] ^= 0x01
    with pytest.raises(edge_distill.ArtifactError):  # any other byte: refused one way or the other
        edge_distill.load(_write(tmp_path / "tail.ort", bytes(data)))


def test_a_hand_converted_ort_file_is_refused(exported, tmp_path):
    """Converting a sealed .onnx without the exporter keeps the .onnx digest: refused."""
    _, path, _ = exported
    data = path.read_bytes()
    digest = edge_distill.load(path).metadata["edge_distill.checksum"]
    unsealed = ort_bytes(data, digest)  # the right conversion, for contrast
    edge_distill.load(_write(tmp_path / "ok.ort", unsealed))
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.optimized_model_filepath = str(tmp_path / "hand.ort")
    opts.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        edge_distill.load(tmp_path / "hand.ort")


def _write(path, data):
    path.write_bytes(data)
    return path


def test_operator_config_lists_every_op_of_the_graph(exported):
    _, path, result = exported
    config = Path(result.config).read_text(encoding="utf-8")
    listed = {
        (domain, op)
        for line in config.splitlines()
        if line and not line.startswith("#")
        for domain, _, ops in [line.split(";")]
        for op in ops.split(",")
    }
    graph = onnx.load(path).graph
    assert {(n.domain or "ai.onnx", n.op_type) for n in graph.node} <= listed
    assert ("com.microsoft", "Tokenizer") in listed and ("ai.onnx.ml", "LabelEncoder") in listed
    assert "# - student.ort" in config


def test_only_students_convert(tmp_path):
    path = tmp_path / "x.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(edge_distill.ArtifactError):
        export_ort(path)
    assert issubclass(DataError, edge_distill.EdgeDistillError)


def test_ort_file_in_the_javascript_clients(tmp_path):
    """The .ort file (a Unicode 14 student) in onnxruntime-node, onnxruntime-web and the page,
    verified by the page's own module, equals the Python runtime on the .onnx file."""
    need_js()
    from js_support import UNICODE14_TEXTS

    model = unicode14_student(3)
    path = tmp_path / "student.onnx"
    export_student(model, path, check_ops=False)
    export_ort(path)
    texts = [t for t in adversarial_texts(model.vocabulary) if len(t) < 20_000] + UNICODE14_TEXTS
    ref = edge_distill.load(path)
    labels, proba = ref.predict_with_proba(texts)
    ort_path = path.with_suffix(".ort")
    for client in ("node", "web"):
        assert max_diff(js_clients.classify_in(client, ort_path, texts)["rows"], labels, proba, ref.labels) <= 1e-6
    page = js_clients.drive_page(ort_path, {"texts": texts})
    assert max_diff(page["rows"], labels, proba, ref.labels) <= 1e-6


def test_cli_export_student_format_ort(tmp_path, capsys):
    """``edge-distill export student DIR --out student.ort --format ort`` writes the .onnx, the
    .ort and the config; the JSON result names them."""
    import json

    from edge_distill.toolkit.cli import main
    from edge_distill.toolkit.student.store import save_student

    save_student(fitted_student(2), tmp_path)
    out = tmp_path / "student.ort"
    assert main(["export", "student", str(tmp_path), "--out", str(out), "--format", "ort", "--no-data", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["path"] == str(tmp_path / "student.onnx") and result["ort"]["path"] == str(out)
    assert edge_distill.load(out).predict(["great"]) == edge_distill.load(tmp_path / "student.onnx").predict(["great"])
    assert (tmp_path / "student.required_operators.config").is_file()
