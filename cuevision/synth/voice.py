"""The simulated audio: who vocalises when, and the ``voice.*`` columns that follows from it.

Every sound is a *vocal segment* of one person: talk (the caregiver's speech, songs), babble, a
laugh or a cry. The scheme's vocal events are segments (their behaviours: ``vocalises``,
``laughs``, ``cries``), and so are the sounds a scheme does not label: a caregiver who talks
though the scheme has no type for it, a child's babble, and laughs during some of the child's
smiles, as in the Lookit clips where the child's laugh rides on a smile. Unlabelled sounds are
there so that a model meets voices that are not its events.

Each kind has its measured signature (the training dyads' clips, :mod:`cuevision.audio`):
caregivers' F0 200-300 Hz, the infants' 500-900 Hz; a laugh is a 2-3 Hz train of voiced bursts
with high ``laugh`` evidence that builds up over the evidence's 1.5 s window; a cry is loud,
sustained, high voicing with ``cry`` evidence building up over its 3 s window. The speaker's
mouth moves while they sound (3-5 Hz opening and closing, per-person amplitude, sometimes hardly
visible), and the speaker attribution is :func:`cuevision.audio.attribute` itself, run on the
simulated pitch and mouths, so simulated and real ``child_vocalising`` columns come from one
rule. Some dyads have no audio (``voice.present`` 0, the rest NaN), as a video without sound.

Draws come from their own generator (seeded from the dyad's seed), so the visual columns of a
seed are the same with or without the audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cuevision.audio import grid_columns
from cuevision.audio.voice import LOUD_ABOVE_FLOOR_DB, VoiceGrid
from cuevision.synth.effects import behaviour
from cuevision.synth.noise import ar1
from cuevision.types import Event, Role

Kind = Literal["talk", "babble", "laugh", "cry"]

# Behaviour of a scheme's event type -> the kind of sound it is.
VOCAL_BEHAVIOURS: dict[str, Kind] = {"vocalises": "babble", "laughs": "laugh", "cries": "cry"}
NO_AUDIO_P = 0.05  # share of simulated dyads whose video has no sound
LAUGH_WITH_SMILE_P = 0.4  # the child's smiles that come with an (unlabelled) laugh


@dataclass(frozen=True)
class Segment:
    """One person's sound from ``onset_s`` to ``offset_s``."""

    role: Role
    kind: Kind
    onset_s: float
    offset_s: float


@dataclass(frozen=True)
class Sound:
    """How one kind of sound shows: voicing, level above the floor, silero's speech
    probability, F0 shift (octaves above the person's own), laugh and cry evidence."""

    voicing: tuple[float, float]
    level_db: tuple[float, float]
    activity: tuple[float, float]
    octaves: float
    laugh: tuple[float, float]
    cry: tuple[float, float]


SOUNDS: dict[Kind, Sound] = {
    "talk": Sound((0.45, 0.8), (45, 62), (0.75, 1.0), 0.0, (0.0, 0.35), (0.0, 0.05)),
    "babble": Sound((0.4, 0.85), (42, 62), (0.25, 0.9), 0.0, (0.0, 0.35), (0.0, 0.25)),
    "laugh": Sound((0.25, 0.6), (48, 68), (0.15, 0.75), 0.2, (0.5, 0.95), (0.0, 0.15)),
    "cry": Sound((0.75, 1.0), (55, 72), (0.35, 0.9), 0.1, (0.0, 0.15), (0.6, 1.0)),
}
KIND_OF_ROLE: dict[Role, Kind] = {"caregiver": "talk", "child": "babble"}
F0_HZ: dict[Role, tuple[float, float]] = {"caregiver": (190.0, 290.0), "child": (450.0, 750.0)}
EVIDENCE_RISE_S: dict[Kind, float] = {"laugh": 0.5, "cry": 1.2, "talk": 0.3, "babble": 0.3}


def plan_sounds(
    rng: np.random.Generator, events: list[Event], duration_s: float, labelled: set[str]
) -> list[Segment]:
    """The dyad's vocal segments: its vocal events, then unlabelled talk, babble and laughs.

    ``labelled`` holds the behaviour keys (``"<role>:<behaviour>"``) the scheme has types for:
    a sound the scheme labels is never added unlabelled.
    """
    out = []
    for event in events:
        _, name = behaviour(event.type, event.actor)
        if name in VOCAL_BEHAVIOURS:
            kind = VOCAL_BEHAVIOURS[name]
            kind = "talk" if event.actor == "caregiver" and kind == "babble" else kind
            out.append(Segment(event.actor, kind, event.onset_s, event.offset_s))
        elif event.actor == "child" and name == "smiles" and "child:laughs" not in labelled:
            if rng.random() < LAUGH_WITH_SMILE_P:
                length = event.offset_s - event.onset_s
                onset = event.onset_s + float(rng.uniform(0.0, 0.3)) * length
                out.append(Segment("child", "laugh", onset, min(event.offset_s, onset + 2.5)))
    rates: dict[Role, float] = {
        "caregiver": float(rng.uniform(1 / 8, 1 / 3)),
        "child": float(rng.uniform(1 / 20, 1 / 8)),
    }
    for role, rate in rates.items():
        if f"{role}:vocalises" in labelled:
            continue
        t = float(rng.exponential(1 / rate))
        while t < duration_s:
            length = float(rng.uniform(0.4, 2.5))
            out.append(Segment(role, KIND_OF_ROLE[role], t, min(t + length, duration_s)))
            t += length + float(rng.exponential(1 / rate))
    return sorted(out, key=lambda s: s.onset_s)


