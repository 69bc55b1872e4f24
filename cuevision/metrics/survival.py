"""Kaplan–Meier estimation for waiting times with censoring (Kaplan & Meier 1958).

A cue nobody answered, or a rupture nobody repaired before the session ended, is not a missing
value: we know the wait was *at least* that long. The product-limit estimator uses exactly that,

    S(t) = prod over event times t_i <= t of (1 - d_i / n_i),

with d_i answered waits ending at t_i and n_i waits still running just before t_i. The median is
lifelines' convention: the smallest t with S(t) <= 0.5, or ``None`` (lifelines: inf) if S never
drops that far.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def km_median(durations: Sequence[float], observed: Sequence[bool]) -> float | None:
    """Kaplan–Meier median wait; ``observed[i]`` is False where the wait was censored.

    >>> km_median([1.0, 2.0, 3.0], [True, True, True])
    2.0
    >>> km_median([1.0, 3.0, 3.0], [True, False, False]) is None
    True
    """
    times = np.asarray(durations, dtype=float)
    seen = np.asarray(observed, dtype=bool)
    if times.shape != seen.shape:
        raise ValueError("durations and observed must have the same length")
    survival = 1.0
    for t in np.unique(times[seen]):
        at_risk = np.count_nonzero(times >= t)
        survival *= 1.0 - np.count_nonzero(seen & (times == t)) / at_risk
        if survival <= 0.5 + 1e-12:
            return float(t)
    return None
