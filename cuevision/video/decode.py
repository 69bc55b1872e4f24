"""Decode frames as upright RGB with true PTS seconds, the first frame at 0.

Rotation: a container display matrix is applied on decode, so frames, widths and heights are
always those of the upright picture.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from cuevision.video.probe import VideoError, open_container, video_stream


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


def raw_frames(path: Path) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """(index, t_s, frame) of every frame in decode order, t_s relative to the first frame."""
    path = Path(path)
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        stream.thread_type = "AUTO"
        tb = float(stream.time_base or 0)
        first: int | None = None
        index = 0
        try:
            for frame in container.decode(stream):
                ticks = frame.pts if frame.pts is not None else frame.dts
                if ticks is None:
                    raise VideoError(f"{path}: frame {index} has no timestamp; remux the file")
                first = ticks if first is None else first
                yield index, (ticks - first) * tb, frame
                index += 1
        except av.error.FFmpegError as error:
            raise VideoError(
                f"{path}: decoding failed at frame {index} ({error.strerror}); the file is "
                "damaged: upload the original recording"
            ) from None
    finally:
        container.close()


def decode(path: Path, *, stride: int = 1, target_fps: float | None = None) -> Iterator[Frame]:
    """Decode frames as upright RGB with true PTS seconds (first frame at 0).

    ``stride`` keeps every n-th frame. ``target_fps`` keeps, for each point of the grid
    ``j / target_fps`` up to the last frame, the frame nearest to it (ties to the earlier), each
    frame at most once, so it never upsamples. ``index`` always counts all frames. Validate
    with :func:`probe` first; a file that breaks while decoding raises VideoError.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if target_fps is not None and (stride != 1 or not target_fps > 0):
        raise ValueError("target_fps must be > 0 and cannot be combined with stride")
    if target_fps is None:
        for index, t_s, frame in raw_frames(path):
            if index % stride == 0:
                yield Frame(index, t_s, upright(frame))
        return
    step = 1.0 / target_fps
    grid = 0  # next grid point to assign: grid * step
    emitted = -1
    previous: tuple[int, float, av.VideoFrame] | None = None
    for current in raw_frames(path):
        while grid * step <= current[1]:
            g = grid * step
            near = previous if previous and g - previous[1] <= current[1] - g else current
            if near[0] > emitted:
                emitted = near[0]
                yield Frame(near[0], near[1], upright(near[2]))
            grid += 1
        previous = current
