"""Hand-worked rupture/repair and agreement fixtures, cross-checked with lifelines and sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from sklearn.metrics import cohen_kappa_score

from cuevision.metrics.agreement import compare, match_onsets, occupancy, tolerant_kappa
from cuevision.metrics.repair import repair_episodes
from cuevision.types import Event


def ev(kind: str, t: float, length: float = 0.5, actor: str = "child") -> Event:
    return Event(actor, kind, t, t + length)  # type: ignore[arg-type]


def test_repair_joins_overlapping_ruptures_and_censors() -> None:
    """max_s = 5, the session ends at 20 s.

    time (s)  0    2    4    6    8    10   12   14   16   18   20|
    rupture    X(1) X(2)              X(8) X(10)               X(17)
    repair              R(3.5)                      R(14)
              |-2.5-|                 |---- 5 (censored) -|      |-3-| end
    Episode 1 opens at 1, the rupture at 2 joins it, repaired at 3.5 after 2.5 s. Episode 2 opens
    at 8, the rupture at 10 joins it; the repair at 14 comes after 8 + 5 = 13: censored at 5 s.
    Episode 3 opens at 17 and the session ends 3 s later: censored at 3 s.
    """
    ruptures = [ev("child_distress", 1.0), ev("child_looks_away", 2.0), ev("child_distress", 8.0)]
    ruptures += [ev("child_looks_away", 10.0), ev("child_distress", 17.0)]
    repairs = [ev("child_smiles", 3.5), ev("child_smiles", 14.0)]
    result = repair_episodes(ruptures, repairs, max_s=5.0, duration_s=20.0)
    episodes = [e.to_dict() for e in result.episodes]
    assert [e["rupture_onset_s"] for e in episodes] == [1.0, 8.0, 17.0]
    assert [e["ruptures"] for e in episodes] == [2, 2, 1]
    assert [e["repair_latency_s"] for e in episodes] == [2.5, None, None]
    assert [e["censored_at_s"] for e in episodes] == [None, 5.0, 3.0]
    assert (result.n_ruptures, result.n_repaired, result.repair_latencies_s) == (3, 1, [2.5])
    # S(2.5) = 2/3 and no later event: the median is undefined, as lifelines says (inf)
    fitter = KaplanMeierFitter().fit([2.5, 5.0, 3.0], [True, False, False])
    assert math.isinf(fitter.median_survival_time_) and result.median_repair_s is None


def test_repair_median_matches_lifelines() -> None:
    """time (s)  0    2    4    6    8    10   12
    rupture         X(1)      X(4)      X(8)
    repair             R(2)        R(6)         (none by 12 = end: censored at 4)
    """
    result = repair_episodes(
        [ev("child_distress", t) for t in (1.0, 4.0, 8.0)],
        [ev("child_smiles", t) for t in (2.0, 6.0)],
        max_s=30.0,
        duration_s=12.0,
    )
    waits = [e.wait_s for e in result.episodes]
    assert waits == [1.0, 2.0, 4.0]
    fitter = KaplanMeierFitter().fit(waits, [True, True, False])
    assert result.median_repair_s == pytest.approx(fitter.median_survival_time_) == 2.0


def test_optimal_matching_beats_greedy() -> None:
    """Tolerance 1 s; type a only matches type a.

    reference a:  1.0            5.0  6.0
    other     a:    1.8              5.9   6.95        9.0
    reference b:                                 8.0
    other     b:                                   8.5

    Closest pair first would take (6.0, 5.9) and strand 5.0; the optimal assignment pairs
    5.0-5.9 and 6.0-6.95, so all three reference a's are matched; 9.0 is a false positive.
    """
    reference = [ev("a", 1.0), ev("a", 5.0), ev("a", 6.0), ev("b", 8.0, actor="caregiver")]
    other = [ev("a", t) for t in (1.8, 5.9, 6.95, 9.0)] + [ev("b", 8.5, actor="caregiver")]
    assert sorted(match_onsets([5.0, 6.0], [5.9, 6.95], 1.0)) == [(0, 0), (1, 1)]
    result = compare(reference, other, tolerance_s=1.0, duration_s=12.0).to_dict()
    a = result["per_type"]["a"]
    assert (a["n_reference"], a["n_other"], a["n_matched"]) == (3, 4, 3)
    assert (a["precision"], a["recall"]) == (0.75, 1.0)
    assert a["f1"] == pytest.approx(6 / 7)
    assert a["mean_onset_error_s"] == pytest.approx((0.8 + 0.9 + 0.95) / 3)
    overall = result["overall"]
    assert (overall["n_reference"], overall["n_other"], overall["n_matched"]) == (4, 5, 4)
    assert overall["f1"] == pytest.approx(8 / 9)
    assert set(result["kappa"]) == set(result["alpha"]) == {"a", "b"}


def test_nothing_matches_outside_tolerance_or_across_types() -> None:
    result = compare([ev("a", 1.0)], [ev("a", 2.5), ev("b", 1.0)], tolerance_s=1.0)
    assert result.per_type["a"].n_matched == 0 and result.overall.n_matched == 0
    assert result.per_type["b"].precision == 0.0 and result.per_type["b"].recall is None


def test_kappa_without_tolerance_is_sklearns() -> None:
    """0.5 s units over 10 s; with tolerance 0 our kappa is sklearn's on the occupancy streams."""
    reference = [ev("a", 1.0, 2.0), ev("a", 6.0, 1.0)]
    other = [ev("a", 1.5, 2.0), ev("a", 8.0, 1.0)]
    ref, oth = occupancy(reference, 20, 0.5), occupancy(other, 20, 0.5)
    assert ref.tolist() == [0, 0, 1, 1, 1, 1] + [0] * 6 + [1, 1] + [0] * 6
    assert tolerant_kappa(ref, oth, 0) == pytest.approx(cohen_kappa_score(ref, oth))
    result = compare(reference, other, tolerance_s=0.0, duration_s=10.0, time_unit_s=0.5)
    assert result.kappa["a"] == pytest.approx(cohen_kappa_score(ref, oth))


def test_kappa_tolerance_forgives_small_shifts_only() -> None:
    """units   0 1 2 3 4 5 6 7 8 9
    A          . . 1 1 1 . . . . .
    B          . . . 1 1 1 . . . .      one unit late
    With a tolerance of 1 unit, unit 2 (A=1, B has a 1 at unit 3) and unit 5 (A=0, B has a 0 at
    unit 6) are forgiven from both sides: kappa = 1. With 0 units it is sklearn's plain kappa.
    """
    a = np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 0], dtype=np.int8)
    b = np.roll(a, 1)
    assert tolerant_kappa(a, b, 1) == 1.0
    assert tolerant_kappa(a, b, 0) == pytest.approx(cohen_kappa_score(a, b))
    assert tolerant_kappa(np.zeros(5, np.int8), np.zeros(5, np.int8), 1) is None
