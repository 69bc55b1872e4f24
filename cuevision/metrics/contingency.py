"""Time-window sequential analysis of cue -> response contingency (Bakeman & Quera 2011, ch. 11).

The session is cut into time units of ``u`` seconds. A unit is *given* when it lies inside
``[cue onset, cue onset + window)`` of any cue; a unit is a *target* when a response onset falls in
it. Onsets are first placed on the unit grid (unit = floor(t / u)), and the window covers the
``round(window / u)`` units starting with the cue's unit. Counting units gives the 2×2 table

                 target   not target
    given          a          b
    not given      c          d

Yule's Q = (ad − bc) / (ad + bc) runs from −1 (responses avoid the windows) through 0 (no
relation) to +1 (responses only inside the windows). The odds ratio is ad / bc, with 0.5 added to
every cell only when a cell is 0 (and none at all without cues or without responses).

The p-value is a permutation test: the response stream is shifted circularly by random offsets
(keeping its count and spacing, breaking only its timing relative to the cues), and
p = (1 + #{|Q*| >= |Q|}) / (1 + N), two-sided. Offsets are drawn uniformly from
[window, session − window]: a shift shorter than the window would leave most responses inside
the windows they answered and so re-test the observed contingency. The statistic for the test is
Q computed from the corrected odds ratio, so that it is defined for every shift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cuevision.types import Event

EPS = 1e-9


@dataclass(frozen=True)
class Contingency:
    a: int
    b: int
    c: int
    d: int
    p_value: float | None
    permutations: int

    @property
    def yules_q(self) -> float | None:
        ad, bc = self.a * self.d, self.b * self.c
        return (ad - bc) / (ad + bc) if ad + bc else None

    @property
    def odds_ratio(self) -> float | None:
        """None without any given or any target unit: there is nothing to compare."""
        if not (self.a + self.b) or not (self.a + self.c):
            return None
        return odds_ratio(self.a, self.b, self.c, self.d)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "d": self.d,
            "yules_q": self.yules_q,
            "odds_ratio": self.odds_ratio,
            "p_value": self.p_value,
            "permutations": self.permutations,
        }


def odds_ratio(a: float, b: float, c: float, d: float) -> float:
    """ad / bc, with 0.5 added to every cell only when one of them is 0 (Haldane's correction)."""
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return (a * d) / (b * c)


def unit_of(t_s: float, time_unit_s: float) -> int:
    """The index of the time unit that contains time ``t_s``."""
    return math.floor(t_s / time_unit_s + EPS)


def given_units(
    cues: Sequence[Event], n_units: int, window_s: float, time_unit_s: float
) -> np.ndarray:
    """Boolean per unit: inside ``[cue onset, cue onset + window)`` of any cue."""
    given = np.zeros(n_units, dtype=bool)
    width = max(1, round(window_s / time_unit_s))
    for cue in cues:
        start = unit_of(cue.onset_s, time_unit_s)
        given[max(0, start) : min(n_units, start + width)] = True
    return given


def target_units(responses: Sequence[Event], n_units: int, time_unit_s: float) -> np.ndarray:
    """Boolean per unit: a response onset falls in it (onsets past the session end are ignored)."""
    target = np.zeros(n_units, dtype=bool)
    for response in responses:
        unit = unit_of(response.onset_s, time_unit_s)
        if 0 <= unit < n_units:
            target[unit] = True
    return target


def _q_stat(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    zero = (np.minimum(np.minimum(a, b), np.minimum(c, d)) == 0).astype(float) * 0.5
    ad, bc = (a + zero) * (d + zero), (b + zero) * (c + zero)
    return np.asarray((ad - bc) / (ad + bc))


def contingency_table(
    cues: Sequence[Event],
    responses: Sequence[Event],
    *,
    window_s: float,
    duration_s: float,
    time_unit_s: float = 0.1,
    permutations: int = 1000,
    seed: int = 0,
) -> Contingency:
    """The 2×2 given/target table of time units, Yule's Q and a circular-shift permutation p."""
    n = max(1, math.ceil(duration_s / time_unit_s - EPS))
    given = given_units(cues, n, window_s, time_unit_s)
    target = target_units(responses, n, time_unit_s)
    a = int(np.count_nonzero(given & target))
    n_given, n_target = int(given.sum()), int(target.sum())
    b, c = n_given - a, n_target - a
    d = n - n_given - n_target + a
    p_value = None
    if n > 1 and n_given and n_target and permutations > 0:
        # a*(s) = sum_k given[k] * target[k - s] for every circular shift s, at once by FFT.
        spectrum = np.fft.rfft(given.astype(float)).conj() * np.fft.rfft(target.astype(float))
        shifted_a = np.rint(np.fft.irfft(spectrum, n)).astype(np.int64)
        width = max(1, round(window_s / time_unit_s))
        low, high = (width, n - width) if n > 2 * width else (1, n - 1)
        shifts = np.random.default_rng(seed).integers(low, high + 1, size=permutations)
        a_star = shifted_a[(-shifts) % n]
        q_star = _q_stat(
            a_star, n_given - a_star, n_target - a_star, n - n_given - n_target + a_star
        )
        q = _q_stat(np.array(a), np.array(b), np.array(c), np.array(d))
        hits = np.count_nonzero(np.abs(q_star) >= np.abs(q) - 1e-12)
        p_value = (1 + hits) / (1 + permutations)
    return Contingency(a, b, c, d, p_value, permutations)
