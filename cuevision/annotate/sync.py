"""Push a processed session to Label Studio and pull its annotation back as confirmed events.

Push: OUTDIR (video.json, candidates.csv) -> proxy.mp4 -> a project per scheme, one task per
session (found again by ``data.session``) and one prediction, replaced when the candidates change.
Pull: the task's latest annotation (or the latest of one annotator, for a second coder) + its
parent prediction -> ``confirmed.csv`` (accepted, edited, added) and ``rejected.csv``; then the
metrics and report on the confirmed basis go into ``OUTDIR/confirmed/``, which only the pull
writes (the pipeline owns the candidates' ones). A pull that finds nothing new writes nothing, so
pulling twice (or a webhook plus a pull) changes nothing.

Crash safety: the confirmed metrics record the hash of the ``confirmed.csv`` they rest on, and a
pull that changes the events removes them before it writes the CSVs. A pull killed between the two
therefore leaves no metrics claiming a basis they do not have, and the next pull recomputes them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cuevision.annotate import links
from cuevision.annotate.client import Studio
from cuevision.annotate.clock import ProxyClock
from cuevision.annotate.config import project_fields
from cuevision.annotate.server import LabelStudioSettings, connection
from cuevision.annotate.tasks import model_version_of, prediction, reconcile, task_data
from cuevision.errors import CuevisionError
from cuevision.events import format_events, read_events
from cuevision.files import atomic_path, default_data_dir, write_if_changed
from cuevision.scheme import Scheme, load_scheme
from cuevision.types import Event, VideoInfo

SESSION_FILE = links.SESSION_FILE
PROXY, PROXY_INFO = "proxy.mp4", "proxy.json"
CONFIRMED, REJECTED = "confirmed.csv", "rejected.csv"
CONFIRMED_DIR = "confirmed"  # metrics.json, report.html and tables on the confirmed basis
WEBHOOK_PATH = "/labelstudio/webhook"
ML_PATH = "/ml"
ML_USER = "labelstudio"  # the ML backend's basic-auth user; its password is derived_key(.., "ml")


class SessionError(CuevisionError):
    """An OUTDIR that cannot be pushed or pulled; the message says what is missing."""


@dataclass(frozen=True)
class SyncSettings:
    """Where our API is (as Label Studio reaches it), our data folder, and Label Studio."""

    data_dir: Path = field(default_factory=default_data_dir)
    api_url: str = "http://127.0.0.1:8000"
    labelstudio: LabelStudioSettings = field(default_factory=LabelStudioSettings)
    link_ttl_s: float = 7 * 24 * 3600.0
    callback_url: str | None = None  # how Label Studio's server reaches us, if not api_url
    state: links.LoopState | None = None  # default: the data folder's files

    @property
    def loop(self) -> links.LoopState:
        return self.state if self.state is not None else links.FolderState(self.data_dir)

    @property
    def webhook_url(self) -> str:
        return (self.callback_url or self.api_url).rstrip("/") + WEBHOOK_PATH

    @property
    def ml_url(self) -> str:
        return (self.callback_url or self.api_url).rstrip("/") + ML_PATH


@dataclass(frozen=True)
class PushResult:
    session_id: str
    project_id: int
    task_id: int
    prediction_id: int
    candidates: int
    new_task: bool
    new_prediction: bool
    task_url: str
    ml_backend: bool = False  # whether Label Studio could connect to our /ml as the ML backend


@dataclass(frozen=True)
class PullResult:
    session_id: str
    annotated: bool
    changed: bool
    counts: dict[str, int]
    annotator: str | None


def session_state(outdir: Path, loop: links.LoopState | None = None) -> dict[str, Any]:
    """The session's Label Studio state (``labelstudio.json``, or the store's row for a service
    session); empty before its first push."""
    try:
        return loop.read_session(outdir) if loop else links.read_session_file(outdir)
    except CuevisionError as error:
        raise SessionError(str(error)) from None


def _session(outdir: Path, loop: links.LoopState | None = None) -> dict[str, Any]:
    state = session_state(outdir, loop)
    if not state:
        raise SessionError(
            f"{outdir} was never pushed to Label Studio (no {SESSION_FILE}); "
            f"run `cuevision annotate push {outdir}` first"
        )
    return state


def session_id_of(outdir: Path, loop: links.LoopState | None = None) -> str:
    return str(_session(outdir, loop)["session_id"])


def _candidates(outdir: Path, scheme: Scheme) -> tuple[VideoInfo, list[Event]]:
    if not outdir.is_dir():
        raise SessionError(f"{outdir}: no such folder; give the OUTDIR of `cuevision process`")
    for name in ("video.json", "candidates.csv"):
        if not (outdir / name).is_file():
            raise SessionError(
                f"{outdir} has no {name}; run `cuevision process VIDEO -o {outdir}` first"
            )
    try:
        source = VideoInfo.load(outdir / "video.json")
    except (ValueError, TypeError) as error:
        raise SessionError(f"{outdir / 'video.json'} is not a VideoInfo: {error}") from None
    return source, read_events(outdir / "candidates.csv", scheme)


def proxy_clock(outdir: Path, source: VideoInfo) -> ProxyClock:
    """The proxy's frame grid, making ``proxy.mp4`` (CFR H.264) from the source on first use."""
    info_path = outdir / PROXY_INFO
    mute = (  # made before proxies kept the sound: made again, the same frames and clock
        info_path.is_file()
        and source.has_audio
        and Path(source.path).is_file()
        and not VideoInfo.load(info_path).has_audio
    )
    if mute or not info_path.is_file():
        from cuevision.video import make_cfr_proxy, probe

        if (outdir / PROXY).is_file() and not mute:
            info = probe(outdir / PROXY)
        else:
            if not Path(source.path).is_file():
                raise SessionError(
                    f"the source video {source.path} named in {outdir / 'video.json'} is gone; "
                    "the annotators' proxy is made from it"
                )
            with atomic_path(outdir / PROXY) as partial:
                make_cfr_proxy(Path(source.path), partial)
            info = probe(outdir / PROXY)
        write_if_changed(info_path, json.dumps(info.to_dict(), indent=2) + "\n")
    info = VideoInfo.load(info_path)
    return ProxyClock(fps=info.nominal_fps, n_frames=info.n_frames)


