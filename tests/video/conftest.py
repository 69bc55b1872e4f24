"""Small real video files made with PyAV: good ones, rotated ones and every kind of broken one."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image


def pattern(index: int, width: int, height: int) -> np.ndarray:
    """A frame that is easy to tell apart: a white top-left quadrant, grey level = index."""
    image = np.full((height, width, 3), (index * 7) % 200, dtype=np.uint8)
    image[: height // 2, : width // 2] = 255
    return image


def encode(
    path: Path,
    n: int = 30,
    *,
    width: int = 64,
    height: int = 48,
    fps: int = 15,
    rotation: int | None = None,
    faststart: bool = True,
) -> Path:
    """An H.264 mp4 of ``n`` pattern frames; ``rotation``: a counter-clockwise display matrix."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index in range(n):
            frame = av.VideoFrame.from_ndarray(pattern(index, width, height), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _audio(container: av.container.OutputContainer, stream: av.AudioStream) -> None:
    for index in range(20):
        samples = np.zeros((1, 1024), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, index * 1024
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _cut(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Named files: ``good``, ``rotated90``, ``rotated180`` and the broken ones."""
    folder = tmp_path_factory.mktemp("media")
    files = {
        "good": encode(folder / "good.mp4"),
        "rotated90": encode(folder / "rotated90.mp4", rotation=90),
        "rotated180": encode(folder / "rotated180.mp4", rotation=180),
    }
    files["empty"] = folder / "empty.mp4"
    files["empty"].write_bytes(b"")
    files["text"] = folder / "notes.mp4"
    files["text"].write_text("session notes, not a video\n" * 20)
    png = io.BytesIO()
    Image.fromarray(pattern(0, 64, 48)).save(png, format="PNG")
    files["png"] = folder / "picture.mp4"
    files["png"].write_bytes(png.getvalue())
    # moov at the end (no faststart): half the file has no index at all
    files["no_moov"] = _cut(encode(folder / "tail.mp4", faststart=False), folder / "no_moov.mp4")
    # moov first: the index survives but half the frames are gone
    files["truncated"] = _cut(files["good"], folder / "truncated.mp4")
    files["audio_only"] = folder / "audio_only.mp4"
    with av.open(str(files["audio_only"]), "w", format="mp4") as container:
        _audio(container, container.add_stream("aac", rate=16000))
    # a video track with zero packets (mp4 drops empty tracks; Matroska keeps them)
    files["no_frames"] = folder / "no_frames.mkv"
    with av.open(str(files["no_frames"]), "w", format="matroska") as container:
        video = container.add_stream("libx264", rate=15)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _audio(container, container.add_stream("aac", rate=16000))
    files["too_wide"] = encode(folder / "too_wide.mp4", 2, width=4098, height=16)
    return files
