"""The one atomic-write helper: every file or folder the project writes goes through here.

A reader sees either the old complete file or the new complete file, never a partial one: data
goes to a temporary sibling, is flushed and fsynced, then renamed over the target (atomic on
POSIX and on Windows for same-volume renames). On any exception the temporary is removed; a
temporary left by a killed writer (its name holds the host and pid) is swept by the next write
of the same target.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    """Persist a rename (best effort: not every platform can open a directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _host() -> str:
    return socket.gethostname().replace(".", "_")


def _owner() -> str:
    """``host-pid``: who owns a temporary, so a later writer can tell a dead one's leftovers."""
    return f"{_host()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours (EPERM), or a platform without signal 0
        pass
    return True


def _sweep_stale(target: Path) -> None:
    """Remove temporaries of ``target`` left by a writer on this host that no longer runs (kill -9)."""
    host = _host()
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.{glob.escape(host)}-*.tmp"):
        pid = tmp.name[len(f".{target.name}.{host}-") :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it replaces ``target`` atomically.

    Use it for writers that want a filename (``onnx.save``, ``np.save``): write to the yielded
    path, and the rename happens when the block exits without an exception.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{_owner()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~_umask())  # mkstemp makes 0600; artifacts are ordinary files
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON (NaN refused) atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    return atomic_write_text(target, text)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces the folder ``target``.

    For writers that fill a whole folder (``save_pretrained``). An existing ``target`` is moved
    aside first and deleted only after the new folder is in place, so a crash leaves either the
    old folder, the new one, or the old one under a ``.old`` name that the next call cleans up.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{_owner()}.", suffix=".tmp", dir=target.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700
    old = target.with_name(f".{target.name}.old")
    try:
        yield tmp
        for root, _dirs, files in os.walk(tmp):
            for name in files:
                with open(os.path.join(root, name), "rb+") as fh:
                    os.fsync(fh.fileno())
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
