"""The feature-level dyad simulator: deterministic, scheme-driven, realistic gaps, exact truth."""

from __future__ import annotations

import numpy as np

from cuevision.features import FEATURE_NAMES
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.synth.effects import is_modelled
from cuevision.types import Event, FeatureSeries

SCHEME = load_scheme()


def simulate(seed: int, duration_s: float = 60.0) -> tuple[FeatureSeries, list[Event]]:
    return simulate_dyad(
        seed, duration_s=duration_s, fps=15.0, scheme=SCHEME, feature_names=FEATURE_NAMES
    )


def test_deterministic_for_a_seed() -> None:
    (a, events_a), (b, events_b) = simulate(7), simulate(7)
    assert np.array_equal(a.values, b.values, equal_nan=True)
    assert events_a == events_b
    c, events_c = simulate(8)
    assert not np.array_equal(a.values, c.values, equal_nan=True) and events_a != events_c


def test_columns_and_grid_match_the_features() -> None:
    series, _ = simulate(1, duration_s=12.0)
    assert series.names == FEATURE_NAMES
    assert series.values.shape == (180, len(FEATURE_NAMES))
    assert series.values.dtype == np.float32
    assert np.allclose(np.diff(series.t_s), 1 / 15)


def test_missing_faces_are_nan_with_mask_zero() -> None:
    series, _ = simulate(3)
    for role in ("caregiver", "child"):
        face = series.column(f"{role}.face_visible")
        assert set(np.unique(face)) <= {0.0, 1.0} and 0 < face.mean() < 1
        smile = series.column(f"{role}.smile")
        assert np.isnan(smile[face == 0]).all() and np.isfinite(smile[face == 1]).all()
        seen = series.column(f"{role}.visible")
        assert np.array_equal(seen, np.maximum(face, series.column(f"{role}.pose_visible")))


def test_events_follow_the_scheme_with_unanswered_cues() -> None:
    """Over many dyads: every type appears, actors match the scheme, and some cues are answered
    within the contingency window while others are not."""
    answered = unanswered = 0
    seen_types = set()
    for seed in range(12):
        series, events = simulate(seed)
        duration = len(series.t_s) / series.fps
        assert events == sorted(events, key=lambda e: (e.onset_s, e.type))
        for event in events:
            kind = SCHEME.event_type(event.type)
            assert kind is not None and kind.actor == event.actor
            assert 0 <= event.onset_s < event.offset_s <= duration
        seen_types |= {e.type for e in events}
        for rule in SCHEME.contingency:
            for cue in (e for e in events if e.type == rule.cue):
                hit = any(
                    e.type in rule.responses and 0 < e.onset_s - cue.onset_s <= rule.window_s
                    for e in events
                )
                answered += hit
                unanswered += not hit
    assert seen_types == set(SCHEME.type_names)
    assert answered > 20 and unanswered > 20


def test_planted_events_show_in_their_features() -> None:
    """Averaged over dyads, a child's smile raises child.smile and a look at the caregiver brings
    child.gaze_to_partner down: the truth is in the features, not only in the event list."""
    inside: dict[str, list[float]] = {"smile": [], "gaze": []}
    outside: dict[str, list[float]] = {"smile": [], "gaze": []}
    for seed in range(8):
        series, events = simulate(seed)
        for key, column, kind in (
            ("smile", "child.smile", "child_smiles"),
            ("gaze", "child.gaze_to_partner", "child_looks_at_caregiver"),
        ):
            values = series.column(column)
            on = np.zeros(len(values), bool)
            for e in (e for e in events if e.type == kind):
                on |= (series.t_s >= e.onset_s + 0.5) & (series.t_s < e.offset_s)
            inside[key] += list(values[on & np.isfinite(values)])
            outside[key] += list(values[~on & np.isfinite(values)])
    assert np.median(inside["smile"]) > np.median(outside["smile"]) + 0.03
    assert np.median(inside["gaze"]) < np.median(outside["gaze"]) - 10


def test_every_default_type_has_its_modelled_effects() -> None:
    """The effect table is keyed by actor and behaviour, not by a scheme's label: renaming a type
    of the default scheme without the table would silently give it a random signature, so it
    fails here instead."""
    for event_type in SCHEME.event_types:
        assert is_modelled(event_type.name, event_type.actor), event_type.name
    assert not is_modelled("child_sneezes", "child")  # vocalises is modelled (synth.voice)
    assert not is_modelled("child_smiles", "caregiver")  # the actor comes from the scheme
