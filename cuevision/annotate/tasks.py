"""Pure adapters between Label Studio's JSON and :class:`~cuevision.types.Event` (no client here).

A candidate becomes one TimelineLabels region whose id is the candidate's id, so a region that
comes back in an annotation says which candidate it came from. Label Studio keeps
``origin: prediction`` on a region even after an annotator moves it, so an edit is found by
comparing the region with the same region of the annotation's parent prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cuevision.annotate.clock import ProxyClock
from cuevision.annotate.config import FROM_NAME, RESULT_TYPE, TO_NAME
from cuevision.errors import CuevisionError
from cuevision.scheme import Scheme
from cuevision.types import Event, Role

Region = dict[str, Any]


class AnnotationError(CuevisionError):
    """An annotation that does not fit the scheme or the session's video."""


def task_data(session_id: str, video_url: str, fps: float, title: str) -> dict[str, Any]:
    """The task's data: ``$video`` and ``$fps`` feed the labeling config, ``session`` finds it."""
    return {"video": video_url, "fps": fps, "session": session_id, "title": title}


def region(event: Event, clock: ProxyClock, region_id: str) -> Region:
    """One event as a TimelineLabels region: its frames on the proxy and its label."""
    start, end = clock.to_frames(event.onset_s, event.offset_s)
    return {
        "id": region_id,
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "type": RESULT_TYPE,
        "value": {"ranges": [{"start": start, "end": end}], "timelinelabels": [event.type]},
    }


def candidate_region(event: Event, clock: ProxyClock) -> Region:
    """One candidate as a TimelineLabels region carrying its own score."""
    if not event.id:
        raise AnnotationError(f"candidate {event} has no id; candidates.csv needs an id column")
    made = region(event, clock, event.id)
    if event.score is not None:
        made["score"] = event.score
    return made


def annotation_result(events: list[Event], clock: ProxyClock, prefix: str) -> list[Region]:
    """A person's own events as an annotation's regions (``origin: manual``), the way Label
    Studio stores what an annotator drew; region ids are ``prefix`` plus a running number."""
    return [
        {**region(e, clock, f"{prefix}{k:04d}"), "origin": "manual"}
        for k, e in enumerate(events, start=1)
    ]


def prediction(candidates: list[Event], clock: ProxyClock, model_version: str) -> dict[str, Any]:
    """The prediction for one task: every candidate as a region, and the overall score.

    The overall score is the mean region score, so Label Studio can sort tasks by confidence.
    """
    regions = [candidate_region(e, clock) for e in candidates]
    scores = [e.score for e in candidates if e.score is not None]
    return {
        "model_version": model_version,
        "score": round(sum(scores) / len(scores), 4) if scores else 0.0,
        "result": regions,
    }


def model_version_of(candidates: list[Event]) -> str:
    """The one model version of a session's candidates (``unknown`` if they carry none)."""
    versions = sorted({e.model_version for e in candidates if e.model_version})
    if len(versions) > 1:
        raise AnnotationError(
            f"candidates come from several model versions ({', '.join(versions)}); "
            "re-run detection so one model made them"
        )
    return versions[0] if versions else "unknown"


@dataclass(frozen=True)
class Reconciled:
    """What an annotation says about a session's candidates."""

    confirmed: list[Event]  # accepted, edited and added
    rejected: list[Event]  # candidates the annotator deleted, with their ids


def _span(region: Region) -> tuple[str, list[tuple[int, int]]]:
    value = region.get("value") or {}
    labels = value.get("timelinelabels") or []
    ranges = value.get("ranges") or []
    if len(labels) != 1 or not ranges:
        raise AnnotationError(
            f"region {region.get('id')!r} needs exactly one label and a frame range, "
            f"got labels {labels} and ranges {ranges}"
        )
    spans = [(round(float(r["start"])), round(float(r["end"]))) for r in ranges]
    return str(labels[0]), sorted(spans)


def _actor(scheme: Scheme, label: str, rid: str) -> Role:
    kind = scheme.event_type(label)
    if kind is None:
        raise AnnotationError(
            f"region {rid!r} has label {label!r}, which scheme {scheme.name!r} does not know; "
            "push again so the project uses this scheme's labeling config"
        )
    return kind.actor


def reconcile(
    result: list[Region],
    parent: list[Region],
    *,
    clock: ProxyClock,
    scheme: Scheme,
    annotator: str | None,
    model_version: str | None,
) -> Reconciled:
    """Annotation regions + the parent prediction's regions -> confirmed and rejected events.

    A region whose id is in the parent is ``accepted`` if its label and frames are unchanged and
    ``edited`` otherwise; any other region is ``added``; a parent region missing from the
    annotation is ``rejected``. Times come from the frames (what the annotator saw).
    """
    ours = [r for r in result if r.get("type") == RESULT_TYPE and r.get("from_name") == FROM_NAME]
    candidates = {str(r["id"]): r for r in parent if r.get("type") == RESULT_TYPE}
    kept: set[str] = set()
    confirmed = []
    for region in ours:
        rid = str(region.get("id"))
        label, spans = _span(region)
        actor = _actor(scheme, label, rid)
        origin = candidates.get(rid)
        if origin is not None:
            kept.add(rid)
            status = "accepted" if _span(origin) == (label, spans) else "edited"
        else:
            status = "added"
        for number, (start, end) in enumerate(spans):
            onset, offset = clock.to_seconds(start, end)
            confirmed.append(
                Event(
                    actor=actor,
                    type=label,
                    onset_s=onset,
                    offset_s=offset,
                    score=origin.get("score") if origin is not None else None,
                    status=status,  # type: ignore[arg-type]  # one of the three literals
                    source="model" if origin is not None else "annotator",
                    annotator=annotator,
                    model_version=model_version if origin is not None else None,
                    id=rid if len(spans) == 1 else f"{rid}.{number + 1}",
                    candidate_id=rid if origin is not None else None,
                )
            )
    rejected = []
    for rid, region in candidates.items():
        if rid in kept:
            continue
        label, spans = _span(region)
        onset, offset = clock.to_seconds(spans[0][0], spans[-1][1])
        rejected.append(
            Event(
                actor=_actor(scheme, label, rid),
                type=label,
                onset_s=onset,
                offset_s=offset,
                score=region.get("score"),
                status="rejected",
                source="model",
                annotator=annotator,
                model_version=model_version,
                id=rid,
                candidate_id=rid,
            )
        )
    return Reconciled(confirmed=confirmed, rejected=rejected)
