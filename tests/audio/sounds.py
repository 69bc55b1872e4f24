"""Synthetic sounds made with numpy, and small videos whose audio track starts late or early."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 16_000


def harmonic(
    f0_hz: float, duration_s: float, *, rate: int = RATE, level: float = 0.3
) -> np.ndarray:
    """A voice-like tone: F0 and its first harmonics, falling in amplitude, with a 4 Hz
    syllable-rate envelope."""
    t = np.arange(int(duration_s * rate)) / rate
    wave = sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, 6))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * t)
    return (level * envelope * wave / 2.3).astype(np.float32)


def write_clip(
    path: Path,
    *,
    duration_s: float = 3.0,
    fps: int = 15,
    video_start_s: float = 0.0,
    audio: np.ndarray | None = None,
    audio_rate: int = 48_000,
    audio_start_s: float = 0.0,
) -> Path:
    """An mp4 of grey frames whose first frame has PTS ``video_start_s`` and, with ``audio``,
    an AAC track whose first sample has PTS ``audio_start_s`` (both on the container clock)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.time_base = Fraction(1, 90_000)
        sound = None
        if audio is not None:
            sound = out.add_stream("aac", rate=audio_rate)
            sound.layout = "mono"
            sound.time_base = Fraction(1, audio_rate)
        image = np.full((48, 64, 3), 128, np.uint8)
        for i in range(int(duration_s * fps)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = int(round((video_start_s + i / fps) * 90_000))
            frame.time_base = video.time_base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None and audio is not None:
            step = 1024
            for at in range(0, len(audio), step):
                block = audio[None, at : at + step].astype(np.float32)
                piece = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
                piece.sample_rate = audio_rate
                piece.pts = int(round(audio_start_s * audio_rate)) + at
                piece.time_base = Fraction(1, audio_rate)
                out.mux(sound.encode(piece))
            out.mux(sound.encode(None))
    return path


def with_audio(video: Path, audio: np.ndarray, out: Path, *, audio_rate: int = RATE) -> Path:
    """``video``'s picture, its packets copied, with ``audio`` (mono, from 0 s) as an AAC track."""
    with av.open(str(video)) as source, av.open(str(out), "w") as sink:
        picture = source.streams.video[0]
        copied = sink.add_stream_from_template(picture)
        sound = sink.add_stream("aac", rate=audio_rate)
        sound.layout = "mono"
        sound.time_base = Fraction(1, audio_rate)
        for packet in source.demux(picture):
            if packet.dts is None:  # the demuxer's empty flush packet
                continue
            packet.stream = copied
            sink.mux(packet)
        for at in range(0, len(audio), 1024):
            block = audio[None, at : at + 1024].astype(np.float32)
            piece = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
            piece.sample_rate = audio_rate
            piece.pts = at
            piece.time_base = Fraction(1, audio_rate)
            sink.mux(sound.encode(piece))
        sink.mux(sound.encode(None))
    return out
