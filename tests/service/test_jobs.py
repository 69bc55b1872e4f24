"""Durable jobs: the runner runs the very stages of ``process`` (identical outputs), a poison video
fails after 3 attempts with its reason, ``kill -9`` on ``serve`` mid-landmarks resumes to identical
outputs without duplicated rows, and DELETE leaves nothing but its audit row."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, inspect, select, text

from cuevision.detect import Detector
from cuevision.jobs.runner import Runner, RunnerSettings
from cuevision.jobs.tasks import TaskContext
from cuevision.pipeline import ProcessSettings, process
from cuevision.scheme import load_scheme
from cuevision.store.db import make_engine, sessions
from cuevision.store.models import EventRow, StageRun

from .conftest import World, populate

COMPARED = ("video.json", "landmarks.parquet", "features.parquet", "candidates.csv", "metrics.json")


@pytest.fixture(scope="module")
def reference(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cuevision process`` on the clip: what every job must reproduce exactly."""
    outdir = tmp_path_factory.mktemp("reference") / "out"
    process(clip, outdir, scheme=load_scheme())
    return outdir


def _same_outputs(outdir: Path, reference: Path) -> None:
    for name in COMPARED:
        if name.endswith(".json"):  # they name the files they read: here blobs, there the clip
            ours, theirs = (json.loads((d / name).read_text()) for d in (outdir, reference))
            for data in (ours, theirs):
                data.pop("path", None)
                data.get("provenance", {}).pop("signals", None)
            assert ours == theirs, name
            continue
        if name.endswith(".parquet"):  # the landmarks name the file they read: hash vs clip
            ours, theirs = (pq.read_table(d / name) for d in (outdir, reference))
            assert _ipc(ours) == _ipc(theirs), name  # bytes: NaN where NaN, and nothing else
            meta = [json.loads(t.schema.metadata[b"cuevision"]) for t in (ours, theirs)]
            for m in meta:
                m.pop("video", None)
            assert meta[0] == meta[1], name
            continue
        assert (outdir / name).read_bytes() == (reference / name).read_bytes(), name
    stages = [json.loads((d / "pipeline.json").read_text())["stages"] for d in (outdir, reference)]
    assert {k: v["key"] for k, v in stages[0].items()} == {
        k: v["key"] for k, v in stages[1].items()
    }


def _ipc(table: pa.Table) -> bytes:
    table = table.replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _runner(world: World, finished: list[str] | None = None, **timing: float) -> Runner:
    scheme = load_scheme()

    @cache
    def detector() -> Detector:
        from cuevision.detect import load_detector

        return load_detector(ProcessSettings().model, scheme=scheme)

    on_done = finished.append if finished is not None else None
    context = TaskContext(world.service.blobs, scheme, ProcessSettings(), detector, on_done)
    return Runner(world.service.engine, context, RunnerSettings(**timing))


def _drain(runner: Runner, limit: int = 30) -> None:
    for _ in range(limit):
        if not runner.run_once():
            return
    raise AssertionError("the runner never ran out of work")


