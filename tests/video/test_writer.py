"""VideoWriter (H.264, constant rate) and the constant-frame-rate proxy for Label Studio."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from cuevision.video import (
    VideoError,
    VideoWriter,
    decode,
    make_cfr_proxy,
    probe,
)


@pytest.mark.parametrize("fps", [15.0, 29.97])
def test_writer_makes_constant_rate_h264(tmp_path: Path, fps: float) -> None:
    path = tmp_path / "out.mp4"
    levels = [10 * k for k in range(24)]
    with VideoWriter(path, fps, 96, 64) as writer:
        for level in levels:
            writer.write(np.full((64, 96, 3), level, dtype=np.uint8))
    info = probe(path)
    assert (info.codec, info.width, info.height, info.n_frames) == ("h264", 96, 64, 24)
    assert not info.variable_frame_rate
    assert info.nominal_fps == pytest.approx(fps, rel=1e-3)
    assert info.duration_s == pytest.approx(24 / fps, rel=1e-3)
    frames = list(decode(path))
    np.testing.assert_allclose([f.t_s for f in frames], np.arange(24) / fps, atol=1e-3)
    np.testing.assert_allclose([f.image.mean() for f in frames], levels, atol=3)
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: playable while loading
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert set(container.metadata) <= {
            "major_brand",
            "minor_version",
            "compatible_brands",
            "encoder",
        }


def test_writer_rounds_odd_sizes_down(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "odd.mp4", 10, 65, 49) as writer:
        writer.write(np.zeros((49, 65, 3), dtype=np.uint8))
    info = probe(tmp_path / "odd.mp4")
    assert (info.width, info.height, info.n_frames) == (64, 48, 1)


def test_writer_refuses_wrong_frames(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "w.mp4", 10, 64, 48) as writer:
        with pytest.raises(VideoError, match="64x48"):
            writer.write(np.zeros((48, 80, 3), dtype=np.uint8))
        with pytest.raises(VideoError, match="uint8"):
            writer.write(np.zeros((48, 64, 3), dtype=np.float32))
    with pytest.raises(VideoError):
        VideoWriter(tmp_path / "x.mp4", 0, 64, 48)
    with pytest.raises(VideoError, match="a folder"):
        VideoWriter(tmp_path, 10, 64, 48)  # FFmpeg would fail only at the first frame


def test_proxy_of_a_variable_rate_clip(lookit: Callable[[str], Path], tmp_path: Path) -> None:
    """Each proxy frame k shows the latest source frame with PTS <= k / fps."""
    src = lookit("2UWdXP.joke2.rep2.take1.NomNomNom.mp4")  # VFR, 14 fps nominal, 96 frames
    source = probe(src)
    assert source.variable_frame_rate
    info = make_cfr_proxy(src, tmp_path / "proxy.mp4", max_height=240)
    fps = round(source.nominal_fps)
    assert (info.codec, info.width, info.height) == ("h264", 320, 240)
    assert not info.variable_frame_rate and info.nominal_fps == fps
    assert info.n_frames == math.ceil(source.duration_s * fps - 1e-9)
    assert info.duration_s == pytest.approx(info.n_frames / fps)

    def small(image: np.ndarray) -> np.ndarray:
        return image.reshape(240, 2, 320, 2, 3).mean(axis=(1, 3))

    src_frames = [(f.t_s, small(f.image)) for f in decode(src)]
    src_times = np.array([t for t, _ in src_frames])
    for frame in decode(tmp_path / "proxy.mp4", stride=5):
        expected = int(np.searchsorted(src_times, frame.index / fps + 1e-9, side="right")) - 1
        errors = [np.abs(image - frame.image).mean() for _, image in src_frames]
        assert errors[expected] <= min(errors) + 0.5, frame.index
        assert errors[expected] < 6.0


def test_proxy_refuses_bad_input(media: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="audio only"):
        make_cfr_proxy(media["audio_only"], tmp_path / "p.mp4")
    assert not (tmp_path / "p.mp4").exists()
