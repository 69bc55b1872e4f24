"""What is runnable now, for the Celery runner: a session's next stage, or its landmark chunks.

The database holds every job's state; the broker only carries ids. :func:`advance` reads a
session's stage runs and returns what may run now (creating the chunk runs of its landmark stage
when that stage's turn comes), without sending anything; the queue sends it, after each task and
from a periodic :func:`sweep`, so a message that was lost (Redis restarted without its data) is
sent again, and a duplicate send is harmless: the task's compare-and-set claim lets only one
delivery work. A chunk that failed its attempts fails the landmark stage, naming the chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as Db

from cuevision.jobs.runner import Row, due, fail
from cuevision.jobs.tasks import TaskContext, chunk_file, chunks_of, named_for_people, runs_of
from cuevision.store.models import (
    ChunkRun,
    Session,
    StageRun,
    StageState,
    TrainingRequest,
    utcnow,
)
from cuevision.types import VideoInfo


@dataclass(frozen=True)
class Dispatch:
    """One message to send: run row ``row_id`` of ``kind`` (a stage run, a chunk run, a training
    job) in ``countdown`` seconds; ``attempts`` tells a retry's send from the first one."""

    kind: Literal["stage", "chunk", "train"]
    row_id: int
    attempts: int
    countdown: float


KINDS: dict[type[Row], Literal["stage", "chunk", "train"]] = {
    StageRun: "stage",
    ChunkRun: "chunk",
    TrainingRequest: "train",
}


def _dispatch(row: Row, now: float) -> Dispatch:
    kind = KINDS[type(row)]
    wait = max(0.0, row.not_before - now) if row.state == StageState.PENDING else 0.0
    return Dispatch(kind, row.id, row.attempts, wait)


def planned(db: Db, context: TaskContext, session: Session) -> list[ChunkRun]:
    """The session's chunk runs, planned on first use with this context's chunking; later the
    rows are the plan, whatever another process's settings. Two advances at once insert them
    once (the unique session and index)."""
    from cuevision.landmarks.chunks import plan_chunks

    assert context.chunking is not None
    rows = chunks_of(db, session.id)
    if rows:
        return rows
    key = context.chunk_key(session)
    info = VideoInfo.from_dict(session.video_info)
    cut = context.chunking
    restart_s = context.landmark_settings.restart_s
    for chunk in plan_chunks(
        info, chunk_s=cut.chunk_s, overlap_s=cut.overlap_s, restart_s=restart_s
    ):
        db.add(
            ChunkRun(
                session_id=session.id,
                index=chunk.index,
                start_s=chunk.start_s,
                end_s=chunk.end_s,
                key=key,
            )
        )
    try:
        db.commit()
    except IntegrityError:  # planned by a concurrent advance
        db.rollback()
    return chunks_of(db, session.id)


def advance(db: Db, context: TaskContext, session_id: str) -> list[Dispatch]:
    """What of session ``session_id`` may run now: its first unfinished stage, or that stage's
    unfinished chunks while the landmark stage waits for them."""
    session = db.get(Session, session_id)
    if session is None:
        return []
    now = time.time()
    runs = runs_of(db, session_id)
    if any(r.state == StageState.FAILED for r in runs):
        return []
    run = next((r for r in runs if r.state != StageState.DONE), None)
    if run is None:
        return []
    if run.stage == "landmarks" and context.chunking is not None:
        chunks = planned(db, context, session)
        broken = next((c for c in chunks if c.state == StageState.FAILED), None)
        if broken is not None:
            span = f"{broken.start_s:.0f}-{broken.end_s:.0f} s"
            fail(db, run, f"chunk {broken.index + 1} of {len(chunks)} ({span}): {broken.error}")
            return []
        _progress(db, run, chunks)
        waiting = [c for c in chunks if c.state != StageState.DONE]
        if waiting:
            return [_dispatch(c, now) for c in waiting if due(c, now)]
    return [_dispatch(run, now)] if due(run, now) else []


def _progress(db: Db, run: StageRun, chunks: list[ChunkRun]) -> None:
    """The landmark stage's progress is its chunks' (the session page shows the stage's)."""
    done = sum(c.progress_total if c.state == StageState.DONE else c.progress_done for c in chunks)
    total = sum(c.progress_total for c in chunks)
    if (run.progress_done, run.progress_total) != (done, total):
        run.progress_done, run.progress_total = done, total
        db.commit()


def sweep(db: Db, context: TaskContext) -> list[Dispatch]:
    """What every unfinished session may run now, and the oldest training job when none runs
    (training jobs share the service's models folder, so they run one at a time)."""
    unfinished = (StageState.PENDING, StageState.RUNNING)
    open_sessions = db.scalars(
        select(StageRun.session_id).where(StageRun.state.in_(unfinished)).distinct()
    ).all()
    found = [d for session_id in open_sessions for d in advance(db, context, session_id)]
    now = time.time()
    jobs = db.scalars(
        select(TrainingRequest)
        .where(TrainingRequest.state.in_(unfinished))
        .order_by(TrainingRequest.id)
    ).all()
    if not any(j.state == StageState.RUNNING and not due(j, now) for j in jobs):
        found += [_dispatch(j, now) for j in jobs if due(j, now)][:1]
    return found


def execute_chunk(
    db: Db, context: TaskContext, row: ChunkRun, progress: Callable[[int, int], None]
) -> None:
    """Extract one chunk's landmarks into its chunk file and record it done. The file is written
    atomically and named by the chunk plan's key, so a chunk whose file exists (its worker died
    after writing) is recorded without being extracted again."""
    from cuevision.files import make_private_dir
    from cuevision.landmarks.chunks import Chunk, extract_chunk

    session = db.get(Session, row.session_id)
    if session is None:  # deleted while queued
        return
    path = chunk_file(context, row)
    if not path.is_file():
        make_private_dir(path.parent)
        with named_for_people(context, session):
            extract_chunk(
                context.blobs.video(session.sha256),
                Chunk(row.index, row.start_s, row.end_s),
                path,
                settings=context.landmark_settings,
                info=VideoInfo.from_dict(session.video_info),
                progress=progress,
            )
    row.state, row.error, row.lease_owner, row.lease_expires_at = StageState.DONE, None, None, None
    row.updated_at = utcnow()
    db.commit()