def video_url(settings: SyncSettings, session_id: str, now: float | None = None) -> str:
    secret = settings.loop.secret()
    expires = (time.time() if now is None else now) + settings.link_ttl_s
    return f"{settings.api_url.rstrip('/')}/video/{links.sign(secret, session_id, expires)}"


def push(
    outdir: Path,
    scheme: Scheme,
    settings: SyncSettings,
    scheme_path: Path | None = None,
    session_id: str | None = None,
) -> PushResult:
    """Create the project if missing, then create or refresh the session's task and prediction.

    ``session_id`` is the service's own id for its sessions (else one is made on first push).
    Checks everything (files, then Label Studio) before it writes anything.
    """
    outdir = Path(outdir).resolve()
    source, candidates = _candidates(outdir, scheme)
    studio = Studio(connection(settings.labelstudio))
    studio.check()
    clock = proxy_clock(outdir, source)
    state = session_state(outdir, settings.loop)
    session_id = session_id or state.get("session_id") or secrets.token_hex(8)

    project_id = studio.ensure_project(project_fields(scheme))
    secret = settings.loop.secret()
    studio.ensure_webhook(
        project_id,
        settings.webhook_url,
        {links.WEBHOOK_HEADER: links.derived_key(secret, "webhook")},
    )
    ml_backend = studio.ensure_ml_backend(
        project_id, settings.ml_url, ML_USER, links.derived_key(secret, "ml")
    )
    settings.loop.register(session_id, outdir)

    data = task_data(session_id, video_url(settings, session_id), clock.fps, outdir.name)
    task = studio.task(int(state["task_id"])) if state.get("task_id") else None
    if task is None or (task.get("data") or {}).get("session") != session_id:
        task = studio.find_task(project_id, session_id)
    new_task = task is None
    task_id = studio.create_task(project_id, data) if task is None else int(task["id"])
    if task is not None:
        studio.update_task(task_id, data)

    wanted = prediction(candidates, clock, model_version_of(candidates))
    existing = studio.predictions(task_id)
    same = [
        p
        for p in existing
        if p["model_version"] == wanted["model_version"] and p["result"] == wanted["result"]
    ]
    if len(existing) == 1 and same:
        prediction_id, new_prediction = int(same[0]["id"]), False
    else:
        for old in existing:
            studio.delete_prediction(int(old["id"]))
        prediction_id, new_prediction = studio.create_prediction(task_id, wanted), True

    state = {
        "session_id": session_id,
        "labelstudio_url": studio.conn.url,
        "project_id": project_id,
        "task_id": task_id,
        "prediction_id": prediction_id,
        "scheme": str(scheme_path.resolve()) if scheme_path else None,
    }
    settings.loop.write_session(outdir, state)
    return PushResult(
        session_id=session_id,
        project_id=project_id,
        task_id=task_id,
        prediction_id=prediction_id,
        candidates=len(candidates),
        new_task=new_task,
        new_prediction=new_prediction,
        task_url=f"{studio.conn.url}/projects/{project_id}/data?task={task_id}",
        ml_backend=ml_backend,
    )


def _latest(annotations: list[dict[str, Any]]) -> dict[str, Any] | None:
    done = [a for a in annotations if not a.get("was_cancelled")]
    return max(done, key=lambda a: (str(a.get("updated_at")), int(a["id"]))) if done else None


