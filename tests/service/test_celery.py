"""The Celery runner with a real redis-server and real ``cuevision worker`` processes: a session
it processes equals the embedded run's outputs; a poison chunk fails its job after 3 attempts
while another job completes; and SIGTERM, ``kill -9`` of workers mid-chunk and a Redis restart
that loses its data lose nothing and duplicate nothing. The API runs in this process under
``--runner celery`` (uploads, the sweep); the landmark stage is cut into 3 s chunks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuevision.api import ApiSettings, ServiceSettings, create_app
from cuevision.pipeline import process
from cuevision.scheme import load_scheme
from cuevision.store.blobs import BlobStore
from cuevision.store.db import make_engine, sessions
from cuevision.store.models import Artifact, ChunkRun, EventRow, Session, StageRun

from . import redis as broker
from .conftest import populate
from .test_jobs import _ipc

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(broker.binary() is None, reason="apt-get install -y redis-server"),
]

CHUNK_S, OVERLAP_S = 3.0, 1.0
OUTPUTS = ("video.json", "landmarks.parquet", "features.parquet", "candidates.csv", "metrics.json")


@dataclass
class Lab:
    """A data folder, its database, a redis-server, the API (celery runner) and two workers."""

    root: Path
    engine: Engine
    redis: broker.Server
    client: TestClient
    tokens: dict[str, str]
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = open(self.root / f"worker-{len(self.workers)}.log", "ab")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "cuevision", "worker", "--loglevel", "WARNING"],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        self.workers.append(worker)
        return worker

    def worker(self, pid: int) -> subprocess.Popen[bytes]:
        return next(w for w in self.workers if w.pid == pid)

    def upload(self, clip: Path, study: int, name: str | None = None) -> str:
        made = self.client.post(
            f"/v1/studies/{study}/sessions",
            params={"dyad_id": "6c6MZQ", "filename": name or clip.name},
            content=clip.read_bytes(),
            headers={
                "Authorization": f"Bearer {self.tokens['admin' if study == 1 else 'foreign']}"
            },
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def status(self, session_id: str) -> dict[str, Any]:
        with sessions(self.engine)() as db:
            runs = db.scalars(select(StageRun).where(StageRun.session_id == session_id)).all()
            states = {r.state for r in runs}
        return {"failed" if "failed" in states else "done" if states == {"done"} else "open": 1}

    def finished(self, *session_ids: str) -> bool:
        return all("open" not in self.status(s) for s in session_ids)

    def session_dir(self, session_id: str) -> Path:
        return self.root / "data" / "blobs" / "sessions" / session_id


def wait(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def lab_settings(
    data: Path, url: str, broker_url: str, **values: object
) -> tuple[dict[str, str], ServiceSettings]:
    """The workers' environment and the API's settings of a test lab, from one set of values
    (``CUEVISION_*`` names, lower case): short leases and sweeps, so faults show in seconds."""
    values = {
        "data_dir": data,
        "broker_url": broker_url,
        "lease_s": 3,
        "heartbeat_s": 0.3,
        "backoff_s": 0,
        "sweep_s": 0.5,
        "visibility_timeout_s": 60,
        **values,
    }
    env = {**os.environ, **{f"CUEVISION_{k.upper()}": str(v) for k, v in values.items()}}
    service = {"database_url": url, "runners": 0, "runner": "celery", **values}
    return env, ServiceSettings.model_validate(service)


@contextmanager
def running(
    api: ApiSettings,
    settings: ServiceSettings,
    root: Path,
    server: broker.Server,
    tokens: dict[str, str],
    env: dict[str, str],
    workers: int,
) -> Iterator[Lab]:
    """The API in this process and ``workers`` worker processes, killed at the end."""
    assert settings.database_url is not None
    engine = make_engine(settings.database_url)
    with TestClient(create_app(api, settings)) as client:
        found = Lab(root, engine, server, client, tokens, env)
        for _ in range(workers):
            found.start_worker()
        try:
            yield found
        finally:
            for worker in found.workers:
                worker.kill()
                worker.wait(10)
            engine.dispose()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("lab")
    data = root / "data"
    url = f"sqlite:///{data / 'cuevision.sqlite3'}"
    data.mkdir()
    tokens = populate(url)
    with broker.server() as redis:
        env, settings = lab_settings(
            data, url, redis.url, chunk_s=CHUNK_S, chunk_overlap_s=OVERLAP_S
        )
        with running(ApiSettings(data_dir=data), settings, root, redis, tokens, env, 2) as found:
            yield found


@pytest.fixture(scope="module")
def reference(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("reference") / "out"
    process(clip, outdir, scheme=load_scheme())
    return outdir


def same_outputs(ours: Path, theirs: Path) -> None:
    """The same outputs, but for the files' own names (a blob hash here, the clip there) and the
    stage keys (a chunked landmark stage has a key of its own, which the later stages follow)."""
    for name in OUTPUTS:
        if name.endswith(".json"):
            a, b = (json.loads((d / name).read_text()) for d in (ours, theirs))
            for data in (a, b):
                data.pop("path", None)
                data.get("provenance", {}).pop("signals", None)
                data.get("provenance", {}).pop("config_hash", None)
            assert a == b, name
        elif name.endswith(".parquet"):
            tables = [pq.read_table(d / name) for d in (ours, theirs)]
            assert _ipc(tables[0]) == _ipc(tables[1]), name
        else:
            assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def no_duplicates(lab: Lab, session_id: str, n_chunks: int) -> None:
    """One row per stage, per chunk, per candidate and per artifact; one landmark row per frame
    and role."""
    outdir = lab.session_dir(session_id)
    candidates = json.loads((outdir / "candidates.json").read_text())["candidates"]
    with sessions(lab.engine)() as db:

        def count(model: Any) -> int:
            query = select(func.count()).select_from(model).where(model.session_id == session_id)
            return int(db.scalar(query) or 0)

        assert count(StageRun) == 5 and count(ChunkRun) == n_chunks
        assert count(EventRow) == len(candidates)
        names = db.scalars(select(Artifact.name).where(Artifact.session_id == session_id)).all()
    assert len(names) == len(set(names)) == 7, names  # video.json ... report.html
    rows = pq.read_table(outdir / "landmarks.parquet", columns=["frame", "role"]).to_pylist()
    assert len({(r["frame"], r["role"]) for r in rows}) == len(rows)
    assert not (outdir / "chunks").exists()  # spent once stitched


def test_a_session_under_celery_equals_the_embedded_run(
    lab: Lab, clip: Path, reference: Path
) -> None:
    session_id = lab.upload(clip, 1)
    wait(lambda: lab.finished(session_id), 300, "the session to be processed")
    assert lab.status(session_id) == {"done": 1}
    same_outputs(lab.session_dir(session_id), reference)
    no_duplicates(lab, session_id, 1)  # the 2 s clip is one chunk


def test_a_poison_chunk_fails_its_job_after_3_attempts_while_another_completes(
    lab: Lab, clip: Path, reference: Path, tmp_path: Path
) -> None:
    from cuevision.synth.video import make_dyad_video

    other = tmp_path / "poison.mp4"
    make_dyad_video(other, tmp_path / "truth.csv", seed=1, duration_s=2.0)
    poison = lab.upload(other, 1)  # the upload's probe accepts it; then the file rots
    with sessions(lab.engine)() as db:
        session = db.get(Session, poison)
        assert session is not None
    BlobStore(lab.root / "data" / "blobs").video(session.sha256).write_bytes(b"not a video")
    good = lab.upload(clip, 2)
    wait(lambda: lab.finished(poison, good), 300, "both jobs to end")
    assert lab.status(good) == {"done": 1}
    same_outputs(lab.session_dir(good), reference)
    assert lab.status(poison) == {"failed": 1}
    with sessions(lab.engine)() as db:
        landmarks = db.scalar(
            select(StageRun).where(StageRun.session_id == poison, StageRun.stage == "landmarks")
        )
        chunk = db.scalar(select(ChunkRun).where(ChunkRun.session_id == poison))
    assert chunk is not None and chunk.state == "failed" and chunk.attempts == 3
    assert landmarks is not None and landmarks.state == "failed"
    assert landmarks.error is not None
    assert landmarks.error.startswith("chunk 1 of 1 (0-2 s): poison.mp4: not a readable video")
    assert str(lab.root) not in landmarks.error


def test_sigterm_kill_9_mid_chunk_and_a_redis_restart_lose_nothing(
    lab: Lab, tmp_path: Path
) -> None:
    """On one session: SIGTERM lets a worker finish its chunk before it exits; two workers
    killed (-9) mid-chunk, and Redis killed and restarted without its data; each worker is
    restarted. Both sessions of the same video (the other one no worker died on) complete with
    the same outputs, and nothing is duplicated."""
    from cuevision.synth.video import make_dyad_video

    video = tmp_path / "long.mp4"
    make_dyad_video(video, tmp_path / "truth.csv", seed=2, duration_s=12.0)
    hit, calm = lab.upload(video, 1), lab.upload(video, 2)

    def running(session_id: str | None, seen: set[int]) -> ChunkRun | None:
        """A chunk under way (frames done) in a live worker, not one of ``seen``."""
        with sessions(lab.engine)() as db:
            query = select(ChunkRun).where(ChunkRun.state == "running", ChunkRun.progress_done > 0)
            if session_id is not None:
                query = query.where(ChunkRun.session_id == session_id)
            for chunk in db.scalars(query):
                owner = int((chunk.lease_owner or "0-").split("-")[0])
                alive = [w for w in lab.workers if w.pid == owner and w.poll() is None]
                if alive and chunk.id not in seen:
                    return chunk
        return None

    seen: set[int] = set()
    chunk = wait(lambda: running(hit, seen), 300, "a chunk under way")
    seen.add(chunk.id)
    stopped = lab.worker(int(str(chunk.lease_owner).split("-")[0]))
    stopped.send_signal(signal.SIGTERM)
    assert stopped.wait(120) == 0  # a warm shutdown
    with sessions(lab.engine)() as db:
        finished = db.get(ChunkRun, chunk.id)
        assert finished is not None and (finished.state, finished.attempts) == ("done", 1)
    lab.start_worker()

    killed = []
    for _ in range(2):
        chunk = wait(lambda: running(hit, seen), 300, "a chunk under way")
        seen.add(chunk.id)
        killed.append(chunk.id)
        victim = lab.worker(int(str(chunk.lease_owner).split("-")[0]))
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        lab.start_worker()

    wait(lambda: running(None, set()), 300, "a chunk under way")
    lab.redis.stop()  # its queue and the send markers are gone
    time.sleep(1.0)
    lab.redis.start()

    wait(lambda: lab.finished(hit, calm), 600, "both sessions to be processed")
    assert lab.status(hit) == lab.status(calm) == {"done": 1}
    same_outputs(lab.session_dir(hit), lab.session_dir(calm))
    for session_id in (hit, calm):
        no_duplicates(lab, session_id, 4)  # 12 s in 3 s chunks
    with sessions(lab.engine)() as db:
        attempts = {c.id: c.attempts for c in db.scalars(select(ChunkRun))}
    assert all(attempts[c] == 2 for c in killed), attempts  # taken over once, after its lease


def test_advance_plans_chunks_once_and_sends_only_what_may_run(
    engine: Engine, clip: Path, tmp_path: Path
) -> None:
    """The pure logic behind the sends, on SQLite and PostgreSQL: a session's next stage, its
    chunks once planned (twice advancing plans them once), none held under a live lease, a dead
    worker's again, then the stitch; and one training job at a time."""
    from cuevision.api.service import task_context
    from cuevision.jobs.chunked import advance, sweep
    from cuevision.jobs.runner import Lease, RunnerSettings
    from cuevision.jobs.tasks import enqueue
    from cuevision.store.models import TrainingRequest
    from cuevision.store.people import create_study
    from cuevision.video import probe

    settings = ServiceSettings(data_dir=tmp_path, chunk_s=4.0, chunk_overlap_s=1.0)
    context = task_context(settings, "cue-tcn", chunked=True)
    factory = sessions(engine)
    with factory() as db:
        study = create_study(db, "S")
        info = {**probe(clip).to_dict(), "duration_s": 10.0, "path": ""}
        session = Session(
            id="a" * 32, study_id=study.id, filename="x.mp4", sha256="b" * 64, size_bytes=1,
            dyad_id="d", consent="private", video_info=info,
        )  # fmt: skip
        db.add(session)
        db.flush()
        enqueue(db, session.id)
        db.commit()
        runs = {r.stage: r for r in db.scalars(select(StageRun))}
        assert [(d.kind, d.row_id) for d in advance(db, context, session.id)] == [
            ("stage", runs["probe"].id)
        ]
        runs["probe"].state = "done"
        db.commit()
        first = advance(db, context, session.id)
        assert advance(db, context, session.id) == first  # planned once
        chunks = db.scalars(select(ChunkRun).order_by(ChunkRun.index)).all()
        assert [(c.start_s, c.end_s) for c in chunks] == [(0, 4), (3, 8), (7, 10)]
        assert [(d.kind, d.row_id) for d in first] == [("chunk", c.id) for c in chunks]

        lease = Lease(factory, RunnerSettings(lease_s=60))
        assert lease.claim(db, chunks[0]) and not lease.claim(db, chunks[0])
        assert [d.row_id for d in advance(db, context, session.id)] == [c.id for c in chunks[1:]]
        chunks[0].lease_expires_at = 0.0  # its worker died
        db.commit()
        again = advance(db, context, session.id)
        assert (again[0].row_id, again[0].attempts) == (chunks[0].id, 1)  # a new send

        for chunk in chunks:
            chunk.state, chunk.progress_done, chunk.progress_total = "done", 5, 5
        db.commit()
        assert [(d.kind, d.row_id) for d in advance(db, context, session.id)] == [
            ("stage", runs["landmarks"].id)
        ]
        assert (runs["landmarks"].progress_done, runs["landmarks"].progress_total) == (15, 15)

        jobs = [TrainingRequest(study_id=study.id, options={}) for _ in range(2)]
        db.add_all(jobs)
        db.commit()
        assert [(d.kind, d.row_id) for d in sweep(db, context) if d.kind == "train"] == [
            ("train", jobs[0].id)
        ]
        assert lease.claim(db, jobs[0])
        assert not [d for d in sweep(db, context) if d.kind == "train"]  # one at a time