def _upload(world: World, clip: Path) -> str:
    made = world.client.post(
        f"/v1/studies/{world.study_a}/sessions",
        params={"dyad_id": "6c6MZQ", "filename": clip.name},
        content=clip.read_bytes(),
        headers=world.auth("clinician"),
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _tables(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in inspect(engine).get_table_names()
        }


def test_a_job_runs_the_pipeline_and_delete_means_gone(
    sqlite_world: World, clip: Path, reference: Path
) -> None:
    world = sqlite_world
    before_blobs, before_rows = world.service.blobs.listing(), _tables(world.service.engine)
    session_id = _upload(world, clip)
    finished: list[str] = []  # what the service pushes to Label Studio
    _drain(_runner(world, finished))
    assert finished == [session_id]
    shown = world.client.get(f"/v1/sessions/{session_id}", headers=world.auth("clinician")).json()
    assert shown["status"] == "done", shown
    _same_outputs(world.service.blobs.session_dir(session_id), reference)

    reader = world.auth("researcher")
    candidates = world.client.get(f"/v1/sessions/{session_id}/candidates", headers=reader).json()
    expected = json.loads((reference / "candidates.json").read_text())["candidates"]
    assert [(c["type"], c["onset_s"]) for c in candidates] == [
        (c["type"], c["onset_s"]) for c in expected
    ]
    assert world.client.get(f"/v1/sessions/{session_id}/metrics", headers=reader).json()
    report = world.client.get(f"/v1/sessions/{session_id}/report", headers=reader)
    assert (
        report.status_code == 200
        and "default-src 'none'" in report.headers["content-security-policy"]
    )
    csv = world.client.get(f"/v1/sessions/{session_id}/exports/events.csv", headers=reader)
    eaf = world.client.get(f"/v1/sessions/{session_id}/exports/events.eaf", headers=reader)
    assert csv.text.startswith("actor,type,onset_s,offset_s") and "<ANNOTATION_DOCUMENT" in eaf.text
    assert world.client.get(f"/v1/sessions/{session_id}/video", headers=reader).status_code == 403

    during = world.service.blobs.listing()
    assert any(p.startswith(f"sessions/{session_id}/") for p in during)
    gone = world.client.delete(f"/v1/sessions/{session_id}", headers=world.auth("clinician"))
    assert gone.status_code == 204
    after_rows = _tables(world.service.engine)
    assert world.service.blobs.listing() == before_blobs == []
    audit_added = after_rows.pop("audit_log") - before_rows.pop("audit_log")
    assert after_rows == before_rows  # sessions, stage runs, artifacts, events: all gone
    with world.service.db() as db:
        actions = (
            db.execute(
                text("SELECT action FROM audit_log WHERE session_id = :s ORDER BY id"),
                {"s": session_id},
            )
            .scalars()
            .all()
        )
    assert actions == ["session.upload", "session.export", "session.export", "session.delete"]
    assert audit_added == 4
    assert world.client.get(f"/v1/sessions/{session_id}", headers=reader).status_code == 404


def test_a_poison_video_fails_after_three_attempts_with_its_reason(
    sqlite_world: World, clip: Path
) -> None:
    world = sqlite_world
    session_id = _upload(world, clip)
    with world.service.db() as db:  # the file rots after the upload's probe accepted it
        sha = db.execute(text("SELECT sha256 FROM sessions")).scalar_one()
    world.service.blobs.video(sha).write_bytes(b"not a video any more")
    runner = _runner(world, backoff_s=0.0)
    _drain(runner)
    shown = world.client.get(f"/v1/sessions/{session_id}", headers=world.auth("clinician")).json()
    assert shown["status"] == "failed"
    failed = [s for s in shown["stages"] if s["state"] == "failed"]
    # the upload's probe is the probe stage's answer; the first stage to read the file fails
    assert [s["stage"] for s in failed] == ["landmarks"] and failed[0]["attempts"] == 3
    assert failed[0]["error"].startswith("dyad.mp4: not a readable video"), failed[0]["error"]
    assert str(world.settings.data_dir) not in failed[0]["error"]
    assert runner.claim() is None  # nothing is retried after the third failure


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CUEVISION_DATA_DIR": str(data_dir),
        "CUEVISION_LEASE_S": "2",
        "CUEVISION_HEARTBEAT_S": "0.2",
        "CUEVISION_BACKOFF_S": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cuevision", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data_dir / "serve.log", "ab"),  # noqa: SIM115
    )


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_on_serve_mid_landmarks_resumes_to_identical_outputs(
    tmp_path: Path, clip: Path, reference: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    tokens = populate(f"sqlite:///{data_dir / 'cuevision.sqlite3'}")
    engine = make_engine(f"sqlite:///{data_dir / 'cuevision.sqlite3'}")
    port = _port()
    server = _serve(data_dir, port)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _up(url), 120, "serve to start")
        made = httpx.post(
            f"{url}/v1/studies/1/sessions",
            params={"dyad_id": "6c6MZQ"},
            content=clip.read_bytes(),
            headers={"Authorization": f"Bearer {tokens['clinician']}"},
            timeout=60,
        )
        assert made.status_code == 201, made.text
        session_id = made.json()["id"]

        def mid_landmarks() -> bool:
            with sessions(engine)() as db:
                run = db.scalar(select(StageRun).where(StageRun.stage == "landmarks"))
                return bool(run and run.state == "running" and run.progress_done > 0)

        _wait(mid_landmarks, 120, "the landmark stage to be under way")
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        with sessions(engine)() as db:
            run = db.scalar(select(StageRun).where(StageRun.stage == "landmarks"))
            assert run is not None and run.state == "running" and run.attempts == 1

        server = _serve(data_dir, port)
        _wait(lambda: _status(engine) == {"done"}, 240, "the job to finish after the restart")
        with sessions(engine)() as db:
            run = db.scalar(select(StageRun).where(StageRun.stage == "landmarks"))
            assert run is not None and run.attempts == 2  # taken again once the lease ran out
            events = db.scalar(select(func.count()).select_from(EventRow))
        _same_outputs(data_dir / "blobs" / "sessions" / session_id, reference)
        expected = json.loads((reference / "candidates.json").read_text())["candidates"]
        assert events == len(expected)
    finally:
        server.kill()
        server.wait(10)
        engine.dispose()


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _status(engine: Engine) -> set[str]:
    with sessions(engine)() as db:
        return set(db.scalars(select(StageRun.state)))
