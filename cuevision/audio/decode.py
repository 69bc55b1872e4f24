"""Decode a video's audio track as mono samples on the frames' PTS clock.

The video clock puts the first decoded frame at 0 s (:mod:`cuevision.video`). Audio has its own
stream and start time: in the Lookit clips of one dyad the first audio sample lies 37-38 ms after
the first frame. Every decoded audio frame is therefore placed at its own PTS minus the first
video frame's PTS, so a sound and the frame shown with it get the same time; holes in the track
are silence, not a shift of everything after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from cuevision.errors import CuevisionError
from cuevision.video.probe import open_container, video_stream

# silero-vad runs at 16 kHz, and 16 kHz keeps every F0 a voice can reach (children's cries
# included) well below the Nyquist limit.
SAMPLE_RATE = 16_000


class AudioError(CuevisionError):
    """An audio track that cannot be decoded; the message names the file and the fix."""


@dataclass(frozen=True)
class Audio:
    """Mono samples of the audio track; ``samples[i]`` sounds at ``t0_s + i / rate`` (PTS s)."""

    rate: int
    t0_s: float  # time of the first sample on the video clock (first frame = 0 s)
    samples: np.ndarray  # (n,) float32 in [-1, 1]

    @property
    def end_s(self) -> float:
        return self.t0_s + len(self.samples) / self.rate


def video_origin_s(container: av.container.InputContainer, path: Path) -> float:
    """PTS seconds of the first decoded video frame: the zero of :mod:`cuevision.video`'s clock."""
    stream = video_stream(container, path)
    tb = float(stream.time_base or 0)
    try:
        for frame in container.decode(stream):
            ticks = frame.pts if frame.pts is not None else frame.dts
            if ticks is not None:
                return float(ticks * tb)
    except av.error.FFmpegError as error:
        raise AudioError(
            f"{path}: the first video frame does not decode ({error.strerror}); the file is "
            "damaged: upload the original recording"
        ) from None
    raise AudioError(f"{path}: no video frame has a timestamp; remux the file")


def decode_audio(path: Path, *, rate: int = SAMPLE_RATE) -> Audio | None:
    """The first audio track, mixed to mono at ``rate``; None when the video has no audio
    (no audio track, or one without a single sample)."""
    path = Path(path)
    with open_container(path) as container:
        if not container.streams.audio:
            return None
        origin_s = video_origin_s(container, path)
    with open_container(path) as container:  # reopened: decoding video moved the demuxer on
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        pieces: list[tuple[int, np.ndarray]] = []  # (first sample index on the rate clock, x)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pieces.append(_piece(out, rate, pieces))
            for out in resampler.resample(None):
                pieces.append(_piece(out, rate, pieces))
        except av.error.FFmpegError as error:
            raise AudioError(
                f"{path}: the audio track breaks while decoding ({error.strerror}); the file is "
                "damaged: re-export it, or strip its audio track (ffmpeg -an) to use video alone"
            ) from None
    if not pieces:
        return None
    start = pieces[0][0]
    end = max(at + len(x) for at, x in pieces)
    samples = np.zeros(end - start, np.float32)
    for at, x in pieces:  # later frames win where two overlap
        samples[at - start : at - start + len(x)] = x
    return Audio(rate, start / rate - origin_s, samples)


def _piece(
    frame: av.AudioFrame, rate: int, before: list[tuple[int, np.ndarray]]
) -> tuple[int, np.ndarray]:
    """Where one resampled frame starts (its PTS at ``rate``, or right after the last piece)."""
    x = frame.to_ndarray().reshape(-1).astype(np.float32)
    if frame.pts is not None and frame.time_base is not None:
        return int(round(float(frame.pts * frame.time_base) * rate)), x
    at, last = before[-1] if before else (0, np.zeros(0, np.float32))
    return at + len(last), x
