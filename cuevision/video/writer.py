"""Write H.264 mp4 at a constant frame rate, and the constant-rate proxy that annotators play,
with the source's sound (AAC) on the same clock as its frames."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from cuevision.types import VideoInfo
from cuevision.video.decode import raw_frames, upright
from cuevision.video.probe import VideoError, open_container, probe

AAC_FRAME = 1024  # samples per AAC frame
AAC_BITS_PER_CHANNEL = 64_000  # voices stay clear; a small share of the proxy's size
AAC_RATES = frozenset(av.codec.Codec("aac", "w").audio_rates or ())


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


class VideoWriter:
    """H.264 (libx264, yuv420p) mp4 at a constant frame rate: frame k has pts k in 1/fps.

    A context manager: ``with VideoWriter(p, 15, 640, 360) as w: w.write(rgb)``. The moov atom goes
    first (``+faststart``) so browsers can play while loading. Nothing of any source file's
    metadata is copied. yuv420p needs even sides: odd ones are rounded down and ``write`` drops
    the last row or column. x264's ``veryfast`` preset encodes 640x480 about 3x faster than
    ``medium`` at a similar size for these videos. With ``audio_rate``, an AAC track (mono, or
    stereo for ``audio_channels`` 2) takes ``write_audio`` samples, the first at 0 s.
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
        audio_rate: int | None = None,
        audio_channels: int = 1,
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
        self._audio: av.AudioStream | None = None
        if audio_rate is not None:
            if audio_rate not in AAC_RATES or audio_channels not in (1, 2):
                raise VideoError(
                    f"cannot write AAC at {audio_rate} Hz with {audio_channels} channels: use "
                    f"one or two channels at one of {sorted(AAC_RATES)} Hz"
                )
            self._audio = self._container.add_stream("aac", rate=audio_rate)
            self._audio.layout = _layout(audio_channels)
            self._audio.bit_rate = AAC_BITS_PER_CHANNEL * audio_channels
            self._audio.time_base = Fraction(1, audio_rate)
        self._unsent = np.zeros((audio_channels, 0), np.float32)  # less than one AAC frame
        self._samples = 0
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

    def write_audio(self, samples: np.ndarray) -> None:
        """Append float32 (channels, n) samples in [-1, 1] to the audio track, right after the
        last ones."""
        if self._audio is None:
            raise VideoError("this writer has no audio track: pass audio_rate to write sound")
        if samples.ndim != 2 or samples.shape[0] != self._unsent.shape[0]:
            raise VideoError(
                f"write_audio() takes ({self._unsent.shape[0]}, n) samples, got {samples.shape}"
            )
        self._unsent = np.concatenate([self._unsent, samples.astype(np.float32)], axis=1)
        whole = self._unsent.shape[1] - self._unsent.shape[1] % AAC_FRAME
        for start in range(0, whole, AAC_FRAME):
            self._encode_audio(self._unsent[:, start : start + AAC_FRAME])
        self._unsent = self._unsent[:, whole:]

    def _encode_audio(self, samples: np.ndarray) -> None:
        assert self._audio is not None
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples), format="fltp", layout=_layout(samples.shape[0])
        )
        frame.sample_rate = self._audio.rate
        frame.pts, frame.time_base = self._samples, self._audio.time_base
        self._samples += samples.shape[1]
        self._container.mux(self._audio.encode(frame))

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
            if self._audio is not None:
                if self._unsent.shape[1]:  # AAC takes a shorter last frame
                    self._encode_audio(self._unsent)
                self._container.mux(self._audio.encode(None))
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


