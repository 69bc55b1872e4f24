"""Weak labels: interpretable labelling functions over a FeatureSeries, one rule per behaviour.

They label real clips where no human coding exists yet, and they are the baseline the trained
detector must beat. Each function turns features into a per-frame score in [0, 1] (NaN where it
abstains: the features it needs are missing); the rule holds where the score is >= 0.5, and runs
of at least ``min_s`` (gaps up to ``merge_s`` bridged) become events whose onset is the entry.

Which rule labels which event type is a table keyed by the type's *behaviour*: its name with the
actor prefix removed (``child_smiles`` -> ``smiles``), so a scheme's types find their rule by
name and the actor comes from the scheme. A type whose behaviour has no rule gets no weak labels.

Thresholds were read off the features of two real Lookit clips of the training dyads (2UWdXP,
6c6MZQ; never the held-out 3dC3SQ or 4JDccE), checked against their frames: a person looking
at the partner reads a gaze-to-partner angle of 18-58 degrees, one facing the camera 66-115.
Lengths are in face sizes, speeds in face sizes per second. The vocal rules (``vocalises``,
``laughs``, ``cries``) read the ``voice.*`` columns: the audio's evidence (:mod:`cuevision.audio`)
and who the voice belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cuevision.features.dyad import LOOK_ANGLE_DEG
from cuevision.features.geometry import moving_mean
from cuevision.scheme import EventType, Scheme
from cuevision.types import ROLES, Event, FeatureSeries, Role

Score = Callable[[FeatureSeries, Role], np.ndarray]


@dataclass(frozen=True)
class LabellingFunction:
    """One interpretable rule: a per-frame score, and how runs of it become events."""

    rule: str  # the rule and its thresholds, in words (shown in model cards)
    score: Score  # (series, actor) -> (T,) in [0, 1], >= 0.5 where the rule holds, NaN abstains
    min_s: float  # shortest run that counts as an event
    merge_s: float = 0.2  # runs separated by at most this much are one event


def _above(x: np.ndarray, threshold: float, scale: float) -> np.ndarray:
    """Soft "x >= threshold": 0.5 exactly at the threshold, NaN stays NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + np.exp(-(x - threshold) / scale))


def _all(*scores: np.ndarray) -> np.ndarray:
    """Fuzzy AND: the rule holds where every part holds; NaN if any part abstains."""
    return np.minimum.reduce(scores)


def _robust_z(x: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 MAD) over the clip: distance from this person's own baseline."""
    if not np.isfinite(x).any():
        return np.full_like(x, np.nan)
    median = np.nanmedian(x)
    mad = 1.4826 * np.nanmedian(np.abs(x - median))
    return (x - median) / max(mad, 0.01)


def _col(series: FeatureSeries, actor: Role, name: str) -> np.ndarray:
    return series.column(f"{actor}.{name}").astype(np.float64)


LOOK_SCALE_DEG = 5.0


def looks_at(series: FeatureSeries, actor: Role) -> np.ndarray:
    return _above(-_col(series, actor, "gaze_to_partner"), -LOOK_ANGLE_DEG, LOOK_SCALE_DEG)


AWAY_DEG, TURNED_AWAY_DEG, AFTER_LOOK_S = 65.0, 120.0, 2.0


def looks_away(series: FeatureSeries, actor: Role) -> np.ndarray:
    gaze_off = _above(_col(series, actor, "gaze_to_partner"), AWAY_DEG, LOOK_SCALE_DEG)
    turned = _above(_col(series, actor, "head_to_partner"), TURNED_AWAY_DEG, LOOK_SCALE_DEG)
    looked = np.nan_to_num(looks_at(series, actor)) >= 0.5
    window = max(int(round(AFTER_LOOK_S * series.fps)), 1)
    # True where a looking-at frame lies within the window before (not after) this frame.
    recent = np.convolve(looked.astype(float), np.ones(window), mode="full")[: len(looked)] > 0
    # Long after a look, gaze off the partner is just not looking: scored below 0.5, not NaN.
    return np.maximum(np.where(recent, gaze_off, np.minimum(gaze_off, 0.49)), turned)


