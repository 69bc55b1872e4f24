"""`cuevision labelstudio up|down|status`: credentials, status for scripts, clear errors."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from cuevision.annotate.server import CREDENTIALS, STATE, LabelStudioSettings

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.labelstudio
def test_status_json_and_private_credentials(
    labelstudio: LabelStudioSettings, run_cli: RunCli
) -> None:
    args = ("--venv", labelstudio.venv, "--data-dir", labelstudio.data_dir)
    status = json.loads(
        run_cli("labelstudio", "status", "--json", *args, "--port", labelstudio.port).stdout
    )
    assert set(status) == {"url", "username", "token", "running"}
    assert status["running"] is True and status["url"].startswith("http://127.0.0.1:")
    creds = labelstudio.data_dir / CREDENTIALS
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert json.loads(creds.read_text())["token"] == status["token"]
    me = httpx.get(
        f"{status['url']}/api/current-user/whoami",
        headers={"Authorization": f"Token {status['token']}"},
    )
    assert me.status_code == 200 and me.json()["email"] == status["username"]
    pid = json.loads((labelstudio.data_dir / STATE).read_text())["pid"]
    assert b"label-studio" in Path(f"/proc/{pid}/cmdline").read_bytes()
    again = run_cli("labelstudio", "up", *args, "--port", labelstudio.port)  # idempotent
    assert f"pid {pid}" in again.stdout


def test_status_and_down_without_a_server(run_cli: RunCli, tmp_path: Path) -> None:
    args = ("--data-dir", tmp_path / "nothing", "--port", "9")
    status = run_cli("labelstudio", "status", "--json", *args, check=False)
    assert status.returncode == 2
    assert "cuevision labelstudio up" in " ".join(status.stderr.split())
    down = run_cli("labelstudio", "down", *args)
    assert "was not running" in down.stdout
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "cuevision-server.json").write_text("{truncated")
    down = run_cli("labelstudio", "down", "--data-dir", broken, "--port", "9", check=False)
    assert down.returncode == 2 and "not a readable JSON" in " ".join(down.stderr.split())
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    serve = run_cli("serve", "--data-dir", a_file, "--port", "9", check=False)
    assert serve.returncode == 2 and "--data-dir" in serve.stderr, serve.stderr
