"""Stage caching: a rerun skips unchanged stages, redoes changed or damaged ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_distill.toolkit.stages import run_stage


def test_cache_hits_misses_and_damage(tmp_path: Path) -> None:
    calls: list[str] = []

    def make(name: str, text: str):
        def fn():
            calls.append(name)
            (tmp_path / f"{name}.txt").write_text(text)
            return {"len": len(text)}

        return fn

    a = run_stage(tmp_path, "a", {"x": 1}, [], ["a.txt"], make("a", "aaa"))
    b = run_stage(tmp_path, "b", {}, [a], ["b.txt"], make("b", "bb"))
    assert calls == ["a", "b"] and not a.cached and b.info == {"len": 2}
    a2 = run_stage(tmp_path, "a", {"x": 1}, [], ["a.txt"], make("a", "aaa"))
    b2 = run_stage(tmp_path, "b", {}, [a2], ["b.txt"], make("b", "bb"))
    assert calls == ["a", "b"] and a2.cached and b2.cached and b2.info == {"len": 2}
    # a changed setting reruns that stage and everything downstream
    a3 = run_stage(tmp_path, "a", {"x": 2}, [], ["a.txt"], make("a", "aaaa"))
    run_stage(tmp_path, "b", {}, [a3], ["b.txt"], make("b", "bb"))
    assert calls == ["a", "b", "a", "b"]
    # a damaged output (size changed) or a deleted one reruns the stage
    (tmp_path / "b.txt").write_text("damaged!")
    run_stage(tmp_path, "b", {}, [a3], ["b.txt"], make("b", "bb"))
    (tmp_path / "a.txt").unlink()
    run_stage(tmp_path, "a", {"x": 2}, [], ["a.txt"], make("a", "aaaa"))
    assert calls == ["a", "b", "a", "b", "b", "a"]


def test_an_output_edited_in_place_or_an_optional_one_deleted_reruns(tmp_path: Path) -> None:
    """Same-size edits passed the size check; a deleted int8 teacher (an optional output) was
    'cached (no files)' and the run then said its gate had refused it."""
    calls: list[str] = []

    def fn():
        calls.append("s")
        (tmp_path / "model.onnx").write_bytes(b"abcd")
        (tmp_path / "maybe.onnx").write_bytes(b"xy")
        return {}

    def stage():
        return run_stage(tmp_path, "s", {}, [], ["model.onnx"], fn, optional_outputs=["maybe.onnx", "never.onnx"])

    assert not stage().cached and stage().cached and calls == ["s"]
    (tmp_path / "model.onnx").write_bytes(b"abce")  # same size, other bytes
    assert not stage().cached and calls == ["s", "s"]
    (tmp_path / "maybe.onnx").unlink()
    assert not stage().cached and calls == ["s", "s", "s"]
    assert stage().cached  # "never.onnx" was not written: nothing to check


def test_crash_leaves_no_record(tmp_path: Path) -> None:
    def boom():
        (tmp_path / "half.txt").write_text("partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        run_stage(tmp_path, "s", {}, [], ["half.txt"], boom)
    assert not (tmp_path / "stages" / "s.json").exists()
    ran = []
    run_stage(tmp_path, "s", {}, [], ["half.txt"], lambda: ran.append(1) or {})
    assert ran == [1]


def test_a_refused_int8_teacher_leaves_no_stale_file(tmp_path, monkeypatch) -> None:
    """A rerun whose int8 export is refused must not evaluate the int8 file an earlier run wrote."""
    from edge_distill.runtime.errors import ParityError
    from edge_distill.toolkit import pipeline
    from edge_distill.toolkit.options import DataOptions

    stale = tmp_path / "teacher.int8.onnx"
    stale.write_bytes(b"an earlier run's int8 teacher")

    def refuse(*args, **kwargs):
        raise ParityError("int8 teacher parity failed (tolerance: lower bound >= 0.985)")

    monkeypatch.setattr(pipeline, "export_teacher_onnx", refuse)
    monkeypatch.setattr(pipeline, "teacher_gate_texts", lambda *args, **kwargs: None)
    cfg = pipeline.RunConfig(data=DataOptions("unused"), out=tmp_path)
    info = pipeline._export_int8(cfg, None, tmp_path)  # no data is read: the gate's texts are stubbed
    assert info["ok"] is False and "0.985" in info["error"]
    assert not stale.exists()
