"""Every output is whole and right or absent, and readable by its owner only.

A crash (power loss, SIGKILL) must never leave half a file where a later stage, ``annotate push``
or a colleague would read it. So each output is written to a temporary file in the target's own
folder, flushed to disk with fsync, and renamed over the target (a rename within one file system
is atomic). The folder is fsynced too, so the rename itself survives a power cut.

The outputs carry a child's data (face meshes, events, the proxy video), so files are created 0600
and output folders 0700, here and nowhere else.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import platformdirs

FILE_MODE = 0o600
DIR_MODE = 0o700


def default_data_dir() -> Path:
    """``CUEVISION_DATA_DIR``, else the per-user data folder; never the working directory."""
    chosen = os.environ.get("CUEVISION_DATA_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_data_dir("cuevision"))


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) owner-only; an existing folder keeps its mode."""
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _scratch(target: Path) -> Path:
    """A new, empty, owner-only file beside ``target``, with a dotted name keeping its suffix."""
    fd, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=f".partial{target.suffix}"
    )
    os.close(fd)
    return Path(name)


def _settle(path: Path) -> None:
    """Owner-only mode and contents on disk (writers such as PyAV may create with umask)."""
    os.chmod(path, FILE_MODE)
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``target``; on success it replaces ``target``.

    The temporary name keeps the target's suffix (PyAV picks the container from it) and starts
    with a dot, so folder listings and globbing for outputs never see it. On an exception the
    temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    tmp = _scratch(target)
    try:
        yield tmp
        _settle(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, data: Any) -> None:
    """JSON with two-space indents and a final newline, the form of every JSON output."""
    write_text(target, json.dumps(data, indent=2) + "\n")


def write_if_changed(target: Path, text: str) -> bool:
    """Replace ``target`` with ``text`` unless it already holds exactly that; True if written."""
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_text(target, text)
    return True


def create_once(target: Path, data: bytes) -> bytes:
    """Write ``data`` to ``target`` unless it exists; return what ``target`` holds.

    For secrets made on first use: the content is on disk before it gets its name (a hard link,
    which fails when the name is taken), so processes racing agree on one value and a crash never
    leaves an empty or partial secret.
    """
    target = Path(target)
    if not target.is_file():
        tmp = _scratch(target)
        try:
            tmp.write_bytes(data)
            _settle(tmp)
            try:
                os.link(tmp, target)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(target.parent)
    return target.read_bytes()
