"""Post-processing of a hand-drawn probability trace: hysteresis, minimum duration, merge gap."""

from __future__ import annotations

import numpy as np
import pytest

from cuevision.detect.postprocess import FrameScores, Thresholds, binarize, to_candidates

FPS = 10.0
#            frame  0123456789012345678901234567890123456789012345678901234
TRACE = "0017898753000005555500000080000000077307700007646564600"  # probability x 10
DRAWN = "   [=====)                         [=====)   [=======) "  # expected events
TUNED = Thresholds(onset=0.6, offset=0.4, min_duration_s=0.3, merge_gap_s=0.3)


def trace() -> tuple[np.ndarray, np.ndarray]:
    prob = np.array([int(c) / 10 for c in TRACE])
    return prob, np.arange(len(prob)) / FPS


def drawn_events(drawing: str) -> list[tuple[float, float]]:
    """``[`` marks the onset frame, ``)`` the first frame after the event."""
    starts = [i for i, c in enumerate(drawing) if c == "["]
    stops = [i for i, c in enumerate(drawing) if c == ")"]
    return [(a / FPS, b / FPS) for a, b in zip(starts, stops, strict=True)]


def test_hand_drawn_trace_gives_the_drawn_events() -> None:
    """onset 0.6, offset 0.4, min duration 0.3 s, merge gap 0.3 s, at 10 frames/s::

        frame   0123456789012345678901234567890123456789012345678901234
        p x 10  0017898753000005555500000080000000077307700007646564600
        events     [=====)                         [=====)   [=======)
        case       A             B        C          D          E

    A: starts at the first frame above 0.6 (frame 3), ends before the first below 0.4 (frame 9).
    B: 0.5 lies between the thresholds and never crosses onset: no event.
    C: a one-frame blip of 0.1 s is shorter than the minimum duration: dropped.
    D: two runs 0.2 s apart are merged (gap < 0.3 s).
    E: dips to 0.4 do not end the event (hysteresis), although they fall below onset.
    """
    prob, t_s = trace()
    found = binarize(prob, t_s, FPS, TUNED)
    expected = drawn_events(DRAWN)
    assert len(found) == len(expected)
    for (onset, offset, _), (want_on, want_off) in zip(found, expected, strict=True):
        assert (onset, offset) == pytest.approx((want_on, want_off))
    scores = [score for _, _, score in found]
    assert scores == pytest.approx([44 / 60, 31 / 60, 44 / 80])


def test_each_rule_matters() -> None:
    """Switch each rule off and the drawn trace gives more events."""
    prob, t_s = trace()
    no_merge = Thresholds(0.6, 0.4, min_duration_s=0.3, merge_gap_s=0.0)
    no_min = Thresholds(0.6, 0.4, min_duration_s=0.0, merge_gap_s=0.3)
    one_threshold = Thresholds(0.5, 0.5, min_duration_s=0.0, merge_gap_s=0.0)
    assert len(binarize(prob, t_s, FPS, no_merge)) == 2  # D split: both halves are 0.2 s < 0.3
    assert len(binarize(prob, t_s, FPS, no_min)) == 4  # C kept
    late = [e for e in binarize(prob, t_s, FPS, one_threshold) if e[0] >= 4.5]
    assert len(late) == 3  # without hysteresis E is chopped at both dips to 0.4


def test_candidates_carry_provenance_and_ids() -> None:
    prob, t_s = trace()
    flat = np.zeros_like(prob)
    scores = FrameScores(t_s, FPS, ("a_smiles", "b_looks"), np.stack([flat, prob], axis=1))
    events = to_candidates(
        scores,
        {"a_smiles": TUNED, "b_looks": TUNED},
        {"a_smiles": "child", "b_looks": "caregiver"},
        "cue-tcn@9.9",
    )
    assert [e.id for e in events] == ["c0001", "c0002", "c0003"]
    assert {(e.actor, e.type, e.status, e.source, e.model_version) for e in events} == {
        ("caregiver", "b_looks", "candidate", "model", "cue-tcn@9.9")
    }
    assert all(0 <= (e.score or 0) <= 1 for e in events)


def test_bad_thresholds_and_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="offset <= onset"):
        Thresholds(onset=0.4, offset=0.6)
    with pytest.raises(ValueError, match="shape"):
        FrameScores(np.arange(3.0), FPS, ("a",), np.zeros((4, 1), np.float32))


def test_empty_and_nan_traces() -> None:
    assert binarize(np.zeros(0), np.zeros(0), FPS, TUNED) == []
    nan = np.full(20, np.nan)
    assert binarize(nan, np.arange(20) / FPS, FPS, TUNED) == []
    always = np.ones(20)
    assert binarize(always, np.arange(20) / FPS, FPS, TUNED) == [(0.0, 2.0, 1.0)]
