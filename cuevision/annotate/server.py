"""Run a local Label Studio: its own venv, our data folder, a preset admin, all offline settings.

Label Studio pins numpy>=2 while mediapipe needs numpy<2, so it lives in a venv of its own and is
reached only over HTTP. ``up`` installs it there when missing, generates the admin's password and
API token once (stored with mode 0600 in the data folder), starts the server detached on
127.0.0.1 and waits for ``/health``; ``down`` stops only the process group that ``up`` started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from cuevision.errors import CuevisionError
from cuevision.files import create_once, make_private_dir, write_text

VERSION = "1.23.2"
CREDENTIALS = "cuevision-credentials.json"
STATE = "cuevision-server.json"
LOG = "label-studio.log"

# Headless, offline, and allowed to call our API on loopback (webhooks, ML backend).
OFFLINE_ENV = {
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
    "LABEL_STUDIO_SSRF_PROTECTION_ENABLED": "false",
    "LABEL_STUDIO_ML_BLOCK_LOCAL_IP": "false",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
}


class LabelStudioError(CuevisionError):
    """Label Studio is missing, not running or not answering; the message says what to run."""


@dataclass(frozen=True)
class LabelStudioSettings:
    """Where Label Studio lives. ``url``/``token`` reach a server we did not start (docker)."""

    venv: Path = Path(".labelstudio/venv")
    data_dir: Path = Path(".labelstudio/data")
    host: str = "127.0.0.1"
    port: int = 8080
    url: str | None = None
    token: str | None = None
    start_timeout_s: float = 300.0


@dataclass(frozen=True)
class Connection:
    """How to reach a Label Studio server and log in to it."""

    url: str
    username: str
    token: str
    password: str | None = None


@dataclass(frozen=True)
class Status:
    url: str
    username: str
    token: str
    running: bool
    pid: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "username": self.username,
            "token": self.token,
            "running": self.running,
        }


def _credentials(settings: LabelStudioSettings, create: bool) -> dict[str, str]:
    path = settings.data_dir / CREDENTIALS
    if path.is_file():
        return {str(k): str(v) for k, v in _read_json(path).items()}
    if not create:
        raise LabelStudioError(
            f"no Label Studio credentials in {settings.data_dir}; run `cuevision labelstudio up`"
        )
    make_private_dir(settings.data_dir)
    data = {
        "username": "admin@cuevision.local",
        "password": secrets.token_urlsafe(18),
        "token": secrets.token_hex(20),
    }
    stored: dict[str, str] = json.loads(create_once(path, json.dumps(data, indent=2).encode()))
    return stored


def connection(settings: LabelStudioSettings) -> Connection:
    """The server's URL and admin credentials: explicit settings first, else our data folder."""
    if settings.url and settings.token:
        return Connection(url=settings.url.rstrip("/"), username="", token=settings.token)
    creds = _credentials(settings, create=False)
    state = _state(settings)
    url = state.get("url") or f"http://{settings.host}:{settings.port}"
    return Connection(
        url=str(url), username=creds["username"], token=creds["token"], password=creds["password"]
    )


def _read_json(path: Path) -> dict[str, object]:
    """A JSON object file of ours; a broken one is named (never printed: it may hold a token)."""
    try:
        data = json.loads(path.read_text())
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        data = None
    if not isinstance(data, dict):
        raise LabelStudioError(
            f"{path} is not a readable JSON object; restore it, or remove it and run "
            "`cuevision labelstudio up`"
        )
    return data


def _state(settings: LabelStudioSettings) -> dict[str, object]:
    path = settings.data_dir / STATE
    return _read_json(path) if path.is_file() else {}


def healthy(url: str, timeout_s: float = 2.0) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    """True if ``pid`` is a running Label Studio (guards against a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"label-studio" in cmdline or b"label_studio" in cmdline


def _installed_version(venv: Path) -> str | None:
    python = venv / "bin" / "python"
    if not (python.is_file() and (venv / "bin" / "label-studio").is_file()):
        return None
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('label-studio'))"],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_installed(settings: LabelStudioSettings, log: Path | None = None) -> bool:
    """Install ``label-studio==VERSION`` into its own venv if it is not there; True if installed."""
    if _installed_version(settings.venv) == VERSION:
        return False
    settings.venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(settings.venv)],
        [str(settings.venv / "bin" / "pip"), "install", "-q", f"label-studio=={VERSION}"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            raise LabelStudioError(
                f"installing Label Studio into {settings.venv} failed ({' '.join(step[:3])}): "
                f"{(done.stderr or done.stdout).strip()[-600:]}; check the network or pip's index"
            )
    if _installed_version(settings.venv) != VERSION:
        raise LabelStudioError(f"{settings.venv} still has no label-studio {VERSION} after pip")
    return True


def status(settings: LabelStudioSettings) -> Status:
    """Where the server is, how to log in, and whether it answers ``/health``."""
    conn = connection(settings)
    pid = _state(settings).get("pid")
    return Status(
        url=conn.url,
        username=conn.username,
        token=conn.token,
        running=healthy(conn.url),
        pid=pid if isinstance(pid, int) else None,
    )


def up(settings: LabelStudioSettings) -> Status:
    """Install if needed, start detached on 127.0.0.1, wait for ``/health``; idempotent."""
    make_private_dir(settings.data_dir)
    data_dir = settings.data_dir.resolve()
    creds = _credentials(settings, create=True)
    url = f"http://{settings.host}:{settings.port}"
    state = _state(settings)
    pid = state.get("pid")
    if isinstance(pid, int) and _alive(pid) and healthy(str(state.get("url"))):
        return status(settings)
    if healthy(url):
        raise LabelStudioError(f"something already answers on {url}; pick a free port with --port")
    ensure_installed(settings)
    env = {
        **os.environ,
        **OFFLINE_ENV,
        "LABEL_STUDIO_USERNAME": creds["username"],
        "LABEL_STUDIO_PASSWORD": creds["password"],
        "LABEL_STUDIO_USER_TOKEN": creds["token"],
    }
    command = [
        str(settings.venv.resolve() / "bin" / "label-studio"),
        "start",
        "--no-browser",
        "--internal-host",
        settings.host,
        "--port",
        str(settings.port),
        "--data-dir",
        str(data_dir),
    ]
    with (data_dir / LOG).open("ab") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    write_text(data_dir / STATE, json.dumps({"pid": process.pid, "url": url}) + "\n")
    deadline = time.monotonic() + settings.start_timeout_s
    while not healthy(url):
        if process.poll() is not None:
            tail = (data_dir / LOG).read_text(errors="replace")[-1500:]
            raise LabelStudioError(f"Label Studio exited with code {process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            _stop(process.pid)
            raise LabelStudioError(
                f"Label Studio did not answer {url}/health within {settings.start_timeout_s:.0f} s;"
                f" see {data_dir / LOG}"
            )
        time.sleep(1.0)
    return status(settings)


def _stop(pid: int, grace_s: float = 30.0) -> None:
    """SIGTERM the process group that ``up`` created (its leader is ``pid``), then SIGKILL."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        try:  # reap it if it is our child (a test that ran `up` in-process)
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def down(settings: LabelStudioSettings) -> bool:
    """Stop the server that ``up`` started (by its recorded pid); False if none was running."""
    state = _state(settings)
    pid = state.pop("pid", None)
    stopped = False
    if isinstance(pid, int) and _alive(pid):
        _stop(pid)
        stopped = True
    if state:  # keep the URL so `status` still says where the server was
        write_text(settings.data_dir / STATE, json.dumps(state) + "\n")
    return stopped
