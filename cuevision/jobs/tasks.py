"""One stage of one session as an idempotent task, run through the pipeline's own stage functions.

A task runs :func:`cuevision.pipeline.run_stage` in the session's blob folder, which keeps the
pipeline's crash safety (struck from the manifest before writing, recorded after). Its database
side (artifacts, event rows, the stage's key) is replaced in one transaction, so a task that runs
twice (a crash after writing but before recording) leaves the same rows, and the unique
constraints make a duplicate impossible rather than unlikely.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as Db

from cuevision.errors import CuevisionError
from cuevision.pipeline import (
    STAGES,
    ProcessSettings,
    Stage,
    plan,
    prepare,
    read_candidates,
    run_stage,
)
from cuevision.scheme import Scheme
from cuevision.store.blobs import BlobStore
from cuevision.store.events import replace_events
from cuevision.store.models import Artifact, Session, StageRun, StageState, utcnow
from cuevision.types import VideoInfo

if TYPE_CHECKING:
    from cuevision.detect import Detector


@dataclass(frozen=True)
class TaskContext:
    """What every task needs besides the database: where blobs are and how to process."""

    blobs: BlobStore
    scheme: Scheme
    settings: ProcessSettings
    detector: Callable[[], Detector]  # loaded once per runner, on first use
    on_done: Callable[[str], None] | None = None  # a session's last stage is done (auto push)


def enqueue(db: Db, session_id: str) -> None:
    """A pending stage run for each stage of a new session."""
    for position, name in enumerate(STAGES):
        db.add(StageRun(session_id=session_id, stage=name, position=position))


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def stages_of(context: TaskContext, session: Session) -> dict[str, Stage]:
    """The session's pipeline plan, by stage name."""
    outdir = context.blobs.session_dir(session.id)
    prepare(outdir)
    stages = plan(
        context.blobs.video(session.sha256),
        outdir,
        scheme=context.scheme,
        settings=context.settings,
        info=VideoInfo.from_dict(session.video_info),
        detector=context.detector(),
        title=f"{session.dyad_id}: {session.filename}",
    )
    return {s.name: s for s in stages}


def execute(
    db: Db,
    context: TaskContext,
    run: StageRun,
    progress: Callable[[int, int], None],
) -> None:
    """Run one stage and record what it made; raises whatever the stage raised."""
    session = db.get(Session, run.session_id)
    if session is None:  # deleted while queued
        return
    stage = stages_of(context, session)[run.stage]
    try:
        run_stage(stage.outputs[0].parent, stage, lambda name, done, total: progress(done, total))
    except CuevisionError as error:  # shown to the clinician: their file's name, not our paths
        video = str(context.blobs.video(session.sha256))
        raise CuevisionError(str(error).replace(video, session.filename)) from None
    db.execute(
        delete(Artifact).where(Artifact.session_id == session.id, Artifact.stage == run.stage)
    )
    for path in stage.outputs:
        db.add(
            Artifact(
                session_id=session.id,
                stage=run.stage,
                name=path.name,
                sha256=_digest(path),
                size_bytes=path.stat().st_size,
            )
        )
    if run.stage == "detect":
        replace_events(db, session.id, "candidates", read_candidates(stage.outputs[0].parent))
    run.key = stage.key
    run.state = StageState.DONE
    run.error = None
    run.lease_owner = None
    run.lease_expires_at = None
    run.updated_at = utcnow()
    db.commit()
    if run.stage == STAGES[-1] and context.on_done is not None:
        context.on_done(session.id)


def runs_of(db: Db, session_id: str) -> list[StageRun]:
    return list(
        db.scalars(
            select(StageRun).where(StageRun.session_id == session_id).order_by(StageRun.position)
        )
    )


def status_of(runs: list[StageRun]) -> str:
    """queued, processing, done or failed: what the session lists show."""
    states = {r.state for r in runs}
    if StageState.FAILED in states:
        return "failed"
    if states == {StageState.DONE}:
        return "done"
    if StageState.RUNNING in states or StageState.DONE in states:
        return "processing"
    return "queued"
