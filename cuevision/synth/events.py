"""The simulated ground truth: child cues, the caregiver's answers and spontaneous acts."""

from __future__ import annotations

import numpy as np

from cuevision.scheme import EventType, Scheme
from cuevision.synth.effects import duration_range, exclusive
from cuevision.types import Event


def plan_events(rng: np.random.Generator, scheme: Scheme, duration_s: float) -> list[Event]:
    """Child cues as Poisson processes, then the caregiver's answers and spontaneous acts."""
    events: list[Event] = []
    answer_p = rng.uniform(0.45, 0.9)  # how responsive this caregiver is
    latency_median = rng.uniform(0.5, 1.5)
    for cue in scheme.types_of(kind="cue"):
        rate = rng.uniform(1 / 25, 1 / 10)  # events per second
        events += _poisson(rng, cue, rate, duration_s)
    busy = list(events)
    for cue_event in busy:
        rules = [r for r in scheme.contingency if r.cue == cue_event.type]
        if not rules or rng.random() > answer_p:
            continue  # an unanswered cue
        rule = rules[0]
        response = scheme.event_type(str(rng.choice(rule.responses)))
        assert response is not None  # the scheme validated its references
        latency = float(rng.lognormal(np.log(latency_median), 0.6))  # some fall past the window
        onset = cue_event.onset_s + latency
        low, high = duration_range(response.name, response.actor)
        offset = min(onset + float(rng.uniform(low, high)), duration_s)
        if offset - onset > 0.3:
            events.append(Event(response.actor, response.name, onset, offset))
    for response in scheme.types_of(kind="response"):
        events += _poisson(rng, response, rng.uniform(1 / 60, 1 / 30), duration_s)
    events = _drop_overlaps(events)
    return sorted(
        (
            Event(e.actor, e.type, round(e.onset_s, 3), round(e.offset_s, 3), source="simulated")
            for e in events
        ),
        key=lambda e: (e.onset_s, e.type),
    )


def _poisson(
    rng: np.random.Generator, event_type: EventType, rate: float, duration_s: float
) -> list[Event]:
    out = []
    t = float(rng.exponential(1 / rate))
    low, high = duration_range(event_type.name, event_type.actor)
    while t < duration_s - 0.5:
        length = float(rng.uniform(low, high))
        out.append(Event(event_type.actor, event_type.name, t, min(t + length, duration_s)))
        t += length + 0.5 + float(rng.exponential(1 / rate))
    return out


def _drop_overlaps(events: list[Event]) -> list[Event]:
    """Two events of one type never overlap; gaze toward and away from the partner exclude each
    other too (the later of two clashing events goes)."""
    kept: list[Event] = []
    for event in sorted(events, key=lambda e: e.onset_s):
        clash = any(
            k.actor == event.actor
            and exclusive(k.type, event.type, event.actor)
            and k.onset_s < event.offset_s + 0.3
            and event.onset_s < k.offset_s + 0.3
            for k in kept
        )
        if not clash:
            kept.append(event)
    return kept
