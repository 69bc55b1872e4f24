"""How each simulated event shows in its actor's features, and how long it lasts.

The tables are keyed by the actor and the event type's *behaviour*: the type's name with the
actor prefix removed (``child_smiles`` -> ``("child", "smiles")``), so the types and their actors
come from the scheme and nothing here is a scheme's label. A type the tables do not know gets a
random but fixed signature on its actor's columns and a typical duration, so any scheme works;
``tests/detect/test_dyad_simulator.py`` checks that every type of the default scheme is known.
"""

from __future__ import annotations

import zlib
from typing import Literal, NamedTuple

import numpy as np

from cuevision.synth.channels import CHANNELS
from cuevision.types import Role

Mode = Literal["add", "set", "pulse"]


class Effect(NamedTuple):
    """``add`` shifts the feature by ``value``, ``set`` pulls it toward ``value``, ``pulse`` adds
    ``value`` as a burst at onset only. Amplitudes scale per person; turns (yaw) go to a random
    side."""

    feature: str  # base name, as in CHANNELS
    mode: Mode
    value: float


LOOK_AT_PARTNER = (Effect("gaze_to_partner", "set", 40.0), Effect("head_to_partner", "set", 45.0))

EFFECTS: dict[tuple[Role, str], tuple[Effect, ...]] = {
    ("child", "looks_at_caregiver"): LOOK_AT_PARTNER,
    ("child", "looks_away"): (
        Effect("gaze_to_partner", "add", 45.0),
        Effect("head_to_partner", "add", 40.0),
        Effect("yaw", "add", 30.0),
        Effect("gaze_yaw", "add", 35.0),
        Effect("face_motion", "pulse", 1.5),
    ),
    ("child", "smiles"): (
        Effect("lip_corner_raise", "add", 0.05),
        Effect("mouth_width", "add", 0.06),
        Effect("eye_open", "add", -0.04),
    ),
    ("child", "distress"): (
        Effect("brow_raise", "add", -0.03),
        Effect("mouth_open", "add", 0.12),
        Effect("lip_corner_raise", "add", -0.03),
        Effect("face_motion", "add", 1.2),
        Effect("body_motion", "add", 3.0),
        Effect("wrist_speed", "add", 3.0),
    ),
    ("child", "reaches"): (
        Effect("wrist_speed", "pulse", 8.0),
        Effect("hand_to_partner", "add", -2.2),
        Effect("body_motion", "add", 2.0),
    ),
    ("caregiver", "looks_at_child"): LOOK_AT_PARTNER,
    ("caregiver", "smiles"): (
        Effect("lip_corner_raise", "add", 0.05),
        Effect("mouth_width", "add", 0.07),
    ),
    ("caregiver", "touches_child"): (
        Effect("hand_to_partner", "set", 0.2),
        Effect("wrist_speed", "pulse", 5.0),
    ),
    ("caregiver", "leans_in"): (
        Effect("trunk_lean", "add", 14.0),
        Effect("forward", "add", 1.2),
        Effect("body_motion", "pulse", 2.0),
    ),
    # Vocal events show mostly in the voice.* columns (cuevision.synth.voice, which also moves
    # the speaker's mouth); on the face, a laugh is a smile with an open mouth, a cry a distressed
    # face.
    ("child", "vocalises"): (Effect("mouth_open", "add", 0.02),),
    ("child", "laughs"): (
        Effect("lip_corner_raise", "add", 0.05),
        Effect("mouth_width", "add", 0.06),
        Effect("mouth_open", "add", 0.06),
        Effect("eye_open", "add", -0.04),
        Effect("face_motion", "add", 0.8),
    ),
    ("child", "cries"): (
        Effect("brow_raise", "add", -0.03),
        Effect("mouth_open", "add", 0.1),
        Effect("lip_corner_raise", "add", -0.03),
        Effect("face_motion", "add", 1.0),
        Effect("body_motion", "add", 2.0),
    ),
    ("caregiver", "vocalises"): (Effect("mouth_open", "add", 0.02),),
}

# Typical duration range of an event, s; TYPICAL_DURATION_S for behaviours not listed.
DURATION_S: dict[tuple[Role, str], tuple[float, float]] = {
    ("child", "looks_at_caregiver"): (0.5, 3.5),
    ("child", "looks_away"): (0.6, 3.0),
    ("child", "smiles"): (0.6, 4.0),
    ("child", "distress"): (1.0, 5.0),
    ("child", "reaches"): (0.5, 1.8),
    ("child", "vocalises"): (0.3, 2.0),
    ("child", "laughs"): (0.6, 3.0),
    ("child", "cries"): (1.5, 6.0),
    ("caregiver", "vocalises"): (0.4, 3.0),
}
TYPICAL_DURATION_S = (0.5, 3.0)

GAZE_FEATURES = frozenset({"gaze_to_partner", "yaw"})
VOCAL = frozenset({"vocalises", "laughs", "cries"})  # one voice: one sound at a time


def behaviour(type_name: str, actor: Role) -> tuple[Role, str]:
    """The tables' key of an event type: its actor and its name without the actor prefix."""
    return actor, type_name.removeprefix(f"{actor}_")


def is_modelled(type_name: str, actor: Role) -> bool:
    """Whether the effect table knows this type (else it gets a random signature)."""
    return behaviour(type_name, actor) in EFFECTS


def effects_of(type_name: str, actor: Role) -> tuple[Effect, ...]:
    """The type's effects from the table, or its fixed pseudo-random signature."""
    return EFFECTS.get(behaviour(type_name, actor)) or _signature(type_name, actor)


def duration_range(type_name: str, actor: Role) -> tuple[float, float]:
    return DURATION_S.get(behaviour(type_name, actor), TYPICAL_DURATION_S)


def exclusive(a: str, b: str, actor: Role) -> bool:
    """Two events of one actor that may not overlap: the same type, both moving the gaze, or
    both sounds of the voice."""
    touched = {e.feature for e in EFFECTS.get(behaviour(a, actor), ())} & {
        e.feature for e in EFFECTS.get(behaviour(b, actor), ())
    }
    voices = {behaviour(a, actor)[1], behaviour(b, actor)[1]} <= VOCAL
    return a == b or bool(touched & GAZE_FEATURES) or voices


def _signature(name: str, actor: Role) -> tuple[Effect, ...]:
    """A fixed pseudo-random signature for an event type the effect table does not know."""
    local = np.random.default_rng(zlib.crc32(f"{actor}:{name}".encode()))
    bases = sorted(CHANNELS)
    picks = local.choice(len(bases), size=2, replace=False)
    return tuple(
        Effect(bases[i], "add", float(local.choice([-2.5, 2.5]) * CHANNELS[bases[i]].scale * 3))
        for i in picks
    )
