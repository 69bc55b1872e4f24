"""Probe and validate a video file: container, codec, size, rotation, duration, PTS timeline.

A file that cannot be used raises :class:`VideoError` with a one-line reason and what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from cuevision.errors import CuevisionError
from cuevision.types import VideoInfo

# A stream has a variable frame rate when some gap between consecutive PTS differs from the
# median gap by more than this fraction of it (or by more than two ticks of the time base, which
# is rounding, e.g. 33/34 ms steps of 30 fps in a 1 ms time base). 5% separates the exact steps of
# encoders (0%) from webcam jitter (the Lookit clips' 0.030/0.032 s steps are 6%, most far more).
VFR_TOLERANCE = 0.05

IMAGE_FORMATS = ("image2", "gif")  # still-image demuxers; the `*_pipe` ones are images too


class VideoError(CuevisionError):
    """A file that cannot be used as a video; the message says why and what to do instead."""


@dataclass(frozen=True)
class Limits:
    """Largest video accepted: longest side in pixels and duration in seconds."""

    max_side_px: int = 4096
    max_duration_s: float = 4 * 3600.0  # a float, as the CLI passes it: the same stage key


def open_container(path: Path) -> av.container.InputContainer:
    path = Path(path)
    if path.is_dir():
        raise VideoError(f"{path}: a folder, not a video file; give the path of the video")
    if not path.is_file():
        raise VideoError(f"{path}: no such file; check the path")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes); upload the recording again")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as error:
        raise VideoError(
            f"{path}: not a readable video ({error.strerror}); it may be another kind of file "
            "named like a video, or cut short before its index (a missing 'moov' atom): "
            "upload the complete original file"
        ) from None
    name = container.format.name
    if name.endswith("_pipe") or name in IMAGE_FORMATS:
        container.close()
        raise VideoError(f"{path}: this is a still image ({name}), not a video; upload a video")
    return container


def video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        if "audio" in kinds:
            raise VideoError(f"{path}: audio only, no video track; upload the video recording")
        found = ", ".join(kinds) or "no streams at all"
        raise VideoError(f"{path}: no video track ({found}); upload a video recording")
    return container.streams.video[0]


def _check_limits(path: Path, width: int, height: int, duration_s: float, limits: Limits) -> None:
    if max(width, height) > limits.max_side_px:
        raise VideoError(
            f"{path}: {width}x{height} px is larger than the limit of {limits.max_side_px} px a "
            "side; downscale the video (or raise the limit, e.g. --max-side)"
        )
    if duration_s > limits.max_duration_s:
        raise VideoError(
            f"{path}: {duration_s / 3600:.2f} h is longer than the limit of "
            f"{limits.max_duration_s / 3600:.2f} h; split the recording (or raise the limit, "
            "e.g. --max-duration)"
        )


def scan_packets(
    container: av.container.InputContainer, stream: av.VideoStream, path: Path
) -> tuple[np.ndarray, float]:
    """Sorted PTS ticks of every video packet and the last one's duration in ticks (no decode)."""
    pts: list[int] = []
    last_duration = 0
    stored = 0  # packets in the file, including those an edit list hides (is_discard)
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.size == 0:
                continue
            stored += 1
            if not packet.is_discard:  # the decoder never shows these: not frames of the video
                pts.append(packet.pts)
                last_duration = packet.duration or 0
    except av.error.FFmpegError as error:
        raise VideoError(
            f"{path}: the file is damaged after {len(pts)} frames ({error.strerror}); "
            "upload the complete original file"
        ) from None
    if not pts:
        raise VideoError(f"{path}: the video track has no frames; upload a recording with video")
    if stream.frames and stored < stream.frames:
        raise VideoError(
            f"{path}: truncated: the index lists {stream.frames} frames but only {stored} are "
            "in the file (the upload or copy was cut short); upload the complete original file"
        )
    order = np.sort(np.asarray(pts, dtype=np.int64))
    if max(pts) > pts[-1]:  # reordered (B-frames): the last packet is not the last shown
        last_duration = 0
    return order, float(last_duration)


def _first_rotation(container: av.container.InputContainer, path: Path) -> int:
    """Counter-clockwise display rotation (PyAV's convention) of the first decodable frame."""
    container.seek(0)
    try:
        for frame in container.decode(video=0):
            return int(round(frame.rotation / 90.0)) * 90 % 360
    except av.error.FFmpegError as error:
        raise VideoError(
            f"{path}: the video cannot be decoded ({error.strerror}); the file is damaged: "
            "upload the original recording"
        ) from None
    raise VideoError(f"{path}: no frame of the video track decodes; upload the original recording")


def is_variable_rate(pts_ticks: np.ndarray) -> bool:
    """True when PTS gaps are not all within ``VFR_TOLERANCE`` of the median gap (or 2 ticks)."""
    gaps = np.diff(pts_ticks)
    if gaps.size < 2:
        return False
    median = float(np.median(gaps))
    return bool(np.abs(gaps - median).max() > max(2.0, VFR_TOLERANCE * median))


def probe(path: Path, limits: Limits = Limits()) -> VideoInfo:  # noqa: B008  # frozen: safe
    """Validate a video before any work and describe it; raise VideoError saying what is wrong.

    Reads the stream metadata, demuxes every video packet without decoding (a few ms for a
    Lookit clip) to get the PTS timeline, the frame count and truncation, and decodes one frame
    for the display rotation. ``duration_s`` runs from the first frame's PTS to the end of the
    last frame.
    """
    path = Path(path)
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise VideoError(f"{path}: the video track has no picture size; the file is damaged")
        claimed = (container.duration or 0) / av.time_base
        _check_limits(path, width, height, claimed, limits)
        tb = stream.time_base
        if tb is None:
            raise VideoError(f"{path}: the video track has no time base; the file is damaged")
        pts, last_ticks = scan_packets(container, stream, path)
        gaps = np.diff(pts)
        median_gap = float(np.median(gaps)) if gaps.size else 0.0
        end = float(pts[-1]) + (last_ticks or median_gap)
        duration_s = (end - float(pts[0])) * float(tb)
        _check_limits(path, width, height, duration_s, limits)
        rotation_ccw = _first_rotation(container, path)
        if rotation_ccw in (90, 270):
            width, height = height, width
        rate = stream.average_rate or stream.guessed_rate
        if rate:
            nominal_fps = float(rate)
        elif median_gap:
            nominal_fps = 1.0 / (median_gap * float(tb))
        else:
            nominal_fps = 0.0
        return VideoInfo(
            path=str(path),
            container=container.format.name,
            codec=stream.codec_context.name,
            width=width,
            height=height,
            rotation=(-rotation_ccw) % 360,
            duration_s=duration_s,
            nominal_fps=nominal_fps,
            n_frames=int(pts.size),
            variable_frame_rate=is_variable_rate(pts),
            has_audio=bool(container.streams.audio),
            size_bytes=path.stat().st_size,
        )
    finally:
        container.close()
