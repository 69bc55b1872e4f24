"""The service side of the app: store, blob folder, cookie signer, and the embedded job runners."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer

from cuevision.api.config import ServiceSettings
from cuevision.api.deps import Service
from cuevision.files import make_private_dir
from cuevision.store.blobs import BlobStore
from cuevision.store.db import make_engine, require_current, sessions
from cuevision.store.people import service_secret

if TYPE_CHECKING:
    from cuevision.annotate.sync import SyncSettings
    from cuevision.detect import Detector
    from cuevision.jobs.runner import Runner


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


def runners(service: Service, model: str, sync: SyncSettings | None = None) -> list[Runner]:
    """The embedded runners; with ``sync``, each processed session is pushed to Label Studio."""
    from cuevision.jobs.runner import Runner, RunnerSettings
    from cuevision.jobs.tasks import TaskContext
    from cuevision.pipeline import ProcessSettings
    from cuevision.scheme import load_scheme

    scheme = load_scheme()

    @cache
    def detector() -> Detector:
        from cuevision.detect import load_detector

        return load_detector(model, scheme=scheme)

    s = service.settings

    def pushed(session_id: str) -> None:
        from cuevision.api.routes.annotation import auto_push

        if sync is not None:
            auto_push(service, sync, session_id)

    context = TaskContext(service.blobs, scheme, ProcessSettings(model=model), detector, pushed)
    timing = RunnerSettings(lease_s=s.lease_s, heartbeat_s=s.heartbeat_s, backoff_s=s.backoff_s)
    return [Runner(service.engine, context, timing) for _ in range(s.runners)]


def lifespan(service: Service, model: str) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
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
