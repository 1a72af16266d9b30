"""The one cleaning function and the one atomic-write helper."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.textclean import clean_text
from toolkit.atomic import atomic_dir, atomic_path, atomic_write_json


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Good.<br /><br />Bad.", "Good. Bad."),
        ("a<BR>b<br/>c<br\t/>d", "a b c d"),
        ("  spaced \n\t out  ", "spaced out"),
        ("", ""),
        ("<b>bold</b> stays", "<b>bold</b> stays"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_refuses_non_str() -> None:
    with pytest.raises(TypeError, match="expects str"):
        clean_text(None)  # type: ignore[arg-type]


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    atomic_write_json(target, {"v": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind


def test_atomic_json_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "x.json", {"v": float("nan")})
    assert not (tmp_path / "x.json").exists()


def test_atomic_dir_replaces_whole_folder(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with atomic_dir(target) as d:
        (d / "a.txt").write_text("1")
    with atomic_dir(target) as d:
        (d / "b.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    with pytest.raises(RuntimeError), atomic_dir(target) as d:
        (d / "c.txt").write_text("3")
        raise RuntimeError("crash")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_files_get_ordinary_permissions(tmp_path: Path) -> None:
    import os

    mask = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "a.json", {})
        with atomic_dir(tmp_path / "d") as d:
            (d / "x").write_text("1")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
