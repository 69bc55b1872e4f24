"""The Label Studio loop's state in the service's database (a ``links.LoopState``).

The secret is a row of ``secrets``; the registry is the ``sessions`` table itself (a service
session's OUTDIR is its blob folder) plus ``registered_outdirs`` for OUTDIRs that ``annotate push``
sent from elsewhere on this machine; Label Studio's training requests enqueue training jobs
(:func:`cuevision.jobs.training.from_labelstudio`). A service session's project, task
and prediction live in its row (``sessions.labelstudio``), not in a ``labelstudio.json``; an OUTDIR
outside the blob folder keeps its file, which travels with the folder. The CLI uses this store
whenever the data folder has a service database, so ``annotate push`` and ``serve`` share one home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from cuevision.annotate.links import (
    FolderState,
    LoopState,
    check_session_id,
    read_session_file,
    write_session_file,
)
from cuevision.store.blobs import BlobStore
from cuevision.store.db import DB_FILE, make_engine, require_current, sessions, sqlite_url
from cuevision.store.models import RegisteredOutdir, Session
from cuevision.store.people import service_secret

LOOP_SECRET = "loop"


@dataclass(frozen=True)
class StoreState:
    db: sessionmaker[Any]
    blobs: BlobStore

    @cached_property
    def _secret(self) -> bytes:
        with self.db() as db:
            return service_secret(db, LOOP_SECRET)

    def secret(self) -> bytes:
        return self._secret

    def register(self, session_id: str, outdir: Path) -> None:
        check_session_id(session_id, outdir)
        with self.db() as db:
            if db.get(Session, session_id) is not None:
                return  # a service session: its OUTDIR is its blob folder
            row = db.get(RegisteredOutdir, session_id)
            if row is None:
                row = RegisteredOutdir(session_id=session_id, outdir="")
                db.add(row)
            row.outdir = str(Path(outdir).resolve())
            db.commit()

    def lookup(self, session_id: str) -> Path | None:
        if not (session_id.isascii() and session_id.isalnum() and len(session_id) <= 32):
            return None
        with self.db() as db:
            if db.get(Session, session_id) is not None:
                return self.blobs.session_dir(session_id)
            row = db.get(RegisteredOutdir, session_id)
            return Path(row.outdir) if row else None

    def registered(self) -> dict[str, Path]:
        with self.db() as db:
            found = {
                sid: self.blobs.session_dir(sid)
                for sid in db.scalars(
                    select(Session.id).where(Session.labelstudio_task_id.is_not(None))
                )
            }
            for row in db.scalars(select(RegisteredOutdir).order_by(RegisteredOutdir.session_id)):
                found.setdefault(row.session_id, Path(row.outdir))
        return found

    def record_training(self, project_id: int | None) -> None:
        """START_TRAINING: a training job per study with sessions in the project."""
        from cuevision.jobs.training import from_labelstudio

        with self.db() as db:
            from_labelstudio(db, project_id)
            db.commit()

    def service_session(self, outdir: Path) -> str | None:
        """The session id when ``outdir`` is a service session's blob folder."""
        outdir = Path(outdir).resolve()
        return outdir.name if outdir.parent == (self.blobs.root / "sessions").resolve() else None

    def read_session(self, outdir: Path) -> dict[str, Any]:
        session_id = self.service_session(outdir)
        if session_id is None:
            return read_session_file(outdir)
        with self.db() as db:
            row = db.get(Session, session_id)
            return dict(row.labelstudio or {}) if row else {}

    def write_session(self, outdir: Path, state: dict[str, Any]) -> None:
        session_id = self.service_session(outdir)
        if session_id is None:
            write_session_file(outdir, state)
            return
        with self.db() as db:
            row = db.get(Session, session_id)
            if row is None:  # deleted meanwhile: nothing to record it on
                return
            row.labelstudio = state
            row.labelstudio_project_id = int(state["project_id"])
            row.labelstudio_task_id = int(state["task_id"])
            db.commit()


def loop_state(data_dir: Path) -> LoopState:
    """The store when ``data_dir`` has a service database (or ``CUEVISION_DATABASE_URL`` names
    one), else the folder's files: the CLI's choice, made the same way ``serve`` finds its store."""
    url = os.environ.get("CUEVISION_DATABASE_URL") or (
        sqlite_url(data_dir) if (data_dir / DB_FILE).is_file() else None
    )
    if url is None:
        return FolderState(data_dir)
    engine = make_engine(url)
    require_current(engine)
    return StoreState(sessions(engine), BlobStore(data_dir / "blobs"))
