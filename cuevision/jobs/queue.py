"""The Celery runner: the app and all its settings, the tasks, and the sends that feed them.

The database holds every job's state; a message carries only a row's id. A task claims its stage
run or chunk run through the same compare-and-set lease as the embedded runner
(:class:`cuevision.jobs.runner.Lease`), works, then asks :func:`cuevision.jobs.chunked.advance`
what its session may run next and sends that. A sweep (in every worker and in ``serve``) sends
whatever is runnable and was not sent: work whose message was lost with Redis, a retry after its
backoff, or a row whose worker died (its lease ran out). A Redis key per (row, attempt) marks a
send, so the sweep does not queue the same work twice while Redis holds its message; should both
happen, the second delivery finds the row claimed, done or failed, and does nothing.

Delivery is at least once: a worker killed mid-chunk leaves its message unacknowledged, and
Redis hands it out again after the visibility timeout, or the sweep re-sends the row as soon as
its lease runs out, whichever is first.

A session's last stage done, the worker pushes it to Label Studio (the context's ``on_done``) after
the lease, under a Redis lock per session: two deliveries of that stage never push at once, so
they never make two tasks, and a redelivery pushes a session only if it was never pushed (its
worker died first).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import redis
from celery import Celery
from sqlalchemy.orm import Session as Db

from cuevision.jobs.chunked import KINDS, Dispatch, advance, execute_chunk, sweep
from cuevision.jobs.runner import Lease, Leased, Loop, RunnerSettings
from cuevision.jobs.tasks import execute
from cuevision.pipeline import STAGES
from cuevision.store.models import ChunkRun, Session, StageRun, StageState

if TYPE_CHECKING:
    from cuevision.jobs.tasks import TaskContext

log = logging.getLogger(__name__)

app = Celery("cuevision", set_as_current=False)


class Config(Protocol):
    """What the queue reads of the service's settings (``cuevision.api.config.ServiceSettings``,
    from the same ``CUEVISION_*`` variables in ``serve`` and in every worker)."""

    @property
    def url(self) -> str: ...  # the database
    @property
    def data_dir(self) -> Path: ...
    @property
    def broker_url(self) -> str: ...
    @property
    def visibility_timeout_s(self) -> float: ...
    @property
    def lease_s(self) -> float: ...
    @property
    def heartbeat_s(self) -> float: ...
    @property
    def backoff_s(self) -> float: ...
    @property
    def sweep_s(self) -> float: ...


def configure(settings: Config) -> Celery:
    """Point the app at the service's broker, with what at-least-once delivery needs. The app
    is one per process, so a second service in it (the tests) first drops the connections that
    the app and its producers keep to the first one's broker: Celery has no public call for it."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    app.conf.update(
        broker_url=settings.broker_url,
        # acknowledge after the task returns, not when it starts: a worker killed mid-chunk
        # leaves its message unacknowledged, so the broker delivers it again
        task_acks_late=True,
        # a pool child that dies (kill -9, out of memory) re-queues its task rather than
        # acknowledging it as failed (the solo pool that `cuevision worker` runs dies whole)
        task_reject_on_worker_lost=True,
        # a worker reserves one message at a time: a 5-minute chunk never holds back another
        # message that an idle worker could run
        worker_prefetch_multiplier=1,
        # Redis re-delivers an unacknowledged message after this long; more than 3x the longest
        # chunk's work (ServiceSettings checks it), so a running chunk is not handed to a
        # second worker, yet a dead worker's chunk comes back within the hour at worst
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        # bounded retry with backoff: a send while Redis restarts waits 0.2, 0.7, 1.2 ... s, 6
        # times; a task's own failures are retried by the lease (3 attempts, backoff_s doubling)
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 6,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 2.0,
        },
        # a worker waits for its broker rather than exiting when Redis is away at start or later
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # no result backend: the database is the record of every job
        task_ignore_result=True,
        # ids only, as JSON: no pickle from the broker
        task_serializer="json",
        accept_content=["json"],
        # a worker's running chunk finishes when Redis drops; its lease and row record it
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # no events to a monitor nobody runs
        worker_send_task_events=False,
    )
    return app


