"""The vocal labelling functions (vocalises, laughs, cries) on simulated dyads and by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cuevision.features import FEATURE_NAMES
from cuevision.features.weak import describe, label_events, label_frames
from cuevision.metrics.agreement import compare_sessions
from cuevision.resources import DEFAULT_SCHEME
from cuevision.scheme import Scheme, load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.types import FeatureSeries

FPS = 10.0


@pytest.fixture(scope="module")
def vocal() -> Scheme:
    return load_scheme(DEFAULT_SCHEME.with_name("vocal.yaml"))


def test_every_vocal_type_has_a_rule(vocal: Scheme) -> None:
    rules = describe(vocal)
    assert all(rule != "no labelling function" for rule in rules.values()), rules
    assert "voice.laugh" in rules["child_laughs"] and "voice.cry" in rules["child_cries"]


def test_the_rules_find_the_simulated_vocal_events(vocal: Scheme) -> None:
    """On 8 simulated minutes, the weak events agree with the planted truth at +-1 s: the
    simulator's voices and the rules read the same columns the same way."""
    sessions = []
    for seed in range(8):
        series, truth = simulate_dyad(
            seed, duration_s=60.0, fps=15.0, scheme=vocal, feature_names=FEATURE_NAMES
        )
        sessions.append((truth, label_events(series, vocal), 60.0))
    result = compare_sessions(sessions, tolerance_s=1.0)
    f1 = {name: counts.f1 or 0.0 for name, counts in result.per_type.items()}
    assert f1["child_laughs"] > 0.8 and f1["child_cries"] > 0.6, f1
    assert f1["caregiver_vocalises"] > 0.5 and f1["child_vocalises"] > 0.3, f1


def heard(n: int, **columns: np.ndarray) -> FeatureSeries:
    """A quiet dyad of ``n`` frames, faces seen and still; ``columns`` set ``voice.<name>``."""
    values = np.zeros((n, len(FEATURE_NAMES)), np.float32)
    values[:, [i for i, name in enumerate(FEATURE_NAMES) if name.endswith("visible")]] = 1.0
    values[:, FEATURE_NAMES.index("voice.present")] = 1.0
    for name, column in columns.items():
        values[:, FEATURE_NAMES.index(f"voice.{name}")] = column
    return FeatureSeries(np.arange(n) / FPS, FPS, FEATURE_NAMES, values)


def on(n: int, start_s: float, stop_s: float) -> np.ndarray:
    t = np.arange(n) / FPS
    return ((t >= start_s) & (t < stop_s)).astype(np.float32)


def test_a_laugh_is_the_laughers_and_a_caregivers_laugh_is_her_vocalisation(
    vocal: Scheme,
) -> None:
    """A laugh from 1 to 3 s is the child's (her share of the voice), so it is child_laughs and
    not child_vocalises; the same laugh given to the caregiver is a caregiver_vocalises."""
    n = 50
    laugh = 0.9 * on(n, 1.0, 3.0)
    child = heard(n, vocal=laugh, child_vocalising=laugh, laugh=laugh)
    events = label_events(child, vocal)
    assert [(e.type, e.onset_s) for e in events] == [("child_laughs", 1.0)]
    mother = heard(n, vocal=laugh, caregiver_vocalising=laugh, laugh=laugh)
    assert [(e.type, e.onset_s) for e in label_events(mother, vocal)] == [
        ("caregiver_vocalises", 1.0)
    ]


def test_the_childs_babble_and_a_sustained_cry(vocal: Scheme) -> None:
    """Babble from 0.5 to 1.5 s is child_vocalises; loud sustained voicing from 2.5 to 4.5 s
    (cry evidence) is child_cries, not a vocalisation."""
    n = 60
    babble, cry = on(n, 0.5, 1.5), on(n, 2.5, 4.5)
    voice = 0.9 * (babble + cry)
    series = heard(n, vocal=voice, child_vocalising=voice, cry=0.9 * cry)
    events = label_events(series, vocal)
    assert [(e.type, e.onset_s, e.offset_s) for e in events] == [
        ("child_vocalises", 0.5, 1.5),
        ("child_cries", 2.5, 4.5),
    ]


def test_without_audio_the_vocal_rules_abstain(vocal: Scheme) -> None:
    n = 30
    series = heard(n)
    series.values[:, FEATURE_NAMES.index("voice.present")] = 0.0
    for name in FEATURE_NAMES:
        if name.startswith("voice.") and name != "voice.present":
            series.values[:, FEATURE_NAMES.index(name)] = np.nan
    assert label_events(series, vocal) == []
    assert np.isnan(label_frames(series, vocal)).all()
