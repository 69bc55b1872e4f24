"""The embedded runner: threads inside ``cuevision serve`` that take stage runs from the database.

A runner claims a stage run with a compare-and-set UPDATE (portable to SQLite and PostgreSQL),
which gives it a lease; a heartbeat extends the lease and saves progress while the stage runs. A
runner that dies (``kill -9``) stops renewing, its lease expires and any runner takes the stage
again, which the pipeline's manifest makes safe. A failure is retried after an exponential
backoff; the third failed attempt (a poison video, or three crashes) marks the stage failed with
its reason, which the session page shows.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import traceback
from dataclasses import dataclass

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.orm import Session as Db

from cuevision.errors import CuevisionError
from cuevision.jobs.tasks import TaskContext, execute
from cuevision.store.db import sessions
from cuevision.store.models import StageRun, StageState, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class RunnerSettings:
    lease_s: float = 60.0
    heartbeat_s: float = 10.0
    backoff_s: float = 5.0  # the first retry's wait; doubled for each later one
    poll_s: float = 1.0


class Runner:
    """Claims and runs stage runs until :meth:`stop`; one thread per runner."""

    def __init__(self, engine: Engine, context: TaskContext, settings: RunnerSettings) -> None:
        self.db = sessions(engine)
        self.context = context
        self.settings = settings
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cuevision-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the database went away for a moment: try again later
                log.exception("runner loop")
                worked = False
            if not worked:
                self._stop.wait(self.settings.poll_s)

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
                if earlier is not None:
                    continue
                if run.state == StageState.RUNNING and run.attempts >= MAX_ATTEMPTS:
                    self._fail(db, run, "stopped 3 times before finishing (crash or timeout)")
                    continue
                taken = db.execute(
                    update(StageRun)
                    .where(
                        StageRun.id == run.id,
                        StageRun.state == run.state,
                        StageRun.attempts == run.attempts,
                    )
                    .values(
                        state=StageState.RUNNING,
                        lease_owner=self.owner,
                        lease_expires_at=now + self.settings.lease_s,
                        attempts=run.attempts + 1,
                        updated_at=utcnow(),
                    )
                )
                db.commit()
                if taken.rowcount == 1:
                    return run.id
        return None

    def _fail(self, db: Db, run: StageRun, reason: str) -> None:
        run.state, run.error, run.lease_owner = StageState.FAILED, reason, None
        run.updated_at = utcnow()
        db.commit()

    def run_once(self) -> bool:
        """Claim and run one stage run; False when there was nothing to do."""
        run_id = self.claim()
        if run_id is None:
            return False
        progress = [0, 0]
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(run_id, progress, done), daemon=True)
        beat.start()
        try:
            with self.db() as db:
                run = db.get(StageRun, run_id)
                assert run is not None
                try:
                    execute(
                        db,
                        self.context,
                        run,
                        lambda d, t: progress.__setitem__(slice(0, 2), [d, t]),
                    )
                except Exception as error:
                    db.rollback()
                    self._retry_or_fail(run_id, error)
        finally:
            done.set()
            beat.join()
        return True

    def _retry_or_fail(self, run_id: int, error: Exception) -> None:
        reason = (
            str(error) if isinstance(error, CuevisionError) else f"{type(error).__name__}: {error}"
        )
        log.warning("stage run %s failed: %s\n%s", run_id, reason, traceback.format_exc())
        with self.db() as db:
            run = db.get(StageRun, run_id)
            if run is None:
                return
            if run.attempts >= MAX_ATTEMPTS:
                self._fail(db, run, reason)
                return
            run.state, run.error, run.lease_owner = StageState.PENDING, reason, None
            run.not_before = time.time() + self.settings.backoff_s * 2 ** (run.attempts - 1)
            run.updated_at = utcnow()
            db.commit()

    def _heartbeat(self, run_id: int, progress: list[int], done: threading.Event) -> None:
        while not done.wait(self.settings.heartbeat_s):
            try:
                with self.db() as db:
                    db.execute(
                        update(StageRun)
                        .where(StageRun.id == run_id, StageRun.lease_owner == self.owner)
                        .values(
                            lease_expires_at=time.time() + self.settings.lease_s,
                            progress_done=progress[0],
                            progress_total=progress[1],
                        )
                    )
                    db.commit()
            except Exception:  # a missed beat only shortens the lease
                log.exception("heartbeat of stage run %s", run_id)
