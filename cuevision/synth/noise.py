"""The simulator's imperfections: smooth AR(1) noise and tracking losses (dropouts, episodes)."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def ar1(rng: np.random.Generator, n: int, fps: float, sd: float, tau_s: float) -> np.ndarray:
    """Smooth noise: an AR(1) process with time constant ``tau_s`` and stationary sd ``sd``."""
    phi = float(np.exp(-1 / (tau_s * fps)))
    shocks = rng.normal(0, sd * np.sqrt(1 - phi**2), n)
    start = rng.normal(0, sd)
    out: np.ndarray = lfilter([1.0], [1.0, -phi], shocks, zi=[phi * start])[0]
    return out


def visibility(rng: np.random.Generator, n: int, fps: float, missing: float) -> np.ndarray:
    """True where tracked: missing episodes of 0.3-5 s until about ``missing`` of the frames are
    lost, plus single-frame dropouts."""
    seen = rng.random(n) > rng.uniform(0.005, 0.03)
    for _ in range(1000):
        if 1 - seen.mean() >= missing or not n:
            break
        start = int(rng.integers(0, n))
        seen[start : start + int(rng.uniform(0.3, 5.0) * fps)] = False
    return seen
