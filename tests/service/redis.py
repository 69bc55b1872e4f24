"""A throw-away ``redis-server`` (Debian's ``redis-server``) on a free loopback port, for the
Celery tests and benchmarks; it can be stopped and started again on the same port, with or
without its data."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


def binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


class Server:
    """One redis-server process in its own folder; ``url`` is its database 0."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, appendonly: bool = False) -> None:
        binary_path = binary()
        assert binary_path is not None, "apt-get install -y redis-server (make redis)"
        self.process = subprocess.Popen(
            [
                binary_path,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.folder),
                "--save", "",
                "--appendonly", "yes" if appendonly else "no",
                "--logfile", str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(f"redis-server did not start: {self.folder}") from None
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """Kill it at once (SIGKILL): what it held in memory is lost, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server() -> Iterator[Server]:
    """A started redis-server; stopped and its folder removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="cuevision-redis-"))
    found = Server(folder, free_port())
    found.start()
    try:
        yield found
    finally:
        found.stop()
        shutil.rmtree(folder, ignore_errors=True)
