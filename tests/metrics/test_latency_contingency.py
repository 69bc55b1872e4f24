"""Hand-worked latency and time-window contingency fixtures, cross-checked with lifelines."""

from __future__ import annotations

import math

import pytest
from lifelines import KaplanMeierFitter

from cuevision.metrics.contingency import contingency_table, odds_ratio, unit_of
from cuevision.metrics.latency import response_latency
from cuevision.metrics.survival import km_median
from cuevision.types import Event


def cue(t: float) -> Event:
    return Event("child", "child_smiles", t, t + 0.5)


def response(t: float) -> Event:
    return Event("caregiver", "caregiver_smiles", t, t + 0.5)


def test_latency_answered_unanswered_before_and_overlapping() -> None:
    """Window 3 s.

    time (s)   0    1    2    3    4    5    6    7 ... 10   11   12 ... 20   21   22   23   24
    cues            A                   B                  C    D         E
    responses            r(2.5)    r(4.0)                        r(12)                  r(23.5)
                    |-1.5-|             none in [4.5,7.5]  |--2--| |1|    none in [20,23]

    A is answered after 1.5 s. B is not: r(4.0) started before it. C and D overlap; the one
    response at 12 answers both (2 s and 1 s). E's only response comes 3.5 s later: too late.
    """
    cues = [cue(t) for t in (1.0, 4.5, 10.0, 11.0, 20.0)]
    responses = [response(t) for t in (2.5, 4.0, 12.0, 23.5)]
    result = response_latency(cues, responses, window_s=3.0)
    assert result.latencies_s == (1.5, None, 2.0, 1.0, None)
    assert (result.n_cues, result.n_responded, result.response_rate) == (5, 3, 0.6)
    assert result.mean_latency_s == pytest.approx(1.5)
    # KM: S(1.0) = 4/5, S(1.5) = 4/5 * 3/4 = 0.6, S(2.0) = 0.6 * 2/3 = 0.4 <= 0.5
    assert result.median_latency_s == 2.0


def test_latency_window_edges_are_inclusive() -> None:
    """A response at the cue onset counts (0 s); one exactly at onset + window counts too.

    time (s)   0    1    2    3    4 ... 10   11   12   13
    cues            A                    B
    responses       r                                  r(13)
    """
    result = response_latency([cue(1.0), cue(10.0)], [response(1.0), response(13.0)], 3.0)
    assert result.latencies_s == (0.0, 3.0)


def test_latency_without_cues_or_responses() -> None:
    assert response_latency([], [response(1.0)], 3.0).response_rate is None
    none = response_latency([cue(1.0)], [], 3.0)
    assert none.latencies_s == (None,) and none.median_latency_s is None
    assert none.mean_latency_s is None


@pytest.mark.parametrize(
    ("durations", "observed"),
    [
        ([1.5, 3.0, 2.0, 1.0, 3.0], [True, False, True, True, False]),
        ([0.4, 0.4, 1.2, 2.9, 3.0, 3.0, 0.1], [True, True, True, True, False, False, True]),
        ([2.0, 2.0, 3.0], [True, False, False]),  # S never reaches 0.5: lifelines says inf
        ([1.0, 2.0, 3.0, 4.0], [True, True, True, True]),  # S(2) = 0.5 exactly
        ([5.0, 1.0, 1.0, 2.0, 7.0, 7.0], [False, True, True, False, True, False]),
    ],
)
def test_km_median_matches_lifelines(durations: list[float], observed: list[bool]) -> None:
    fitter = KaplanMeierFitter().fit(durations, observed)
    expected = fitter.median_survival_time_
    ours = km_median(durations, observed)
    assert (ours is None) if math.isinf(expected) else ours == pytest.approx(expected)


def test_yules_q_table_counts() -> None:
    """1 s units, 10 s session, 2 s window.

    unit        0  1  2  3  4  5  6  7  8  9
    cues        C              C
    given       G  G           G  G              -> 4 given units
    responses      R     R              R        -> target units 1, 3, 8

    a = given & target = {1} = 1     b = given, no target = {0, 5, 6} = 3
    c = target, not given = {3, 8} = 2   d = the other units = {2, 4, 7, 9} = 4
    Q = (1*4 - 3*2) / (1*4 + 3*2) = -0.2; odds ratio = 4/6, no zero cell so no correction.
    """
    cues = [cue(0.0), cue(5.0)]
    responses = [response(t) for t in (1.0, 3.0, 8.0)]
    table = contingency_table(
        cues, responses, window_s=2.0, duration_s=10.0, time_unit_s=1.0, permutations=1000
    )
    assert (table.a, table.b, table.c, table.d) == (1, 3, 2, 4)
    assert table.yules_q == pytest.approx(-0.2)
    assert table.odds_ratio == pytest.approx(4 / 6)
    assert table.p_value is not None and 1 / 1001 <= table.p_value <= 1.0


def test_zero_cell_gets_haldane_correction_and_q_is_one() -> None:
    """unit    0  1  2  3  4  5  6  7  8  9
    cues       C              C
    given      G  G           G  G
    responses     R              R
    a = 2, b = 2, c = 0, d = 6: Q = 1; odds ratio (2.5 * 6.5) / (2.5 * 0.5) = 13.
    """
    table = contingency_table(
        [cue(0.0), cue(5.0)],
        [response(1.0), response(6.0)],
        window_s=2.0,
        duration_s=10.0,
        time_unit_s=1.0,
    )
    assert (table.a, table.b, table.c, table.d) == (2, 2, 0, 6)
    assert table.yules_q == 1.0
    assert table.odds_ratio == pytest.approx(13.0)
    assert odds_ratio(1, 2, 3, 4) == pytest.approx(4 / 6)


def test_permutation_p_is_seeded_and_detects_contingency() -> None:
    """Every cue in a 60 s session is answered 1 s later: shifted streams rarely do as well.

    (Irregular cue times: with evenly spaced cues, shifts by whole periods would do as well.)
    """
    cues = [cue(t) for t in (2.0, 6.5, 15.0, 19.2, 31.0, 40.7, 44.0, 52.3)]
    responses = [response(c.onset_s + 1.0) for c in cues]
    settings = {"window_s": 3.0, "duration_s": 60.0, "time_unit_s": 0.1, "permutations": 1000}
    first = contingency_table(cues, responses, seed=1, **settings)
    again = contingency_table(cues, responses, seed=1, **settings)
    assert first.p_value == again.p_value
    assert first.p_value is not None and first.p_value < 0.01
    assert first.yules_q == 1.0


def test_onsets_land_in_the_unit_that_contains_them() -> None:
    """0.3 / 0.1 is 2.9999999999999996 in floating point; the onset still belongs to unit 3."""
    assert unit_of(0.3, 0.1) == 3
    assert unit_of(0.29, 0.1) == 2
