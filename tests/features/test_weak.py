"""Weak labelling functions on hand-built feature series (10 frames per second: 0.1 s a frame).

Each timeline below marks with ``#`` the frames where a feature takes its active value and
with ``.`` its resting value; the expected events follow from the rules in cuevision.features.weak.
"""

from __future__ import annotations

import numpy as np
import pytest

from cuevision.features import FEATURE_NAMES
from cuevision.features.weak import describe, label_events, label_frames
from cuevision.scheme import EventType, Scheme, load_scheme
from cuevision.types import Event, FeatureSeries

FPS = 10.0
RESTING = {
    "visible": 1.0,
    "face_visible": 1.0,
    "pose_visible": 1.0,
    "gaze_to_partner": 90.0,
    "head_to_partner": 85.0,
    "smile": 0.5,
    "lip_corner_raise": -0.03,
    "mouth_width": 0.53,
    "hand_to_partner": 2.5,
    "wrist_speed": 0.2,
    "distance": 5.0,
}


def build(n: int, **active: tuple[str, float]) -> FeatureSeries:
    """A calm dyad of ``n`` frames; ``column=(timeline, value)`` sets ``value`` on its ``#``s.

    Resting values carry a little seeded noise, as real features do.
    """
    rng = np.random.default_rng(0)
    values = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    for k, name in enumerate(FEATURE_NAMES):
        rest = RESTING.get(name.split(".", 1)[1], 0.0)
        noise = 0.0 if name.endswith("visible") else 0.004 * max(abs(rest), 1.0)
        values[:, k] = rest + rng.normal(0, noise, n)
    for column, (timeline, value) in active.items():
        name = column.replace("__", ".")
        assert len(timeline) == n, column
        on = np.array([c == "#" for c in timeline])
        values[on, FEATURE_NAMES.index(name)] = value
    return FeatureSeries(t_s=np.arange(n) / FPS, fps=FPS, names=FEATURE_NAMES, values=values)


def spans(events: list[Event], type_: str) -> list[tuple[float, float]]:
    return [(round(e.onset_s, 2), round(e.offset_s, 2)) for e in events if e.type == type_]


@pytest.fixture(scope="module")
def scheme() -> Scheme:
    return load_scheme()


def test_looks_at(scheme: Scheme) -> None:
    """
    frame        0         1         2         3
                 0123456789012345678901234567890
    gaze 30 deg  ......#####.....##.....######..
    event              [0.6-1.1)               [2.3-2.9)
                                 ^^ 0.2 s: shorter than 0.4 s, no event
    """
    series = build(31, child__gaze_to_partner=("......#####.....##.....######..", 30.0))
    events = label_events(series, scheme)
    assert spans(events, "child_looks_at_caregiver") == [(0.6, 1.1), (2.3, 2.9)]
    assert spans(events, "caregiver_looks_at_child") == []
    assert all(e.source == "weak" and e.actor == "child" for e in events)
    assert all(0.5 <= (e.score or 0) <= 1 for e in events)


def test_looks_away(scheme: Scheme) -> None:
    """
    frame          0         1         2         3
                   0123456789012345678901234567890123456789
    gaze 30 deg    ..######................................   (else 90: toward the camera)
    head 130 deg   ................................######..   (else 85)
    looks_away     ........###################.....######..
                           ^ 0.8 turns away: counts for 2 s  ^ 3.2 turned beyond the camera
                           after the last look (to frame 26)
    """
    series = build(
        40,
        child__gaze_to_partner=("..######................................", 30.0),
        child__head_to_partner=("................................######..", 130.0),
    )
    events = label_events(series, scheme)
    assert spans(events, "child_looks_at_caregiver") == [(0.2, 0.8)]
    assert spans(events, "child_looks_away") == [(0.8, 2.7), (3.2, 3.8)]


def test_smiles(scheme: Scheme) -> None:
    """
    frame              0    1    2    3    4    5
                       012345678901234567890123456789012345678901234567890123456789
    smile +0.1         ..........##########..............................######....
    corners +0.05      ..........##########....................................  a smile
    corners -0.02      ..................................................######....  a grimace
    caregiver_smiles             [1.0-2.0)                         (none: corners went down)
    """
    smile = "..........##########..............................######...."
    series = build(
        60,
        caregiver__smile=(smile, 0.6),
        caregiver__lip_corner_raise=(smile[:40] + "." * 20, 0.02),
        caregiver__mouth_width=("." * 50 + "######....", 0.65),
    )
    corners = series.values[:, FEATURE_NAMES.index("caregiver.lip_corner_raise")]
    corners[50:56] = -0.05
    assert spans(label_events(series, scheme), "caregiver_smiles") == [(1.0, 2.0)]


