"""From the PTS clock to the analysis grid: linear inside short gaps, NaN across long ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuevision.features.timegrid import analysis_grid, resample


def test_short_gaps_are_bridged_and_long_ones_stay_missing() -> None:
    """
    PTS (s)   0.0  0.1  0.2  0.3  0.4  0.5  0.6  0.7  0.8  0.9  1.0
    value      0    1    -    3    4    -    -    -    -    9   10     (- = not found)
    grid 10Hz  0    1    2    3    4    .    .    .    .    9   10
                         ^ 0.2 s hole: bridged      ^ 0.5 s hole (> 0.3 s): stays NaN
    """
    t_src = np.arange(11) / 10
    values = np.arange(11, dtype=float)
    values[[2, 5, 6, 7, 8]] = np.nan
    out = resample(t_src, values, analysis_grid(t_src, 10.0), max_gap_s=0.3)
    expected = np.arange(11, dtype=float)
    expected[5:9] = np.nan
    np.testing.assert_allclose(out, expected, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.floats(0.02, 0.07), min_size=3, max_size=60),
    fps=st.sampled_from([7.5, 10.0, 15.0, 30.0]),
    slope=st.floats(-5, 5),
)
def test_a_straight_line_is_resampled_exactly(gaps: list[float], fps: float, slope: float) -> None:
    """Any variable-rate clock: a quantity moving linearly in time reads exactly on the grid."""
    t_src = np.concatenate([[0.0], np.cumsum(gaps)])
    t_grid = analysis_grid(t_src, fps)
    out = resample(t_src, (slope * t_src + 1.0)[:, None], t_grid, max_gap_s=0.3)[:, 0]
    assert len(t_grid) == int(np.floor(t_src[-1] * fps + 1e-6)) + 1
    np.testing.assert_allclose(out, slope * t_grid + 1.0, rtol=1e-5, atol=1e-5)
