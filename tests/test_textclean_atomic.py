"""The one cleaning function and the one atomic-write helper."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_distill.runtime.atomic import atomic_dir, atomic_path, atomic_write_json
from edge_distill.runtime.textclean import clean_text


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


def test_a_killed_writers_temporaries_are_swept_by_the_next_write(tmp_path: Path) -> None:
    """kill -9 leaves a temporary behind; the next write of that target removes it, a live writer's stays."""
    import os
    import socket
    import subprocess
    import sys

    from edge_distill.runtime.atomic import atomic_dir, atomic_write_text

    host = socket.gethostname().replace(".", "_")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    stale_file = tmp_path / f".out[1].json.{host}-{dead}.abc123.tmp"
    stale_dir = tmp_path / f".folder.{host}-{dead}.def456.tmp"
    live = tmp_path / f".out[1].json.{host}-{os.getpid()}.zzz999.tmp"  # a writer still running (this process)
    other = tmp_path / f".other.json.{host}-{dead}.abc123.tmp"  # another target's: not this write's business
    stale_file.write_text("half")
    stale_dir.mkdir()
    for p in (live, other):
        p.write_text("half")
    atomic_write_text(tmp_path / "out[1].json", "{}")
    with atomic_dir(tmp_path / "folder") as d:
        (d / "x").write_text("1")
    assert not stale_file.exists() and not stale_dir.exists()
    assert live.exists() and other.exists()
    assert (tmp_path / "out[1].json").read_text() == "{}" and (tmp_path / "folder" / "x").read_text() == "1"