SMILE_Z, SMILE_MIN_RISE = 2.0, 0.04


def smiles(series: FeatureSeries, actor: Role) -> np.ndarray:
    smile = _col(series, actor, "smile")
    rise = smile - np.nanmedian(smile) if np.isfinite(smile).any() else smile
    corners = _col(series, actor, "lip_corner_raise")
    corners_up = corners - np.nanmedian(corners) if np.isfinite(corners).any() else corners
    return _all(
        _above(_robust_z(smile), SMILE_Z, 0.5),
        _above(rise, SMILE_MIN_RISE, 0.01),
        _above(corners_up, 0.0, 0.01),
    )


REACH_APPROACH, REACH_WRIST = 1.0, 1.5


def reaches(series: FeatureSeries, actor: Role) -> np.ndarray:
    frames = max(int(round(0.2 * series.fps)) | 1, 3)
    approach = moving_mean(_col(series, actor, "hand_approach"), frames)
    wrist = moving_mean(_col(series, actor, "wrist_speed"), frames)
    return _all(_above(approach, REACH_APPROACH, 0.25), _above(wrist, REACH_WRIST, 0.25))


TOUCH_DISTANCE = 0.6


def touches(series: FeatureSeries, actor: Role) -> np.ndarray:
    return _above(-_col(series, actor, "hand_to_partner"), -TOUCH_DISTANCE, 0.1)


LEAN_SPEED, LEAN_SMOOTH_S = 0.8, 0.33


def leans_in(series: FeatureSeries, actor: Role) -> np.ndarray:
    frames = max(int(round(LEAN_SMOOTH_S * series.fps)) | 1, 3)
    return _above(moving_mean(_col(series, actor, "head_approach"), frames), LEAN_SPEED, 0.2)


def _voice(series: FeatureSeries, name: str) -> np.ndarray:
    """A ``voice.*`` column; all NaN (the rule abstains) in features written before it existed."""
    if f"voice.{name}" not in series.names:
        return np.full(len(series.t_s), np.nan)
    return series.column(f"voice.{name}").astype(np.float64)


VOCAL_P, MIN_SHARE, SHARE_SMOOTH_S, LAUGH_P, CRY_P = 0.5, 0.5, 1.0, 0.5, 0.5


def vocal_share(series: FeatureSeries, actor: Role) -> np.ndarray:
    """The actor's share of the voice heard over ~1 s (0..1; 0.5 where nothing is heard): the
    bursts and pauses of one laugh or cry are given to one person, not split frame by frame."""
    frames = max(int(round(SHARE_SMOOTH_S * series.fps)) | 1, 3)
    vocal = np.nan_to_num(_voice(series, "vocal"))
    own = np.nan_to_num(_voice(series, f"{actor}_vocalising"))
    kernel = np.ones(frames)
    heard = np.convolve(vocal, kernel, mode="same")
    share = np.convolve(own, kernel, mode="same") / np.maximum(heard, 1e-6)
    share = np.where(heard > 1e-6, share, 0.5)
    return np.where(_voice(series, "present") > 0, share, np.nan)


def laughs(series: FeatureSeries, actor: Role) -> np.ndarray:
    return _all(
        _above(_voice(series, "laugh"), LAUGH_P, 0.05),
        _above(vocal_share(series, actor), MIN_SHARE, 0.05),
    )


def cries(series: FeatureSeries, actor: Role) -> np.ndarray:
    # A happy squeal is as loud, long and high as a cry; a smile at the same time tells them
    # apart (no face seen: no smile, the rule does not abstain for it).
    not_smiling = 1.0 - np.nan_to_num(smiles(series, actor), nan=0.0)
    return _all(
        _above(_voice(series, "cry"), CRY_P, 0.05),
        _above(vocal_share(series, actor), MIN_SHARE, 0.05),
        not_smiling,
        1.0 - np.nan_to_num(laughs(series, actor)),
    )


