"""Video input and output: probe and validate, decode with true PTS, write H.264, make a CFR proxy.

One clock: every time is seconds on the file's presentation timestamps (PTS), measured from the
first frame, so the first frame is at ``t_s == 0``. Never ``index / fps``: webcam and phone video
have variable frame rates (the Lookit clips step 0.030 s, then 0.032 s, and some frames lie less
than 1 ms apart, which are real frames and keep their true PTS).

Rotation: a container display matrix is applied on decode, so frames, widths and heights are
always those of the upright picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

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
    max_duration_s: float = 4 * 3600


@dataclass(frozen=True)
class Frame:
    """One decoded frame: RGB uint8 (H, W, 3), upright; ``index`` counts all frames from 0."""

    index: int
    t_s: float
    image: np.ndarray


def _open(path: Path) -> av.container.InputContainer:
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


def _video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
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


def _scan_packets(
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
    container = _open(path)
    try:
        stream = _video_stream(container, path)
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise VideoError(f"{path}: the video track has no picture size; the file is damaged")
        claimed = (container.duration or 0) / av.time_base
        _check_limits(path, width, height, claimed, limits)
        tb = stream.time_base
        if tb is None:
            raise VideoError(f"{path}: the video track has no time base; the file is damaged")
        pts, last_ticks = _scan_packets(container, stream, path)
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


def _upright(frame: av.VideoFrame, size: tuple[int, int] | None = None) -> np.ndarray:
    """RGB array of the frame turned upright, optionally resized to upright ``size`` (w, h)."""
    turns = int(round(frame.rotation / 90.0)) % 4
    if size is None:
        image = frame.to_ndarray(format="rgb24")
    else:
        width, height = size if turns % 2 == 0 else size[::-1]
        image = frame.to_ndarray(format="rgb24", width=width, height=height)
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _frames(path: Path) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """(index, t_s, frame) of every frame in decode order, t_s relative to the first frame."""
    path = Path(path)
    container = _open(path)
    try:
        stream = _video_stream(container, path)
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
        for index, t_s, frame in _frames(path):
            if index % stride == 0:
                yield Frame(index, t_s, _upright(frame))
        return
    step = 1.0 / target_fps
    grid = 0  # next grid point to assign: grid * step
    emitted = -1
    previous: tuple[int, float, av.VideoFrame] | None = None
    for current in _frames(path):
        while grid * step <= current[1]:
            g = grid * step
            near = previous if previous and g - previous[1] <= current[1] - g else current
            if near[0] > emitted:
                emitted = near[0]
                yield Frame(near[0], near[1], _upright(near[2]))
            grid += 1
        previous = current


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
    frames = _frames(Path(src))
    shown: av.VideoFrame | None = None
    pending = next(frames, None)
    with VideoWriter(dst, rate, width, height) as writer:
        for k in range(total):
            while pending is not None and pending[1] <= k / rate + 1e-9:
                shown = pending[2]
                pending = next(frames, None)
            if shown is None:
                raise VideoError(f"{src}: no frame to show at {k / rate:.3f} s")
            writer.write(_upright(shown, (width, height)))
    return probe(dst)
