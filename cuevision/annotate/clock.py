"""The one conversion between the PTS clock (seconds) and Label Studio's 1-based video frames.

Annotators watch a constant-frame-rate proxy (``cuevision.video.make_cfr_proxy``): its frame
``n`` (1-based) has the time ``(n - 1) / fps`` and shows the latest source frame with a PTS at or
before that time. An event ``[onset_s, offset_s)`` is therefore visible on exactly the proxy
frames whose time lies in ``[onset_s, offset_s)``: the first is the first frame that shows the
onset, the last is the last frame before the offset, whatever the source's frame rate. Label
Studio's TimelineLabels range ``{"start": s, "end": e}`` is inclusive at both ends, so at 25 fps
``[1.0 s, 2.0 s)`` is ``{"start": 26, "end": 50}``. Nothing else converts between the two clocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cuevision.errors import CuevisionError

_EPS = 1e-6  # in frames: absorbs float error such as 1.0 * 25 = 24.999999


class ClockError(CuevisionError):
    """An interval that cannot be placed on the proxy's frames."""


@dataclass(frozen=True)
class ProxyClock:
    """The frame grid of one constant-frame-rate proxy: ``fps`` and its number of frames.

    >>> ProxyClock(25.0, 250).to_frames(1.0, 2.0)
    (26, 50)
    >>> ProxyClock(25.0, 250).to_seconds(26, 50)
    (1.0, 2.0)
    """

    fps: float
    n_frames: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.fps) and self.fps > 0) or self.n_frames < 1:
            raise ClockError(f"a proxy needs fps > 0 and at least one frame, not {self}")

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    def to_frames(self, onset_s: float, offset_s: float) -> tuple[int, int]:
        """PTS seconds -> inclusive 1-based ``(start, end)`` frames, clipped to the proxy.

        An interval too short to hold a frame time still gets the first frame after its onset.
        """
        if not (math.isfinite(onset_s) and math.isfinite(offset_s)) or offset_s < onset_s:
            raise ClockError(f"[{onset_s}, {offset_s}] is not an interval on the PTS clock")
        if onset_s < 0 or onset_s > (self.n_frames - 1) / self.fps + _EPS / self.fps:
            raise ClockError(
                f"onset {onset_s:.3f} s lies outside the proxy (0 to {self.duration_s:.3f} s)"
            )
        start = math.ceil(onset_s * self.fps - _EPS) + 1
        end = math.ceil(offset_s * self.fps - _EPS)
        return start, min(self.n_frames, max(start, end))

    def to_seconds(self, start: int, end: int) -> tuple[float, float]:
        """Inclusive 1-based ``(start, end)`` frames -> PTS seconds ``(onset_s, offset_s)``."""
        if not 1 <= start <= end:
            raise ClockError(f"frames {start}..{end} are not a 1-based range")
        end = min(end, self.n_frames)
        start = min(start, end)
        return (start - 1) / self.fps, end / self.fps
