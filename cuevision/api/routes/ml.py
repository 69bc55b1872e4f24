"""Label Studio's ML-backend protocol, so annotators can ask for predictions from its UI.

``/predict`` answers with each session's stored candidates (what ``process`` found and ``push``
sent), converted exactly as push converts them; it runs no model, so the API needs no torch and
the UI shows the same regions the task was imported with. START_TRAINING is recorded in the loop's
state: under the service it enqueues a training job for each study with sessions in the project
(:mod:`cuevision.jobs.training`, the same job as ``POST /v1/models/train``); without one it is a
line of the folder's ``training-requests.jsonl``.

Every route needs HTTP basic auth, the credential ``annotate push`` gives Label Studio when it
connects the backend (user ``labelstudio``, password derived from the loop's secret); a missing or
wrong one is a 401.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from cuevision.annotate import links
from cuevision.annotate.clock import ProxyClock
from cuevision.annotate.sync import ML_USER, PROXY_INFO
from cuevision.annotate.tasks import model_version_of, prediction
from cuevision.api.deps import same
from cuevision.api.routes.labelstudio import key_of, loop_of, read_json
from cuevision.api.settings import ApiSettings
from cuevision.errors import CuevisionError
from cuevision.events import read_events
from cuevision.types import VideoInfo

_basic = HTTPBasic(auto_error=False, realm="cuevision ML backend")


def label_studio(
    request: Request, given: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
) -> None:
    """401 unless the caller is Label Studio with the credential push gave it."""
    if (
        given is None
        or not same(given.username, ML_USER)
        or not same(given.password, key_of(request, "ml"))
    ):
        raise HTTPException(
            401,
            "missing or wrong ML backend credential; run `cuevision annotate push` again",
            {"WWW-Authenticate": 'Basic realm="cuevision ML backend"'},
        )


router = APIRouter(tags=["ml-backend"], dependencies=[Depends(label_studio)])


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


def _task_prediction(
    settings: ApiSettings, state: links.LoopState, task: dict[str, Any]
) -> dict[str, Any]:
    empty = {"result": [], "score": 0.0, "model_version": _version(settings)}
    session = str((task.get("data") or {}).get("session", ""))
    outdir = state.lookup(session)
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
    settings, state = _settings(request), loop_of(request)
    return {"results": [_task_prediction(settings, state, t) for t in body.tasks]}


@router.post(
    "/webhook",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}
    },
)
async def training_webhook(request: Request) -> dict[str, str]:
    """Record START_TRAINING (under the service: enqueue training jobs); ignore other events.

    The body is read up to 64 kB; only the project's id is kept.
    """
    body = await read_json(request, 64 << 10)
    action = str(body.get("action", ""))
    if action == "START_TRAINING":
        project = body.get("project")
        project_id = project.get("id") if isinstance(project, dict) else project
        known = isinstance(project_id, int) and 0 < project_id < 2**31
        loop_of(request).record_training(project_id if known else None)
        return {"status": "recorded"}
    return {"status": "ignored"}


@router.get("/versions")
def versions(request: Request) -> dict[str, list[str]]:
    """Model versions in the registry plus those that made the registered sessions' candidates."""
    from cuevision.detect.registry import list_models

    settings = _settings(request)
    found = {_version(settings)} | {m.partition("@")[2] or m for m in list_models()}
    for outdir in loop_of(request).registered().values():
        try:
            found.add(model_version_of(read_events(outdir / "candidates.csv")))
        except CuevisionError:
            continue
    return {"versions": sorted(found)}
