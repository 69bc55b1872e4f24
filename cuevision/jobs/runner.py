"""Leases on job rows, and the embedded runner: threads inside ``cuevision serve``.

A worker (an embedded runner thread, or a Celery task) claims a stage run or a chunk run with a
compare-and-set UPDATE (portable to SQLite and PostgreSQL), which gives it a lease; a heartbeat
extends the lease and saves progress while it works. A worker that dies (``kill -9``) stops
renewing, its lease expires and any worker takes the row again, which the pipeline's manifest
makes safe. A failure is retried after an exponential backoff; the third failed attempt (a poison
video, or three crashes) marks the row failed with its reason, which the session page shows.
:class:`Lease` is the one copy of these rules; the embedded runner and the Celery tasks use it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, and_, or_, select, update
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from cuevision.errors import CuevisionError
from cuevision.jobs.tasks import TaskContext, execute
from cuevision.store.db import sessions
from cuevision.store.models import ChunkRun, StageRun, StageState, TrainingRequest, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
CRASHED = "stopped 3 times before finishing (crash or timeout)"

Row = StageRun | ChunkRun | TrainingRequest  # rows with state, attempts, lease and backoff
Leased = type[Row]
Work = Callable[[Db, Any, Callable[[int, int], None]], None]  # (db, row, progress)


@dataclass(frozen=True)
class RunnerSettings:
    lease_s: float = 60.0
    heartbeat_s: float = 10.0
    backoff_s: float = 5.0  # the first retry's wait; doubled for each later one
    poll_s: float = 1.0


def due(row: Row, now: float) -> bool:
    """Pending and past its backoff, or running under a lease that ran out (its worker died)."""
    if row.state == StageState.PENDING:
        return row.not_before <= now
    return row.state == StageState.RUNNING and (row.lease_expires_at or 0.0) < now


def reason_of(error: BaseException) -> str:
    """What a failed row shows: our own errors as they are, others with their type."""
    return str(error) if isinstance(error, CuevisionError) else f"{type(error).__name__}: {error}"


class Lease:
    """Claims, renews and releases rows of the leased tables for one owner (thread or task)."""

    def __init__(self, db: sessionmaker[Any], settings: RunnerSettings) -> None:
        self.db = db
        self.settings = settings
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"

    def claim(self, db: Db, row: Row) -> bool:
        """Take ``row`` if it is due (compare-and-set on its state and attempts); a row whose
        lease ran out after its last attempt is failed instead."""
        now = time.time()
        if not due(row, now):
            return False
        if row.state == StageState.RUNNING and row.attempts >= MAX_ATTEMPTS:
            fail(db, row, CRASHED)
            return False
        model = type(row)
        taken = db.execute(
            update(model)
            .where(model.id == row.id, model.state == row.state, model.attempts == row.attempts)
            .values(
                state=StageState.RUNNING,
                lease_owner=self.owner,
                lease_expires_at=now + self.settings.lease_s,
                attempts=row.attempts + 1,
                updated_at=utcnow(),
            )
        )
        db.commit()
        return cast("CursorResult[Any]", taken).rowcount == 1

    def claim_id(self, model: Leased, row_id: int) -> bool:
        """Claim the row ``row_id`` (a task's message names only the id); False if gone or not
        due, e.g. a duplicate delivery of work another worker holds or has done."""
        with self.db() as db:
            row = db.get(model, row_id, populate_existing=True)
            return row is not None and self.claim(db, row)

    def run(self, model: Leased, row_id: int, work: Work) -> bool:
        """Do ``work`` on a claimed row under a heartbeat; a failure is retried or, at the third
        attempt, fails the row. True if the work succeeded."""
        progress = [0, 0]
        with self._heartbeat(model, row_id, progress), self.db() as db:
            row = db.get(model, row_id)
            if row is None:  # deleted meanwhile
                return False
            try:
                work(db, row, lambda d, t: progress.__setitem__(slice(0, 2), [d, t]))
            except Exception as error:
                db.rollback()
                self.retry_or_fail(model, row_id, error)
                return False
        return True

    def retry_or_fail(self, model: Leased, row_id: int, error: Exception) -> None:
        reason = reason_of(error)
        trace = traceback.format_exc()
        log.warning("%s %s failed: %s\n%s", model.__tablename__, row_id, reason, trace)
        with self.db() as db:
            row = db.get(model, row_id)
            if row is None:
                return
            if row.attempts >= MAX_ATTEMPTS:
                fail(db, row, reason)
                return
            row.state, row.error, row.lease_owner = StageState.PENDING, reason, None
            row.not_before = time.time() + self.settings.backoff_s * 2 ** (row.attempts - 1)
            row.updated_at = utcnow()
            db.commit()

    @contextmanager
    def _heartbeat(self, model: Leased, row_id: int, progress: list[int]) -> Iterator[None]:
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.settings.heartbeat_s):
                try:
                    with self.db() as db:
                        db.execute(
                            update(model)
                            .where(model.id == row_id, model.lease_owner == self.owner)
                            .values(
                                lease_expires_at=time.time() + self.settings.lease_s,
                                progress_done=progress[0],
                                progress_total=progress[1],
                            )
                        )
                        db.commit()
                except Exception:  # a missed beat only shortens the lease
                    log.exception("heartbeat of %s %s", model.__tablename__, row_id)

        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


def fail(db: Db, row: Row, reason: str) -> None:
    row.state, row.error, row.lease_owner = StageState.FAILED, reason, None
    row.updated_at = utcnow()
    db.commit()


class Loop:
    """A daemon thread that calls :meth:`run_once` until :meth:`stop`, and waits ``wait_s``
    after a round that found nothing to do or failed (the database or Redis away for a moment).
    The service's background work (runners, the Celery sweep) is each one of these."""

    def __init__(self, name: str, wait_s: float) -> None:
        self.wait_s = wait_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self) -> bool:
        """One round; True when it did work, so the next round follows at once."""
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # away for a moment: try again after the wait
                log.exception("%s failed; again in %g s", self._thread.name, self.wait_s)
                worked = False
            if not worked:
                self._stop.wait(self.wait_s)


class Runner(Loop):
    """Claims and runs stage runs until :meth:`stop`; one thread per runner."""

    def __init__(self, engine: Engine, context: TaskContext, settings: RunnerSettings) -> None:
        super().__init__("cuevision-runner", settings.poll_s)
        self.db = sessions(engine)
        self.context = context
        self.settings = settings
        self.lease = Lease(self.db, settings)

    def claim(self) -> int | None:
        """Take the next runnable stage run (its earlier stages done); its id, or None."""
        now = time.time()
        with self.db() as db:
            runnable = db.scalars(
                select(StageRun)
                .where(
                    or_(
                        and_(StageRun.state == StageState.PENDING, StageRun.not_before <= now),
                        and_(StageRun.state == StageState.RUNNING, StageRun.lease_expires_at < now),
                    )
                )
                .order_by(StageRun.id)
                .limit(50)
            ).all()
            for run in runnable:
                earlier = db.scalar(
                    select(StageRun.id).where(
                        StageRun.session_id == run.session_id,
                        StageRun.position < run.position,
                        StageRun.state != StageState.DONE,
                    )
                )
                if earlier is None and self.lease.claim(db, run):
                    return run.id
        return None

    def run_once(self) -> bool:
        """Claim and run one stage run; False when there was nothing to do."""
        run_id = self.claim()
        if run_id is None:
            return False
        self.lease.run(StageRun, run_id, self._execute)
        return True

    def _execute(self, db: Db, run: StageRun, progress: Callable[[int, int], None]) -> None:
        execute(db, self.context, run, progress)
