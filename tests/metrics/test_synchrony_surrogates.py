"""The batched surrogate test gives, bit for bit, what one cross-correlation per surrogate gave.

``REFERENCE`` was written by the implementation before the batching (commit 51ed041, one
``windowed_xcorr`` per surrogate); the plain loop below recomputes the same thing from the public
functions on this machine, so any drift in the batched path (a pair dropped, a mask shared
wrongly, a reordered sum) shows as an unequal float.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cuevision.metrics.synchrony import peak_nearest_zero, synchrony, windowed_xcorr


def signals(
    seed: int, n: int, gaps: list[tuple[int, int]], dropout: float, flat: int
) -> tuple[np.ndarray, np.ndarray]:
    """A child signal and a noisy caregiver echo, with gaps (odd starts in the child's), random
    single-sample dropouts in the caregiver's and a flat child stretch (no variance)."""
    rng = np.random.default_rng(seed)
    kernel = np.hanning(17) / np.hanning(17).sum()
    base = np.convolve(rng.normal(size=n + 40), kernel, "same")
    child = base[20 : 20 + n].copy()
    caregiver = base[12 : 12 + n] + 0.5 * rng.normal(size=n)
    for start, length in gaps:
        (child if start % 2 else caregiver)[start : start + length] = np.nan
    caregiver[rng.random(n) < dropout] = np.nan
    child[flat : flat + 60] = 1.0
    return child, caregiver


CASES = {
    "echo_gaps": ((1, 1200, [(101, 3), (300, 120), (701, 45)], 0.0, 900), 10.0),
    "dropouts": ((2, 1800, [(500, 30)], 0.05, 1200), 15.0),
    "sparse": ((3, 1500, [(0, 200), (401, 300), (1000, 250)], 0.2, 50), 15.0),
}
# surrogate_p, effect_size, mean_r_at_peak, sum of surrogate_mean_r. The p-values are counts and
# must match exactly; the floats to 1e-12, so that another platform's FFT (its last bits) passes.
REFERENCE = {
    "echo_gaps": (0.004975124378109453, 4.510332285390054, 0.49438357035846825, 85.80158284326193),
    "dropouts": (0.004975124378109453, 9.177366309430125, 0.4656520616635707, 74.01700546831825),
    "sparse": (0.1044776119402985, 1.1902028715395634, 0.43153212787331036, 79.13753726951464),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_surrogates_equal_the_previous_implementation(name: str) -> None:
    args, fps = CASES[name]
    result = synchrony(*signals(*args), fps=fps, surrogates=200, seed=4)
    p_value, effect_size, mean_r, total = REFERENCE[name]
    assert result.surrogate_p == p_value and result.surrogate_mean_r.size == 200
    assert result.effect_size == pytest.approx(effect_size, rel=1e-12, abs=0)
    assert result.mean_r_at_peak == pytest.approx(mean_r, rel=1e-12, abs=0)
    assert result.surrogate_mean_r.sum() == pytest.approx(total, rel=1e-12, abs=0)


def plain_surrogate_means(
    child: np.ndarray, caregiver: np.ndarray, fps: float, surrogates: int, seed: int
) -> np.ndarray:
    """The module docstring's test, one surrogate at a time: deal 10 s segments of the
    caregiver's windows to the child's in shuffled order (no segment to its own place)."""
    n_windows = windowed_xcorr(child, caregiver, fps=fps).times_s.size
    per_segment = math.ceil(round(10.0 * fps) / round(0.5 * fps))  # window + both lag margins
    segments = np.array_split(np.arange(n_windows), math.ceil(n_windows / per_segment))
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(surrogates):
        order = rng.permutation(len(segments))
        while (order == np.arange(len(segments))).any():
            order = rng.permutation(len(segments))
        pairing = np.concatenate([segments[k] for k in order])
        peak_r = peak_nearest_zero(windowed_xcorr(child, caregiver, fps=fps, pairing=pairing))[1]
        finite = peak_r[np.isfinite(peak_r)]
        means.append(finite.mean() if finite.size else np.nan)
    return np.array(means)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_surrogates_equal_one_xcorr_per_surrogate(seed: int) -> None:
    """Random gaps and dropouts (many windows invalid, some masks shared) at 10 fps."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, 1400, size=4)
    gaps = [(int(s), int(rng.integers(1, 150))) for s in starts]
    child, caregiver = signals(seed, 1500, gaps, float(rng.uniform(0, 0.1)), int(starts[0]))
    fast = synchrony(child, caregiver, fps=10.0, surrogates=60, seed=seed).surrogate_mean_r
    assert np.isfinite(fast).all()
    assert np.array_equal(fast, plain_surrogate_means(child, caregiver, 10.0, 60, seed))
