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
    """Values (N, ...) on the PTS clock -> float32 (T, ...) on the grid; NaN elements are missing.

    Each element is interpolated linearly between the nearest frames before and after the grid
    time where it is present, if those lie no more than ``max_gap_s`` apart; otherwise it takes
    the nearer present frame if that is within half a typical frame interval; otherwise NaN.
    """
    n, shape = len(t_src), (len(t_grid), *values.shape[1:])
    if n == 0 or len(t_grid) == 0:
        return np.full(shape, np.nan, dtype=np.float32)
    flat = values.reshape(n, -1).astype(np.float64)
    half_frame = 0.5 * float(np.median(np.diff(t_src))) if n > 1 else 0.5 * max_gap_s
    rows = np.arange(n)[:, None]
    present = np.isfinite(flat)
    last = np.maximum.accumulate(np.where(present, rows, -1), axis=0)  # last present row <= i
    following = np.minimum.accumulate(np.where(present, rows, n)[::-1], axis=0)[::-1]  # >= i
    at = np.searchsorted(t_src, t_grid, side="right") - 1  # last frame at or before each time
    left = np.where(at[:, None] >= 0, last[np.clip(at, 0, n - 1)], -1)
    right = np.where(at[:, None] + 1 < n, following[np.clip(at + 1, 0, n - 1)], n)
    has_left, has_right = left >= 0, right < n
    t_pad = np.concatenate([t_src, [np.inf]])
    t_left, t_right = t_pad[left], t_pad[right]  # row -1 reads +inf too: masked below
    v_left = np.take_along_axis(flat, np.clip(left, 0, n - 1), axis=0)
    v_right = np.take_along_axis(flat, np.clip(right, 0, n - 1), axis=0)
    t = t_grid[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(t_right > t_left, (t - t_left) / (t_right - t_left), 0.0)
        out = np.where(
            has_left & has_right & (t_right - t_left <= max_gap_s),
            (1 - w) * v_left + w * v_right,
            np.nan,
        )
    near_left = has_left & (t - t_left <= half_frame + 1e-9)
    near_right = has_right & (t_right - t <= half_frame + 1e-9)
    use_right = near_right & (~near_left | (t_right - t < t - t_left))
    out = np.where(np.isnan(out) & near_left & ~use_right, v_left, out)
    out = np.where(np.isnan(out) & use_right, v_right, out)
    return out.reshape(shape).astype(np.float32)
