"""``/v1`` sessions: the streaming upload, lists with filters, status, outputs, exports, delete.

The upload body is the video itself (``application/octet-stream``, so the browser's progress bar
and a ``curl --data-binary`` are the same request) and the metadata are query parameters. The body
is streamed into the blob folder, hashed on the way and cut off at the byte cap; the probe runs in
a child process; only then does the session exist.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as Db

from cuevision.api.deps import (
    Caller,
    CallerDep,
    DbDep,
    Service,
    ServiceDep,
    SessionId,
    StudyId,
    may_see_video,
    session_role,
    study_role,
)
from cuevision.api.probing import ProbeRefused, probe_in_child
from cuevision.api.settings import ApiSettings
from cuevision.events import format_events
from cuevision.jobs.tasks import enqueue, runs_of, status_of
from cuevision.store.audit import record
from cuevision.store.blobs import TooLarge
from cuevision.store.models import Consent, EventRow, Session, StageRun
from cuevision.types import Event

router = APIRouter(prefix="/v1", tags=["sessions"])
STATUSES = ("queued", "processing", "done", "failed")
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, bidi marks, unassigned


def clean_filename(raw: str) -> str:
    """A display name for a client's file name: its last path part, no controls or bidi marks,
    at most 200 bytes. It only ever labels the session; files are named by hash."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _HIDDEN).strip(" .")
    while len(name.encode()) > 200:
        name = name[:-1]
    return name or "video"


