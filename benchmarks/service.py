"""The service's upload and list speed: prints a table.

1. Upload throughput of a 1 GB body streamed to a real ``cuevision serve`` (no job runner), and
   the server's peak RSS during a 100 MB and a 1 GB upload: streaming keeps it flat.
2. p50/p99 latency of the session list (one page of 100, and all 1,000) with 1,000 sessions, on
   SQLite and on PostgreSQL (a throw-away cluster of Debian's postgresql).

    .venv/bin/python benchmarks/service.py [--gigabytes 1] [--requests 200]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.service import pg  # noqa: E402
from tests.service.conftest import populate  # noqa: E402

MiB = 1 << 20


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _watch(pid: int, peak: list[int], done: threading.Event) -> None:
    while not done.is_set():
        peak[0] = max(peak[0], _rss_kib(pid))
        time.sleep(0.05)


def _body(total: int) -> Iterator[bytes]:
    block = secrets.token_bytes(MiB)
    for _ in range(total // MiB):
        yield block


def upload(gigabytes: float) -> list[tuple[str, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        tokens = populate(f"sqlite:///{data_dir / 'cuevision.sqlite3'}")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {
            **os.environ,
            "CUEVISION_DATA_DIR": str(data_dir),
            "CUEVISION_RUNNERS": "0",
            "CUEVISION_MAX_UPLOAD_BYTES": str(4 << 30),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "cuevision", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            idle = _rss_kib(server.pid)
            rows.append(("server RSS idle", f"{idle / 1024:.0f} MiB"))
            for size in (100 * MiB, int(gigabytes * 1024) * MiB):
                peak, done = [0], threading.Event()
                watcher = threading.Thread(target=_watch, args=(server.pid, peak, done))
                watcher.start()
                started = time.perf_counter()
                answer = httpx.post(
                    f"{url}/v1/studies/1/sessions",
                    params={"dyad_id": "bench"},
                    content=_body(size),
                    headers={"Authorization": f"Bearer {tokens['clinician']}"},
                    timeout=600,
                )
                elapsed = time.perf_counter() - started
                done.set()
                watcher.join()
                label = f"{size / MiB:.0f} MiB"
                rows.append(
                    (
                        f"upload {label}: time (answer {answer.status_code})",
                        f"{elapsed:.1f} s, {size / MiB / elapsed:.0f} MiB/s",
                    )
                )
                rows.append((f"upload {label}: server peak RSS", f"{peak[0] / 1024:.0f} MiB"))
        finally:
            server.terminate()
            server.wait(20)
    return rows


def _fill(url: str, n: int) -> None:
    from cuevision.jobs.tasks import enqueue
    from cuevision.store.db import make_engine, sessions
    from cuevision.store.models import Session

    engine = make_engine(url)
    with sessions(engine)() as db:
        for i in range(n):
            sha = hashlib.sha256(str(i).encode()).hexdigest()
            row = Session(
                id=secrets.token_hex(16),
                study_id=1,
                filename=f"s{i}.mp4",
                sha256=sha,
                size_bytes=1,
                dyad_id=f"d{i % 50}",
                consent="private",
                video_info={"duration_s": 60.0},
            )
            db.add(row)
            db.flush()
            enqueue(db, row.id)
        db.commit()
    engine.dispose()


def listing(kind: str, url: str, requests: int) -> list[tuple[str, str]]:
    from fastapi.testclient import TestClient

    from cuevision.api import ApiSettings, ServiceSettings, create_app

    tokens = populate(url)
    _fill(url, 1000)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        settings = ServiceSettings(data_dir=Path(folder), database_url=url, runners=0)
        with TestClient(create_app(ApiSettings(data_dir=Path(folder)), settings)) as client:
            headers = {"Authorization": f"Bearer {tokens['clinician']}"}
            for limit in (100, 1000):
                times = []
                for _ in range(requests if limit == 100 else requests // 4):
                    started = time.perf_counter()
                    answer = client.get(
                        "/v1/studies/1/sessions", params={"limit": limit}, headers=headers
                    )
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200 and len(answer.json()) == limit
                p50 = statistics.median(times)
                p99 = statistics.quantiles(times, n=100)[98]
                rows.append(
                    (
                        f"{kind}: list {limit} of 1,000 sessions",
                        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                    )
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    rows = upload(args.gigabytes)
    with tempfile.TemporaryDirectory() as folder:
        rows += listing("SQLite", f"sqlite:///{folder}/cuevision.sqlite3", args.requests)
    if pg.initdb() is not None:
        with pg.cluster() as server:
            rows += listing("PostgreSQL", server, args.requests)
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
