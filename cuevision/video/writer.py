"""Write H.264 mp4 at a constant frame rate, and the constant-rate proxy that annotators play."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from cuevision.types import VideoInfo
from cuevision.video.decode import raw_frames, upright
from cuevision.video.probe import VideoError, probe


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """H.264 (libx264, yuv420p) mp4 at a constant frame rate: frame k has pts k in 1/fps.

    A context manager: ``with VideoWriter(p, 15, 640, 360) as w: w.write(rgb)``. The moov atom goes
    first (``+faststart``) so browsers can play while loading. Nothing of any source file's
    metadata is copied. yuv420p needs even sides: odd ones are rounded down and ``write`` drops
    the last row or column. x264's ``veryfast`` preset encodes 640x480 about 3x faster than
    ``medium`` at a similar size for these videos.
    """

    def __init__(
        self,
        path: Path,
        fps: float,
        width: int,
        height: int,
        *,
        crf: int = 23,
        preset: str = "veryfast",
    ) -> None:
        if not fps > 0 or width < 2 or height < 2:
            raise VideoError(f"cannot write {width}x{height} px at {fps} fps: use positive sizes")
        self.path = Path(path)
        self.width, self.height = width - width % 2, height - height % 2
        if self.path.is_dir():  # FFmpeg only opens the file at the first frame: check now
            raise VideoError(f"{self.path}: a folder; give the path of the video file to write")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(
            str(self.path), "w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = _rate(fps)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = self.width, self.height
        self._stream.pix_fmt = "yuv420p"
        self._stream.time_base = 1 / rate
        self._stream.options = {"crf": str(crf), "preset": preset}
        self._count = 0
        self._closed = False

    def write(self, rgb: np.ndarray) -> None:
        """Append one RGB uint8 (height, width, 3) frame."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise VideoError(f"write() takes RGB uint8 (H, W, 3), got {rgb.dtype} {rgb.shape}")
        if rgb.shape[0] - rgb.shape[0] % 2 != self.height or rgb.shape[1] - rgb.shape[1] % 2 != (
            self.width
        ):
            raise VideoError(f"frame is {rgb.shape[1]}x{rgb.shape[0]}, the video is {self.size}")
        image = np.ascontiguousarray(rgb[: self.height, : self.width])
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self._count
        self._container.mux(self._stream.encode(frame))
        self._count += 1

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def frames_written(self) -> int:
        return self._count

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if not self._closed:
            self._closed = True
            self._container.mux(self._stream.encode(None))
            self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def make_cfr_proxy(
    src: Path, dst: Path, *, fps: float | None = None, max_height: int = 720
) -> VideoInfo:
    """Write a constant-frame-rate H.264 copy of ``src`` for Label Studio and probe it.

    Output frame k (0-based) shows the latest source frame with PTS <= k / fps, so a time t on
    the PTS clock is shown by proxy frame floor(t * fps) + 1 (1-based; the conversion to
    Label Studio's frames is ``cuevision.annotate.clock.ProxyClock``). It has
    ``ceil(duration * fps)`` frames, default fps = round(nominal fps), at most ``max_height``
    rows, even sides.
    """
    info = probe(src)
    rate = float(fps) if fps else float(max(1, round(info.nominal_fps)))
    scale = min(1.0, max_height / info.height)
    width = max(2, int(info.width * scale) // 2 * 2)
    height = max(2, int(info.height * scale) // 2 * 2)
    total = math.ceil(info.duration_s * rate - 1e-9)
    frames = raw_frames(Path(src))
    shown: av.VideoFrame | None = None
    pending = next(frames, None)
    with VideoWriter(dst, rate, width, height) as writer:
        for k in range(total):
            while pending is not None and pending[1] <= k / rate + 1e-9:
                shown = pending[2]
                pending = next(frames, None)
            if shown is None:
                raise VideoError(f"{src}: no frame to show at {k / rate:.3f} s")
            writer.write(upright(shown, (width, height)))
    return probe(dst)
