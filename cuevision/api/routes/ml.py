"""Label Studio's ML-backend protocol, so annotators can ask for predictions from its UI.

``/predict`` answers with each session's stored candidates (what ``process`` found and ``push``
sent), converted exactly as push converts them; it runs no model, so the API needs no torch and
the UI shows the same regions the task was imported with. START_TRAINING is recorded in
``DATA_DIR/training-requests.jsonl`` for the retraining job to pick up.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from cuevision.annotate import links
from cuevision.annotate.clock import ProxyClock
from cuevision.annotate.sync import PROXY_INFO
from cuevision.annotate.tasks import model_version_of, prediction
from cuevision.api.routes.labelstudio import read_json
from cuevision.api.settings import ApiSettings
from cuevision.errors import CuevisionError
from cuevision.events import read_events
from cuevision.files import make_private_dir, write_text
from cuevision.types import VideoInfo

router = APIRouter(tags=["ml-backend"])
TRAINING_REQUESTS = "training-requests.jsonl"


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def _version(settings: ApiSettings) -> str:
    return settings.model.partition("@")[2] or settings.model


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    return {
        "status": "UP",
        "model_class": "cuevision",
        "model_version": _version(_settings(request)),
    }


@router.post("/setup")
def setup(request: Request, body: dict[str, Any] | None = None) -> dict[str, str]:
    """Label Studio connects the backend: tell it which model version answers."""
    return {"model_version": _version(_settings(request))}


def _task_prediction(settings: ApiSettings, task: dict[str, Any]) -> dict[str, Any]:
    empty = {"result": [], "score": 0.0, "model_version": _version(settings)}
    session = str((task.get("data") or {}).get("session", ""))
    outdir = links.lookup(settings.data_dir, session)
    if outdir is None or not (outdir / PROXY_INFO).is_file():
        return empty
    try:
        info = VideoInfo.load(outdir / PROXY_INFO)
        candidates = read_events(outdir / "candidates.csv")
        clock = ProxyClock(info.nominal_fps, info.n_frames)
        return prediction(candidates, clock, model_version_of(candidates))
    except (ValueError, TypeError, KeyError):  # CuevisionError, or a broken proxy.json
        return empty


class PredictRequest(BaseModel):
    """Label Studio's predict call; a task that is not an object is a 422, not a 500."""

    tasks: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)


@router.post("/predict")
def predict(request: Request, body: PredictRequest) -> dict[str, Any]:
    """One result per task, in the order of ``tasks``."""
    settings = _settings(request)
    return {"results": [_task_prediction(settings, t) for t in body.tasks]}


@router.post(
    "/webhook",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}
    },
)
async def training_webhook(request: Request) -> dict[str, str]:
    """Record START_TRAINING (the retraining issue consumes it); ignore other events.

    The body is read up to 64 kB; the log keeps the last 1,000 requests, owner-only.
    """
    settings = _settings(request)
    body = await read_json(request, 64 << 10)
    action = str(body.get("action", ""))
    if action == "START_TRAINING":
        make_private_dir(settings.data_dir)
        path = settings.data_dir / TRAINING_REQUESTS
        project = body.get("project")
        project_id = project.get("id") if isinstance(project, dict) else project
        line = {"received_at": time.time(), "project": {"id": project_id}, "action": action}
        kept = path.read_text().splitlines()[-999:] if path.is_file() else []
        write_text(path, "\n".join([*kept, json.dumps(line, default=str)]) + "\n")
        return {"status": "recorded"}
    return {"status": "ignored"}


@router.get("/versions")
def versions(request: Request) -> dict[str, list[str]]:
    """Model versions in the registry plus those that made the registered sessions' candidates."""
    from cuevision.detect.registry import list_models

    settings = _settings(request)
    found = {_version(settings)} | {m.partition("@")[2] or m for m in list_models()}
    for outdir in links.registered(settings.data_dir).values():
        try:
            found.add(model_version_of(read_events(outdir / "candidates.csv")))
        except CuevisionError:
            continue
    return {"versions": sorted(found)}
