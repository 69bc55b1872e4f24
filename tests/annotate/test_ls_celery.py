"""The automatic push under ``serve --runner celery``, with a real redis-server, a real
``cuevision worker`` process and the real Label Studio: the worker pushes the session it finished,
with its candidates, using serve's settings from the same ``CUEVISION_*`` variables that
docker-compose.yml gives both; a redelivered last stage, a redelivery after a worker died before it
recorded the push, and the last stage run again each leave exactly one task; and a Label Studio
that is down fails no stage, while the manual push still works. The API runs in this process
(uploads, the sweep); the worker is a subprocess, as in tests/service/test_celery.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import select, update

from cuevision.annotate.server import LabelStudioSettings, connection
from cuevision.api import ApiSettings
from cuevision.events import read_events
from cuevision.store.db import sessions
from cuevision.store.models import AuditEntry, Session, StageRun

from ..service import redis as broker
from ..service.conftest import populate
from ..service.test_celery import Lab, lab_settings, running, wait
from .conftest import free_port

pytestmark = [
    pytest.mark.labelstudio,
    pytest.mark.slow,
    pytest.mark.skipif(broker.binary() is None, reason="apt-get install -y redis-server"),
]


@pytest.fixture(scope="module")
def lab(
    labelstudio: LabelStudioSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """The API (celery runner, Label Studio on) and one worker, which reaches Label Studio by its
    URL and token as the compose file's worker does."""
    root = tmp_path_factory.mktemp("lab")
    data = root / "data"
    url = f"sqlite:///{data / 'cuevision.sqlite3'}"
    data.mkdir()
    tokens = populate(url)
    api = ApiSettings(data_dir=data, labelstudio=labelstudio, port=free_port())
    studio = connection(labelstudio)
    with broker.server() as server:
        env, settings = lab_settings(
            data,
            url,
            server.url,
            chunk_s=0,
            labelstudio=True,
            labelstudio_url=studio.url,
            labelstudio_token=studio.token,
            api_url=api.url,
        )
        with running(api, settings, root, server, tokens, env, 1) as found:
            yield found


@pytest.fixture(scope="module")
def processed(lab: Lab, clip: Path) -> str:
    """A session the worker processed (and pushed)."""
    session_id = lab.upload(clip, 1)
    wait(lambda: lab.finished(session_id), 300, "the session to be processed")
    assert lab.status(session_id) == {"done": 1}
    return session_id


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s synthetic dyad: two candidates."""
    from cuevision.synth.video import make_dyad_video

    folder = tmp_path_factory.mktemp("clip")
    make_dyad_video(folder / "dyad.mp4", folder / "truth.csv", duration_s=2.0)
    return folder / "dyad.mp4"


def row(lab: Lab, session_id: str) -> Session:
    with sessions(lab.engine)() as db:
        found = db.get(Session, session_id)
        assert found is not None
        return found


def tasks_of(client: httpx.Client, project_id: int, session_id: str) -> list[dict[str, Any]]:
    """Label Studio's tasks of the session, each with its predictions."""
    listed = client.get("/api/tasks/", params={"project": project_id, "page_size": 1000})
    found = [t for t in listed.json()["tasks"] if t["data"].get("session") == session_id]
    return [client.get(f"/api/tasks/{t['id']}").json() for t in found]


def automatic_pushes(lab: Lab, session_id: str) -> int:
    with sessions(lab.engine)() as db:
        entries = db.scalars(
            select(AuditEntry).where(
                AuditEntry.session_id == session_id, AuditEntry.action == "session.push"
            )
        ).all()
    return sum(1 for e in entries if (e.detail or {}).get("automatic"))


def last_stage(lab: Lab, session_id: str) -> StageRun:
    with sessions(lab.engine)() as db:
        found = db.scalar(
            select(StageRun).where(StageRun.session_id == session_id, StageRun.stage == "metrics")
        )
        assert found is not None
        return found


def redeliver(lab: Lab, session_id: str) -> None:
    """The last stage's message once more, as the broker hands it out again after a worker died
    before acknowledging it; returns once the worker has acknowledged it."""
    from cuevision.jobs.queue import TASKS

    TASKS["stage"].apply_async((last_stage(lab, session_id).id,))
    queue = redis.Redis.from_url(lab.redis.url)
    try:
        wait(lambda: not queue.llen("celery") and not queue.hlen("unacked"), 60, "the delivery")
    finally:
        queue.close()


