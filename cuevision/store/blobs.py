"""The blob folder: videos named by their SHA-256, stage outputs in a folder named by session id.

Nothing is ever named by a client's file name. Folders are 0700 and files 0600
(:mod:`cuevision.files`). The interface is the few calls the service needs (ingest, path, delete,
list), so an S3-compatible store can stand in later.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cuevision.errors import CuevisionError
from cuevision.files import atomic_path, make_private_dir


class TooLarge(CuevisionError):
    """An upload went past the byte cap; nothing of it is kept."""


@dataclass
class Ingest:
    """An upload being written: bytes go to a scratch file, hashed on the way."""

    handle: BinaryIO
    cap: int
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.cap:
            raise TooLarge(f"the upload is over the limit of {self.cap} bytes")
        self.digest.update(chunk)
        self.handle.write(chunk)

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()


@dataclass(frozen=True)
class BlobStore:
    root: Path

    def _videos(self) -> Path:
        make_private_dir(self.root / "videos")
        return self.root / "videos"

    @contextmanager
    def ingest(self, cap: int) -> Iterator[Ingest]:
        """Write a stream; on success it is kept under its hash (``Ingest.sha256``), on any
        error (over the cap, client gone) nothing remains."""
        folder = self._videos()
        scratch = folder / f"incoming-{secrets.token_hex(8)}"
        with atomic_path(scratch) as tmp, tmp.open("wb") as handle:
            upload = Ingest(handle, cap)
            yield upload
            handle.flush()
        os.replace(scratch, folder / upload.sha256)

    def video(self, sha256: str) -> Path:
        if not (len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
            raise CuevisionError(f"{sha256!r} is not a SHA-256 name")
        return self._videos() / sha256

    def session_dir(self, session_id: str) -> Path:
        """The folder a session's stages write into (the pipeline's OUTDIR)."""
        if not (session_id.isascii() and session_id.isalnum()):
            raise CuevisionError(f"{session_id!r} is not a session id")
        folder = self.root / "sessions" / session_id
        make_private_dir(folder)
        return folder

    def delete_video(self, sha256: str) -> None:
        """Remove a video; the caller checks that no other session (study) still uses it."""
        self.video(sha256).unlink(missing_ok=True)

    def delete_session(self, session_id: str) -> None:
        shutil.rmtree(self.session_dir(session_id), ignore_errors=True)

    def listing(self) -> list[str]:
        """Every file under the blob folder, relative: what a deletion test compares."""
        if not self.root.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())