class _Sound:
    """The source's first audio track as one gapless run of samples on the frames' clock.

    Sample i sounds at i / rate seconds after the first video frame, as in the source: each
    decoded frame is placed at its own PTS minus the first frame's, so a track that starts late
    (37 ms in some Lookit clips) starts late in the proxy too. Silence fills a late start, holes
    and the end; samples before the first frame, or overlapping earlier ones, are dropped.
    """

    def __init__(self, src: Path, origin_s: float) -> None:
        self._src = src
        self._origin_s = origin_s
        self._container = open_container(src)
        stream = self._container.streams.audio[0]
        self.channels = 1 if stream.codec_context.channels == 1 else 2
        rate = stream.codec_context.sample_rate
        self.rate = rate if rate in AAC_RATES else 48_000
        self._frames = self._decoded(stream)
        self._held = np.zeros((self.channels, 0), np.float32)  # decoded, not yet read
        self._read = 0  # samples handed out so far

    def _decoded(self, stream: av.AudioStream) -> Iterator[av.AudioFrame]:
        resampler = av.AudioResampler(format="fltp", layout=_layout(self.channels), rate=self.rate)
        try:
            for frame in self._container.decode(stream):
                yield from resampler.resample(frame)
            yield from resampler.resample(None)
        except av.error.FFmpegError as error:
            raise VideoError(
                f"{self._src}: the audio track breaks while decoding ({error.strerror}); "
                "re-export the file, or strip its audio track (ffmpeg -an) for a silent proxy"
            ) from None

    def _place(self, frame: av.AudioFrame) -> None:
        end = self._read + self._held.shape[1]  # clock index just past what is held
        x = frame.to_ndarray().astype(np.float32)
        at = end if frame.time is None else round((frame.time - self._origin_s) * self.rate)
        if at > end:
            x = np.concatenate([np.zeros((self.channels, at - end), np.float32), x], axis=1)
        self._held = np.concatenate([self._held, x[:, max(0, end - at) :]], axis=1)

    def read(self, end: int) -> np.ndarray:
        """The samples from the last read up to clock index ``end`` (silence past the track)."""
        while self._held.shape[1] < end - self._read:
            frame = next(self._frames, None)
            if frame is None:
                short = end - self._read - self._held.shape[1]
                self._held = np.concatenate(
                    [self._held, np.zeros((self.channels, short), np.float32)], axis=1
                )
                break
            self._place(frame)
        out, self._held = np.split(self._held, [max(0, end - self._read)], axis=1)
        self._read += out.shape[1]
        return out

    def close(self) -> None:
        self._container.close()


def make_cfr_proxy(
    src: Path, dst: Path, *, fps: float | None = None, max_height: int = 720
) -> VideoInfo:
    """Write a constant-frame-rate H.264 copy of ``src`` for Label Studio and probe it.

    Output frame k (0-based) shows the latest source frame with PTS <= k / fps, so a time t on
    the PTS clock is shown by proxy frame floor(t * fps) + 1 (1-based; the conversion to
    Label Studio's frames is ``cuevision.annotate.clock.ProxyClock``). It has
    ``ceil(duration * fps)`` frames, default fps = round(nominal fps), at most ``max_height``
    rows, even sides. A source with sound gives an AAC track on the same clock, exactly as long
    as the frames (annotators hear a laugh with the frame that shows it); one without gives none.
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
    with ExitStack() as stack:
        sound = None
        if info.has_audio and pending is not None:
            first = pending[2]
            ticks = first.pts if first.pts is not None else first.dts  # raw_frames: not None
            sound = _Sound(Path(src), float((ticks or 0) * (first.time_base or 0)))
            stack.callback(sound.close)
        writer = stack.enter_context(
            VideoWriter(
                dst,
                rate,
                width,
                height,
                audio_rate=sound.rate if sound else None,
                audio_channels=sound.channels if sound else 1,
            )
        )
        for k in range(total):
            while pending is not None and pending[1] <= k / rate + 1e-9:
                shown = pending[2]
                pending = next(frames, None)
            if shown is None:
                raise VideoError(f"{src}: no frame to show at {k / rate:.3f} s")
            writer.write(upright(shown, (width, height)))
            if sound:  # interleaved: the sound up to the end of this frame
                writer.write_audio(sound.read(round((k + 1) / rate * sound.rate)))
    return probe(dst)
