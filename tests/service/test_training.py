"""Training as a job of the service: ``POST /v1/models/train`` answers 202 at once and the
service's own training thread fine-tunes the default on the study's confirmed sessions (real
features of a processed synthetic clip, events confirmed into the store as a pull writes them),
into the service's models folder with the data set's snapshot on the card; START_TRAINING enqueues
the same job; wrong roles, bad bodies and untrainable studies are refused, naming the fix; a job
whose data went away fails with the reason, once."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from cuevision.annotate.links import derived_key
from cuevision.annotate.sync import ML_USER
from cuevision.detect.registry import MODELS_DIR, default_model, list_models, set_default
from cuevision.events import read_events, write_events
from cuevision.jobs.training import TrainingOptions, run_training_job, service_models
from cuevision.pipeline import process
from cuevision.scheme import load_scheme
from cuevision.store.events import replace_events
from cuevision.store.models import AuditEntry, Session, TrainingRequest
from cuevision.train.gate import judge

from .conftest import World, make_world, world_url

TINY = {"epochs": 1, "steps_per_epoch": 2, "sim_dyads": 0}


@pytest.fixture(scope="module")
def processed(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``process`` on the 2 s synthetic clip (real features for the sessions below), with the
    clip's true events as ``truth.csv``."""
    outdir = tmp_path_factory.mktemp("trained-on") / "out"
    process(clip, outdir, scheme=load_scheme())
    shutil.copy(clip.with_name("truth.csv"), outdir / "truth.csv")
    return outdir


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, templates: dict[str, Any], tmp_path: Path
) -> Iterator[World]:
    """The service with its embedded runners on (one stage thread, one training thread)."""
    url, tokens = world_url(request.param, templates, request, tmp_path / "data")
    yield from make_world(url, tokens, tmp_path / "data", runners=1, heartbeat_s=0.5)


@pytest.fixture
def quiet(
    request: pytest.FixtureRequest, templates: dict[str, Any], tmp_path: Path
) -> Iterator[World]:
    """SQLite, no runners: jobs stay where the test leaves them."""
    url, tokens = world_url("sqlite", templates, request, tmp_path / "data")
    yield from make_world(url, tokens, tmp_path / "data")


def _confirmed(
    world: World, processed: Path, dyad: str, *, project: int | None = None, rejected: int = 0
) -> str:
    """A session of study A with the clip's features in its blob folder and its truth confirmed
    into the store (as ``annotate pull`` writes it); ``rejected`` candidates beside it."""
    data = secrets.token_bytes(64)
    sha = hashlib.sha256(data).hexdigest()
    world.service.blobs.video(sha).write_bytes(data)
    session = Session(
        id=secrets.token_hex(16),
        study_id=world.study_a,
        filename="clip.mp4",
        sha256=sha,
        size_bytes=len(data),
        dyad_id=dyad,
        consent="shared",
        video_info={},
        labelstudio_project_id=project,
    )
    outdir = world.service.blobs.session_dir(session.id)
    shutil.copy(processed / "features.parquet", outdir / "features.parquet")
    truth = read_events(processed / "truth.csv")
    if rejected:
        candidates = read_events(processed / "candidates.csv")[:rejected]
        write_events(outdir / "rejected.csv", candidates)
    with world.service.db() as db:
        db.add(session)
        db.flush()
        replace_events(db, session.id, "confirmed", truth)
        db.commit()
    return session.id


def _wait(world: World, location: str, who: str, limit_s: float = 150) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = world.client.get(location, headers=world.auth(who)).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {location} not finished in {limit_s} s: {job}")


