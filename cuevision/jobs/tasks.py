"""One stage of one session as an idempotent task, run through the pipeline's own stage functions.

A task runs :func:`cuevision.pipeline.run_stage` in the session's blob folder, which keeps the
pipeline's crash safety (struck from the manifest before writing, recorded after). Its database
side (artifacts, event rows, the stage's key) is replaced in one transaction, so a task that runs
twice (a crash after writing but before recording) leaves the same rows, and the unique
constraints make a duplicate impossible rather than unlikely.

Under the Celery runner a session's landmark stage may have chunk runs (planned and run by
:mod:`cuevision.jobs.chunked`, as :class:`Chunking` says); the stage is then the stitch of their
files, under a key that includes the chunk plan's.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as Db

from cuevision.errors import CuevisionError
from cuevision.landmarks.chunks import DEFAULT_CHUNK_S, DEFAULT_OVERLAP_S
from cuevision.pipeline import (
    STAGES,
    LandmarkSource,
    ProcessSettings,
    Stage,
    landmark_settings,
    plan,
    prepare,
    read_candidates,
    run_stage,
    stage_key,
)
from cuevision.scheme import Scheme
from cuevision.store.blobs import BlobStore
from cuevision.store.events import replace_events
from cuevision.store.models import Artifact, ChunkRun, Session, StageRun, StageState, utcnow
from cuevision.types import VideoInfo

if TYPE_CHECKING:
    from cuevision.detect import Detector
    from cuevision.landmarks import LandmarkSettings


CHUNKS = "chunks"  # the chunk files' folder in a session's blob folder, until the stitch


@dataclass(frozen=True)
class Chunking:
    """The landmark stage in time chunks of ``chunk_s`` seconds, ``overlap_s`` at each seam."""

    chunk_s: float = DEFAULT_CHUNK_S
    overlap_s: float = DEFAULT_OVERLAP_S


@dataclass(frozen=True)
class TaskContext:
    """What every task needs besides the database: where blobs are and how to process."""

    blobs: BlobStore
    scheme: Scheme
    settings: ProcessSettings
    detector: Callable[[], Detector]  # loaded once per runner, on first use
    # a session's last stage is done (the automatic push); under Celery, Jobs calls it after
    # the lease, once per session at a time, rather than the stage
    on_done: Callable[[str], None] | None = None
    chunking: Chunking | None = None  # None: the landmark stage in one piece

    @property
    def landmark_settings(self) -> LandmarkSettings:
        return landmark_settings(self.scheme, self.settings)

    def chunk_key(self, session: Session) -> str:
        """The chunk plan's key: the video's content, the landmark code and settings, and the
        chunk length and overlap; chunk files are named by it."""
        from cuevision.landmarks import LANDMARKS_VERSION

        assert self.chunking is not None
        cut = (self.chunking.chunk_s, self.chunking.overlap_s)
        settings = self.landmark_settings
        return stage_key("chunks", session.sha256, LANDMARKS_VERSION, settings.hash, cut)


def enqueue(db: Db, session_id: str) -> None:
    """A pending stage run for each stage of a new session; ``db.info["enqueued"]`` lists it for
    whoever sends work once the transaction commits (the Celery runner)."""
    for position, name in enumerate(STAGES):
        db.add(StageRun(session_id=session_id, stage=name, position=position))
    db.info.setdefault("enqueued", []).append(session_id)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def stages_of(
    context: TaskContext, session: Session, chunks: Sequence[ChunkRun] = ()
) -> dict[str, Stage]:
    """The session's pipeline plan, by stage name; with ``chunks``, the landmark stage is their
    stitch, and every later stage's key follows the chunk plan's."""
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
        landmarks=_stitched(context, session, chunks) if chunks else None,
    )
    return {s.name: s for s in stages}


def chunk_file(context: TaskContext, chunk: ChunkRun) -> Path:
    """Where a chunk run writes its chunk file: named by its plan's key and its index."""
    folder = context.blobs.session_dir(chunk.session_id) / CHUNKS
    return folder / f"{chunk.index:04d}-{chunk.key}.parquet"


def _stitched(context: TaskContext, session: Session, rows: Sequence[ChunkRun]) -> LandmarkSource:
    """The landmark stage as the stitch of the chunk files that the chunk runs made."""
    from cuevision.landmarks.chunks import Chunk
    from cuevision.landmarks.stitch import stitch

    chunks = [Chunk(r.index, r.start_s, r.end_s) for r in rows]

    def write(out: Path, progress: Callable[[int, int], None]) -> None:
        stitch(
            [chunk_file(context, r) for r in rows],
            out,
            settings=context.landmark_settings,
            info=VideoInfo.from_dict(session.video_info),
            video=context.blobs.video(session.sha256),
            chunks=chunks,
        )

    return LandmarkSource(rows[0].key, write)


@contextmanager
def named_for_people(context: TaskContext, session: Session) -> Iterator[None]:
    """A stage's error names the clinician's file, not our blob path."""
    try:
        yield
    except CuevisionError as error:
        video = str(context.blobs.video(session.sha256))
        raise CuevisionError(str(error).replace(video, session.filename)) from None


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
    chunks = chunks_of(db, session.id)
    stage = stages_of(context, session, chunks)[run.stage]
    with named_for_people(context, session):
        run_stage(stage.outputs[0].parent, stage, lambda name, done, total: progress(done, total))
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
    if chunks and run.stage == "landmarks":  # stitched and recorded: the chunk files are spent
        shutil.rmtree(context.blobs.session_dir(session.id) / CHUNKS, ignore_errors=True)
    if run.stage == STAGES[-1] and context.on_done is not None:
        context.on_done(session.id)


def chunks_of(db: Db, session_id: str) -> list[ChunkRun]:
    """The session's chunk runs in order; none unless the Celery runner chunked its landmarks."""
    query = select(ChunkRun).where(ChunkRun.session_id == session_id).order_by(ChunkRun.index)
    return list(db.scalars(query))


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
