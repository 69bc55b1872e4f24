"""The service side of the app: store, blob folder, cookie signer, and the job runners (embedded
threads, or under ``--runner celery`` the sweep that feeds ``cuevision worker`` processes)."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session as Db

from cuevision.api.config import ServiceSettings
from cuevision.api.deps import Service
from cuevision.files import make_private_dir
from cuevision.store.blobs import BlobStore
from cuevision.store.db import make_engine, require_current, sessions
from cuevision.store.people import service_secret
from cuevision.types import RESTART_S

if TYPE_CHECKING:
    from cuevision.annotate.sync import SyncSettings
    from cuevision.detect import Detector
    from cuevision.detect.registry import ModelRef
    from cuevision.jobs.runner import Runner
    from cuevision.jobs.tasks import TaskContext

log = logging.getLogger(__name__)


def open_service(settings: ServiceSettings) -> Service:
    """Connect to the store; a database behind this code is refused, naming the upgrade."""
    make_private_dir(settings.data_dir)
    engine = make_engine(settings.url)
    require_current(engine)
    factory = sessions(engine)
    with factory() as db:
        key = service_secret(db, "cookie")
    return Service(
        settings=settings,
        engine=engine,
        db=factory,
        blobs=BlobStore(settings.blob_dir),
        signer=URLSafeTimedSerializer(key, salt="cuevision-web"),
    )


def service_model(settings: ServiceSettings) -> ModelRef:
    """The model the service processes with: the default of its own registry (``DATA/models``,
    where training jobs write and promotions point). It is read when ``serve`` or a worker
    starts, so a promotion takes effect at their next start."""
    from cuevision.detect.registry import default_model, resolve
    from cuevision.jobs.training import service_models

    models = service_models(settings.data_dir)
    return resolve(default_model(models), models)


def task_context(
    settings: ServiceSettings,
    model: str,
    on_done: Callable[[str], None] | None = None,
    *,
    chunked: bool = False,
    one_core: bool = False,
) -> TaskContext:
    """What the tasks need to process; ``chunked``: the landmark stage in the settings' chunks
    (the Celery runner; 0 s chunks keep it whole); ``one_core``: poses in the worker's own
    process, for one worker per core."""
    from cuevision.jobs.tasks import Chunking, TaskContext
    from cuevision.pipeline import ProcessSettings
    from cuevision.scheme import load_scheme

    scheme = load_scheme()

    @cache
    def detector() -> Detector:
        from cuevision.detect import load_detector

        return load_detector(model, scheme=scheme)

    chunking = Chunking(settings.chunk_s, settings.chunk_overlap_s) if settings.chunk_s else None
    # the chunk length is the trackers' restart period for every session, chunked or not
    restart_s = settings.chunk_s or RESTART_S
    processing = ProcessSettings(model=model, pose_process=not one_core, restart_s=restart_s)
    blobs = BlobStore(settings.blob_dir)
    return TaskContext(blobs, scheme, processing, detector, on_done, chunking if chunked else None)


def pusher(service: Service, sync: SyncSettings) -> Callable[[str], None] | None:
    """What follows a session's last stage, in the embedded runners and in ``cuevision worker``
    alike: its push to Label Studio, when the service has one (``CUEVISION_LABELSTUDIO``)."""
    if not service.settings.labelstudio:
        return None

    def pushed(session_id: str) -> None:
        from cuevision.api.routes.annotation import auto_push

        auto_push(service, sync, session_id)

    return pushed


def runners(service: Service, model: str, sync: SyncSettings | None = None) -> list[Runner]:
    """The embedded runners; with ``sync``, each processed session is pushed to Label Studio."""
    from cuevision.jobs.runner import Runner, RunnerSettings

    s = service.settings
    context = task_context(s, model, pusher(service, sync) if sync is not None else None)
    timing = RunnerSettings(lease_s=s.lease_s, heartbeat_s=s.heartbeat_s, backoff_s=s.backoff_s)
    found = [Runner(service.engine, context, timing) for _ in range(s.runners)]
    if s.runners:  # and one thread for training jobs, which then run one at a time
        from cuevision.jobs.training import TrainingRunner

        found.append(TrainingRunner(service.engine, context, timing, s.data_dir))
    return found


@contextmanager
def worker_context(
    settings: ServiceSettings, sync: SyncSettings, model: str, *, one_core: bool = False
) -> Iterator[TaskContext]:
    """A ``cuevision worker``'s task context: the landmark stage chunked, and each processed
    session pushed to Label Studio as ``serve`` would push it (``sync``: built from the same
    options and environment as serve's, with the store's loop state)."""
    from cuevision.store.loop import StoreState

    service = open_service(settings) if settings.labelstudio else None
    pushed = None
    if service is not None:
        pushed = pusher(
            service, dataclasses.replace(sync, state=StoreState(service.db, service.blobs))
        )
    try:
        yield task_context(settings, model, pushed, chunked=True, one_core=one_core)
    finally:
        if service is not None:
            service.engine.dispose()


@contextmanager
def celery_sends(service: Service, model: str) -> Iterator[None]:
    """Under ``--runner celery``: a new session's first stage is sent once its upload commits,
    and a sweep sends what was lost, retried, orphaned or asked for (training); ``cuevision
    worker`` processes do the work."""
    from cuevision.jobs.queue import Jobs, Sweeper, configure

    configure(service.settings)
    jobs = Jobs(service.settings, task_context(service.settings, model, chunked=True))

    def committed(db: Db) -> None:
        for session_id in db.info.pop("enqueued", ()):
            try:
                jobs.advance(session_id)
            except Exception:  # Redis away: the sweep sends it
                log.warning("could not send session %s; the sweep will", session_id, exc_info=True)

    event.listen(service.db, "after_commit", committed)
    sweeper = Sweeper(jobs, service.settings.sweep_s)
    sweeper.start()
    try:
        yield
    finally:
        sweeper.stop()
        event.remove(service.db, "after_commit", committed)
        jobs.close()


def lifespan(service: Service, model: str) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        if service.settings.runner == "celery":
            with celery_sends(service, model):
                yield
            service.engine.dispose()
            return
        sync = dataclasses.replace(app.state.settings.sync, state=app.state.loop)
        started = runners(service, model, sync)
        for runner in started:
            runner.start()
        yield
        for runner in started:
            runner.stop()
        service.engine.dispose()

    return run


class RedactTokens(logging.Filter):
    """Access logs show ``/video/<redacted>``: a signed link is a credential."""

    PATTERN = re.compile(r"(/video/)[^\s/?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub(r"\1<redacted>", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True
