"""The one clock conversion: PTS seconds <-> Label Studio's 1-based frames of the proxy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from cuevision.annotate.clock import ClockError, ProxyClock
from cuevision.video import make_cfr_proxy

CLOCK = ProxyClock(fps=25.0, n_frames=250)  # a 10 s proxy


def test_first_frame() -> None:
    """Frame 1 is [0, 0.04): an event there is the range 1..1, and back again."""
    assert CLOCK.to_frames(0.0, 0.04) == (1, 1)
    assert CLOCK.to_seconds(1, 1) == (0.0, 0.04)
    assert CLOCK.to_frames(0.0, 0.0) == (1, 1)  # an instant still gets one frame


def test_last_frame() -> None:
    """Frame 250 is [9.96, 10.0); an offset past the end is clipped to it."""
    assert CLOCK.to_frames(9.96, 10.0) == (250, 250)
    assert CLOCK.to_frames(9.0, 12.5) == (226, 250)
    assert CLOCK.to_seconds(250, 250) == (9.96, 10.0)
    assert CLOCK.to_seconds(240, 300) == (9.56, 10.0)  # Label Studio overshooting the end
    with pytest.raises(ClockError, match="outside the proxy"):
        CLOCK.to_frames(9.97, 10.0)  # no proxy frame starts at or after 9.97 s


def test_label_studio_example_and_round_trip() -> None:
    """At 25 fps [1.0, 2.0) is {"start": 26, "end": 50}; frames -> seconds -> frames is exact."""
    assert CLOCK.to_frames(1.0, 2.0) == (26, 50)
    for start, end in [(1, 1), (26, 50), (100, 180), (249, 250)]:
        assert CLOCK.to_frames(*CLOCK.to_seconds(start, end)) == (start, end)


def test_off_grid_times_round_to_the_frames_that_show_them() -> None:
    """0.05 s lies inside frame 2 ([0.04, 0.08)); its first frame is frame 3 (0.08 s)."""
    assert CLOCK.to_frames(0.05, 0.10) == (3, 3)
    assert CLOCK.to_frames(0.05, 0.13) == (3, 4)


@pytest.mark.parametrize(
    ("onset", "offset"), [(-0.1, 1.0), (2.0, 1.0), (float("nan"), 1.0), (1.0, float("inf"))]
)
def test_bad_intervals(onset: float, offset: float) -> None:
    with pytest.raises(ClockError):
        CLOCK.to_frames(onset, offset)


def test_bad_frames_and_grids() -> None:
    with pytest.raises(ClockError):
        CLOCK.to_seconds(0, 5)
    with pytest.raises(ClockError):
        CLOCK.to_seconds(10, 5)
    with pytest.raises(ClockError):
        ProxyClock(0.0, 10)
    with pytest.raises(ClockError):
        ProxyClock(25.0, 0)


def _frames(path: Path) -> list[tuple[float, int]]:
    """(PTS seconds, grey level) of every decoded frame."""
    with av.open(str(path)) as container:
        return [
            (float(f.time or 0.0), int(np.median(f.to_ndarray(format="gray"))))
            for f in container.decode(video=0)
        ]


def test_variable_rate_source(
    tmp_path: Path, write_clip: Callable[[Path, list[float]], None]
) -> None:
    """A source frame's PTS span, converted, is exactly the proxy frames that show it.

    Source frames (PTS, s) at an irregular rate, each a different grey; proxy at 10 fps::

        source   0    0.13      0.31  0.38         0.62     0.80 ...
        proxy    |0   |0.1 |0.2 |0.3 |0.4 |0.5 |0.6 |0.7 |0.8 ...
    """
    source = tmp_path / "vfr.mp4"
    write_clip(source, [0.0, 0.13, 0.31, 0.38, 0.62, 0.80, 0.83, 1.05, 1.31, 1.40, 1.77, 1.90])
    info = make_cfr_proxy(source, tmp_path / "proxy.mp4", fps=10)
    clock = ProxyClock(info.nominal_fps, info.n_frames)
    pts, greys = zip(*_frames(source), strict=True)  # the PTS as stored, not as asked for
    shown = [grey for _, grey in _frames(tmp_path / "proxy.mp4")]
    assert len(shown) == clock.n_frames
    ends = [*pts[1:], clock.duration_s]
    covered = 0
    for j, (onset, offset) in enumerate(zip(pts, ends, strict=True)):
        start, end = clock.to_frames(onset, offset)
        if clock.to_seconds(start, start)[0] >= offset:
            continue  # shorter than a proxy frame and between two frame times: never shown
        grey = greys[j]
        assert all(abs(g - grey) <= 2 for g in shown[start - 1 : end]), (j, start, end)
        assert start == 1 or abs(shown[start - 2] - grey) > 2  # the frame before is another
        covered += end - start + 1
    assert covered == clock.n_frames  # every proxy frame belongs to exactly one source frame