def _annotator(annotation: dict[str, Any]) -> str | None:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("id"))
    return None if who is None else str(who)


def _chosen(task: dict[str, Any], annotator: str | None, outdir: Path) -> dict[str, Any] | None:
    """The task's latest annotation, or the latest by ``annotator`` (an email) if one is named.

    A named annotator with no annotation on the task is an error that lists who did annotate, so a
    mistyped email never removes a ``confirmed.csv``.
    """
    annotations = task.get("annotations") or []
    if annotator is None:
        return _latest(annotations)
    theirs = _latest([a for a in annotations if _annotator(a) == annotator])
    if theirs is None:
        others = sorted({str(_annotator(a)) for a in annotations if not a.get("was_cancelled")})
        raise SessionError(
            f"task {task.get('id')} of {outdir} has no annotation by {annotator} "
            f"(annotated by: {', '.join(others) or 'nobody yet'}); check --annotator"
        )
    return theirs


def pull(outdir: Path, settings: SyncSettings, annotator: str | None = None) -> PullResult:
    """Fetch the session's current annotation (``annotator``'s, if given) and write what it
    confirms and rejects."""
    outdir = Path(outdir).resolve()
    if not outdir.is_dir():
        raise SessionError(f"{outdir}: no such folder; give a pushed OUTDIR")
    state = _session(outdir, settings.loop)
    scheme = load_scheme(state.get("scheme"))
    source, _ = _candidates(outdir, scheme)
    session_id = str(state["session_id"])
    studio = Studio(connection(settings.labelstudio))
    studio.check()
    task = studio.task(int(state["task_id"]))
    if task is None or (task.get("data") or {}).get("session") != session_id:
        raise SessionError(
            f"Label Studio at {studio.conn.url} has no task for session {session_id} of {outdir}; "
            f"push it again with `cuevision annotate push {outdir}`"
        )
    annotation = _chosen(task, annotator, outdir)
    if annotation is None:
        changed = False
        for path in (
            outdir / CONFIRMED_DIR / "metrics.json",
            outdir / CONFIRMED,
            outdir / REJECTED,
        ):
            if path.is_file():
                path.unlink()
                changed = True
        return PullResult(session_id, annotated=False, changed=changed, counts={}, annotator=None)

    predictions = {int(p["id"]): p for p in task.get("predictions") or []}
    parent = predictions.get(int(annotation.get("parent_prediction") or -1))
    if parent is None and predictions:  # the parent was replaced by a later push
        parent = predictions[max(predictions)]
    found = reconcile(
        annotation.get("result") or [],
        (parent or {}).get("result") or [],
        clock=proxy_clock(outdir, source),
        scheme=scheme,
        annotator=_annotator(annotation),
        model_version=(parent or {}).get("model_version"),
    )
    texts = {CONFIRMED: format_events(found.confirmed), REJECTED: format_events(found.rejected)}
    basis = hashlib.sha256(texts[CONFIRMED].encode()).hexdigest()
    changed = not _confirmed_metrics_rest_on(outdir, basis)
    if changed:
        (outdir / CONFIRMED_DIR / "metrics.json").unlink(missing_ok=True)  # before the CSVs
    for name, text in texts.items():
        changed |= write_if_changed(outdir / name, text)
    if changed:
        _recompute_metrics(outdir, found.confirmed, scheme, source, annotation, basis)
    counts = dict(Counter(str(e.status) for e in (*found.confirmed, *found.rejected)))
    return PullResult(
        session_id,
        annotated=True,
        changed=changed,
        counts=counts,
        annotator=_annotator(annotation),
    )


def _confirmed_metrics_rest_on(outdir: Path, basis: str) -> bool:
    """Whether ``confirmed/metrics.json`` exists and rests on events hashing to ``basis``."""
    try:
        metrics = json.loads((outdir / CONFIRMED_DIR / "metrics.json").read_text())
        return bool(metrics["provenance"]["confirmed_sha256"] == basis)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _recompute_metrics(
    outdir: Path,
    confirmed: list[Event],
    scheme: Scheme,
    source: VideoInfo,
    annotation: dict[str, Any],
    basis: str,
) -> None:
    from cuevision.report import write_session_outputs

    features = outdir / "features.parquet"
    write_session_outputs(
        outdir / CONFIRMED_DIR,
        confirmed,
        scheme=scheme,
        duration_s=source.duration_s,
        basis="confirmed",
        signals=features if features.is_file() else None,
        provenance={
            "labelstudio_annotation": annotation.get("id"),
            "annotation_updated_at": annotation.get("updated_at"),
            "confirmed_sha256": basis,
        },
        title=f"Session {outdir.name}",
    )
