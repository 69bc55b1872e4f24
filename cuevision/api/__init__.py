"""The FastAPI service: ``create_app(settings)`` builds it; nothing is created at import time.

Routes: the annotators' proxy video (signed links), the Label Studio webhook receiver, push and
pull of sessions, and Label Studio's ML-backend protocol under ``/ml``. With ``service`` (the
store's settings) also the ``/v1`` API, the web pages and the embedded job runners.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from cuevision import __version__
from cuevision.annotate.links import FolderState
from cuevision.annotate.server import LabelStudioError
from cuevision.api.config import ServiceSettings
from cuevision.api.routes import (
    annotation,
    labelstudio,
    ml,
    models,
    pages,
    sessions,
    studies,
    video,
)
from cuevision.api.service import lifespan, open_service, service_model
from cuevision.api.settings import ApiSettings
from cuevision.errors import CuevisionError
from cuevision.store.loop import StoreState

__all__ = ["ApiSettings", "ServiceSettings", "create_app"]


def create_app(settings: ApiSettings, service: ServiceSettings | None = None) -> FastAPI:
    """A new app bound to ``settings`` (available to routes as ``request.app.state.settings``)."""
    opened = open_service(service) if service is not None else None
    if opened is not None:  # the ML backend reports the model the service processes with
        model = service_model(opened.settings)
        settings = dataclasses.replace(settings, model=f"{model.name}@{model.version}")
    app = FastAPI(
        title="cuevision",
        version=__version__,
        lifespan=lifespan(opened, str(model.folder)) if opened else None,
    )
    app.state.settings = settings
    app.state.locks = defaultdict(threading.Lock)  # one writer per OUTDIR at a time
    # the loop's secret, registry and training requests: the store's under the service
    app.state.loop = (
        StoreState(opened.db, opened.blobs) if opened else FolderState(settings.data_dir)
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.origins),
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["Range"],
        expose_headers=["Content-Range", "Content-Length", "Accept-Ranges"],
    )
    app.include_router(video.router)
    app.include_router(labelstudio.router)
    app.include_router(ml.router, prefix="/ml")
    if opened is not None:
        app.state.service = opened
        app.include_router(studies.router)
        app.include_router(sessions.router)
        app.include_router(annotation.router)
        app.include_router(models.router)
        pages.mount(app)

    @app.exception_handler(LabelStudioError)
    def _unreachable(request: Request, error: LabelStudioError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503)

    @app.exception_handler(CuevisionError)
    def _bad_input(request: Request, error: CuevisionError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=400)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "UP", "version": __version__}

    return app