def test_a_researcher_trains_a_version_from_confirmed_sessions(
    served: World, processed: Path
) -> None:
    world, data = served, served.settings.data_dir
    ask = {"study": world.study_a, **TINY}
    refused = world.client.post("/v1/models/train", json=ask, headers=world.auth("researcher"))
    assert refused.status_code == 409 and "annotate sessions" in refused.json()["detail"]
    first = _confirmed(world, processed, "dyadOne")
    refused = world.client.post("/v1/models/train", json=ask, headers=world.auth("researcher"))
    assert refused.status_code == 409, refused.text
    assert "one dyad only (dyadOne" in refused.json()["detail"]
    assert "another dyad" in refused.json()["detail"]
    second = _confirmed(world, processed, "dyadTwo", rejected=2)
    for role in ("clinician", "annotator"):
        denied = world.client.post("/v1/models/train", json=ask, headers=world.auth(role))
        assert denied.status_code == 403, (role, denied.text)
    assert (
        world.client.post("/v1/models/train", json=ask, headers=world.auth("foreign")).status_code
        == 404
    )

    started = time.monotonic()
    asked = world.client.post("/v1/models/train", json=ask, headers=world.auth("researcher"))
    answered_s = time.monotonic() - started
    assert asked.status_code == 202, asked.text
    assert answered_s < 2.0, f"the request took {answered_s:.1f} s: it must not train"
    location = asked.headers["location"]
    assert location == f"/v1/models/train/{asked.json()['id']}"
    assert asked.json()["state"] == "pending" and asked.json()["model"] is None
    assert world.client.get(location, headers=world.auth("annotator")).status_code == 403
    assert world.client.get(location, headers=world.auth("foreign")).status_code == 404

    job = _wait(world, location, "researcher")
    assert job["state"] == "done", job["error"]
    assert job["attempts"] == 1 and job["progress_done"] == job["progress_total"] == 1
    spec = job["model"]
    assert spec == f"{default_model(MODELS_DIR)}.job{job['id']}"
    name, version = spec.split("@")
    models = data / "models"
    folder = models / name / version
    config = json.loads((folder / "config.json").read_text())
    assert config["base"] == job["base"] == default_model(MODELS_DIR)
    assert config["data"]["snapshot"] == job["snapshot"]
    assert job["snapshot"] in (folder / "card.md").read_text()
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert evaluation["protocol"] == "leave-one-dyad-out"
    assert sorted(evaluation["sessions"]) == sorted([first, second])
    assert spec not in list_models(MODELS_DIR)  # never into the package's folder
    manifest = yaml.safe_load(
        (data / "training" / f"job-{job['id']}" / "manifest.yaml").read_text()
    )
    entries = {s["id"]: s for s in manifest["sessions"]}
    assert {s["dyad"] for s in entries.values()} == {"dyadOne", "dyadTwo"}
    assert "rejected" in entries[second] and "rejected" not in entries[first]
    listed = world.client.get(
        "/v1/models/train", params={"study": world.study_a}, headers=world.auth("admin")
    )
    assert [j["id"] for j in listed.json()] == [job["id"]]

    # promotion: the same gate as the CLI, on the service's registry
    verdict = judge(spec, scheme=load_scheme(), models_dir=models)
    url = f"/v1/models/{name}/{version}/promote"
    assert world.client.post(url, headers=world.auth("clinician")).status_code == 403
    promoted = world.client.post(url, headers=world.auth("researcher"))
    if verdict.passed:
        assert promoted.status_code == 200, promoted.text
        assert default_model(models) == spec
    else:
        assert promoted.status_code == 409, promoted.text
        figures = promoted.json()["detail"]["event_f1"]
        assert figures["candidate"]["overall"] == verdict.candidate_f1["overall"]
        assert figures["default"]["overall"] == verdict.default_f1["overall"]
        assert default_model(models) == default_model(MODELS_DIR)
    with world.service.db() as db:
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.study_id == 1)))
    assert {"model.train", "model.trained"} <= set(actions)
    assert ("model.promote" in actions) == verdict.passed


def test_start_training_enqueues_the_same_job(quiet: World, processed: Path) -> None:
    world = quiet
    for dyad in ("dyadOne", "dyadTwo"):
        _confirmed(world, processed, dyad, project=7)
    ml = (ML_USER, derived_key(world.app.state.loop.secret(), "ml"))
    for _ in range(2):  # Label Studio asks again before the first is taken: one job
        heard = world.client.post(
            "/ml/webhook", json={"action": "START_TRAINING", "project": {"id": 7}}, auth=ml
        )
        assert heard.status_code == 200 and heard.json()["status"] == "recorded"
    world.client.post("/ml/webhook", json={"action": "START_TRAINING", "project": 99}, auth=ml)
    with world.service.db() as db:
        jobs = list(db.scalars(select(TrainingRequest).order_by(TrainingRequest.id)))
    assert [(j.study_id, j.project_id, j.state) for j in jobs] == [
        (world.study_a, 7, "pending"),
        (None, 99, "failed"),
    ]
    assert jobs[0].options == TrainingOptions().model_dump(mode="json")
    assert "push a study's sessions there first" in (jobs[1].error or "")
    shown = world.client.get(f"/v1/models/train/{jobs[0].id}", headers=world.auth("researcher"))
    assert shown.status_code == 200 and shown.json()["project_id"] == 7


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"epochs": 0}, "greater than or equal to 1"),
        ({"sim_dyads": 1}, "0 (no simulation) or at least 2"),
        ({"coded_types": ["smiles"]}, "unknown types smiles; use some of"),
        ({"epoch": 3}, "Extra inputs"),
        ({"base": "cue-tcn"}, "should match pattern"),
        ({"base": "cue-tcn@9.9"}, "not found"),
        ({"study": "A"}, "valid integer"),
    ],
)
def test_bad_bodies_are_422_naming_the_fix(quiet: World, body: dict[str, Any], named: str) -> None:
    sent = {"study": quiet.study_a, **body}
    answer = quiet.client.post("/v1/models/train", json=sent, headers=quiet.auth("researcher"))
    assert answer.status_code == 422, answer.text
    assert named in answer.text