def test_a_send_is_made_once_per_row_and_attempt(lab: Lab) -> None:
    """The sweeps find the same work many times; Redis gets one message per row and attempt
    (a row id no worker will find, so the messages do nothing)."""
    from cuevision.api.service import task_context
    from cuevision.jobs.chunked import Dispatch
    from cuevision.jobs.queue import Jobs

    settings = lab.client.app.state.service.settings
    jobs = Jobs(settings, task_context(settings, "cue-tcn", chunked=True))
    try:
        same = Dispatch("stage", 10**6, 0, 0.0)
        assert jobs.send([same, same, same]) == 1
        assert jobs.send([same, Dispatch("stage", 10**6, 1, 0.0)]) == 1  # a retry is new
        assert sorted(jobs.redis.keys("cuevision:sent:stage:1000000:*")) == [
            b"cuevision:sent:stage:1000000:0",
            b"cuevision:sent:stage:1000000:1",
        ]
    finally:
        jobs.close()


def test_a_session_is_pushed_by_one_worker_at_a_time(lab: Lab) -> None:
    """Two deliveries of a session's last stage that finish at once push it once (a Redis lock
    per session), a later one pushes again, and a push that raises reaches no stage (the
    pushes against a real Label Studio are in tests/annotate/test_ls_celery.py)."""
    import threading

    from cuevision.api.service import task_context
    from cuevision.jobs.queue import Jobs

    calls: list[str] = []
    started, release = threading.Event(), threading.Event()

    def pushed(session_id: str) -> None:
        calls.append(session_id)
        started.set()
        release.wait(10)

    settings = lab.client.app.state.service.settings
    jobs = Jobs(settings, task_context(settings, "cue-tcn", pushed, chunked=True))
    try:
        assert jobs.context.on_done is None  # the stage itself never pushes: Jobs.run does
        first = threading.Thread(target=jobs.push, args=("s1",), kwargs={"redelivered": False})
        first.start()
        assert started.wait(10)
        jobs.push("s1", redelivered=False)  # the other delivery, while the first one pushes
        release.set()
        first.join(10)
        assert calls == ["s1"]
        jobs.push("s1", redelivered=False)
        assert calls == ["s1", "s1"]

        def broken(session_id: str) -> None:
            raise RuntimeError("Label Studio away")

        jobs.pushed = broken
        jobs.push("s1", redelivered=False)  # logged, not raised
        assert not jobs.redis.exists("cuevision:push:s1")  # and the lock is given back
    finally:
        jobs.close()