def vocalises(series: FeatureSeries, actor: Role) -> np.ndarray:
    own = _above(_voice(series, f"{actor}_vocalising"), VOCAL_P, 0.05)
    if actor != "child":  # a caregiver's laugh is one of her vocalisations
        return own
    # The child's laughs and cries are their own types, not vocalisations (the vocal scheme).
    return _all(
        own, 1.0 - np.nan_to_num(laughs(series, actor)), 1.0 - np.nan_to_num(cries(series, actor))
    )


# Behaviour (event type name without the actor prefix) -> its labelling function. Looking at the
# partner has one rule whatever the partner is called. There is deliberately no rule for distress:
# its only face signs here (open mouth, narrowed eyes, motion) are those of laughing, and these
# clips are jokes made to draw laughter, so any such rule would label laughter as distress.
LABELLING_FUNCTIONS: dict[str, LabellingFunction] = {
    **{
        f"looks_at_{partner}": LabellingFunction(
            f"gaze within {LOOK_ANGLE_DEG:g} deg of the partner's face (gaze_to_partner) for "
            ">= 0.4 s; onset = gaze arrives",
            looks_at,
            min_s=0.4,
        )
        for partner in ROLES
    },
    "looks_away": LabellingFunction(
        f"gaze_to_partner >= {AWAY_DEG:g} deg within {AFTER_LOOK_S:g} s after looking at the "
        f"partner, or head_to_partner >= {TURNED_AWAY_DEG:g} deg (turned away beyond facing the "
        "camera), for >= 0.4 s; onset = the turn away",
        looks_away,
        min_s=0.4,
    ),
    "smiles": LabellingFunction(
        f"smile >= {SMILE_Z:g} robust SDs (median/MAD over the clip) and >= {SMILE_MIN_RISE:g} "
        "face sizes above this person's median, lip corners above their median, for >= 0.3 s",
        smiles,
        min_s=0.3,
    ),
    "reaches": LabellingFunction(
        f"hand closing on the partner at >= {REACH_APPROACH:g} face sizes/s (hand_approach) while "
        f"the wrist moves >= {REACH_WRIST:g} face sizes/s, smoothed over 0.2 s, for >= 0.25 s",
        reaches,
        min_s=0.25,
    ),
    **{
        f"touches_{partner}": LabellingFunction(
            f"a hand within {TOUCH_DISTANCE:g} face sizes of the partner's body or face in the "
            "image (hand_to_partner) for >= 0.25 s; onset = first contact",
            touches,
            min_s=0.25,
        )
        for partner in ROLES
    },
    "leans_in": LabellingFunction(
        f"head moving toward the partner's head at >= {LEAN_SPEED:g} face sizes/s "
        f"(head_approach, smoothed over {LEAN_SMOOTH_S:g} s) for >= 0.25 s; onset = movement "
        "starts",
        leans_in,
        min_s=0.25,
    ),
    "vocalises": LabellingFunction(
        f"the actor's vocalising probability (voice.<actor>_vocalising: voice activity or loud "
        f"voicing, split by pitch and mouth motion) >= {VOCAL_P:g}, the child's laughs and cries "
        "excepted, for >= 0.2 s, pauses up to 0.3 s bridged",
        vocalises,
        min_s=0.2,
        merge_s=0.3,
    ),
    "laughs": LabellingFunction(
        f"laugh evidence (voice.laugh: a 2-7 Hz train of short voiced bursts) >= {LAUGH_P:g} "
        f"while the actor's share of the voice over {SHARE_SMOOTH_S:g} s >= {MIN_SHARE:g}, for "
        ">= 0.3 s, pauses up to 0.3 s bridged",
        laughs,
        min_s=0.3,
        merge_s=0.3,
    ),
    "cries": LabellingFunction(
        f"cry evidence (voice.cry: loud, sustained voicing above 400 Hz) >= {CRY_P:g} while the "
        f"actor's share of the voice >= {MIN_SHARE:g}, the actor neither smiles (the smiles "
        "rule) nor laughs, for >= 0.5 s, pauses up to 0.3 s bridged",
        cries,
        min_s=0.5,
        merge_s=0.3,
    ),
}


