"""A feature-level dyad simulator: caregiver-child feature series with exactly known events.

There are no human-coded videos yet, so the detector is bootstrapped on simulated sessions whose
ground truth is exact. The simulator works on the feature level (not pixels), with the same column
names :mod:`cuevision.features` produces, so a model trained here reads real features unchanged.

What it plants, per dyad (every dyad draws its own baselines, amplitudes, noise and tempo):

- **child cues** of every cue type of the scheme, as a Poisson process;
- **caregiver responses** following the scheme's contingency rules: each cue is answered with a
  per-dyad probability, after a log-normal latency; some answers come too late for the window and
  some cues stay unanswered; caregivers also act spontaneously;
- **distractors**: unlabelled, weaker look-alikes of events (a half smile, a glance), so that a
  threshold alone is not enough;
- **realism**: AR(1) noise, tracking spikes, single-frame dropouts and missing-face (or missing
  body) episodes, where the role's columns are NaN and its visibility mask is 0.

How an event shows in the features is data (``EFFECTS``, keyed by event type). A type the table
does not know gets a random but fixed signature on its actor's columns, so any scheme works.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.signal import lfilter

from cuevision.features.dyad import looking_probability
from cuevision.scheme import Scheme
from cuevision.types import ROLES, Event, FeatureSeries, Role

Source = Literal["face", "pose"]


@dataclass(frozen=True)
class Channel:
    """How one per-role feature behaves at rest: level, spread between dyads, noise, limits.

    Positive, heavy-tailed features (motion energies, speeds) are ``log``: their level varies by
    a factor and their noise is multiplicative (``between_sd`` and ``noise_sd`` in log units).
    A ``sided`` feature (yaw) sits at ``± base``: which side of the camera the person is on.
    """

    base: float
    between_sd: float  # sd of the person's baseline around ``base``
    noise_sd: float
    lo: float
    hi: float
    source: Source = "face"
    log: bool = False
    sided: bool = False

    @property
    def scale(self) -> float:
        """A typical size of the frame-to-frame noise, in the feature's own units."""
        return self.noise_sd * (self.base if self.log else 1.0)


# Per-role features by base name (the part after ``<role>.``), as cuevision.features defines them:
# angles in degrees, lengths in face sizes, speeds in face sizes per second. Levels and noise are
# set to the spread measured on the real clips of the training dyads (2UWdXP, 6c6MZQ): people
# often sit in profile to the camera, a child facing the parent reads 40-50 degrees of gaze to
# partner and one facing the camera 80-95. ``forward`` is hidden: how far the head has moved toward
# the partner, from which distance and head_approach follow.
CHANNELS: dict[str, Channel] = {
    "yaw": Channel(35.0, 15.0, 3.0, -90, 90, sided=True),
    "pitch": Channel(-10.0, 6.0, 2.5, -60, 60),
    "roll": Channel(-3.0, 6.0, 1.5, -60, 60),
    "gaze_yaw": Channel(35.0, 15.0, 4.5, -90, 90, sided=True),
    "gaze_pitch": Channel(-3.0, 6.0, 3.5, -60, 60),
    "gaze_to_partner": Channel(72.0, 12.0, 6.0, 0, 180),
    "head_to_partner": Channel(70.0, 10.0, 4.0, 0, 180),
    "mouth_open": Channel(0.05, 0.02, 0.012, 0, 2),
    "mouth_width": Channel(0.55, 0.03, 0.012, 0.1, 2),
    "lip_corner_raise": Channel(-0.05, 0.02, 0.008, -1, 1),
    "eye_open": Channel(0.27, 0.04, 0.012, 0, 1),
    "brow_raise": Channel(0.23, 0.015, 0.005, 0, 2),
    "face_motion": Channel(0.5, 0.4, 0.5, 0, 50, log=True),
    "body_motion": Channel(1.3, 0.4, 0.6, 0, 80, "pose", log=True),
    "wrist_speed": Channel(1.8, 0.4, 0.7, 0, 80, "pose", log=True),
    "hand_to_partner": Channel(3.8, 1.2, 0.2, 0, 20, "pose"),
    "trunk_lean": Channel(0.0, 15.0, 1.5, -90, 90, "pose"),
    "forward": Channel(0.0, 0.0, 0.03, -5, 5, "pose"),
}