class Jobs:
    """One process's side of the queue: its database, task context and lease, and the sends."""

    def __init__(self, settings: Config, context: TaskContext) -> None:
        from cuevision.store.db import make_engine, require_current, sessions

        self.settings = settings
        self.engine = make_engine(settings.url)
        require_current(self.engine)
        self.db = sessions(self.engine)
        self.pushed = context.on_done  # called by push, after the lease, not inside the stage
        self.context = dataclasses.replace(context, on_done=None)
        timing = RunnerSettings(
            lease_s=settings.lease_s, heartbeat_s=settings.heartbeat_s, backoff_s=settings.backoff_s
        )
        self.lease = Lease(self.db, timing)
        self.redis = redis.Redis.from_url(settings.broker_url)

    def run(self, model: Leased, row_id: int) -> None:
        """A task's body: claim the row, work, then send what its session may run next."""
        took = None
        if self.lease.claim_id(model, row_id):
            started = time.perf_counter()
            self.lease.run(model, row_id, self._work)
            took = time.perf_counter() - started
        with self.db() as db:
            row = db.get(model, row_id)
            if row is None:
                return
            if took is not None:  # benchmarks/scale.py reads these lines
                what = row.stage if isinstance(row, StageRun) else f"chunk {row.index}"
                log.info("%s of %s %s in %.2f s", what, row.session_id, row.state, took)
            if row.state == StageState.PENDING:  # delivered before its backoff ended: send again
                self.redis.delete(_marker(KINDS[model], row.id, row.attempts))
            session_id = row.session_id
            processed = isinstance(row, StageRun) and row.stage == STAGES[-1]
            processed = processed and row.state == StageState.DONE
        try:
            self.advance(session_id)
        except Exception:  # Redis away: the work is recorded, and the sweep sends what is next
            log.warning("could not send the next work of %s; the sweep will", session_id)
        if processed:
            self.push(session_id, redelivered=took is None)

    def push(self, session_id: str, *, redelivered: bool) -> None:
        """Push a processed session to Label Studio, one push of a session at a time across
        workers; a ``redelivered`` last stage (done before this delivery) only if the session
        was never pushed. A failure is logged, never the stage's: a manual push still works."""
        if self.pushed is None:
            return
        try:
            lock = self.redis.lock(
                f"cuevision:push:{session_id}",
                timeout=self.settings.visibility_timeout_s,  # a dead worker's lock runs out
                blocking=False,
            )
            if not lock.acquire():
                log.info("session %s is being pushed by another worker", session_id)
                return
            try:
                if not (redelivered and self._was_pushed(session_id)):
                    self.pushed(session_id)
            finally:
                lock.release()
        except Exception:  # Redis or the database away
            log.exception("automatic push of session %s did not run; push it by hand", session_id)

    def _was_pushed(self, session_id: str) -> bool:
        with self.db() as db:
            session = db.get(Session, session_id)
            return session is None or session.labelstudio_task_id is not None

    def train(self, job_id: int) -> None:
        """A training task's body: the training job under its lease (one at a time: the sweep
        sends the next once this one is done)."""
        from cuevision.jobs.training import run_training_job

        run_training_job(
            self.db,
            job_id,
            blobs=self.context.blobs,
            data_dir=self.settings.data_dir,
            scheme=self.context.scheme,
            settings=self.lease.settings,
        )
        self.sweep()

    def _work(self, db: Db, row: StageRun | ChunkRun, progress: Callable[[int, int], None]) -> None:
        if isinstance(row, StageRun):
            execute(db, self.context, row, progress)
        else:
            execute_chunk(db, self.context, row, progress)

    def advance(self, session_id: str) -> int:
        with self.db() as db:
            return self.send(advance(db, self.context, session_id))

    def sweep(self) -> int:
        with self.db() as db:
            return self.send(sweep(db, self.context))

    def send(self, dispatches: Iterable[Dispatch]) -> int:
        """Send each dispatch not yet sent (a Redis key per row and attempt); the count sent."""
        sent = 0
        for d in dispatches:
            marker = _marker(d.kind, d.row_id, d.attempts)
            if not self.redis.set(marker, 1, nx=True, ex=int(self.settings.visibility_timeout_s)):
                continue
            try:
                TASKS[d.kind].apply_async((d.row_id,), countdown=d.countdown or None)
            except BaseException:
                self.redis.delete(marker)
                raise
            sent += 1
        return sent

    def close(self) -> None:
        self.redis.close()
        self.engine.dispose()


def _marker(kind: str, row_id: int, attempts: int) -> str:
    return f"cuevision:sent:{kind}:{row_id}:{attempts}"


class Sweeper(Loop):
    """Sweeps every ``every_s`` seconds in a thread until :meth:`stop`; the first at once."""

    def __init__(self, jobs: Jobs, every_s: float) -> None:
        super().__init__("cuevision-sweep", every_s)
        self.jobs = jobs

    def run_once(self) -> bool:
        self.jobs.sweep()
        return False  # the next sweep after the wait, whatever this one sent


_worker: list[Jobs] = []  # the worker process's, set by run_worker before it consumes


def run_worker(settings: Config, context: TaskContext, loglevel: str = "INFO") -> None:
    """Consume tasks in this process until a signal stops it (SIGTERM: after the current task).

    The solo pool runs one task at a time in this very process: a landmark chunk already keeps
    two cores busy (this process and its pose process), the detector stays loaded between
    tasks, and ``kill -9`` of a worker is the death of the process that runs the chunk. Scale by
    starting more workers (one per two cores), not by a wider pool.
    """
    configure(settings)
    jobs = Jobs(settings, context)
    _worker[:] = [jobs]
    sweeper = Sweeper(jobs, settings.sweep_s)
    sweeper.start()
    try:
        app.worker_main(
            [
                "worker",
                "--pool=solo",
                f"--hostname=cuevision-{os.getpid()}@%h",  # several workers on one host
                "--without-gossip",  # no chatter between workers: the database coordinates
                "--without-mingle",
                "--without-heartbeat",
                f"--loglevel={loglevel}",
            ]
        )
    finally:
        sweeper.stop()
        jobs.close()


def _task(kind: str, model: Leased) -> Any:
    @app.task(name=f"cuevision.{kind}", bind=True)
    def run(task: Any, row_id: int) -> None:
        if not _worker:
            raise RuntimeError("cuevision tasks run in `cuevision worker`")
        if (task.request.delivery_info or {}).get("redelivered"):  # its worker died
            log.info("%s %s: redelivered by the broker", kind, row_id)
        _worker[0].run(model, row_id)

    return run


@app.task(name="cuevision.train")
def _train(job_id: int) -> None:
    if not _worker:
        raise RuntimeError("cuevision tasks run in `cuevision worker`")
    _worker[0].train(job_id)


TASKS = {"stage": _task("stage", StageRun), "chunk": _task("chunk", ChunkRun), "train": _train}
