"""``/v1`` training jobs and promotion: a study's researchers ask for a model trained on its
confirmed sessions, follow the job, and promote the result through the gate.

``POST /v1/models/train`` only checks and enqueues (202 with the job's Location); a worker trains
(:mod:`cuevision.jobs.training`). Jobs belong to their study: its researchers and admins see and
start them, its clinicians and annotators get 403, anyone else 404. Promotion runs the same gate
as ``cuevision models promote`` on the service's models folder and answers 409 with both
versions' figures when the candidate scores below the default; it never overrides the gate (the
CLI's ``--force --reason`` is for that).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from cuevision.api.deps import POLICY, Caller, CallerDep, DbDep, ServiceDep, study_role
from cuevision.detect.registry import SPEC_PATTERN, ModelError, default_model, resolve
from cuevision.jobs.training import (
    TrainingError,
    TrainingOptions,
    check_trainable,
    confirmed_sessions,
    enqueue,
    service_models,
)
from cuevision.store.audit import record
from cuevision.store.models import StageState, TrainingRequest
from cuevision.store.people import role_in

router = APIRouter(prefix="/v1", tags=["models"])
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Version = Annotated[str, Path(pattern=r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")]


class TrainIn(TrainingOptions):
    """A training request: the study whose confirmed sessions to learn from, and what to change."""

    study: int = Field(ge=1, le=2**31 - 1, description="the study's id")
    base: str | None = Field(
        default=None,
        pattern=SPEC_PATTERN,
        description="NAME@VERSION to fine-tune; default: the service's default model",
    )


class JobOut(BaseModel):
    id: int
    study_id: int | None
    requested_by: int | None
    project_id: int | None  # Label Studio's, when START_TRAINING asked
    base: str | None
    options: dict[str, Any]
    state: str
    attempts: int
    progress_done: int
    progress_total: int
    error: str | None
    model: str | None  # NAME@VERSION it wrote, once done
    snapshot: str | None  # the data set's hash, on the model's card too
    received_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def _out(job: TrainingRequest) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def job_role(db: Db, who: Caller, job_id: int) -> TrainingRequest:
    """The job, if the caller may see it; 404 outside its study, 403 for other roles."""
    job = db.get(TrainingRequest, job_id)
    role = role_in(db, who.user, job.study_id) if job and job.study_id else None
    if job is None or role is None:
        raise HTTPException(404, "no such training job in your studies")
    if role not in POLICY["train"]:
        raise HTTPException(403, f"a {role.value} may not do this (train) in this study")
    return job


@router.post("/models/train", status_code=202)
def train(
    body: TrainIn, response: Response, who: CallerDep, db: DbDep, service: ServiceDep
) -> JobOut:
    """Enqueue a training job for the study; 409 if its confirmed sessions cannot train one."""
    study, _ = study_role(db, who, body.study, "train")
    models = service_models(service.settings.data_dir)
    try:
        base = resolve(body.base or default_model(models), models)
    except ModelError as error:
        raise HTTPException(422, f"base: {error}") from None
    if body.version and (models / base.name / body.version).exists():
        raise HTTPException(
            409, f"{base.name}@{body.version} exists; choose another version or leave it out"
        )
    try:
        check_trainable(confirmed_sessions(db, service.blobs, study.id), study.name)
    except TrainingError as error:
        raise HTTPException(409, str(error)) from None
    options = TrainingOptions.model_validate(body.model_dump(exclude={"study", "base"}))
    job = enqueue(db, study.id, options, base=body.base, requested_by=who.user.id)
    db.commit()
    response.headers["Location"] = f"/v1/models/train/{job.id}"
    return _out(job)


@router.get("/models/train")
def jobs(
    study: Annotated[int, Query(ge=1, le=2**31 - 1)], who: CallerDep, db: DbDep
) -> list[JobOut]:
    """The study's training jobs, newest first."""
    study_role(db, who, study, "train")
    rows = db.scalars(
        select(TrainingRequest)
        .where(TrainingRequest.study_id == study)
        .order_by(TrainingRequest.id.desc())
    )
    return [_out(j) for j in rows]


@router.get("/models/train/{job_id}")
def job(job_id: JobId, who: CallerDep, db: DbDep) -> JobOut:
    return _out(job_role(db, who, job_id))


@router.post("/models/{name}/{version}/promote")
def promote(
    name: Name, version: Version, who: CallerDep, db: DbDep, service: ServiceDep
) -> dict[str, Any]:
    """Make a version that a job of the caller's study trained the service's default, if the
    gate passes; 409 with both versions' event F1 per type when it does not."""
    from cuevision.scheme import load_scheme
    from cuevision.train.gate import judge
    from cuevision.train.gate import promote as promote_version

    spec = f"{name}@{version}"
    made = db.scalar(
        select(TrainingRequest.id)
        .where(TrainingRequest.model == spec, TrainingRequest.state == StageState.DONE)
        .order_by(TrainingRequest.id)
    )
    if made is None:
        raise HTTPException(404, f"no model {spec} trained by a job of your studies")
    job = job_role(db, who, made)
    models, scheme = service_models(service.settings.data_dir), load_scheme()
    try:
        verdict = judge(spec, scheme=scheme, models_dir=models)
        if not verdict.passed:
            raise HTTPException(
                409,
                {
                    "message": f"{spec} is not promoted: its event F1 is below the default "
                    f"{verdict.default}'s on the same {len(verdict.sessions)} sessions; train "
                    "on more confirmed sessions, or promote it with `cuevision models promote "
                    "--force --reason TEXT`",
                    **verdict.to_dict(),
                },
            )
        _, entry = promote_version(spec, scheme=scheme, models_dir=models)
    except ModelError as error:
        raise HTTPException(409, str(error)) from None
    record(
        db,
        who.user.id,
        "model.promote",
        study_id=job.study_id,
        detail={"job": job.id, "from": entry["from"], "to": entry["to"], "gate": entry["gate"]},
    )
    db.commit()
    return entry