Mode = Literal["add", "set", "pulse"]
# event type -> (feature base name, mode, value): "add" shifts by value, "set" pulls toward value,
# "pulse" adds value as a burst at onset only. Amplitudes scale per person. Turns (yaw) go to a
# random side.
EFFECTS: dict[str, tuple[tuple[str, Mode, float], ...]] = {
    "child_looks_at_caregiver": (
        ("gaze_to_partner", "set", 40.0),
        ("head_to_partner", "set", 45.0),
    ),
    "child_looks_away": (
        ("gaze_to_partner", "add", 45.0),
        ("head_to_partner", "add", 40.0),
        ("yaw", "add", 30.0),
        ("gaze_yaw", "add", 35.0),
        ("face_motion", "pulse", 1.5),
    ),
    "child_smiles": (
        ("lip_corner_raise", "add", 0.05),
        ("mouth_width", "add", 0.06),
        ("eye_open", "add", -0.04),
    ),
    "child_distress": (
        ("brow_raise", "add", -0.03),
        ("mouth_open", "add", 0.12),
        ("lip_corner_raise", "add", -0.03),
        ("face_motion", "add", 1.2),
        ("body_motion", "add", 3.0),
        ("wrist_speed", "add", 3.0),
    ),
    "child_reaches": (
        ("wrist_speed", "pulse", 8.0),
        ("hand_to_partner", "add", -2.2),
        ("body_motion", "add", 2.0),
    ),
    "caregiver_looks_at_child": (
        ("gaze_to_partner", "set", 40.0),
        ("head_to_partner", "set", 45.0),
    ),
    "caregiver_smiles": (("lip_corner_raise", "add", 0.05), ("mouth_width", "add", 0.07)),
    "caregiver_touches_child": (
        ("hand_to_partner", "set", 0.2),
        ("wrist_speed", "pulse", 5.0),
    ),
    "caregiver_leans_in": (
        ("trunk_lean", "add", 14.0),
        ("forward", "add", 1.2),
        ("body_motion", "pulse", 2.0),
    ),
}

# Typical duration range of an event, s (looked up by the type's kind when the type is unknown).
DURATION_S: dict[str, tuple[float, float]] = {
    "child_looks_at_caregiver": (0.5, 3.5),
    "child_looks_away": (0.6, 3.0),
    "child_smiles": (0.6, 4.0),
    "child_distress": (1.0, 5.0),
    "child_reaches": (0.5, 1.8),
    "cue": (0.5, 3.0),
    "response": (0.5, 3.0),
}


def simulate_dyad(
    seed: int,
    *,
    duration_s: float,
    fps: float,
    scheme: Scheme,
    feature_names: Sequence[str],
) -> tuple[FeatureSeries, list[Event]]:
    """One simulated session: its feature series and its exact ground-truth events (sorted).

    Deterministic for a seed. ``feature_names`` are the columns to produce, in order (normally
    :data:`cuevision.features.FEATURE_NAMES`); ``<role>.visible`` columns are the masks.
    """
    if duration_s <= 0 or fps <= 0:
        raise ValueError(f"duration_s and fps must be positive, got {duration_s}, {fps}")
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fps))
    t_s = np.arange(n) / fps
    events = _plan_events(rng, scheme, duration_s)
    signals = {role: _role_signals(rng, role, events, t_s, fps, scheme) for role in ROLES}
    known = _columns(rng, signals, n, fps)
    columns = []
    for name in feature_names:
        if name not in known:  # a feature the simulator has no model of: noise, masked
            owner = name.partition(".")[0]
            mask = known.get(f"{owner}.visible", np.ones(n))
            known[name] = np.where(mask > 0, _ar1(rng, n, fps, 1.0, tau_s=1.0), np.nan)
        columns.append(known[name])
    values = np.stack(columns, axis=1) if columns else np.zeros((n, 0))
    series = FeatureSeries(t_s, fps, tuple(feature_names), values.astype(np.float32))
    return series, events


