"""Decode frames as upright RGB with true PTS seconds, the first frame at 0.

Rotation: a container display matrix is applied on decode, so frames, widths and heights are
always those of the upright picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from cuevision.video.probe import VideoError, open_container, scan_packets, video_stream

SEEK_MARGIN_S = 1.0  # a seek lands this far before a range's start: its first frames' neighbours


@dataclass(frozen=True)
class Frame:
    """One decoded frame: RGB uint8 (H, W, 3), upright; ``index`` counts all frames from 0."""

    index: int
    t_s: float
    image: np.ndarray


def upright(frame: av.VideoFrame, size: tuple[int, int] | None = None) -> np.ndarray:
    """RGB array of the frame turned upright, optionally resized to upright ``size`` (w, h)."""
    turns = int(round(frame.rotation / 90.0)) % 4
    if size is None:
        image = frame.to_ndarray(format="rgb24")
    else:
        width, height = size if turns % 2 == 0 else size[::-1]
        image = frame.to_ndarray(format="rgb24", width=width, height=height)
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def raw_frames(path: Path, *, start_s: float = 0.0) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """(index, t_s, frame) of every frame in decode order, t_s relative to the first frame.

    ``start_s`` > 0 seeks to the keyframe at least ``SEEK_MARGIN_S`` before it and decodes from
    there (frames before ``start_s`` still come, from that keyframe on): a worker decoding one
    time chunk of a long video does not decode the hours before it. ``index`` and ``t_s`` are
    then placed on the whole file's timeline by the sorted PTS of its packets (demuxed, not
    decoded), so they equal a decode from the start.
    """
    path = Path(path)
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        stream.thread_type = "AUTO"
        tb = float(stream.time_base or 0)
        ticks: np.ndarray | None = None  # the whole file's sorted PTS, when seeking
        first: int | None = None
        if start_s > 0:
            ticks = scan_packets(container, stream, path)[0]
            first = int(ticks[0])
            target = first + int((start_s - SEEK_MARGIN_S) / tb) if tb else first
            container.seek(max(target, first), stream=stream, backward=True)
        index = 0
        try:
            for frame in container.decode(stream):
                tick = frame.pts if frame.pts is not None else frame.dts
                if tick is None:
                    raise VideoError(f"{path}: frame {index} has no timestamp; remux the file")
                if ticks is not None:
                    index = int(np.searchsorted(ticks, tick))
                    if index == len(ticks) or ticks[index] != tick:
                        raise VideoError(
                            f"{path}: a decoded frame (PTS {tick}) is not among the file's "
                            "packets, so a seek cannot place it; remux the file (ffmpeg -c copy)"
                        )
                first = tick if first is None else first
                yield index, (tick - first) * tb, frame
                index += 1
        except av.error.FFmpegError as error:
            raise VideoError(
                f"{path}: decoding failed at frame {index} ({error.strerror}); the file is "
                "damaged: upload the original recording"
            ) from None
    finally:
        container.close()


def decode(
    path: Path,
    *,
    stride: int = 1,
    target_fps: float | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> Iterator[Frame]:
    """Decode frames as upright RGB with true PTS seconds (first frame at 0).

    ``stride`` keeps every n-th frame. ``target_fps`` keeps, for each point of the grid
    ``j / target_fps`` up to the last frame, the frame nearest to it (ties to the earlier), each
    frame at most once, so it never upsamples. ``index`` always counts all frames. Validate
    with :func:`probe` first; a file that breaks while decoding raises VideoError.

    ``start_s``/``end_s`` keep the frames with ``start_s <= t_s < end_s`` (``end_s`` None: to the
    end), seeking near ``start_s``: the frames, their ``index`` and ``t_s`` are exactly those a
    decode of the whole file gives for those times (the grid's choice near a frame depends only
    on its neighbours, which the seek margin decodes too).
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if target_fps is not None and (stride != 1 or not target_fps > 0):
        raise ValueError("target_fps must be > 0 and cannot be combined with stride")
    end = math.inf if end_s is None else end_s
    for index, t_s, frame in _chosen(path, stride, target_fps, start_s):
        if t_s >= end:
            return
        if t_s >= start_s:
            yield Frame(index, t_s, upright(frame))


def _chosen(
    path: Path, stride: int, target_fps: float | None, start_s: float
) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """The raw frames that ``decode`` keeps, from the seek point near ``start_s`` on."""
    frames = raw_frames(path, start_s=start_s)
    if target_fps is None:
        yield from (raw for raw in frames if raw[0] % stride == 0)
        return
    step = 1.0 / target_fps
    grid: int | None = None  # next grid point to assign: grid * step
    emitted = -1
    previous: tuple[int, float, av.VideoFrame] | None = None
    for current in frames:
        if grid is None:  # from a seek: the grid points before the first decoded frame
            grid = max(0, math.floor(current[1] * target_fps) - 1)  # pick frames before start_s
        while grid * step <= current[1]:
            g = grid * step
            near = previous if previous and g - previous[1] <= current[1] - g else current
            if near[0] > emitted:
                emitted = near[0]
                yield near
            grid += 1
        previous = current
