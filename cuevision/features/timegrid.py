"""From the video's PTS clock to the uniform analysis grid ``t = i / fps``.

Phone and webcam video has a variable frame rate, and the analysis rate may be above or below it.
Values are interpolated linearly between the two frames around a grid time, but only across
short gaps: a longer hole (a face that left the frame) stays NaN rather than being invented.
"""

from __future__ import annotations

import numpy as np

from cuevision.errors import CuevisionError


class FeaturesError(CuevisionError):
    """Input that features cannot be computed from; the message says what and how to fix it."""


def analysis_grid(t_s: np.ndarray, fps: float) -> np.ndarray:
    """Grid times ``i / fps`` from 0 up to the last frame's PTS (inclusive)."""
    if not np.isfinite(fps) or fps <= 0:
        raise FeaturesError(f"analysis rate must be a positive number of frames/s, got {fps}")
    if len(t_s) == 0:
        return np.zeros(0)
    n = int(np.floor(float(t_s[-1]) * fps + 1e-6)) + 1
    return np.arange(max(n, 0)) / fps


def check_clock(t_s: np.ndarray) -> None:
    """The PTS clock must be finite and strictly increasing (one row per decoded frame)."""
    if not np.all(np.isfinite(t_s)):
        raise FeaturesError("landmark timestamps contain NaN or infinity; re-run `landmarks`")
    if np.any(np.diff(t_s) <= 0):
        raise FeaturesError(
            "landmark timestamps are not strictly increasing; re-run `landmarks` on the video"
        )


def resample(
    t_src: np.ndarray, values: np.ndarray, t_grid: np.ndarray, max_gap_s: float
) -> np.ndarray:
    """Values (N, ...) on the PTS clock -> (T, ...) on the grid; NaN elements are missing.

    A grid time between two frames no more than ``max_gap_s`` apart, both present, gets the
    linear interpolation; otherwise it takes the nearer present frame if that lies within half
    a typical frame interval; otherwise it is NaN.
    """
    shape = (len(t_grid), *values.shape[1:])
    if len(t_src) == 0:
        return np.full(shape, np.nan, dtype=np.float32)
    half_frame = 0.5 * float(np.median(np.diff(t_src))) if len(t_src) > 1 else 0.5 * max_gap_s
    right = np.clip(np.searchsorted(t_src, t_grid, side="right"), 1, len(t_src) - 1)
    left = right - 1
    if len(t_src) == 1:
        right = left = np.zeros(len(t_grid), dtype=np.intp)
    t_left, t_right = t_src[left], t_src[right]
    span = t_right - t_left
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.clip(np.where(span > 0, (t_grid - t_left) / span, 0.0), 0.0, 1.0)
    extra = (slice(None),) + (None,) * (values.ndim - 1)
    v_left, v_right = values[left], values[right]
    between = (t_grid >= t_left) & (t_grid <= t_right) & (span <= max_gap_s)
    out = (1.0 - w[extra]) * v_left + w[extra] * v_right
    out = np.where(between[extra], out, np.nan)
    # Fall back to the nearer frame, where it is close enough and present.
    nearer_right = np.abs(t_right - t_grid) < np.abs(t_grid - t_left)
    nearest = np.where(nearer_right[extra], v_right, v_left)
    close = np.minimum(np.abs(t_grid - t_left), np.abs(t_right - t_grid)) <= half_frame + 1e-9
    out = np.where(np.isnan(out) & close[extra], nearest, out)
    return out.astype(np.float32)