# Behaviours that are heard, not seen: their evidence is the sound, so a person out of the
# picture can still do them.
HEARD: frozenset[str] = frozenset({"vocalises", "laughs", "cries"})


def evidence_mask(type_name: str, actor: Role) -> str:
    """The column that says where a type can be observed at all: the actor seen (``visible``),
    or, for a heard behaviour, the audio track present (``voice.present``)."""
    heard = type_name.removeprefix(f"{actor}_") in HEARD
    return "voice.present" if heard else f"{actor}.visible"


def labelling_function(event_type: EventType) -> LabellingFunction | None:
    """The rule for a scheme's event type, or None: looked up by its name minus the actor."""
    prefix = f"{event_type.actor}_"
    behaviour = event_type.name.removeprefix(prefix)
    return LABELLING_FUNCTIONS.get(behaviour)


def describe(scheme: Scheme) -> dict[str, str]:
    """Type name -> the rule that labels it (or that none does), for model cards and reports."""
    out = {}
    for event_type in scheme.event_types:
        function = labelling_function(event_type)
        out[event_type.name] = function.rule if function else "no labelling function"
    return out


def _runs(on: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, stop) index runs where ``on`` is True."""
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _episodes(
    series: FeatureSeries, function: LabellingFunction, actor: Role
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The per-frame score and the [start, stop) runs that count as events."""
    score = function.score(series, actor)
    on = np.nan_to_num(score, nan=0.0) >= 0.5
    gap = int(np.floor(function.merge_s * series.fps + 1e-9))
    for start, stop in _runs(~on):
        if 0 < start and stop < len(on) and stop - start <= gap:
            on[start:stop] = True
    shortest = function.min_s * series.fps - 1e-9
    return score, [(a, b) for a, b in _runs(on) if b - a >= shortest]


def label_frames(series: FeatureSeries, scheme: Scheme) -> np.ndarray:
    """(T, n_types) weak frame targets in scheme order: 1 inside a weak event, 0 where the rule
    looked and did not fire, NaN where it abstained or the type has no labelling function."""
    out = np.full((len(series.t_s), len(scheme.event_types)), np.nan, dtype=np.float32)
    for k, event_type in enumerate(scheme.event_types):
        function = labelling_function(event_type)
        if function is None:
            continue
        score, runs = _episodes(series, function, event_type.actor)
        out[np.isfinite(score), k] = 0.0
        for start, stop in runs:
            out[start:stop, k] = 1.0
    return out


def label_events(series: FeatureSeries, scheme: Scheme) -> list[Event]:
    """Weak events (``source="weak"``) of every scheme type that has a labelling function.

    Onset = the first frame where the rule holds; offset = the end of the last frame; score =
    the mean per-frame score over the event.
    """
    events = []
    step = 1.0 / series.fps
    for event_type in scheme.event_types:
        function = labelling_function(event_type)
        if function is None:
            continue
        score, runs = _episodes(series, function, event_type.actor)
        for start, stop in runs:
            events.append(
                Event(
                    actor=event_type.actor,
                    type=event_type.name,
                    onset_s=float(series.t_s[start]),
                    offset_s=float(series.t_s[stop - 1] + step),
                    score=round(float(np.nanmean(score[start:stop])), 4),
                    source="weak",
                )
            )
    return sorted(events, key=lambda e: (e.onset_s, e.type))
