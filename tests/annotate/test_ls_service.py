"""The service's Label Studio side against a real Label Studio: /v1 push and pull by role, the
video link and ML backend from the store's state, training requests as rows, the automatic push,
and DELETE removing the task. Nothing of the loop is left as a loose file in the data folder."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from cuevision.annotate import links
from cuevision.annotate.server import LabelStudioSettings
from cuevision.annotate.sync import ML_USER
from cuevision.api import ApiSettings, ServiceSettings, create_app
from cuevision.api.routes.annotation import auto_push
from cuevision.jobs.tasks import enqueue
from cuevision.store.db import make_engine, sessions, sqlite_url, upgrade
from cuevision.store.models import AuditEntry, Role, Session, StageRun, TrainingRequest
from cuevision.store.people import add_member, create_study, create_token, create_user

from .conftest import free_port

pytestmark = pytest.mark.labelstudio


@pytest.fixture
def service_app(labelstudio: LabelStudioSettings, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A service with Label Studio on, a clinician and an annotator of one study."""
    data = tmp_path / "data"
    data.mkdir()
    engine = make_engine(sqlite_url(data))
    upgrade(engine)
    tokens = {}
    with sessions(engine)() as db:
        study = create_study(db, "Study L")
        for role in (Role.CLINICIAN, Role.ANNOTATOR):
            user = create_user(db, f"{role.value}@l.org", "password-of-" + role.value)
            add_member(db, study, user, role)
            tokens[role.value] = create_token(db, user)
        db.commit()
    engine.dispose()
    settings = ServiceSettings(data_dir=data, runners=0, labelstudio=True)
    app = create_app(
        ApiSettings(data_dir=data, labelstudio=labelstudio, port=free_port()), settings
    )
    with TestClient(app) as client:
        yield {"client": client, "app": app, "tokens": tokens, "data": data}
    app.state.service.engine.dispose()


def _processed(app: Any, outdir: Path) -> str:
    """A done session of study 1 whose blob folder holds ``outdir``'s video.json and candidates."""
    from cuevision.types import VideoInfo

    service = app.state.service
    source = Path(VideoInfo.load(outdir / "video.json").path)
    sha = hashlib.sha256(source.read_bytes() + outdir.name.encode()).hexdigest()
    shutil.copy(source, service.blobs.video(sha))
    row = Session(
        id=hashlib.sha256(sha.encode()).hexdigest()[:32],
        study_id=1,
        filename="clip.mp4",
        sha256=sha,
        size_bytes=source.stat().st_size,
        dyad_id="d1",
        consent="shared",
        video_info={},
    )
    for name in ("video.json", "candidates.csv"):
        shutil.copy(outdir / name, service.blobs.session_dir(row.id) / name)
    with service.db() as db:
        db.add(row)
        db.flush()
        enqueue(db, row.id)
        db.execute(update(StageRun).where(StageRun.session_id == row.id).values(state="done"))
        db.commit()
    return row.id


def test_push_pull_video_ml_and_delete_through_the_service(
    service_app: dict[str, Any], fresh_outdir: Path, client: httpx.Client
) -> None:
    web, app, data = service_app["client"], service_app["app"], service_app["data"]
    annotator = {"Authorization": f"Bearer {service_app['tokens']['annotator']}"}
    clinician = {"Authorization": f"Bearer {service_app['tokens']['clinician']}"}
    session_id = _processed(app, fresh_outdir)
    v1 = f"/v1/sessions/{session_id}/labelstudio"

    assert web.post(f"{v1}/push", headers=clinician).status_code == 403
    assert web.post(f"{v1}/pull", headers=annotator).status_code == 409  # never pushed
    pushed = web.post(f"{v1}/push", headers=annotator)
    assert pushed.status_code == 200, pushed.text
    task = client.get(f"/api/tasks/{pushed.json()['task_id']}").json()
    assert task["data"]["session"] == session_id
    shown = web.get(f"/v1/sessions/{session_id}", headers=clinician).json()
    assert shown["labelstudio_task_id"] == task["id"]
    outdir = app.state.service.blobs.session_dir(session_id)
    assert not (outdir / "labelstudio.json").exists()  # the row holds it
    with app.state.service.db() as db:
        assert db.get(Session, session_id).labelstudio["task_id"] == task["id"]
    again = web.post(f"{v1}/push", headers=annotator).json()
    assert again["new_task"] is False and again["task_id"] == task["id"]

    # the annotators' video link and the ML backend work from the store's secret and sessions
    video = web.get(urlsplit(task["data"]["video"]).path)
    proxy = app.state.service.blobs.session_dir(session_id) / "proxy.mp4"
    assert video.status_code == 200 and video.content == proxy.read_bytes()
    ml = (ML_USER, links.derived_key(app.state.loop.secret(), "ml"))
    predicted = web.post("/ml/predict", json={"tasks": [task]}, auth=ml).json()["results"]
    assert [r["id"] for r in predicted[0]["result"]] == ["c0001", "c0002", "c0003"]
    assert web.post("/ml/predict", json={"tasks": [task]}).status_code == 401
    web.post("/ml/webhook", json={"action": "START_TRAINING", "project": {"id": 5}}, auth=ml)

    [prediction] = task["predictions"]
    made = client.post(
        f"/api/tasks/{task['id']}/annotations/",
        json={"result": prediction["result"][:2], "parent_prediction": prediction["id"]},
    )
    assert made.status_code == 201, made.text
    hook = {links.WEBHOOK_HEADER: links.derived_key(app.state.loop.secret(), "webhook")}
    event = {"action": "ANNOTATION_CREATED", "annotation": {"id": 1, "task": task["id"]}}
    heard = web.post("/labelstudio/webhook", json=event, headers=hook)
    assert heard.status_code == 202 and heard.json()["sessions"] == 1
    by_hook = web.get(f"/v1/sessions/{session_id}/confirmed", headers=clinician).json()
    assert [e["type"] for e in by_hook] == ["child_smiles", "caregiver_smiles"]
    pulled = web.post(f"{v1}/pull", headers=annotator)
    assert pulled.status_code == 200 and pulled.json()["counts"] == {"accepted": 2, "rejected": 1}
    confirmed = web.get(f"/v1/sessions/{session_id}/confirmed", headers=clinician).json()
    assert [e["type"] for e in confirmed] == ["child_smiles", "caregiver_smiles"]

    second = _processed(app, _copy(fresh_outdir))
    sync = dataclasses.replace(app.state.settings.sync, state=app.state.loop)
    auto_push(app.state.service, sync, second)  # what the runner calls after the last stage

    with app.state.service.db() as db:
        assert db.get(Session, second).labelstudio_task_id is not None
        assert [r.project_id for r in db.scalars(select(TrainingRequest))] == [5]
        actions = list(
            db.scalars(select(AuditEntry.action).where(AuditEntry.session_id.is_not(None)))
        )
    assert actions.count("session.push") == 3 and actions.count("session.pull") == 2

    assert web.delete(f"/v1/sessions/{session_id}", headers=clinician).status_code == 204
    assert client.get(f"/api/tasks/{task['id']}").status_code == 404
    loose = {links.SECRET_FILE, links.SESSIONS_DIR, links.TRAINING_REQUESTS}
    assert not loose & {p.name for p in data.iterdir()}


def _copy(outdir: Path) -> Path:
    target = outdir.parent / "second"
    shutil.copytree(outdir, target)
    return target
