"""From per-frame probabilities to candidate events: hysteresis, minimum duration, merge gap.

This imitates pyannote's ``Binarize``: an event starts where the probability rises above
``onset`` and ends where it falls below ``offset`` (hysteresis, so a trace that wobbles around one
threshold does not chop an event into pieces). Gaps shorter than ``merge_gap_s`` are filled, then
events shorter than ``min_duration_s`` are dropped. The four numbers are tuned per event type on
validation data against the event F1 that is reported (:mod:`cuevision.detect.tune`).

Frame convention: frame ``i`` stands for the interval ``[t_s[i], t_s[i] + 1/fps)``, so a run of
active frames ``i..j`` (both inclusive) becomes the event ``[t_s[i], t_s[j] + 1/fps)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cuevision.types import Event, Role


@dataclass(frozen=True)
class FrameScores:
    """Per-frame probability of every event type, on the model's uniform grid."""

    t_s: np.ndarray  # (T,) float64 seconds, uniform at ``fps``
    fps: float
    type_names: tuple[str, ...]
    probs: np.ndarray  # (T, len(type_names)) float32 in [0, 1]

    def __post_init__(self) -> None:
        if self.probs.shape != (len(self.t_s), len(self.type_names)):
            raise ValueError(
                f"probs has shape {self.probs.shape}, expected ({len(self.t_s)}, "
                f"{len(self.type_names)})"
            )

    def column(self, name: str) -> np.ndarray:
        return self.probs[:, self.type_names.index(name)]


@dataclass(frozen=True)
class Thresholds:
    """Post-processing of one event type (pyannote's onset, offset, min_duration_on/off)."""

    onset: float = 0.5
    offset: float = 0.5
    min_duration_s: float = 0.0
    merge_gap_s: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.offset <= self.onset <= 1.0:
            raise ValueError(f"need 0 <= offset <= onset <= 1, got {self}")
        if self.min_duration_s < 0 or self.merge_gap_s < 0:
            raise ValueError(f"durations must not be negative, got {self}")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def hysteresis(prob: np.ndarray, onset: float, offset: float) -> list[tuple[int, int]]:
    """Active runs ``(first, last)`` (frames, both inclusive): a run starts at a frame above
    ``onset`` and lasts while the probability stays at or above ``offset``. NaN counts as 0."""
    p = np.nan_to_num(np.asarray(prob, dtype=np.float64), nan=0.0)
    high = np.concatenate([[False], p >= offset, [False]])
    edges = np.flatnonzero(np.diff(high.astype(np.int8)))
    runs = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        above = np.flatnonzero(p[start:stop] > onset)
        if len(above):
            runs.append((int(start + above[0]), int(stop - 1)))
    return runs


def clean(
    runs: Sequence[tuple[int, int]], t_s: np.ndarray, fps: float, th: Thresholds
) -> list[tuple[int, int]]:
    """Fill gaps shorter than ``merge_gap_s``, then drop runs shorter than ``min_duration_s``."""
    step = 1.0 / fps
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged and t_s[first] - (t_s[merged[-1][1]] + step) < th.merge_gap_s - 1e-9:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return [
        (first, last)
        for first, last in merged
        if t_s[last] + step - t_s[first] >= th.min_duration_s - 1e-9
    ]


def binarize(
    prob: np.ndarray, t_s: np.ndarray, fps: float, th: Thresholds
) -> list[tuple[float, float, float]]:
    """One type's probability trace -> ``(onset_s, offset_s, mean probability)`` per event."""
    step = 1.0 / fps
    return [
        (float(t_s[first]), float(t_s[last] + step), float(np.nanmean(prob[first : last + 1])))
        for first, last in clean(hysteresis(prob, th.onset, th.offset), t_s, fps, th)
    ]


def to_candidates(
    scores: FrameScores,
    thresholds: Mapping[str, Thresholds],
    actors: Mapping[str, Role],
    model_version: str,
) -> list[Event]:
    """Candidate events of every type, sorted by onset and numbered ``c0001``, ``c0002``, ..."""
    found: list[tuple[float, str, float, float]] = []
    for name in scores.type_names:
        for onset, offset, score in binarize(
            scores.column(name), scores.t_s, scores.fps, thresholds[name]
        ):
            found.append((onset, name, offset, score))
    found.sort()
    return [
        Event(
            actor=actors[name],
            type=name,
            onset_s=round(onset, 4),
            offset_s=round(offset, 4),
            score=round(min(max(score, 0.0), 1.0), 4),
            status="candidate",
            source="model",
            model_version=model_version,
            id=f"c{number:04d}",
        )
        for number, (onset, name, offset, score) in enumerate(found, start=1)
    ]


def thresholds_from_dict(data: Mapping[str, Mapping[str, Any]]) -> dict[str, Thresholds]:
    return {name: Thresholds(**values) for name, values in data.items()}


def frame_events(events: Sequence[Event], type_names: Sequence[str], t_s: np.ndarray) -> np.ndarray:
    """Events -> (T, n_types) 0/1 frame targets: frame ``i`` is on where onset <= t_i < offset."""
    target = np.zeros((len(t_s), len(type_names)), dtype=np.float32)
    index = {name: k for k, name in enumerate(type_names)}
    for event in events:
        if event.type in index:
            on = (t_s >= event.onset_s) & (t_s < event.offset_s)
            target[on, index[event.type]] = 1.0
    return target