def _columns(
    rng: np.random.Generator, signals: dict[Role, dict[str, np.ndarray]], n: int, fps: float
) -> dict[str, np.ndarray]:
    """Every known column, with missing faces, bodies and hips as NaN plus the masks."""
    out: dict[str, np.ndarray] = {}
    face_seen: dict[Role, np.ndarray] = {}
    seen: dict[Role, np.ndarray] = {}
    for role, signal in signals.items():
        face = face_seen[role] = _visibility(rng, n, fps, missing=rng.uniform(0.05, 0.75))
        pose = _visibility(rng, n, fps, missing=rng.uniform(0.02, 0.4))
        hips = pose & _visibility(
            rng, n, fps, missing=rng.uniform(0.3, 0.9) if rng.random() < 0.3 else 1.0
        )
        seen[role] = face | pose
        out[f"{role}.visible"] = seen[role].astype(np.float64)
        out[f"{role}.face_visible"] = face.astype(np.float64)
        out[f"{role}.pose_visible"] = pose.astype(np.float64)
        derived = {
            "smile": signal["lip_corner_raise"] + signal["mouth_width"],
            "hand_approach": -np.gradient(signal["hand_to_partner"]) * fps
            + 1.2 * rng.standard_t(3, n),
            "head_approach": np.gradient(signal["forward"]) * fps
            + _ar1(rng, n, fps, 0.6, tau_s=0.3)
            + 0.15 * rng.standard_t(3, n),
        }
        for base, values in {**signal, **derived}.items():
            source = CHANNELS[base].source if base in CHANNELS else "face"
            source = "pose" if base == "hand_approach" else source
            mask = hips if base == "trunk_lean" else pose if source == "pose" else face
            if base == "head_approach":
                mask = seen[role]
            out[f"{role}.{base}"] = np.where(mask, values, np.nan)
    caregiver, child = signals["caregiver"], signals["child"]

    mutual = looking_probability(caregiver["gaze_to_partner"]) * looking_probability(
        child["gaze_to_partner"]
    )
    out["dyad.mutual_gaze"] = np.where(face_seen["caregiver"] & face_seen["child"], mutual, np.nan)
    distance = rng.uniform(2.0, 9.0) - caregiver["forward"] - child["forward"]
    distance = np.clip(distance + _ar1(rng, n, fps, 0.1, 2.0), 0.3, 30)
    out["dyad.distance"] = np.where(seen["caregiver"] & seen["child"], distance, np.nan)
    return out


def _plan_events(rng: np.random.Generator, scheme: Scheme, duration_s: float) -> list[Event]:
    """Child cues as Poisson processes, then the caregiver's answers and spontaneous acts."""
    events: list[Event] = []
    answer_p = rng.uniform(0.45, 0.9)  # how responsive this caregiver is
    latency_median = rng.uniform(0.5, 1.5)
    for cue in scheme.types_of(kind="cue"):
        rate = rng.uniform(1 / 25, 1 / 10)  # events per second
        events += _poisson(rng, cue.name, cue.actor, rate, duration_s)
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
        low, high = _duration_range(response.name, response.kind)
        offset = min(onset + float(rng.uniform(low, high)), duration_s)
        if offset - onset > 0.3:
            events.append(Event(response.actor, response.name, onset, offset))
    for response in scheme.types_of(kind="response"):
        events += _poisson(
            rng, response.name, response.actor, rng.uniform(1 / 60, 1 / 30), duration_s
        )
    events = _drop_overlaps(events)
    return sorted(
        (
            Event(e.actor, e.type, round(e.onset_s, 3), round(e.offset_s, 3), source="simulated")
            for e in events
        ),
        key=lambda e: (e.onset_s, e.type),
    )


def _duration_range(name: str, kind: str) -> tuple[float, float]:
    return DURATION_S.get(name, DURATION_S[kind])


def _poisson(
    rng: np.random.Generator, name: str, actor: Role, rate: float, duration_s: float
) -> list[Event]:
    out = []
    t = float(rng.exponential(1 / rate))
    kind = "cue" if actor == "child" else "response"
    low, high = _duration_range(name, kind)
    while t < duration_s - 0.5:
        length = float(rng.uniform(low, high))
        out.append(Event(actor, name, t, min(t + length, duration_s)))
        t += length + 0.5 + float(rng.exponential(1 / rate))
    return out


def _drop_overlaps(events: list[Event]) -> list[Event]:
    """Two events of one type never overlap; gaze toward and away from the partner exclude each
    other too (the later of two clashing events goes)."""
    kept: list[Event] = []
    for event in sorted(events, key=lambda e: e.onset_s):
        clash = any(
            k.actor == event.actor
            and _exclusive(k.type, event.type)
            and k.onset_s < event.offset_s + 0.3
            and event.onset_s < k.offset_s + 0.3
            for k in kept
        )
        if not clash:
            kept.append(event)
    return kept


def _exclusive(a: str, b: str) -> bool:
    gaze = {"gaze_to_partner", "yaw"}
    touched = {f for f, _, _ in EFFECTS.get(a, ())} & {f for f, _, _ in EFFECTS.get(b, ())}
    return a == b or bool(touched & gaze)


def _envelope(t_s: np.ndarray, onset: float, offset: float, rise_s: float) -> np.ndarray:
    """0 before onset, a smooth rise over ``rise_s``, 1 until offset, a smooth fall after."""
    up = np.clip((t_s - onset) / rise_s, 0, 1)
    down = np.clip((offset + rise_s - t_s) / rise_s, 0, 1)
    return (0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down))).astype(np.float64)


def _pulse(t_s: np.ndarray, onset: float, width_s: float) -> np.ndarray:
    return np.exp(-0.5 * ((t_s - onset - width_s) / width_s) ** 2)