def test_a_job_whose_data_went_away_fails_once_saying_why(quiet: World, processed: Path) -> None:
    world = quiet
    _confirmed(world, processed, "dyadOne")
    gone = _confirmed(world, processed, "dyadTwo")
    ask = {"study": world.study_a, **TINY}
    asked = world.client.post("/v1/models/train", json=ask, headers=world.auth("researcher"))
    assert asked.status_code == 202, asked.text
    with world.service.db() as db:  # an annotator's pull emptied a session meanwhile
        replace_events(db, gone, "confirmed", [])
        db.commit()
    service = world.service
    job_id = asked.json()["id"]
    ran = run_training_job(
        service.db,
        job_id,
        blobs=service.blobs,
        data_dir=service.settings.data_dir,
        scheme=load_scheme(),
    )
    assert ran is True  # claimed and run: the outcome is on the row
    job = world.client.get(f"/v1/models/train/{job_id}", headers=world.auth("researcher")).json()
    assert job["state"] == "failed" and job["attempts"] == 1, job
    assert "one dyad only (dyadOne" in job["error"] and "another dyad" in job["error"]
    again = run_training_job(
        service.db,
        job_id,
        blobs=service.blobs,
        data_dir=service.settings.data_dir,
        scheme=load_scheme(),
    )
    assert again is False  # a failed job is not claimed again
    with service.db() as db:
        failed = db.scalar(select(AuditEntry).where(AuditEntry.action == "model.train_failed"))
    assert failed is not None and failed.detail["job"] == job_id


def test_a_job_killed_after_writing_its_version_records_it_without_retraining(
    quiet: World, processed: Path
) -> None:
    world, service = quiet, quiet.service
    for dyad in ("dyadOne", "dyadTwo"):
        _confirmed(world, processed, dyad)
    ask = {"study": world.study_a, "version": "mine", **TINY}
    asked = world.client.post("/v1/models/train", json=ask, headers=world.auth("researcher"))
    job_id = asked.json()["id"]
    run = {"blobs": service.blobs, "data_dir": service.settings.data_dir, "scheme": load_scheme()}
    assert run_training_job(service.engine, job_id, **run) is True
    folder = service.settings.data_dir / "models" / "cue-tcn" / "mine"
    written = (folder / "weights.pt").stat().st_mtime_ns
    with service.db() as db:  # as if killed between the version's rename and its record
        job = db.get(TrainingRequest, job_id)
        assert job is not None and job.state == "done" and job.model == "cue-tcn@mine"
        job.state, job.model, job.lease_owner, job.lease_expires_at = "running", None, "x", 0.0
        db.commit()
    assert run_training_job(service.engine, job_id, **run) is True
    shown = world.client.get(f"/v1/models/train/{job_id}", headers=world.auth("researcher"))
    assert shown.json()["state"] == "done" and shown.json()["model"] == "cue-tcn@mine"
    assert shown.json()["attempts"] == 2
    assert (folder / "weights.pt").stat().st_mtime_ns == written  # adopted, not retrained
    taken = world.client.post("/v1/models/train", json=ask, headers=world.auth("researcher"))
    assert taken.status_code == 409 and "choose another version" in taken.text


def test_the_service_processes_with_its_own_registrys_default(
    request: pytest.FixtureRequest, templates: dict[str, Any], tmp_path: Path
) -> None:
    """A promotion in ``DATA/models`` is what the service's stages and its ML backend use from
    the next start; the package's registry is untouched."""
    data = tmp_path / "data"
    url, tokens = world_url("sqlite", templates, request, data)
    models = service_models(data)
    shipped = default_model(MODELS_DIR)
    older = next(spec for spec in list_models(models) if spec != shipped)
    set_default(older, {"gate": "forced", "reason": "a test"}, models)
    for world in make_world(url, tokens, data):
        assert world.app.state.settings.model == older
        key = derived_key(world.app.state.loop.secret(), "ml")
        health = world.client.get("/ml/health", auth=(ML_USER, key)).json()
        assert health["model_version"] == older.partition("@")[2]
    assert default_model(MODELS_DIR) == shipped
