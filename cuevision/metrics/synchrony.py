"""Windowed lagged cross-correlation (Boker, Rotondo, Xu & King 2002) of a child/caregiver pair.

For a window starting at sample t (length w) and a lag τ (|τ| <= L samples),

    r(t, τ) = corr( child[t : t + w], caregiver[t + τ : t + τ + w] ),

so a positive lag means the caregiver's signal echoes the child's τ samples later: the caregiver
follows the child. Windows start every ``step_s`` from L to T − w − L so every lag fits. Per
window, the *peak* is the peak of r over lags nearest lag 0 (Boker's peak picking: an interior
lag whose r is the largest within ±0.5 s; the largest r overall if no lag qualifies). Samples
where either signal is NaN are left out of the correlation; r(t, τ) needs at least ``min_valid``
of the w pairs and some variance in both; a window is *valid* only when r is defined at every
lag.

Summary: ``mean_r_at_peak`` (mean peak r over valid windows), ``median_peak_lag_s``, and a
test against segment-shuffled surrogates: the caregiver series is cut into window-long segments
whose order is shuffled, which keeps each signal's own dynamics but breaks their alignment.
``surrogate_p`` = (1 + #{surrogate mean peak r >= observed}) / (1 + N); ``effect_size`` =
(observed − surrogate mean) / surrogate SD. ``leader`` is ``child`` for a positive median peak lag
and ``caregiver`` for a negative one, but only when synchrony beats the surrogates
(``surrogate_p < 0.05``); otherwise ``none``: a lead in noise means nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True)
class WindowedXcorr:
    times_s: np.ndarray  # (W,) start time of each window, seconds from the first sample
    lags_s: np.ndarray  # (K,) lag of each column; positive = caregiver follows child
    r: np.ndarray  # (W, K) correlation, NaN where undefined

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.r).all(axis=1) if self.r.size else np.zeros(0, dtype=bool)


@dataclass(frozen=True)
class Synchrony:
    xcorr: WindowedXcorr
    peak_lag_s: np.ndarray  # (W,) NaN for invalid windows
    peak_r: np.ndarray  # (W,)
    surrogate_mean_r: np.ndarray  # (N,) mean peak r of each surrogate

    @property
    def coverage(self) -> float | None:
        valid = self.xcorr.valid
        return float(valid.mean()) if valid.size else None

    @property
    def mean_r_at_peak(self) -> float | None:
        return _nanmean(self.peak_r)

    @property
    def median_peak_lag_s(self) -> float | None:
        finite = self.peak_lag_s[np.isfinite(self.peak_lag_s)]
        return round(float(np.median(finite)), 6) if finite.size else None

    @property
    def surrogate_p(self) -> float | None:
        observed, null = (
            self.mean_r_at_peak,
            self.surrogate_mean_r[np.isfinite(self.surrogate_mean_r)],
        )
        if observed is None or not null.size:
            return None
        return float((1 + np.count_nonzero(null >= observed - 1e-12)) / (1 + null.size))

    @property
    def effect_size(self) -> float | None:
        observed, null = (
            self.mean_r_at_peak,
            self.surrogate_mean_r[np.isfinite(self.surrogate_mean_r)],
        )
        if observed is None or null.size < 2 or np.std(null, ddof=1) == 0:
            return None
        return float((observed - null.mean()) / np.std(null, ddof=1))

    @property
    def leader(self) -> str:
        lag, p = self.median_peak_lag_s, self.surrogate_p
        if lag is None or p is None or p >= 0.05 or lag == 0:
            return "none"
        return "child" if lag > 0 else "caregiver"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_r_at_peak": self.mean_r_at_peak,
            "median_peak_lag_s": self.median_peak_lag_s,
            "leader": self.leader,
            "surrogate_p": self.surrogate_p,
            "effect_size": self.effect_size,
            "coverage": self.coverage,
            "n_windows": int(self.xcorr.valid.size),
            "n_valid_windows": int(self.xcorr.valid.sum()),
            "surrogates": int(self.surrogate_mean_r.size),
        }


def _nanmean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def windowed_xcorr(
    child: np.ndarray,
    caregiver: np.ndarray,
    *,
    fps: float,
    window_s: float = 4.0,
    step_s: float = 0.5,
    max_lag_s: float = 3.0,
    min_valid: float = 0.75,
) -> WindowedXcorr:
    """r(t, τ) for every window start t and lag τ (see the module docstring), vectorised."""
    x = np.asarray(child, dtype=float)
    y = np.asarray(caregiver, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("child and caregiver must be 1-D arrays of the same length")
    w, step, big_l = (
        max(2, round(window_s * fps)),
        max(1, round(step_s * fps)),
        round(max_lag_s * fps),
    )
    lags = np.arange(-big_l, big_l + 1)
    starts = np.arange(big_l, x.size - w - big_l + 1, step)
    if not starts.size:
        return WindowedXcorr(np.zeros(0), np.round(lags / fps, 6), np.zeros((0, lags.size)))
    # z-score once so the running sums below stay well conditioned
    x = (x - np.nanmean(x)) / (np.nanstd(x) or 1.0)
    y = (y - np.nanmean(y)) / (np.nanstd(y) or 1.0)
    span = x.size - 2 * big_l
    xs = x[big_l : big_l + span][None, :]  # (1, span)
    ys = sliding_window_view(y, span)[: lags.size]  # (K, span): row k is y shifted by lags[k]
    both = np.isfinite(xs) & np.isfinite(ys)
    xm, ym = np.where(both, xs, 0.0), np.where(both, ys, 0.0)

    def window_sums(values: np.ndarray) -> np.ndarray:
        csum = np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)
        first = starts - big_l
        return (csum[:, first + w] - csum[:, first]).T  # (W, K)

    n = window_sums(both.astype(float))
    sx, sy = window_sums(xm * both), window_sums(ym)
    sxx, syy, sxy = window_sums(xm * xm * both), window_sums(ym * ym), window_sums(xm * ym)
    vx, vy = n * sxx - sx * sx, n * syy - sy * sy
    ok = (n >= min_valid * w) & (vx > 1e-9 * n * n) & (vy > 1e-9 * n * n)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, (n * sxy - sx * sy) / np.sqrt(np.where(ok, vx * vy, 1.0)), np.nan)
    return WindowedXcorr(np.round(starts / fps, 6), np.round(lags / fps, 6), np.clip(r, -1.0, 1.0))


def peak_nearest_zero(xcorr: WindowedXcorr, search_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per valid window: the lag and r of the peak nearest lag 0 (NaN for invalid windows).

    A peak is an interior lag whose r is the largest within ``± search_s`` (Boker et al.'s search
    size), so ripples of noise on a broad peak are not taken for peaks.
    """
    from scipy.ndimage import maximum_filter1d

    n_windows, n_lags = xcorr.r.shape
    lag_out, r_out = np.full(n_windows, np.nan), np.full(n_windows, np.nan)
    valid = xcorr.valid
    if not valid.any():
        return lag_out, r_out
    r = xcorr.r[valid]
    step = float(np.diff(xcorr.lags_s[:2])[0]) if n_lags > 1 else 1.0
    size = 2 * max(1, round(search_s / step)) + 1
    peaks = r >= maximum_filter1d(r, size, axis=1, mode="constant", cval=-np.inf)
    peaks[:, [0, -1]] = False
    order = np.argsort(np.abs(xcorr.lags_s), kind="stable")
    nearest = order[np.argmax(peaks[:, order], axis=1)]
    best = np.where(peaks.any(axis=1), nearest, np.argmax(r, axis=1))
    lag_out[valid] = xcorr.lags_s[best]
    r_out[valid] = r[np.arange(r.shape[0]), best]
    return lag_out, r_out


