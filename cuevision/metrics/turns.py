"""Voices: vocalisations from the ``voice.*`` columns, conversational turns and vocal replies.

**Conversational turns** follow LENA's definition (LENA Foundation, "Conversational Turns",
LENA Pro and LENA Home documentation; Gilkerson & Richards, LENA Technical Report LTR-02-2,
2008): a turn is a child vocalisation and an adult one, in either order, separated by a pause of
less than 5 s with no other speaker between. Turns are counted in *pairs only*: child-adult is
one turn, child-adult-child is still one, child-adult-child-adult is two. A pause of 5 s or more
ends the conversation. Where hand codes overlap, a reply that starts before the other person has
finished still counts (a pause of 0); LENA instead drops overlapping speech, which it cannot
attribute.

**Vocal replies** are the caregiver's vocalisations after the child's, timed with the latency
machinery of :mod:`cuevision.metrics.latency` within :data:`REPLY_WINDOW_S` (a caregiver's vocal
reply within about 2 s counts as contingent in the responsiveness literature).

Vocalisations come from ``voice.child_vocalising`` and ``voice.caregiver_vocalising``: runs of
grid points above 0.5, runs less than 0.3 s apart merged (LENA's 0.3 s segment boundary), runs
shorter than 0.2 s dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cuevision.metrics.latency import Latency, response_latency
from cuevision.types import ROLES, Event, FeatureSeries, Role

MAX_PAUSE_S = 5.0
REPLY_WINDOW_S = 2.0
ON_PROBABILITY = 0.5
MERGE_GAP_S = 0.3
MIN_VOCALISATION_S = 0.2
VOCAL_TYPE: dict[Role, str] = {"child": "child_vocalises", "caregiver": "caregiver_vocalises"}


@dataclass(frozen=True)
class Turns:
    """LENA-style conversational turns of one session."""

    n_turns: int
    duration_s: float
    initiated_by: dict[Role, int]  # whose vocalisation opened each turn
    turn_onsets_s: tuple[float, ...]  # onset of the vocalisation that opened each turn
    max_pause_s: float = MAX_PAUSE_S

    @property
    def per_minute(self) -> float | None:
        return 60.0 * self.n_turns / self.duration_s if self.duration_s > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_turns": self.n_turns,
            "turns_per_minute": self.per_minute,
            "initiated_by": dict(self.initiated_by),
            "turn_onsets_s": list(self.turn_onsets_s),
            "max_pause_s": self.max_pause_s,
            "definition": "LENA conversational turns: child and adult vocalisations in either "
            "order, pause < 5 s, counted in pairs only",
        }


def conversational_turns(
    vocalisations: Sequence[Event], *, duration_s: float, max_pause_s: float = MAX_PAUSE_S
) -> Turns:
    """Count turns (module docstring): each vocalisation either answers the last unpaired one of
    the other person, within the pause, or becomes the new unpaired one.

    >>> v = [Event("child", "v", 0, 1), Event("caregiver", "v", 2, 3), Event("child", "v", 4, 5)]
    >>> conversational_turns(v, duration_s=60).n_turns
    1
    """
    opened: list[Event] = []
    pending: Event | None = None
    for event in sorted(vocalisations, key=lambda e: (e.onset_s, e.offset_s)):
        if (
            pending is not None
            and event.actor != pending.actor
            and event.onset_s - pending.offset_s < max_pause_s
        ):
            opened.append(pending)
            pending = None
        else:
            pending = event
    initiated: dict[Role, int] = {role: sum(e.actor == role for e in opened) for role in ROLES}
    return Turns(len(opened), duration_s, initiated, tuple(e.onset_s for e in opened), max_pause_s)


@dataclass(frozen=True)
class Voices:
    """The session's voices: whether there was audio, who vocalised when, turns and replies."""

    audio: bool
    vocalisations: tuple[Event, ...] = ()
    turns: Turns | None = None
    replies: Latency | None = None  # caregiver vocal replies to the child's vocalisations
    coverage: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        if not self.audio:
            return {"audio": "absent"}
        return {
            "audio": "present",
            "coverage": self.coverage,
            "n_vocalisations": {
                role: sum(e.actor == role for e in self.vocalisations) for role in ROLES
            },
            "vocal_s": {
                role: sum(e.duration_s for e in self.vocalisations if e.actor == role)
                for role in ROLES
            },
            "turns": self.turns.to_dict() if self.turns else None,
            "caregiver_replies": self.replies.to_dict() if self.replies else None,
            "vocalisations": [
                [e.actor, round(e.onset_s, 3), round(e.offset_s, 3), e.score]
                for e in self.vocalisations
            ],
        }


def vocal_events(series: FeatureSeries) -> list[Event]:
    """Each role's vocalisations from its ``voice.<role>_vocalising`` column, sorted by onset."""
    found: list[Event] = []
    half = 0.5 / series.fps
    for role in ROLES:
        p = np.nan_to_num(series.column(f"voice.{role}_vocalising").astype(np.float64))
        runs: list[list[int]] = []
        for i in np.flatnonzero(p > ON_PROBABILITY):
            if runs and series.t_s[i] - series.t_s[runs[-1][1]] - 2 * half < MERGE_GAP_S:
                runs[-1][1] = int(i)
            else:
                runs.append([int(i), int(i)])
        for first, last in runs:
            onset, offset = series.t_s[first] - half, series.t_s[last] + half
            if offset - onset >= MIN_VOCALISATION_S:
                score = float(np.mean(p[first : last + 1]))
                found.append(
                    Event(
                        role,
                        VOCAL_TYPE[role],
                        round(float(max(onset, 0.0)), 6),
                        round(float(offset), 6),
                        score=round(score, 4),
                        source="audio",
                    )
                )
    return sorted(found, key=lambda e: (e.onset_s, e.actor))


def voices_of(series: FeatureSeries, *, duration_s: float) -> Voices:
    """Vocalisations, turns, caregiver replies and coverage; ``audio`` False without audio."""
    if "voice.present" not in series.names or not (series.column("voice.present") > 0).any():
        return Voices(audio=False)
    events = vocal_events(series)
    child = [e for e in events if e.actor == "child"]
    caregiver = [e for e in events if e.actor == "caregiver"]
    vocal = np.nan_to_num(series.column("voice.vocal").astype(np.float64)) > ON_PROBABILITY
    faces = series.column("voice.mouth_evidence")[vocal]
    share = {
        "pitch_only": float(np.mean(faces == 0)) if vocal.any() else None,
        "one_face": float(np.mean(faces == 1)) if vocal.any() else None,
        "both_faces": float(np.mean(faces == 2)) if vocal.any() else None,
    }
    coverage = {
        "audio_fraction": float(np.mean(series.column("voice.present") > 0)),
        "vocal_s": float(vocal.sum() / series.fps),
        "who_from": share,
        "note": "who_from: share of vocal time attributed from pitch alone (no face visible), "
        "from pitch and one face's mouth, or from pitch and both mouths",
    }
    return Voices(
        audio=True,
        vocalisations=tuple(events),
        turns=conversational_turns(events, duration_s=duration_s),
        replies=response_latency(child, caregiver, REPLY_WINDOW_S),
        coverage=coverage,
    )


def read_voices(path: Path, *, duration_s: float) -> Voices | None:
    """The voices of a ``features.parquet``; None for another kind of signals table (a CSV),
    which carries no voice columns."""
    from cuevision.features import read_features

    path = Path(path)
    if path.suffix.lower() != ".parquet":
        return None
    return voices_of(read_features(path), duration_s=duration_s)
