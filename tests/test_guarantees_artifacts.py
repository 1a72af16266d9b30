"""Damaged artifacts are refused on load with one error naming the file and what is wrong.

Already proven elsewhere, not repeated here: a missing file and a student where a teacher is
expected (tests/test_runtime_student.py), a tampered intercept (tests/test_export_student.py),
teacher metadata without a tokenizer (tests/test_teacher_pipeline.py). This file adds an empty
file, truncations at several points, random bytes, a folder, a teacher where a student is
expected, a tampered weight deep in the coefficients, edited metadata without a new checksum,
a plain ONNX model that is no edge-distill artifact, and the CLI's one-line exit 2 for each.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from student_support import fitted_student

from edge_distill import runtime
from edge_distill.exporters.student import export_student
from edge_distill.runtime.base import ArtifactError
from edge_distill.runtime.integrity import PLACEHOLDER, seal
from edge_distill.toolkit.cli import main

onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def model():
    return fitted_student(2)


@pytest.fixture(scope="module")
def good(model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("artifacts") / "student.onnx"
    export_student(model, out, check_ops=False)
    return out


def _refused(path: Path, problem: str, **kwargs) -> str:
    """Load ``path``; assert one ArtifactError line that starts with the file name and says ``problem``."""
    with pytest.raises(ArtifactError) as exc:
        runtime.load(path, **kwargs)
    message = str(exc.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message and re.search(problem, message), message
    return message


def test_empty_file(tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    _refused(tmp_path / "empty.onnx", "empty file")


def test_a_folder_is_not_a_file(tmp_path):
    (tmp_path / "student.onnx").mkdir()
    _refused(tmp_path / "student.onnx", "is a folder")


@pytest.mark.parametrize("keep", [1, 8, 100, 1 / 3, 1 / 2, 0.9, -1], ids=lambda k: f"keep-{k}")
def test_truncated_file(good, tmp_path, keep):
    data = good.read_bytes()
    n = int(keep * len(data)) if isinstance(keep, float) else (len(data) + keep if keep < 0 else keep)
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes(data[:n])
    _refused(bad, r"not a loadable ONNX model|checksum|edge_distill")


def test_a_damaged_byte_in_the_metadata_text(good, tmp_path):
    """Bytes that break the metadata's UTF-8 made onnxruntime's metadata map raise UnicodeDecodeError."""
    data = bytearray(good.read_bytes())
    at = data.rfind(b"edge_distill")  # a metadata key near the end of the file
    assert at > 0
    data[at + 2] = 0xFF
    bad = tmp_path / "meta.onnx"
    bad.write_bytes(bytes(data))
    _refused(bad, r"metadata is not valid UTF-8|not a loadable ONNX model|checksum|edge_distill")


@pytest.mark.parametrize(("option", "value"), [("threads", 0), ("threads", "2"), ("threads", 10**5), ("kind", "bogus")])
def test_bad_load_options_are_data_errors(good, option, value):
    """threads=100000 took 16 GB before its first text; a bad kind was reported as 'a bogus was expected'."""
    with pytest.raises(runtime.DataError, match=option):
        runtime.load(good, **{option: value})


@pytest.mark.parametrize("size", [1, 16, 4096, 1 << 20])
def test_random_bytes(tmp_path, size):
    bad = tmp_path / "random.onnx"
    bad.write_bytes(np.random.default_rng(size).bytes(size))
    _refused(bad, r"not a loadable ONNX model|checksum|edge_distill")


def _sealed(graph, meta: dict[str, str]) -> bytes:
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    onnx.helper.set_model_props(model, {**meta, "edge_distill.checksum": PLACEHOLDER})
    return seal(model.SerializeToString())


def _teacher_shaped_graph():
    """The teacher's I/O contract (ids + mask in, logits out) over a trivial body."""
    ids = onnx.helper.make_tensor_value_info("input_ids", onnx.TensorProto.INT64, ["batch", "sequence"])
    mask = onnx.helper.make_tensor_value_info("attention_mask", onnx.TensorProto.INT64, ["batch", "sequence"])
    logits = onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, ["batch", 2])
    w = onnx.numpy_helper.from_array(np.ones((1, 2), np.float32), "w")
    nodes = [
        onnx.helper.make_node("Add", ["input_ids", "attention_mask"], ["s"]),
        onnx.helper.make_node("Cast", ["s"], ["f"], to=onnx.TensorProto.FLOAT),
        onnx.helper.make_node("ReduceSum", ["f"], ["r"], keepdims=1),
        onnx.helper.make_node("MatMul", ["r", "w"], ["logits"]),
    ]
    return onnx.helper.make_graph(nodes, "teacher", [ids, mask], [logits], initializer=[w])


def test_teacher_given_where_a_student_is_expected(tmp_path):
    path = tmp_path / "teacher.onnx"
    path.write_bytes(
        _sealed(
            _teacher_shaped_graph(),
            {
                "edge_distill.kind": "teacher",
                "edge_distill.format_version": "1",
                "edge_distill.labels": '["negative", "positive"]',
            },
        )
    )
    _refused(path, "this is a teacher artifact, a student was expected", kind="student")


def test_unknown_kind_and_plain_onnx(tmp_path):
    path = tmp_path / "other.onnx"
    path.write_bytes(_sealed(_teacher_shaped_graph(), {"edge_distill.kind": "tokenizer"}))
    _refused(path, r"edge_distill.kind='tokenizer'; expected one of \['student', 'teacher'\]")
    plain = onnx.helper.make_model(_teacher_shaped_graph(), opset_imports=[onnx.helper.make_opsetid("", 17)])
    path.write_bytes(plain.SerializeToString())
    _refused(path, "no edge_distill.checksum in the metadata; not an edge-distill artifact")


def test_one_flipped_bit_in_the_largest_weight_tensor(good, tmp_path):
    """The middle of the biggest initializer (the n-gram weights), far from the metadata."""
    proto = onnx.load_from_string(good.read_bytes())
    biggest = max(proto.graph.initializer, key=lambda t: len(t.raw_data))
    assert len(biggest.raw_data) > 1000
    data = bytearray(good.read_bytes())
    at = bytes(data).index(biggest.raw_data) + len(biggest.raw_data) // 2
    data[at] ^= 0x01
    bad = tmp_path / "tampered.onnx"
    bad.write_bytes(bytes(data))
    _refused(bad, "checksum mismatch .* modified or damaged after export")


def test_edited_metadata_without_a_new_checksum(good, tmp_path):
    """Swapping the class names is a one-line metadata edit; the checksum covers it."""
    proto = onnx.load_from_string(good.read_bytes())
    props = {p.key: p.value for p in proto.metadata_props}
    props["edge_distill.labels"] = '["positive", "negative"]'
    onnx.helper.set_model_props(proto, props)
    bad = tmp_path / "relabeled.onnx"
    bad.write_bytes(proto.SerializeToString())
    _refused(bad, "checksum mismatch")


@pytest.mark.parametrize("damage", ["empty", "truncated", "random", "folder"])
def test_cli_refuses_a_damaged_model_with_one_line(good, tmp_path, capsys, damage):
    bad = tmp_path / "bad.onnx"
    if damage == "folder":
        bad.mkdir()
    else:
        bad.write_bytes(
            {"empty": b"", "truncated": good.read_bytes()[:500], "random": np.random.default_rng(0).bytes(2048)}[damage]
        )
    assert main(["predict", str(bad), "great"]) == 4  # ArtifactError.exit_code
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"edge-distill: error: {bad}: ")