def _ar1(rng: np.random.Generator, n: int, fps: float, sd: float, tau_s: float) -> np.ndarray:
    """Smooth noise: an AR(1) process with time constant ``tau_s`` and stationary sd ``sd``."""
    phi = float(np.exp(-1 / (tau_s * fps)))
    shocks = rng.normal(0, sd * np.sqrt(1 - phi**2), n)
    start = rng.normal(0, sd)
    out: np.ndarray = lfilter([1.0], [1.0, -phi], shocks, zi=[phi * start])[0]
    return out


def _signature(name: str, actor: Role) -> tuple[tuple[str, Mode, float], ...]:
    """A fixed pseudo-random signature for an event type the effect table does not know."""
    local = np.random.default_rng(zlib.crc32(f"{actor}:{name}".encode()))
    bases = sorted(CHANNELS)
    picks = local.choice(len(bases), size=2, replace=False)
    return tuple(
        (bases[i], "add", float(local.choice([-2.5, 2.5]) * CHANNELS[bases[i]].scale * 3))
        for i in picks
    )


def _role_signals(
    rng: np.random.Generator,
    role: Role,
    events: list[Event],
    t_s: np.ndarray,
    fps: float,
    scheme: Scheme,
) -> dict[str, np.ndarray]:
    n = len(t_s)
    amplitude = rng.uniform(0.6, 1.4)  # how expressive this person is
    noise = rng.uniform(0.7, 1.6)
    rise_s = rng.uniform(0.15, 0.5)
    signals: dict[str, np.ndarray] = {}
    jitters: dict[str, np.ndarray] = {}
    for base, channel in CHANNELS.items():
        drift = _ar1(rng, n, fps, channel.between_sd * 0.5, tau_s=8.0)
        jitters[base] = _ar1(rng, n, fps, channel.noise_sd * noise, tau_s=0.25)
        if channel.log:
            level = np.log(channel.base) + rng.normal(0, channel.between_sd)
            signals[base] = np.exp(level + drift)
        else:
            side = float(rng.choice([-1.0, 1.0])) if channel.sided else 1.0
            level = side * channel.base + rng.normal(0, channel.between_sd)
            signals[base] = level + drift
    own = [e for e in events if e.actor == role]
    # Distractors: weaker, unlabelled look-alikes of this role's events.
    names = [t.name for t in scheme.types_of(actor=role)]
    for _ in range(int(rng.poisson(len(t_s) / fps / 12))):
        name = str(rng.choice(names)) if names else ""
        onset = float(rng.uniform(0, t_s[-1] if n else 0))
        fake = Event(role, name, onset, onset + float(rng.uniform(0.3, 1.5)))
        _apply(signals, fake, t_s, rise_s, amplitude * rng.uniform(0.2, 0.45), rng)
    for event in own:
        _apply(signals, event, t_s, rise_s, amplitude * rng.uniform(0.75, 1.25), rng)
    for base, channel in CHANNELS.items():  # noise rides on top of events, never under them
        jitter = jitters[base]
        noisy = signals[base] * np.exp(jitter) if channel.log else signals[base] + jitter
        spikes = rng.random(n) < 0.004
        noisy = np.where(spikes, noisy + rng.normal(0, 6 * channel.scale, n), noisy)
        signals[base] = np.clip(noisy, channel.lo, channel.hi)
    return signals


def _apply(
    signals: dict[str, np.ndarray],
    event: Event,
    t_s: np.ndarray,
    rise_s: float,
    gain: float,
    rng: np.random.Generator,
) -> None:
    effects = EFFECTS.get(event.type) or _signature(event.type, event.actor)
    sign = float(rng.choice([-1.0, 1.0]))  # which side a turn goes to
    for base, mode, value in effects:
        if base not in signals:
            continue
        if mode == "pulse":
            signals[base] = signals[base] + gain * value * _pulse(t_s, event.onset_s, 0.25)
            continue
        shape = _envelope(t_s, event.onset_s, event.offset_s, rise_s)
        if mode == "set":
            strength = min(gain, 1.0)
            signals[base] = signals[base] + strength * shape * (value - signals[base])
        else:
            turn = sign if base.endswith("yaw") else 1.0
            signals[base] = signals[base] + gain * value * turn * shape


def _visibility(rng: np.random.Generator, n: int, fps: float, missing: float) -> np.ndarray:
    """True where tracked: missing episodes of 0.3-5 s until about ``missing`` of the frames are
    lost, plus single-frame dropouts."""
    seen = rng.random(n) > rng.uniform(0.005, 0.03)
    for _ in range(1000):
        if 1 - seen.mean() >= missing or not n:
            break
        start = int(rng.integers(0, n))
        seen[start : start + int(rng.uniform(0.3, 5.0) * fps)] = False
    return seen