def test_the_worker_pushes_the_session_it_processed_and_a_redelivery_makes_no_second_task(
    lab: Lab, processed: str, client: httpx.Client
) -> None:
    session_id = processed
    wait(lambda: row(lab, session_id).labelstudio_task_id, 60, "the automatic push")
    pushed = row(lab, session_id)
    assert pushed.labelstudio_project_id is not None
    [task] = tasks_of(client, pushed.labelstudio_project_id, session_id)
    assert task["id"] == pushed.labelstudio_task_id
    assert task["data"]["video"].startswith(lab.env["CUEVISION_API_URL"] + "/video/")
    candidates = read_events(lab.session_dir(session_id) / "candidates.csv")
    assert len(candidates) >= 2
    [prediction] = task["predictions"]
    assert sorted(r["id"] for r in prediction["result"]) == sorted(str(c.id) for c in candidates)
    assert prediction["model_version"] == candidates[0].model_version
    assert automatic_pushes(lab, session_id) == 1

    # done and pushed: nothing to do (and should it push, the count below after the next
    # delivery, which the one worker takes after this one, says so)
    redeliver(lab, session_id)
    assert automatic_pushes(lab, session_id) == 1
    assert [t["id"] for t in tasks_of(client, pushed.labelstudio_project_id, session_id)] == [
        task["id"]
    ]

    with sessions(
        lab.engine
    )() as db:  # its worker died after creating the task, before recording it
        db.execute(
            update(Session)
            .where(Session.id == session_id)
            .values(labelstudio=None, labelstudio_task_id=None, labelstudio_project_id=None)
        )
        db.commit()
    redeliver(lab, session_id)
    wait(lambda: row(lab, session_id).labelstudio_task_id, 60, "the push of the redelivery")
    assert row(lab, session_id).labelstudio_task_id == task["id"]  # found again, not made anew
    assert automatic_pushes(lab, session_id) == 2

    with sessions(lab.engine)() as db:  # the last stage runs again (a crash before its record)
        db.execute(
            update(StageRun)
            .where(StageRun.id == last_stage(lab, session_id).id)
            .values(state="pending", not_before=0.0)
        )
        db.commit()
    wait(lambda: automatic_pushes(lab, session_id) == 3, 120, "the push after the rerun")
    assert lab.status(session_id) == {"done": 1}
    [again] = tasks_of(client, pushed.labelstudio_project_id, session_id)
    assert again["id"] == task["id"] and len(again["predictions"]) == 1
    assert again["predictions"][0]["result"] == prediction["result"]


def test_label_studio_down_fails_no_stage_and_the_manual_push_still_works(
    lab: Lab, processed: str, client: httpx.Client
) -> None:
    session_id = processed
    for worker in lab.workers:  # a worker whose Label Studio does not answer takes over
        worker.kill()
        worker.wait(10)
    down = {**lab.env, "CUEVISION_LABELSTUDIO_URL": f"http://127.0.0.1:{free_port()}"}
    dataclasses.replace(lab, env=down).start_worker()
    pushes = automatic_pushes(lab, session_id)
    with sessions(lab.engine)() as db:
        db.execute(
            update(Session)
            .where(Session.id == session_id)
            .values(labelstudio=None, labelstudio_task_id=None, labelstudio_project_id=None)
        )
        db.execute(
            update(StageRun)
            .where(StageRun.id == last_stage(lab, session_id).id)
            .values(state="pending", not_before=0.0)
        )
        db.commit()
    log = lab.root / f"worker-{len(lab.workers) - 1}.log"
    wait(lambda: f"automatic push of session {session_id} failed" in log.read_text(), 120, "it")
    stage = last_stage(lab, session_id)
    assert (stage.state, stage.error) == ("done", None)
    assert lab.status(session_id) == {"done": 1}
    assert row(lab, session_id).labelstudio_task_id is None
    assert automatic_pushes(lab, session_id) == pushes

    headers = {"Authorization": f"Bearer {lab.tokens['annotator']}"}
    manual = lab.client.post(f"/v1/sessions/{session_id}/labelstudio/push", headers=headers)
    assert manual.status_code == 200, manual.text
    assert manual.json()["new_task"] is False  # the task the worker made before, found again
    project = row(lab, session_id).labelstudio_project_id
    assert project is not None and len(tasks_of(client, project, session_id)) == 1