def test_reaches(scheme: Scheme) -> None:
    """
    frame            0         1         2
                     012345678901234567890123456789
    approach 2/s     .....######...................   hand closing on the partner (else 0)
    wrist 2.5/s      .....######.........######....   (else 0.2)
    child_reaches         [0.5-1.1)                   (second: fast, but not toward her)
    Smoothing over 3 frames: frames 4 and 11 average below both thresholds.
    """
    series = build(
        30,
        child__hand_approach=(".....######...................", 2.0),
        child__wrist_speed=(".....######.........######....", 2.5),
    )
    assert spans(label_events(series, scheme), "child_reaches") == [(0.5, 1.1)]


def test_touches(scheme: Scheme) -> None:
    """
    frame              0         1         2
                       012345678901234567890123456789
    hand 0.3 away      ....#####........#............   (else 2.5 face sizes)
    caregiver_touches      [0.4-0.9)    ^ one frame: shorter than 0.25 s
    """
    series = build(30, caregiver__hand_to_partner=("....#####........#............", 0.3))
    assert spans(label_events(series, scheme), "caregiver_touches_child") == [(0.4, 0.9)]


def test_leans_in(scheme: Scheme) -> None:
    """
    frame              0         1         2
                       012345678901234567890123456789
    head 1.5/s closer  ..........######..............   (else 0)
    smoothed (3 fr.)   ..........######..............   frames 9 and 16 average 0.5 < 0.8
    caregiver_leans_in           [1.0-1.6)
    """
    series = build(30, caregiver__head_approach=("..........######..............", 1.5))
    assert spans(label_events(series, scheme), "caregiver_leans_in") == [(1.0, 1.6)]


def test_frames_abstain_where_features_are_missing(scheme: Scheme) -> None:
    """
    frame        0         1         2
                 012345678901234567890123456789
    gaze 30 deg  ..........######..............
    child seen   #####################.........   (gaze NaN where unseen)
    frames       0000000000111111000000NNNNNNNN   N = NaN: the rule abstains
    """
    series = build(30, child__gaze_to_partner=("..........######..............", 30.0))
    series.values[21:, FEATURE_NAMES.index("child.gaze_to_partner")] = np.nan
    frames = label_frames(series, scheme)
    assert frames.shape == (30, len(scheme.type_names))
    looks = frames[:, scheme.type_names.index("child_looks_at_caregiver")]
    np.testing.assert_array_equal(looks[:21], [0] * 10 + [1] * 6 + [0] * 5)
    assert np.isnan(looks[21:]).all()
    assert set(np.unique(frames[np.isfinite(frames)])) <= {0.0, 1.0}


def test_distress_has_no_labelling_function(scheme: Scheme) -> None:
    series = build(
        30,
        child__mouth_open=("..........##########..........", 0.5),
        child__body_motion=("..........##########..........", 5.0),
    )
    assert spans(label_events(series, scheme), "child_distress") == []
    assert np.isnan(
        label_frames(series, scheme)[:, scheme.type_names.index("child_distress")]
    ).all()
    assert describe(scheme)["child_distress"] == "no labelling function"


def test_rules_follow_the_scheme_not_fixed_names() -> None:
    """A scheme's own types find their rules by behaviour; the actor comes from the scheme."""

    def kind(name: str, actor: str, key: str) -> EventType:
        return EventType(
            name=name, actor=actor, kind="cue", description="d", color="#000000", hotkey=key
        )  # type: ignore[arg-type]

    custom = Scheme(
        name="custom",
        event_types=(
            kind("caregiver_looks_away", "caregiver", "a"),
            kind("child_touches_caregiver", "child", "b"),
            kind("child_sneezes", "child", "c"),
        ),
    )
    series = build(
        30,
        caregiver__head_to_partner=("..........######..............", 130.0),
        child__hand_to_partner=("..........######..............", 0.2),
    )
    assert {(e.type, e.onset_s) for e in label_events(series, custom)} == {
        ("caregiver_looks_away", 1.0),
        ("child_touches_caregiver", 1.0),
    }
    assert describe(custom)["child_sneezes"] == "no labelling function"
    assert np.isnan(label_frames(series, custom)[:, 2]).all()
