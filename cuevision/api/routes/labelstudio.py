"""Label Studio -> us: the webhook receiver; admin -> us: push and pull of a session.

Webhooks are fire-once, so a webhook only triggers the same reconcile that ``annotate pull`` runs
(in the background, after answering): whichever of the two runs last writes the same files.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, HTTPException, Request
from pydantic import BaseModel

from cuevision.annotate import links
from cuevision.annotate.client import WEBHOOK_ACTIONS
from cuevision.annotate.sync import (
    PullResult,
    PushResult,
    SessionError,
    SyncSettings,
    pull,
    push,
    session_state,
)
from cuevision.api.deps import same
from cuevision.api.settings import ApiSettings
from cuevision.scheme import load_scheme
from cuevision.store.audit import record
from cuevision.store.loop import StoreState

router = APIRouter(tags=["labelstudio"])
log = logging.getLogger(__name__)
ACTIONS = {*WEBHOOK_ACTIONS, "ANNOTATIONS_CREATED"}  # also accept the bulk-create action


MAX_WEBHOOK_BYTES = 1 << 20  # Label Studio's payloads are a few kB; more is not Label Studio


def loop_of(request: Request) -> links.LoopState:
    """The app's loop state: the store under the service, else the data folder's files."""
    state: links.LoopState = request.app.state.loop
    return state


def sync_of(request: Request) -> SyncSettings:
    settings: ApiSettings = request.app.state.settings
    return dataclasses.replace(settings.sync, state=loop_of(request))


def key_of(request: Request, purpose: str) -> str:
    return links.derived_key(loop_of(request).secret(), purpose)


def _check(header: str | None, request: Request, purpose: str) -> None:
    """401 unless ``header`` is the purpose's key (compared as bytes: non-ASCII is just wrong)."""
    if header is None or not same(header, key_of(request, purpose)):
        raise HTTPException(status_code=401, detail=f"missing or wrong {purpose} secret header")


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object, read only up to ``limit`` bytes (413 past it, 422 if bad)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the body is over {limit} bytes")
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(422, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise HTTPException(422, "the body must be a JSON object")
    return payload


def _task_ids(payload: dict[str, Any]) -> set[int]:
    ids: set[int] = set()
    for key in ("task", "annotation", "annotations"):
        items = payload.get(key)
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, dict):
                continue
            task = item.get("task") if key != "task" else item.get("id")
            task = task.get("id") if isinstance(task, dict) else task
            if isinstance(task, int):
                ids.add(task)
    return ids


def _affected(loop: links.LoopState, payload: dict[str, Any]) -> list[Path]:
    """OUTDIRs the event may touch: by task id, else every session of the project."""
    project = payload.get("project")
    project_id = project.get("id") if isinstance(project, dict) else project
    tasks = _task_ids(payload)
    found = []
    for outdir in loop.registered().values():
        try:
            state = session_state(outdir, loop)
        except SessionError:  # a broken session must not stop the others' reconcile
            log.exception("skipping %s", outdir)
            continue
        if not state:  # registered, but its labelstudio.json is gone
            continue
        if state.get("task_id") in tasks or (not tasks and state.get("project_id") == project_id):
            found.append(outdir)
    return found


def _pull(request: Request, outdir: Path, sync: SyncSettings) -> None:
    """Pull an OUTDIR; a service session's confirmed events also go into the store."""
    loop = loop_of(request)
    session_id = loop.service_session(outdir) if isinstance(loop, StoreState) else None
    if session_id is None:
        pull(outdir, sync)
        return
    from cuevision.api.routes.annotation import pull_session
    from cuevision.store.models import Session

    service = request.app.state.service
    with service.db() as db:
        session = db.get(Session, session_id)
        if session is not None:
            done = pull_session(db, service, sync, session)
            record(
                db,
                None,
                "session.pull",
                study_id=session.study_id,
                session_id=session.id,
                detail={"webhook": True, "changed": done.changed},
            )
            db.commit()


def _reconcile(request: Request, outdirs: list[Path]) -> None:
    sync = sync_of(request)
    for outdir in outdirs:
        with request.app.state.locks[str(outdir)]:
            try:
                _pull(request, outdir, sync)
            except Exception:  # a later pull catches up; the webhook has no one to tell
                log.exception("reconcile of %s after a webhook failed", outdir)


@router.post(
    "/labelstudio/webhook",
    status_code=202,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}
    },
)
async def webhook(
    request: Request,
    background: BackgroundTasks,
    secret: Annotated[str | None, Header(alias=links.WEBHOOK_HEADER)] = None,
) -> dict[str, Any]:
    """ANNOTATION_CREATED/UPDATED and ANNOTATIONS_DELETED -> reconcile the sessions they touch.

    The secret is checked before the body is read, and the body is read only up to 1 MiB.
    """
    _check(secret, request, "webhook")
    payload = await read_json(request, MAX_WEBHOOK_BYTES)
    action = payload.get("action")
    if action not in ACTIONS:
        return {"action": action, "sessions": 0}
    outdirs = _affected(loop_of(request), payload)
    background.add_task(_reconcile, request, outdirs)
    return {"action": action, "sessions": len(outdirs)}


class SessionRequest(BaseModel):
    outdir: Path
    scheme: Path | None = None


@router.post("/annotate/push")
def push_session(
    body: SessionRequest,
    request: Request,
    token: Annotated[str | None, Header(alias=links.ADMIN_HEADER)] = None,
) -> PushResult:
    """Push a processed OUTDIR on this machine (as ``cuevision annotate push``)."""
    _check(token, request, "admin")
    with request.app.state.locks[str(body.outdir.resolve())]:
        return push(body.outdir, load_scheme(body.scheme), sync_of(request), body.scheme)


@router.post("/annotate/pull")
def pull_session(
    body: SessionRequest,
    request: Request,
    token: Annotated[str | None, Header(alias=links.ADMIN_HEADER)] = None,
) -> PullResult:
    """Reconcile a pushed OUTDIR with Label Studio now (as ``cuevision annotate pull``)."""
    _check(token, request, "admin")
    with request.app.state.locks[str(body.outdir.resolve())]:
        return pull(body.outdir, sync_of(request))
