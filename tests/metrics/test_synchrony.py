"""Windowed lagged cross-correlation: pandas cross-check, known lag, missing data, surrogates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuevision.metrics.synchrony import (
    Synchrony,
    WindowedXcorr,
    peak_nearest_zero,
    synchrony,
    windowed_xcorr,
)

FPS = 10.0


def smooth_noise(n: int, seed: int, width: int = 8) -> np.ndarray:
    """Low-pass random signal: movement-like, not periodic."""
    noise = np.random.default_rng(seed).normal(size=n + 4 * width)
    kernel = np.hanning(2 * width + 1)
    return np.convolve(noise, kernel / kernel.sum(), mode="same")[2 * width : 2 * width + n]


def test_one_window_matches_pandas_rolling_correlation() -> None:
    """r(t, τ) for window start t is the plain Pearson r of child[t:t+w] and caregiver[t+τ:t+τ+w],
    which pandas gives as the rolling correlation of child with caregiver shifted by -τ."""
    child, caregiver = smooth_noise(600, 1), smooth_noise(600, 2)
    xcorr = windowed_xcorr(child, caregiver, fps=FPS, window_s=4.0, step_s=0.5, max_lag_s=3.0)
    w = 40
    window = 7  # starts at sample 30 + 7 * 5 = 65
    start = round(xcorr.times_s[window] * FPS)
    assert start == 65
    for k, lag_s in enumerate(xcorr.lags_s):
        lag = round(lag_s * FPS)
        rolling = pd.Series(child).rolling(w).corr(pd.Series(caregiver).shift(-lag))
        assert xcorr.r[window, k] == pytest.approx(rolling.iloc[start + w - 1], abs=1e-9)


def test_missing_samples_are_left_out_not_filled() -> None:
    """NaNs in a window drop those pairs; too many NaNs make the window invalid (coverage < 1)."""
    child, caregiver = smooth_noise(600, 3), smooth_noise(600, 4)
    caregiver[100:104] = np.nan  # a few samples: the windows over them stay valid
    caregiver[300:400] = np.nan  # 10 s gone: windows over them are invalid
    xcorr = windowed_xcorr(child, caregiver, fps=FPS, window_s=4.0, step_s=0.5, max_lag_s=3.0)
    start = round(xcorr.times_s[12] * FPS)  # window 90..130 contains 100..103 at lag 0
    zero = int(np.argmin(np.abs(xcorr.lags_s)))
    keep = ~np.isnan(caregiver[start : start + 40])
    expected = np.corrcoef(child[start : start + 40][keep], caregiver[start : start + 40][keep])
    assert xcorr.r[12, zero] == pytest.approx(expected[0, 1], abs=1e-9)
    assert 0.6 < xcorr.valid.mean() < 0.9
    assert synchrony(child, caregiver, fps=FPS, surrogates=5).coverage == xcorr.valid.mean()


@settings(max_examples=15, deadline=None)
@given(lag=st.integers(min_value=-25, max_value=25), seed=st.integers(0, 10_000))
def test_known_lag_is_recovered_within_one_sample(lag: int, seed: int) -> None:
    """caregiver[t] = child[t - lag] (+ a little noise): the caregiver follows by lag samples."""
    base = smooth_noise(900 + 60, seed)
    child = base[30 : 30 + 900]
    caregiver = base[30 - lag : 30 - lag + 900] + 0.05 * np.random.default_rng(seed).normal(
        size=900
    )
    xcorr = windowed_xcorr(child, caregiver, fps=FPS, window_s=4.0, step_s=0.5, max_lag_s=3.0)
    peak_lag, _ = peak_nearest_zero(xcorr)
    assert abs(np.nanmedian(peak_lag) - lag / FPS) <= 1 / FPS + 1e-9


def test_synchrony_summary_signs_and_surrogates() -> None:
    """A caregiver who echoes the child 1 s later leads to leader = child and a small p; two
    unrelated signals give no leader and a p far from significance."""
    base = smooth_noise(1300, 5)
    child, caregiver = base[100:1300], base[90:1290]
    echo = synchrony(child, caregiver, fps=FPS, surrogates=200, seed=0).to_dict()
    assert echo["median_peak_lag_s"] == pytest.approx(1.0)
    assert echo["leader"] == "child" and echo["surrogate_p"] < 0.01
    assert echo["effect_size"] > 3 and echo["coverage"] == 1.0
    flipped = synchrony(caregiver, child, fps=FPS, surrogates=50, seed=0).to_dict()
    assert flipped["leader"] == "caregiver" and flipped["median_peak_lag_s"] == pytest.approx(-1.0)
    unrelated = synchrony(child, smooth_noise(1200, 99), fps=FPS, surrogates=200, seed=0)
    assert unrelated.leader == "none" and (unrelated.surrogate_p or 0) > 0.05
    again = synchrony(child, smooth_noise(1200, 99), fps=FPS, surrogates=200, seed=0)
    assert again.surrogate_p == unrelated.surrogate_p  # seeded


def test_surrogate_pairing_correlates_other_windows() -> None:
    """Pairing child window i with caregiver window j gives the r of those two pieces."""
    child, caregiver = smooth_noise(400, 6), smooth_noise(400, 7)
    plain = windowed_xcorr(child, caregiver, fps=FPS)
    pairing = np.roll(np.arange(plain.times_s.size), 3)
    paired = windowed_xcorr(child, caregiver, fps=FPS, pairing=pairing)
    i, zero = 10, int(np.argmin(np.abs(plain.lags_s)))
    t_child, t_care = (round(plain.times_s[k] * FPS) for k in (i, pairing[i]))
    expected = np.corrcoef(child[t_child : t_child + 40], caregiver[t_care : t_care + 40])[0, 1]
    assert paired.r[i, zero] == pytest.approx(expected, abs=1e-9)


def test_too_short_a_signal_has_no_windows() -> None:
    result = synchrony(np.zeros(50), np.zeros(50), fps=FPS, surrogates=10)
    assert result.to_dict()["n_windows"] == 0 and result.mean_r_at_peak is None
    assert result.leader == "none" and result.surrogate_p is None and result.coverage is None


def test_surrogates_that_differ_by_rounding_alone_give_no_effect_size() -> None:
    """A flat signal's surrogates all give one r, up to the last bits; the effect size over that
    spread was 1e14 in one run and None in another, so it is None."""
    xcorr = WindowedXcorr(np.zeros(3), np.zeros(1), np.full((3, 1), 0.5))
    flat = 0.4 + np.array([0.0, 1e-16, -1e-16, 2e-16])
    found = Synchrony(xcorr, np.zeros(3), np.full(3, 0.5), flat)
    assert found.mean_r_at_peak == 0.5 and found.effect_size is None
    spread = Synchrony(xcorr, np.zeros(3), np.full(3, 0.5), np.array([0.3, 0.4, 0.5]))
    assert spread.effect_size == pytest.approx(1.0)
