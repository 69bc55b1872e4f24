"""Decode: true PTS from the container, first frame at 0, stride and target rate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from cuevision.video import VideoError, decode, probe

CLIP = "2UWdXP.joke2.rep2.take1.NomNomNom.mp4"  # 96 frames, 14 fps nominal, gaps 0.060-0.155 s


@pytest.fixture(scope="module")
def clip(lookit: Callable[[str], Path]) -> Path:
    return lookit(CLIP)


@pytest.fixture(scope="module")
def times(clip: Path) -> np.ndarray:
    return np.array([frame.t_s for frame in decode(clip)])


def packet_times(path: Path) -> np.ndarray:
    """Shown frames' PTS from the demuxer alone, in seconds from the first."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ticks = sorted(
            p.pts for p in container.demux(stream) if p.pts is not None and not p.is_discard
        )
        return (np.array(ticks) - ticks[0]) * float(stream.time_base or 0)


def test_pts_match_the_container(clip: Path, times: np.ndarray) -> None:
    expected = packet_times(clip)
    assert times[0] == 0.0
    np.testing.assert_allclose(times, expected, atol=1e-9)
    assert len(times) == probe(clip).n_frames
    assert np.ptp(np.diff(times)) > 0.05  # really variable: not index / fps


def test_sub_millisecond_frames_keep_their_true_pts(lookit: Callable[[str], Path]) -> None:
    path = lookit("4JDccE.joke1.rep1.take1.NomNomNom.mp4")
    times = np.array([frame.t_s for frame in decode(path, stride=1)])
    gaps = np.diff(times)
    assert (gaps > 0).all() and (gaps < 0.001).sum() >= 10  # DESIGN.md: 14 such frames
    np.testing.assert_allclose(times, packet_times(path), atol=1e-9)


def test_frames_are_upright_rgb(clip: Path) -> None:
    info = probe(clip)
    frame = next(decode(clip))
    assert frame.index == 0
    assert frame.image.dtype == np.uint8 and frame.image.shape == (info.height, info.width, 3)


def test_stride_keeps_every_nth_frame_and_counts_all(clip: Path, times: np.ndarray) -> None:
    kept = list(decode(clip, stride=4))
    assert [f.index for f in kept] == list(range(0, len(times), 4))
    np.testing.assert_array_equal([f.t_s for f in kept], times[::4])


def test_target_fps_takes_the_nearest_frame_to_each_grid_point(
    clip: Path, times: np.ndarray
) -> None:
    """Grid points j / 5 Hz up to the last frame; each takes its nearest frame, once::

    frames  |  |    | |  |   |  |      |
    grid    ^         ^         ^
    kept    *         *         *   (nearest, ties to the earlier)
    """
    grid = np.arange(0.0, times[-1] + 1e-9, 1 / 5)
    nearest = [int(np.argmin(np.abs(times - g))) for g in grid]
    kept = list(decode(clip, target_fps=5))
    assert [f.index for f in kept] == sorted(set(nearest))
    np.testing.assert_array_equal([f.t_s for f in kept], times[sorted(set(nearest))])


def test_target_fps_never_upsamples(clip: Path, times: np.ndarray) -> None:
    kept = [f.index for f in decode(clip, target_fps=60)]
    assert kept == sorted(set(kept)) and len(kept) <= len(times)
    assert len(kept) >= 0.9 * len(times)


def test_bad_arguments(clip: Path) -> None:
    with pytest.raises(ValueError, match="stride"):
        next(decode(clip, stride=0))
    with pytest.raises(ValueError, match="target_fps"):
        next(decode(clip, stride=2, target_fps=5))


@pytest.mark.parametrize("case", ["text", "audio_only", "empty"])
def test_decode_refuses_bad_input(media: dict[str, Path], case: str) -> None:
    with pytest.raises(VideoError):
        next(decode(media[case]))


def test_decode_of_a_truncated_file_fails_clearly(media: dict[str, Path]) -> None:
    with pytest.raises(VideoError, match="damaged"):
        list(decode(media["truncated"]))
