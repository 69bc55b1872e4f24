"""Probe: every kind of bad input is refused with a clear message; good files are described."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from cuevision.types import VideoInfo
from cuevision.video import Limits, VideoError, decode, is_variable_rate, probe

RunCli = Callable[..., subprocess.CompletedProcess[str]]

# case -> (limits, words the message must contain)
BAD = {
    "empty": (Limits(), "empty (0 bytes)"),
    "text": (Limits(), "not a readable video"),
    "png": (Limits(), "still image"),
    "no_moov": (Limits(), "missing 'moov'"),
    "truncated": (Limits(), "truncated"),
    "audio_only": (Limits(), "audio only"),
    "no_frames": (Limits(), "no frames"),
    "too_wide": (Limits(), "larger than the limit of 4096 px"),
    "good": (Limits(max_side_px=32), "larger than the limit of 32 px"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_with_a_reason(media: dict[str, Path], case: str) -> None:
    limits, words = BAD[case]
    with pytest.raises(VideoError, match=words.replace("(", r"\(").replace(")", r"\)")):
        probe(media[case], limits)


def test_duration_over_the_limit(media: dict[str, Path]) -> None:
    with pytest.raises(VideoError, match="longer than the limit"):
        probe(media["good"], Limits(max_duration_s=1.0))  # the file lasts 2 s


def test_missing_file() -> None:
    with pytest.raises(VideoError, match="no such file"):
        probe(Path("/nonexistent/session.mp4"))


def test_folder(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="a folder, not a video file"):
        probe(tmp_path)


@pytest.mark.parametrize("case", sorted(BAD))
def test_cli_refuses_bad_input_with_exit_2(
    media: dict[str, Path], run_cli: RunCli, case: str
) -> None:
    limits, words = BAD[case]
    result = run_cli("probe", media[case], "--max-side", limits.max_side_px, check=False)
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert result.returncode == 2, result.stderr
    assert words in message
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_refuses_too_long(media: dict[str, Path], run_cli: RunCli) -> None:
    result = run_cli("probe", media["good"], "--max-duration", "1", check=False)
    assert result.returncode == 2 and "longer than the limit" in " ".join(result.stderr.split())


def test_good_file(media: dict[str, Path]) -> None:
    info = probe(media["good"])
    assert (info.codec, info.width, info.height, info.rotation) == ("h264", 64, 48, 0)
    assert info.n_frames == 30 and info.nominal_fps == 15.0
    assert info.duration_s == pytest.approx(2.0)
    assert not info.variable_frame_rate and not info.has_audio
    assert info.size_bytes == media["good"].stat().st_size


def test_cli_json_round_trips(media: dict[str, Path], run_cli: RunCli) -> None:
    result = run_cli("probe", media["good"], "--json")
    assert VideoInfo.from_dict(json.loads(result.stdout)) == probe(media["good"])
    assert "h264" in run_cli("probe", media["good"]).stdout


@pytest.mark.parametrize(("case", "clockwise"), [("rotated90", 270), ("rotated180", 180)])
def test_rotation_is_reported_and_applied(
    media: dict[str, Path], case: str, clockwise: int
) -> None:
    """The files hold 64x48 frames with a white top-left quadrant and a display matrix that
    turns them counter-clockwise (PyAV's convention) by 90 or 180 degrees::

        stored        90 ccw       180
        ##..          ..           ..##
        ....          ..           ....
                      #.
                      #.
    """
    info = probe(media[case])
    turns = (360 - clockwise) // 90  # counter-clockwise quarter turns
    assert info.rotation == clockwise
    assert (info.width, info.height) == ((48, 64) if turns % 2 else (64, 48))
    frame = next(decode(media[case]))
    assert frame.image.shape == (info.height, info.width, 3)
    stored = np.zeros((48, 64), dtype=bool)
    stored[:24, :32] = True
    white = frame.image.mean(axis=2) > 230
    assert (white == np.rot90(stored, turns)).mean() > 0.97


def test_real_clip_is_variable_rate(lookit: Callable[[str], Path]) -> None:
    path = lookit("4JDccE.joke1.rep1.take1.NomNomNom.mp4")
    info = probe(path)
    assert (info.width, info.height, info.codec) == (640, 480, "h264")
    assert info.variable_frame_rate and info.has_audio
    with av.open(str(path)) as container:
        assert info.n_frames == sum(1 for _ in container.decode(video=0))


def test_constant_rate_clip(shared_data: Path) -> None:
    info = probe(shared_data / "pyfeat" / "WolfgangLanger_Pexels.mp4")
    assert not info.variable_frame_rate and info.n_frames == 472


def test_variable_rate_tolerance() -> None:
    """Rounding to the time base is constant rate; webcam jitter is not::

    1/1000 s ticks, 30 fps:   33 34 33 33 34 ...   constant (1-tick rounding)
    1/15360 s ticks, Lookit:  0.032 0.030 0.032    variable (6% steps)
    """
    assert not is_variable_rate(np.round(np.arange(90) * 1000 / 30))
    assert not is_variable_rate(np.arange(50) * 1024)
    lookit = np.cumsum(np.tile([0.032, 0.030], 20)) * 15360
    assert is_variable_rate(np.round(lookit))
    assert not is_variable_rate(np.array([0, 1000]))