class SessionMeta(BaseModel):
    """What the uploader tells about the session."""

    model_config = {"extra": "forbid"}

    dyad_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    child_age_months: float | None = Field(default=None, ge=0, le=216)
    recorded_on: dt.date | None = None
    condition: str | None = Field(default=None, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")
    consent: Consent = Consent.PRIVATE
    filename: str = Field(default="video", max_length=1000)


class StageOut(BaseModel):
    stage: str
    state: str
    attempts: int
    done: int
    total: int
    error: str | None


class SessionOut(BaseModel):
    id: str
    study_id: int
    filename: str
    dyad_id: str
    child_age_months: float | None
    recorded_on: dt.date | None
    condition: str | None
    consent: Consent
    sha256: str
    size_bytes: int
    duration_s: float | None
    created_at: dt.datetime
    status: str
    stages: list[StageOut]
    labelstudio_task_id: int | None


class EventOut(BaseModel):
    actor: str
    type: str
    onset_s: float
    offset_s: float
    score: float | None
    model_version: str | None


def session_out(session: Session, runs: list[StageRun]) -> SessionOut:
    return SessionOut(
        id=session.id,
        study_id=session.study_id,
        filename=session.filename,
        dyad_id=session.dyad_id,
        child_age_months=session.child_age_months,
        recorded_on=session.recorded_on,
        condition=session.condition,
        consent=Consent(session.consent),
        sha256=session.sha256,
        size_bytes=session.size_bytes,
        duration_s=session.video_info.get("duration_s"),
        created_at=session.created_at,
        status=status_of(runs),
        stages=[
            StageOut(
                stage=r.stage,
                state=r.state,
                attempts=r.attempts,
                done=r.progress_done,
                total=r.progress_total,
                error=r.error,
            )
            for r in runs
        ],
        labelstudio_task_id=session.labelstudio_task_id,
    )


def _unused(db: Db, sha256: str) -> bool:
    return not db.scalar(select(func.count()).select_from(Session).where(Session.sha256 == sha256))


async def _ingest(request: Request, service: Service) -> tuple[str, int]:
    cap = service.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise HTTPException(413, f"the file is over the limit of {cap} bytes")
    try:
        with service.blobs.ingest(cap) as upload:
            async for chunk in request.stream():
                upload.write(chunk)
    except TooLarge as error:
        raise HTTPException(413, str(error)) from None
    return upload.sha256, upload.size


@router.post(
    "/studies/{study_id}/sessions",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    responses={
        409: {"description": "duplicate"},
        413: {"description": "too large"},
        415: {"description": "not a video"},
    },
)
async def upload(
    study_id: StudyId,
    request: Request,
    meta: Annotated[SessionMeta, Query()],
    who: CallerDep,
    db: DbDep,
    service: ServiceDep,
) -> SessionOut:
    """Upload one session's video; it is queued for processing at once."""
    study, _ = study_role(db, who, study_id, "upload")
    sha256, size = await _ingest(request, service)
    name = clean_filename(meta.filename)
    existing = db.scalar(
        select(Session).where(Session.study_id == study.id, Session.sha256 == sha256)
    )
    if existing is not None:
        raise HTTPException(
            409, f"this video is already session {existing.id} ({existing.filename}) of this study"
        )
    try:
        info = await run_in_threadpool(
            probe_in_child, service.blobs.video(sha256), service.settings.probe_timeout_s
        )
    except ProbeRefused as error:
        if _unused(db, sha256):
            service.blobs.delete_video(sha256)
        reason = str(error).replace(str(service.blobs.video(sha256)), name)
        raise HTTPException(415, reason) from None
    session = Session(
        id=secrets.token_hex(16),
        study_id=study.id,
        uploaded_by=who.user.id,
        filename=name,
        sha256=sha256,
        size_bytes=size,
        dyad_id=meta.dyad_id,
        child_age_months=meta.child_age_months,
        recorded_on=meta.recorded_on,
        condition=meta.condition,
        consent=meta.consent.value,
        video_info={**info, "path": ""},
    )
    db.add(session)
    try:
        db.flush()
    except IntegrityError:  # the same video uploaded twice at the same moment
        db.rollback()
        raise HTTPException(409, "this video is already a session of this study") from None
    enqueue(db, session.id)
    record(
        db,
        who.user.id,
        "session.upload",
        study_id=study.id,
        session_id=session.id,
        detail={"sha256": sha256, "bytes": size},
    )
    db.commit()
    return session_out(session, runs_of(db, session.id))


@router.get("/studies/{study_id}/sessions")
def list_sessions(
    study_id: StudyId,
    who: CallerDep,
    db: DbDep,
    dyad_id: Annotated[str | None, Query(max_length=64)] = None,
    condition: Annotated[str | None, Query(max_length=100)] = None,
    consent: Consent | None = None,
    status: Annotated[str | None, Query(pattern="^(queued|processing|done|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[SessionOut]:
    """The study's sessions, newest first, with their status and stage progress."""
    study_role(db, who, study_id, "read")
    query = select(Session).where(Session.study_id == study_id)
    if dyad_id is not None:
        query = query.where(Session.dyad_id == dyad_id)
    if condition is not None:
        query = query.where(Session.condition == condition)
    if consent is not None:
        query = query.where(Session.consent == consent.value)
    query = query.order_by(Session.created_at.desc(), Session.id)
    if status is None:  # the status is derived from the stage runs: filtered below when asked
        query = query.limit(limit).offset(offset)
    found = list(db.scalars(query))
    runs: dict[str, list[StageRun]] = {s.id: [] for s in found}
    if found:
        ids = list(runs)
        for start in range(0, len(ids), 500):  # bound the IN list
            chunk = ids[start : start + 500]
            for run in db.scalars(
                select(StageRun).where(StageRun.session_id.in_(chunk)).order_by(StageRun.position)
            ):
                runs[run.session_id].append(run)
    out = [session_out(s, runs[s.id]) for s in found]
    if status is None:
        return out
    return [s for s in out if s.status == status][offset : offset + limit]


@router.get("/sessions/{session_id}")
def get_session(session_id: SessionId, who: CallerDep, db: DbDep) -> SessionOut:
    session, _ = session_role(db, who, session_id, "read")
    return session_out(session, runs_of(db, session.id))


@router.delete("/sessions/{session_id}", status_code=204, response_class=Response)
def delete_session(
    session_id: SessionId, request: Request, who: CallerDep, db: DbDep, service: ServiceDep
) -> Response:
    """Delete means gone: video (unless another study holds the same file), every stage output,
    the rows, and the Label Studio task. Only the audit row recording the deletion remains."""
    session, _ = session_role(db, who, session_id, "delete")
    sha256, study_id, task_id = session.sha256, session.study_id, session.labelstudio_task_id
    if task_id is not None and service.settings.labelstudio:  # first: Label Studio down is a 503
        from cuevision.annotate.client import Studio
        from cuevision.annotate.server import connection

        settings: ApiSettings = request.app.state.settings
        Studio(connection(settings.labelstudio)).delete_task(task_id)
    db.delete(session)  # stage runs, artifacts and events cascade in the database
    record(
        db,
        who.user.id,
        "session.delete",
        study_id=study_id,
        session_id=session_id,
        detail={"labelstudio_task": task_id},
    )
    db.flush()
    if _unused(db, sha256):
        service.blobs.delete_video(sha256)
    service.blobs.delete_session(session_id)
    db.commit()
    return Response(status_code=204)


def _output(service: Service, session: Session, name: str) -> Path:
    path = service.blobs.session_dir(session.id) / name
    if not path.is_file():
        raise HTTPException(409, f"session {session.id} has no {name} yet; it is still processing")
    return path


def _events(db: Db, session: Session, basis: str) -> list[EventRow]:
    return list(
        db.scalars(
            select(EventRow)
            .where(EventRow.session_id == session.id, EventRow.basis == basis)
            .order_by(EventRow.seq)
        )
    )


@router.get("/sessions/{session_id}/candidates")
def candidates(session_id: SessionId, who: CallerDep, db: DbDep) -> list[EventOut]:
    session, _ = session_role(db, who, session_id, "read")
    return [
        EventOut.model_validate(e, from_attributes=True) for e in _events(db, session, "candidates")
    ]


@router.get("/sessions/{session_id}/confirmed")
def confirmed(session_id: SessionId, who: CallerDep, db: DbDep) -> list[EventOut]:
    session, _ = session_role(db, who, session_id, "read")
    return [
        EventOut.model_validate(e, from_attributes=True) for e in _events(db, session, "confirmed")
    ]


@router.get("/sessions/{session_id}/metrics")
def metrics(
    session_id: SessionId, who: CallerDep, db: DbDep, service: ServiceDep
) -> dict[str, Any]:
    session, _ = session_role(db, who, session_id, "report")
    data: dict[str, Any] = json.loads(_output(service, session, "metrics.json").read_text())
    return data


# The report is self-contained (inline styles, data: images); nothing else may load or run.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


@router.get("/sessions/{session_id}/report", response_class=FileResponse)
def report(session_id: SessionId, who: CallerDep, db: DbDep, service: ServiceDep) -> FileResponse:
    session, _ = session_role(db, who, session_id, "report")
    path = _output(service, session, "report.html")
    return FileResponse(
        path, media_type="text/html", headers={"Content-Security-Policy": REPORT_CSP}
    )


def _export_events(db: Db, session: Session) -> list[Event]:
    basis = "confirmed" if _events(db, session, "confirmed") else "candidates"
    return [
        Event(e.actor, e.type, e.onset_s, e.offset_s, score=e.score, model_version=e.model_version)  # type: ignore[arg-type]
        for e in _events(db, session, basis)
    ]


def _export(
    db: Db,
    who: Caller,
    session_id: str,
    suffix: str,
    text: Callable[[list[Event]], str],
    media: str,
) -> Response:
    """One export: audited, then the events as an attachment named by the session's id."""
    session, _ = session_role(db, who, session_id, "export")
    record(
        db,
        who.user.id,
        "session.export",
        study_id=session.study_id,
        session_id=session.id,
        detail={"format": suffix},
    )
    db.commit()
    disposition = f'attachment; filename="{session.id}-events.{suffix}"'
    return Response(
        text(_export_events(db, session)),
        media_type=media,
        headers={"Content-Disposition": disposition},
    )


@router.get("/sessions/{session_id}/exports/events.csv", response_class=Response)
def export_csv(session_id: SessionId, who: CallerDep, db: DbDep) -> Response:
    """The events (confirmed where there are any) in the interchange CSV; never video or faces."""
    return _export(db, who, session_id, "csv", format_events, "text/csv")


@router.get("/sessions/{session_id}/exports/events.eaf", response_class=Response)
def export_eaf(session_id: SessionId, who: CallerDep, db: DbDep) -> Response:
    """The events as an ELAN file, one tier per actor and event type."""
    from cuevision.interop.elan import eaf_text

    return _export(db, who, session_id, "eaf", eaf_text, "application/xml")


@router.get("/sessions/{session_id}/video", response_class=FileResponse)
def video(session_id: SessionId, who: CallerDep, db: DbDep, service: ServiceDep) -> FileResponse:
    """The original video, under the session's consent level; every view is audited."""
    session, role = session_role(db, who, session_id, "read")
    if not may_see_video(role, session.consent):
        raise HTTPException(
            403, f"the consent level {session.consent} keeps this video from a {role.value}"
        )
    record(db, who.user.id, "session.video", study_id=session.study_id, session_id=session.id)
    db.commit()
    return FileResponse(service.blobs.video(session.sha256), media_type="video/mp4")