def move_mouths(
    rng: np.random.Generator,
    signals: dict[Role, dict[str, np.ndarray]],
    segments: list[Segment],
    t_s: np.ndarray,
) -> None:
    """Open and close each speaker's mouth at 3-5 Hz while they sound (in place)."""
    for role, signal in signals.items():
        amplitude = float(rng.uniform(0.005, 0.06))  # some people hardly move their lips
        for s in (s for s in segments if s.role == role):
            inside = (t_s >= s.onset_s) & (t_s < s.offset_s)
            rate, phase = rng.uniform(3.0, 5.0), rng.uniform(0, 2 * np.pi)
            wave = 0.5 + 0.5 * np.sin(2 * np.pi * rate * t_s + phase)
            open_more = 2.0 if s.kind in ("laugh", "cry") else 1.0
            signal["mouth_open"] = signal["mouth_open"] + inside * amplitude * open_more * wave


def voice_columns(
    rng: np.random.Generator,
    segments: list[Segment],
    t_s: np.ndarray,
    fps: float,
    mouth_open: dict[Role, np.ndarray],
    face_visible: dict[Role, np.ndarray],
) -> dict[str, np.ndarray]:
    """The ``voice.*`` columns (names without the prefix) of the dyad's sounds."""
    n = len(t_s)
    if rng.random() < NO_AUDIO_P:
        grid = VoiceGrid(np.zeros(n), *(np.full(n, np.nan) for _ in range(7)))
    else:
        grid = _grid(rng, segments, t_s, fps)
    return grid_columns(grid, fps, mouth_open, face_visible)


def _grid(
    rng: np.random.Generator, segments: list[Segment], t_s: np.ndarray, fps: float
) -> VoiceGrid:
    n = len(t_s)
    floor = float(rng.uniform(0.0, 20.0))  # the room's level, dB; many devices gate it to 0
    level = np.clip(floor + ar1(rng, n, fps, 3.0, tau_s=0.5), 0.0, None)
    activity = np.clip(np.abs(ar1(rng, n, fps, 0.05, tau_s=0.3)), 0.0, 1.0)
    voicing = np.clip(np.abs(ar1(rng, n, fps, 0.03, tau_s=0.1)), 0.0, 1.0)
    laugh = np.clip(np.abs(ar1(rng, n, fps, 0.03, tau_s=0.5)), 0.0, 1.0)
    cry = np.clip(np.abs(ar1(rng, n, fps, 0.02, tau_s=1.0)), 0.0, 1.0)
    log_f0 = np.full(n, np.nan)
    own_f0 = {role: float(rng.uniform(*hz)) for role, hz in F0_HZ.items()}
    for _ in range(int(rng.poisson(n / fps / 15))):  # non-voice sounds: toys, paper, a spoon
        at = int(rng.integers(0, max(n, 1)))
        span = slice(at, at + int(rng.uniform(0.2, 1.0) * fps))
        level[span] = np.maximum(level[span], floor + rng.uniform(20, 40))
        activity[span] = np.maximum(activity[span], rng.uniform(0.05, 0.5))
    for s in segments:
        inside = (t_s >= s.onset_s) & (t_s < s.offset_s)
        k = int(inside.sum())
        if not k:
            continue
        sound = SOUNDS[s.kind]
        burst = _uniform(rng, sound.voicing)
        if s.kind == "laugh":  # bursts at 2-3 per second
            wave = np.sin(2 * np.pi * rng.uniform(2.0, 3.0) * (t_s[inside] - s.onset_s))
            voiced = np.clip(burst + 0.35 * wave + rng.normal(0, 0.1, k), 0, 1)
        else:
            voiced = np.clip(burst + rng.normal(0, 0.12, k), 0, 1)
        loud = floor + _uniform(rng, sound.level_db) + rng.normal(0, 3.0, k)
        mine = loud > level[inside]  # where two people sound at once, the louder is heard
        voicing[inside] = np.where(mine, voiced, np.maximum(voicing[inside], voiced))
        level[inside] = np.maximum(level[inside], loud)
        activity[inside] = np.maximum(
            activity[inside], np.clip(_uniform(rng, sound.activity) + rng.normal(0, 0.1, k), 0, 1)
        )
        f0 = np.log2(own_f0[s.role]) + sound.octaves + ar1(rng, k, fps, 0.08, tau_s=0.2)
        log_f0[inside] = np.where(mine | np.isnan(log_f0[inside]), f0, log_f0[inside])
        rise = np.clip((t_s - s.onset_s) / EVIDENCE_RISE_S[s.kind], 0, 1)
        fall = np.clip(1 - (t_s - s.offset_s) / 0.5, 0, 1)
        shape = np.where(t_s < s.onset_s, 0.0, np.where(t_s < s.offset_s, rise, rise * fall))
        laugh = np.maximum(laugh, shape * _uniform(rng, sound.laugh))
        cry = np.maximum(cry, shape * _uniform(rng, sound.cry))
    log_f0[voicing < 0.05] = np.nan  # no voiced frame in the step: no F0
    loudness = np.clip((level - floor - LOUD_ABOVE_FLOOR_DB) / 5.0 + 0.5, 0.0, 1.0)
    vocal = np.fmax(activity, voicing * loudness)
    return VoiceGrid(np.ones(n), activity, vocal, np.exp2(log_f0), voicing, level, laugh, cry)


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))
