"""Kill campaign for the Celery runner: 2 real workers, N sessions in landmark chunks, kill -9.

First an undisturbed run of the sessions (synthetic dyads, one video each), then the same sessions
in a fresh data folder while a killer, at random moments, sends ``kill -9`` to a worker that is in
the middle of a chunk (frames done, not finished) and starts a new one in its place. It prints the
kills, the tasks redelivered (rows taken over after their worker died, and messages the broker
handed out again), the duplicates (rows or landmark frames twice: 0) and the lost work (sessions
or chunks not done: 0), and whether every output equals the undisturbed run's.

A chunk is killed at most twice: its third crash would make it poison by design (three attempts,
then failed with its reason), which is tests/service/test_celery.py's case, not this one's.

    .venv/bin/python benchmarks/kill_workers.py                  # 6 sessions, >= 10 kills
    .venv/bin/python benchmarks/kill_workers.py --sessions 2 --kills 3 --duration-s 12 --chunk-s 4
    .venv/bin/python benchmarks/kill_workers.py --database postgresql

Needs Debian's redis-server (``make redis``), and postgresql for ``--database postgresql``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.service import pg  # noqa: E402
from tests.service import redis as broker  # noqa: E402

OUTPUTS = ("landmarks.parquet", "features.parquet", "candidates.csv", "metrics.json")


@dataclass
class Lab:
    """A data folder and database, a Redis, and ``cuevision worker`` processes over them."""

    root: Path
    url: str
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # session id -> when it was added

    @classmethod
    def open(cls, root: Path, url: str, redis_url: str, **settings: float) -> Lab:
        from cuevision.store.db import make_engine, sessions, upgrade
        from cuevision.store.people import create_study

        engine = make_engine(url)
        upgrade(engine)
        with sessions(engine)() as db:
            create_study(db, "bench")
            db.commit()
        engine.dispose()
        env = {
            **os.environ,
            "CUEVISION_DATA_DIR": str(root),
            "CUEVISION_DATABASE_URL": url,
            "CUEVISION_BROKER_URL": redis_url,
            **{f"CUEVISION_{k.upper()}": str(v) for k, v in settings.items()},
        }
        return cls(root, url, env)

    def db(self) -> Any:
        from cuevision.store.db import make_engine, sessions

        return sessions(make_engine(self.url))()

    def add(self, video: Path) -> str:
        """A session of ``video``, as an upload makes it; the workers' sweep sends it."""
        import secrets

        from cuevision.jobs.tasks import enqueue
        from cuevision.store.blobs import BlobStore
        from cuevision.store.models import Session
        from cuevision.video import probe

        blobs = BlobStore(self.root / "blobs")
        with blobs.ingest(1 << 40) as upload:
            upload.write(video.read_bytes())
        info = probe(blobs.video(upload.sha256)).to_dict()
        with self.db() as db:
            row = Session(
                id=secrets.token_hex(16),
                study_id=1,
                filename=video.name,
                sha256=upload.sha256,
                size_bytes=upload.size,
                dyad_id=video.stem,
                consent="private",
                video_info={**info, "path": ""},
            )
            db.add(row)
            db.flush()
            enqueue(db, row.id)
            db.commit()
            self.sent[row.id] = time.time()
            return str(row.id)

    def start_worker(self, prefix: Sequence[str] = ()) -> subprocess.Popen[bytes]:
        """A ``cuevision worker``; ``prefix``: a command it runs under (``taskset -c 0``)."""
        log = open(self.root / f"worker-{len(self.workers)}.log", "ab")  # noqa: SIM115
        worker = subprocess.Popen(
            [*prefix, sys.executable, "-m", "cuevision", "worker"],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        self.workers.append(worker)
        return worker

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill()
            worker.wait(30)

    def mid_chunk(self, rng: random.Random, max_attempts: int) -> subprocess.Popen[bytes] | None:
        """A live worker in the middle of a chunk (frames done) that has not died too often."""
        from sqlalchemy import select

        from cuevision.store.models import ChunkRun

        pids = {w.pid: w for w in self.live()}
        with self.db() as db:
            rows = db.scalars(
                select(ChunkRun).where(ChunkRun.state == "running", ChunkRun.progress_done > 0)
            ).all()
        busy = [
            pids[pid]
            for r in rows
            if r.attempts < max_attempts
            and (pid := int((r.lease_owner or "0-").split("-")[0])) in pids
        ]
        return rng.choice(busy) if busy else None

    def finished(self) -> bool:
        from sqlalchemy import select

        from cuevision.store.models import StageRun

        with self.db() as db:
            states = set(db.scalars(select(StageRun.state)))
        return states <= {"done", "failed"}

    def outputs(self, session_id: str) -> dict[str, str]:
        """A digest per output of the session, without the names of the files they read."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = self.root / "blobs" / "sessions" / session_id
        digests = {}
        for name in OUTPUTS:
            if name.endswith(".parquet"):
                table = pq.read_table(folder / name).replace_schema_metadata(None)
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table.combine_chunks())
                data = sink.getvalue().to_pybytes()
            elif name.endswith(".json"):
                found = json.loads((folder / name).read_text())
                found.get("provenance", {}).pop("signals", None)
                data = json.dumps(found, sort_keys=True).encode()
            else:
                data = (folder / name).read_bytes()
            digests[name] = hashlib.sha256(data).hexdigest()
        return digests

    def audit(self) -> dict[str, int]:
        """Duplicates, lost work and redeliveries, from the rows, the files and the logs."""
        import pyarrow.parquet as pq
        from sqlalchemy import func, select

        from cuevision.store.models import Artifact, ChunkRun, EventRow, StageRun

        found = {"duplicates": 0, "lost": 0, "taken over": 0, "redelivered by Redis": 0}
        with self.db() as db:
            for session_id in self.sent:

                def count(model: Any, sid: str = session_id) -> int:
                    where = model.session_id == sid
                    return int(db.scalar(select(func.count()).select_from(model).where(where)))

                runs = db.scalars(select(StageRun).where(StageRun.session_id == session_id)).all()
                chunks = db.scalars(select(ChunkRun).where(ChunkRun.session_id == session_id)).all()
                found["lost"] += sum(r.state != "done" for r in [*runs, *chunks])
                found["taken over"] += sum(r.attempts - 1 for r in [*runs, *chunks])
                folder = self.root / "blobs" / "sessions" / session_id
                if not (folder / "candidates.json").exists():
                    continue
                candidates = json.loads((folder / "candidates.json").read_text())["candidates"]
                names = db.scalars(select(Artifact.name).where(Artifact.session_id == session_id))
                names = list(names)
                rows = pq.read_table(folder / "landmarks.parquet", columns=["frame", "role"])
                keys = list(
                    zip(*(rows.column(c).to_pylist() for c in ("frame", "role")), strict=True)
                )
                found["duplicates"] += (
                    (len(runs) - 5)
                    + (count(EventRow) - len(candidates))
                    + (len(names) - len(set(names)))
                    + (len(keys) - len(set(keys)))
                    + (len(chunks) - len({c.index for c in chunks}))
                )
        for log in self.root.glob("worker-*.log"):
            found["redelivered by Redis"] += log.read_text(errors="replace").count(
                "redelivered by the broker"
            )
        return found


def wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


@contextmanager
def database(kind: str, folder: Path) -> Iterator[Callable[[str], str]]:
    """A URL maker: one fresh database per name."""
    if kind == "sqlite":
        yield lambda name: f"sqlite:///{folder / name / 'cuevision.sqlite3'}"
        return
    from sqlalchemy import text

    from cuevision.store.db import make_engine

    with pg.cluster() as server:

        def fresh(name: str) -> str:
            admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {name}"))
            admin.dispose()
            return server.rsplit("/", 1)[0] + f"/{name}"

        yield fresh


def settings_of(args: argparse.Namespace) -> dict[str, float]:
    return {
        "chunk_s": args.chunk_s,
        "chunk_overlap_s": args.overlap_s,
        "lease_s": 5,
        "heartbeat_s": 0.5,
        "backoff_s": 0,
        "sweep_s": 1,
        "visibility_timeout_s": max(60.0, 10 * (args.chunk_s + 2 * args.overlap_s)),
    }


def campaign(args: argparse.Namespace) -> None:
    from cuevision.synth.video import make_dyad_video

    work = Path(tempfile.mkdtemp(prefix="cuevision-kill-"))
    videos = []
    for i in range(args.sessions):
        video = work / f"dyad{i}.mp4"
        make_dyad_video(video, work / f"dyad{i}.csv", seed=i, duration_s=args.duration_s)
        videos.append(video)
    rng = random.Random(args.seed)
    results: dict[str, dict[str, dict[str, str]]] = {}
    try:
        with broker.server() as redis, database(args.database, work) as url_of:
            for phase in ("undisturbed", "killed"):
                redis.stop()  # a fresh, empty Redis per phase
                redis.start()
                folder = work / phase
                folder.mkdir()
                lab = Lab.open(folder, url_of(phase), redis.url, **settings_of(args))
                started = time.monotonic()
                ids = [lab.add(v) for v in videos]
                for _ in range(2):
                    lab.start_worker()
                kills = 0
                try:
                    while not lab.finished():
                        if phase == "killed" and kills < args.kills:
                            time.sleep(rng.uniform(0.5, args.max_gap_s))
                            victim = lab.mid_chunk(rng, max_attempts=2)
                            if victim is not None:
                                victim.send_signal(signal.SIGKILL)
                                victim.wait(30)
                                kills += 1
                                lab.start_worker()
                        else:
                            time.sleep(0.5)
                        if time.monotonic() - started > args.timeout_s:
                            raise SystemExit(f"{phase}: not finished in {args.timeout_s} s")
                finally:
                    lab.stop()
                wall = time.monotonic() - started
                results[phase] = {v.name: lab.outputs(s) for v, s in zip(videos, ids, strict=True)}
                audit = lab.audit()
                print(f"\n{phase}: {len(ids)} sessions of {args.duration_s:g} s in {wall:.0f} s")
                if phase == "killed":
                    print(f"  kills (-9, mid-chunk):  {kills}")
                for name, value in audit.items():
                    print(f"  {name + ':':<24}{value}")
        same = results["undisturbed"] == results["killed"]
        print(f"\noutputs equal the undisturbed run: {same} ({len(videos)} sessions compared)")
        for video, outputs in results["killed"].items():
            differ = [n for n, d in outputs.items() if results["undisturbed"][video][n] != d]
            if differ:
                print(f"  {video}: {', '.join(differ)} differ")
        if not same:
            raise SystemExit(1)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--kills", type=int, default=10, help="kill -9s to deliver (at least)")
    parser.add_argument("--duration-s", type=float, default=30.0, help="each synthetic video")
    parser.add_argument("--chunk-s", type=float, default=6.0)
    parser.add_argument("--overlap-s", type=float, default=1.0)
    parser.add_argument("--max-gap-s", type=float, default=6.0, help="most time between kills")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=3600.0)
    parser.add_argument("--keep", action="store_true", help="keep the data folders, to compare")
    campaign(parser.parse_args())


if __name__ == "__main__":
    main()
