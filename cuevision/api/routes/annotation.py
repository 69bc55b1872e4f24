"""``/v1`` push and pull of a service session to and from Label Studio, and the automatic push.

A session's blob folder is its OUTDIR, so push and pull are :mod:`cuevision.annotate.sync`'s own;
the task, project and confirmed events are then recorded in the store. The proxy is made from the
session's video blob (never from a path in ``video.json``, which holds none).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.orm import Session as Db

from cuevision.annotate.sync import PROXY, PullResult, PushResult, SyncSettings, pull, push
from cuevision.api.deps import CallerDep, DbDep, Service, ServiceDep, SessionId, session_role
from cuevision.api.routes.labelstudio import sync_of
from cuevision.events import read_events
from cuevision.files import atomic_path
from cuevision.jobs.tasks import runs_of, status_of
from cuevision.scheme import load_scheme
from cuevision.store.audit import record
from cuevision.store.events import replace_events
from cuevision.store.models import Session

router = APIRouter(prefix="/v1", tags=["labelstudio"])
log = logging.getLogger(__name__)


def _outdir(service: Service, session: Session) -> Path:
    """The session's OUTDIR with the annotators' proxy made from its video blob."""
    outdir = service.blobs.session_dir(session.id)
    if not (outdir / PROXY).is_file():
        from cuevision.video import make_cfr_proxy

        with atomic_path(outdir / PROXY) as partial:
            make_cfr_proxy(service.blobs.video(session.sha256), partial)
    return outdir


def push_session(db: Db, service: Service, sync: SyncSettings, session: Session) -> PushResult:
    """Push a processed session (its id is the task's ``data.session``); the store's loop state
    records its project and task on the session's row."""
    done = push(_outdir(service, session), load_scheme(), sync, session_id=session.id)
    db.refresh(session)
    return done


def pull_session(db: Db, service: Service, sync: SyncSettings, session: Session) -> PullResult:
    """Pull the session's annotation; its confirmed events replace the stored ones."""
    outdir = service.blobs.session_dir(session.id)
    done = pull(outdir, sync)
    confirmed = outdir / "confirmed.csv"
    replace_events(
        db, session.id, "confirmed", read_events(confirmed) if confirmed.is_file() else []
    )
    return done


def _ready(db: Db, service: Service, session: Session, request: Request) -> SyncSettings:
    if status_of(runs_of(db, session.id)) != "done":
        raise HTTPException(409, f"session {session.id} is not processed yet; push it when done")
    if not service.settings.labelstudio:
        raise HTTPException(
            409, "this service has no Label Studio; start serve with CUEVISION_LABELSTUDIO=1"
        )
    return sync_of(request)


@router.post("/sessions/{session_id}/labelstudio/push")
def push_route(
    session_id: SessionId, request: Request, who: CallerDep, db: DbDep, service: ServiceDep
) -> PushResult:
    """Create or refresh the session's Label Studio task and its prediction."""
    session, _ = session_role(db, who, session_id, "annotate")
    done = push_session(db, service, _ready(db, service, session, request), session)
    record(
        db,
        who.user.id,
        "session.push",
        study_id=session.study_id,
        session_id=session.id,
        detail={"task": done.task_id},
    )
    db.commit()
    return done


@router.post("/sessions/{session_id}/labelstudio/pull")
def pull_route(
    session_id: SessionId, request: Request, who: CallerDep, db: DbDep, service: ServiceDep
) -> PullResult:
    """Write the session's confirmed events from its current annotation."""
    session, _ = session_role(db, who, session_id, "annotate")
    sync = _ready(db, service, session, request)
    if session.labelstudio_task_id is None:
        raise HTTPException(409, f"session {session.id} was never pushed; push it first")
    done = pull_session(db, service, sync, session)
    record(
        db,
        who.user.id,
        "session.pull",
        study_id=session.study_id,
        session_id=session.id,
        detail={"changed": done.changed, "counts": done.counts},
    )
    db.commit()
    return done


def auto_push(service: Service, sync: SyncSettings, session_id: str) -> None:
    """After the last stage: push the session when the service has Label Studio. A failure is
    logged, never the stage's: the session is processed, and a manual push can follow."""
    if not service.settings.labelstudio:
        return
    try:
        with service.db() as db:
            session = db.get(Session, session_id)
            if session is None:
                return
            done = push_session(db, service, sync, session)
            record(
                db,
                None,
                "session.push",
                study_id=session.study_id,
                session_id=session.id,
                detail={"task": done.task_id, "automatic": True},
            )
            db.commit()
    except Exception:
        log.exception("automatic push of session %s failed", session_id)