def segment_shuffle(values: np.ndarray, segment: int, rng: np.random.Generator) -> np.ndarray:
    """The series cut into ``segment``-long pieces in shuffled order (any remainder stays last)."""
    whole = (values.size // segment) * segment
    pieces = values[:whole].reshape(-1, segment)[rng.permutation(values.size // segment)]
    return np.concatenate([pieces.ravel(), values[whole:]])


def synchrony(
    child: np.ndarray,
    caregiver: np.ndarray,
    *,
    fps: float,
    window_s: float = 4.0,
    step_s: float = 0.5,
    max_lag_s: float = 3.0,
    surrogates: int = 200,
    seed: int = 0,
) -> Synchrony:
    """Windowed cross-correlation, peak picking and the segment-shuffled surrogate test."""
    settings = {"fps": fps, "window_s": window_s, "step_s": step_s, "max_lag_s": max_lag_s}
    xcorr = windowed_xcorr(child, caregiver, **settings)
    peak_lag, peak_r = peak_nearest_zero(xcorr)
    rng = np.random.default_rng(seed)
    segment = max(2, round(window_s * fps))
    null = np.full(surrogates if np.isfinite(peak_r).any() else 0, np.nan)
    for i in range(null.size):
        shuffled = segment_shuffle(np.asarray(caregiver, dtype=float), segment, rng)
        mean = _nanmean(peak_nearest_zero(windowed_xcorr(child, shuffled, **settings))[1])
        null[i] = np.nan if mean is None else mean
    return Synchrony(xcorr, peak_lag, peak_r, null)
