"""Audio is decoded on the frames' clock: a sound is timed as the frame shown with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cuevision.audio import decode_audio
from cuevision.video import decode
from tests.audio.sounds import write_clip

RATE = 48_000


def burst(at_s: float, duration_s: float, total_s: float) -> np.ndarray:
    """Silence with one 440 Hz burst starting ``at_s`` after the first sample."""
    x = np.zeros(int(total_s * RATE), np.float32)
    n = int(duration_s * RATE)
    x[int(at_s * RATE) : int(at_s * RATE) + n] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / RATE)
    return x


def onset_s(path: Path) -> tuple[float, float]:
    audio = decode_audio(path)
    assert audio is not None and audio.rate == 16_000
    loud = np.flatnonzero(np.abs(audio.samples) > 0.1)
    return audio.t0_s + loud[0] / audio.rate, audio.t0_s + loud[-1] / audio.rate


@pytest.mark.parametrize(("video_start_s", "audio_start_s"), [(0.0, 0.5), (0.2, 0.5), (0.4, 0.1)])
def test_a_sound_keeps_its_time_on_the_video_clock(
    tmp_path: Path, video_start_s: float, audio_start_s: float
) -> None:
    """The audio starts later (or earlier) than the video; the burst, 1.0 s into the audio
    track, lies at audio_start + 1.0 - video_start on the clock where the first frame is 0.
    (Starts are multiples of the 1/15 s frame step: the muxer rounds the video's to it.)"""
    clip = write_clip(
        tmp_path / "late.mp4",
        video_start_s=video_start_s,
        audio=burst(1.0, 0.4, 2.5),
        audio_start_s=audio_start_s,
    )
    assert next(iter(decode(clip))).t_s == 0.0  # the video clock starts at the first frame
    start, end = onset_s(clip)
    expected = audio_start_s + 1.0 - video_start_s
    assert start == pytest.approx(expected, abs=0.005)
    assert end == pytest.approx(expected + 0.4, abs=0.005)


def test_a_video_without_audio_has_none(tmp_path: Path) -> None:
    assert decode_audio(write_clip(tmp_path / "silent.mp4")) is None


def test_the_real_clip_audio_starts_37_ms_after_its_first_frame(clip_6c6: Path) -> None:
    audio = decode_audio(clip_6c6)
    assert audio is not None
    assert audio.t0_s == pytest.approx(0.037, abs=1e-6)
    assert audio.end_s == pytest.approx(17.16, abs=0.01)
    assert 0.01 < float(np.abs(audio.samples).max()) <= 1.0
