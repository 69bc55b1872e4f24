"""Frozen dataclasses of the data flow. Domain types import nothing heavy: numpy at most.

Time is always seconds on the video's presentation-timestamp (PTS) clock.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

Role = Literal["caregiver", "child"]
ROLES: tuple[Role, ...] = ("caregiver", "child")

Status = Literal["candidate", "accepted", "edited", "added", "rejected"]


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

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

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
