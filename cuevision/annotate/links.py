"""Our side of the loop's shared state: the API secret, signed video links, the session registry.

Label Studio plays each session's proxy from our API through an opaque link that expires: the
token names the session and the expiry and is signed with HMAC-SHA256 under a secret made once.
The registry maps a session id to its OUTDIR, so the API can serve its proxy and write its
confirmed events when a webhook arrives; Label Studio's training requests are kept beside it.

That state has one home per data folder, behind :class:`LoopState`: :class:`FolderState` keeps it
in files of the data folder (the CLI's folder mode, mode 0600), and
:class:`cuevision.store.loop.StoreState` keeps it in the service's database. Push, pull and the
API call the same methods on either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cuevision.errors import CuevisionError
from cuevision.files import create_once, make_private_dir, write_if_changed, write_text

SECRET_FILE = "secret"
SESSIONS_DIR = "sessions"
TRAINING_REQUESTS = "training-requests.jsonl"
SESSION_FILE = "labelstudio.json"  # an OUTDIR's project, task and prediction in Label Studio
WEBHOOK_HEADER = "X-Cuevision-Webhook-Secret"
ADMIN_HEADER = "X-Cuevision-Admin-Token"


class LinkError(CuevisionError):
    """A video token that is malformed, forged or expired."""


def load_secret(data_dir: Path) -> bytes:
    """The data folder's secret, generated on first use and readable by its owner only."""
    path = data_dir / SECRET_FILE
    if not path.is_file():
        try:
            make_private_dir(data_dir)
        except OSError as error:  # a file in the way, or no permission
            raise CuevisionError(
                f"{data_dir}: cannot use it as cuevision's data folder ({error}); "
                "pass another --data-dir"
            ) from None
        return create_once(path, secrets.token_hex(32).encode())
    secret = path.read_bytes()
    if len(secret) < 32:
        raise CuevisionError(
            f"{path} holds no usable secret ({len(secret)} bytes); delete it and it is made anew "
            "(video links and webhook keys signed with the old one stop working)"
        )
    return secret


def derived_key(secret: bytes, purpose: str) -> str:
    """A separate key per purpose (webhook header, admin calls), so one leak is not all."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(secret: bytes, session_id: str, expires_at: float) -> str:
    """An opaque token that lets its holder fetch this session's proxy until ``expires_at``."""
    body = _b64(json.dumps({"s": session_id, "e": int(expires_at)}).encode())
    mac = hmac.new(secret, f"video:{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(secret: bytes, token: str, now: float) -> str:
    """The session id of a valid, unexpired token; :class:`LinkError` otherwise."""
    body, _, mac = token.partition(".")
    expected = _b64(hmac.new(secret, f"video:{body}".encode(), hashlib.sha256).digest())
    if not body or not hmac.compare_digest(
        mac.encode("utf-8", "surrogateescape"), expected.encode()
    ):
        raise LinkError("the video link is not valid; open the task again or push the session")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if now > float(claims["e"]):
        raise LinkError("the video link has expired; push the session again for a fresh link")
    return str(claims["s"])


def register(data_dir: Path, session_id: str, outdir: Path) -> None:
    """Remember where a session's files are (called by every push)."""
    check_session_id(session_id, outdir)  # it names a file below
    folder = data_dir / SESSIONS_DIR
    make_private_dir(folder)
    write_text(folder / f"{session_id}.json", json.dumps({"outdir": str(outdir.resolve())}) + "\n")


def lookup(data_dir: Path, session_id: str) -> Path | None:
    """The OUTDIR of a registered session, or None for an unknown (or malformed) id."""
    if not session_id.isalnum():
        return None
    path = data_dir / SESSIONS_DIR / f"{session_id}.json"
    return _outdir(path) if path.is_file() else None


def registered(data_dir: Path) -> dict[str, Path]:
    """Every registered session: id -> OUTDIR."""
    folder = data_dir / SESSIONS_DIR
    return {p.stem: _outdir(p) for p in sorted(folder.glob("*.json"))}


def _outdir(entry: Path) -> Path:
    return Path(json.loads(entry.read_text())["outdir"])


def check_session_id(session_id: str, outdir: Path) -> None:
    """A session id names a file or a row: only ASCII letters and digits, at most 32."""
    if not (session_id.isascii() and session_id.isalnum() and len(session_id) <= 32):
        raise CuevisionError(
            f"session id {session_id!r} of {outdir} is not alphanumeric; the folder's "
            "labelstudio.json was edited or copied from elsewhere: delete it and push again"
        )


class LoopState(Protocol):
    """Where the loop keeps its secret, its session registry and Label Studio's training calls."""

    def secret(self) -> bytes: ...

    def register(self, session_id: str, outdir: Path) -> None: ...

    def lookup(self, session_id: str) -> Path | None: ...

    def registered(self) -> dict[str, Path]: ...

    def record_training(self, project_id: int | None) -> None: ...

    def read_session(self, outdir: Path) -> dict[str, Any]: ...

    def write_session(self, outdir: Path, state: dict[str, Any]) -> None: ...


def read_session_file(outdir: Path) -> dict[str, Any]:
    """An OUTDIR's ``labelstudio.json``; empty before its first push."""
    path = outdir / SESSION_FILE
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text())
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        state = None
    if not isinstance(state, dict) or "session_id" not in state:
        raise CuevisionError(
            f"{path} is not a cuevision session file; delete it and run "
            f"`cuevision annotate push {outdir}` again"
        )
    return state


def write_session_file(outdir: Path, state: dict[str, Any]) -> None:
    write_if_changed(outdir / SESSION_FILE, json.dumps(state, indent=2) + "\n")


@dataclass(frozen=True)
class FolderState:
    """The loop's state as files of a data folder (the CLI without a service database)."""

    data_dir: Path

    def secret(self) -> bytes:
        return load_secret(self.data_dir)

    def register(self, session_id: str, outdir: Path) -> None:
        register(self.data_dir, session_id, outdir)

    def lookup(self, session_id: str) -> Path | None:
        return lookup(self.data_dir, session_id)

    def registered(self) -> dict[str, Path]:
        return registered(self.data_dir)

    def record_training(self, project_id: int | None) -> None:
        """Append to ``training-requests.jsonl``, keeping the last 1,000, owner-only."""
        make_private_dir(self.data_dir)
        path = self.data_dir / TRAINING_REQUESTS
        line = {"received_at": time.time(), "project": {"id": project_id}}
        kept = path.read_text().splitlines()[-999:] if path.is_file() else []
        write_text(path, "\n".join([*kept, json.dumps(line)]) + "\n")

    def read_session(self, outdir: Path) -> dict[str, Any]:
        return read_session_file(outdir)

    def write_session(self, outdir: Path, state: dict[str, Any]) -> None:
        write_session_file(outdir, state)
