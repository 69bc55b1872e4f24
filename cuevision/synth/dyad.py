"""A feature-level dyad simulator: caregiver-child feature series with exactly known events.

There are no human-coded videos yet, so the detector is bootstrapped on simulated sessions whose
ground truth is exact. The simulator works on the feature level (not pixels), with the same column
names :mod:`cuevision.features` produces, so a model trained here reads real features unchanged.

What it plants, per dyad (every dyad draws its own baselines, amplitudes, noise and tempo):

- **child cues** of every cue type of the scheme, as a Poisson process, and **caregiver
  responses** following the scheme's contingency rules: each cue is answered with a per-dyad
  probability, after a log-normal latency; some answers come too late for the window and some
  cues stay unanswered; caregivers also act spontaneously (:mod:`.events`);
- **distractors**: unlabelled, weaker look-alikes of events (a half smile, a glance), so that a
  threshold alone is not enough (:mod:`.person`);
- **realism**: AR(1) noise, tracking spikes, single-frame dropouts and missing-face (or missing
  body) episodes, where the role's columns are NaN and its visibility mask is 0 (:mod:`.noise`);
- **voices**: the ``voice.*`` columns of the vocal events and of unlabelled talk, babble and
  laughs, with the speakers' mouths moving (:mod:`.voice`).

How each feature behaves at rest is :data:`.channels.CHANNELS`; how an event shows in the
features is data too (:data:`.effects.EFFECTS`, keyed by actor and behaviour, so the event types
come from the scheme). A type the table does not know gets a random but fixed signature on its
actor's columns, so any scheme works.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cuevision.features.dyad import looking_probability
from cuevision.scheme import Scheme
from cuevision.synth.channels import CHANNELS
from cuevision.synth.effects import behaviour
from cuevision.synth.events import plan_events
from cuevision.synth.noise import ar1, visibility
from cuevision.synth.person import role_signals
from cuevision.synth.voice import move_mouths, plan_sounds, voice_columns
from cuevision.types import ROLES, Event, FeatureSeries, Role


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
    events = plan_events(rng, scheme, duration_s)
    signals = {role: role_signals(rng, role, events, t_s, fps, scheme) for role in ROLES}
    heard = np.random.default_rng([seed, 1])  # the audio's own draws: see cuevision.synth.voice
    labelled = {":".join(behaviour(t.name, t.actor)) for t in scheme.event_types}
    sounds = plan_sounds(heard, events, duration_s, labelled)
    move_mouths(heard, signals, sounds, t_s)
    known = _columns(rng, signals, n, fps)
    voice = voice_columns(
        heard,
        sounds,
        t_s,
        fps,
        {role: known[f"{role}.mouth_open"] for role in ROLES},
        {role: known[f"{role}.face_visible"] for role in ROLES},
    )
    known.update({f"voice.{name}": values for name, values in voice.items()})
    columns = []
    for name in feature_names:
        if name not in known:  # a feature the simulator has no model of: noise, masked
            owner = name.partition(".")[0]
            mask = known.get(f"{owner}.visible", np.ones(n))
            known[name] = np.where(mask > 0, ar1(rng, n, fps, 1.0, tau_s=1.0), np.nan)
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
        face = face_seen[role] = visibility(rng, n, fps, missing=rng.uniform(0.05, 0.75))
        pose = visibility(rng, n, fps, missing=rng.uniform(0.02, 0.4))
        hips = pose & visibility(
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
            + ar1(rng, n, fps, 0.6, tau_s=0.3)
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
    distance = np.clip(distance + ar1(rng, n, fps, 0.1, 2.0), 0.3, 30)
    out["dyad.distance"] = np.where(seen["caregiver"] & seen["child"], distance, np.nan)
    return out
