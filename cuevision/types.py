"""Frozen dataclasses of the data flow. Domain types import nothing heavy: numpy at most.

Time is always seconds on the video's presentation-timestamp (PTS) clock.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

Role = Literal["caregiver", "child"]
ROLES: tuple[Role, ...] = ("caregiver", "child")

Status = Literal["candidate", "accepted", "edited", "added", "rejected"]

# The default analysis rate, Hz: landmarks are extracted at the frames nearest this grid and
# features and detection run on it. It keeps every frame of 7.5-15 fps home webcams and resolves
# gaze shifts and smiles; a scheme's ``analysis.fps`` overrides it.
ANALYSIS_FPS = 15.0
# The default period, s of video, at which the landmark trackers restart (landmarks.tracking
# .Restarts): the default time chunk, so a chunked video gives what a whole one gives.
RESTART_S = 300.0


@dataclass(frozen=True)
class VideoInfo:
    """What a probe learns about a video file before any work is done on it."""

    path: str
    container: str
    codec: str
    width: int  # after rotation
    height: int  # after rotation
    rotation: int  # degrees clockwise that must be applied for display: 0, 90, 180 or 270
    duration_s: float
    nominal_fps: float
    n_frames: int
    variable_frame_rate: bool
    has_audio: bool
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoInfo:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def load(cls, path: Path) -> VideoInfo:
        return cls.from_dict(json.loads(path.read_text()))


@dataclass(frozen=True)
class Event:
    """One timed event: a model candidate, a confirmed annotation or a ground-truth event.

    Human and predicted events share this one interval type; ``onset_s <= offset_s`` on the PTS
    clock. Optional fields carry provenance (score and model version for candidates; status,
    annotator and the candidate it came from for confirmed events).

    >>> Event("child", "child_smiles", 1.0, 2.5).duration_s
    1.5
    """

    actor: Role
    type: str
    onset_s: float
    offset_s: float
    score: float | None = None
    status: Status | None = None
    source: str | None = None
    annotator: str | None = None
    model_version: str | None = None
    id: str | None = None
    candidate_id: str | None = None

    @property
    def duration_s(self) -> float:
        return self.offset_s - self.onset_s

    def shifted(self, delta_s: float) -> Event:
        return replace(self, onset_s=self.onset_s + delta_s, offset_s=self.offset_s + delta_s)


@dataclass(frozen=True)
class PersonTrack:
    """One role's landmarks over N analysed frames; a frame where nothing was found is NaN, score 0.

    Coordinates are MediaPipe's normalised image coordinates of the *rotated* frame: x in [0, 1]
    across the width, y in [0, 1] down the height, z on the scale of x. Multiply x by width and y
    by height for pixels.
    """

    face: np.ndarray  # (N, 478, 3) float32: face mesh with iris, x y z
    face_score: np.ndarray  # (N,) float32 in [0, 1]; 0 where no face
    pose: np.ndarray  # (N, 33, 4) float32: x y z visibility
    pose_score: np.ndarray  # (N,) float32 in [0, 1]; 0 where no pose


@dataclass(frozen=True)
class LandmarkTracks:
    """Both roles' landmarks on the analysed frames of one video, on the PTS clock."""

    frame: np.ndarray  # (N,) int64: index of the frame in decode order (0-based)
    t_s: np.ndarray  # (N,) float64: PTS seconds
    width: int  # of the rotated frame, pixels
    height: int
    roles: dict[Role, PersonTrack]
    role_confidence: float  # how sure the automatic caregiver/child assignment is, 0..1


@dataclass(frozen=True)
class FeatureSeries:
    """Named features on a uniform analysis grid. Columns are ``<role>.<name>`` or ``dyad.<name>``.

    Missing stays NaN; ``<role>.visible`` columns (1/0) are the visibility masks.
    """

    t_s: np.ndarray  # (T,) float64, uniform: t_s[i] = i / fps
    fps: float
    names: tuple[str, ...]
    values: np.ndarray  # (T, len(names)) float32

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]
