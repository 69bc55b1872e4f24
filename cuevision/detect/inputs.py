"""Feature series -> network inputs: fixed column order, per-feature normalisation, missing masks.

The model sees three channels for every feature it was trained on: the value normalised with
statistics of all training frames (stored in the model's ``config.json``); the same value centred on
this session's own median, so that a person's resting level (a wide mouth, a camera in profile)
does not read as an event, as a coder judges a smile against that face's neutral; and a 0/1
"present" mask, so that "missing" (NaN, fed as 0) is never confused with "average".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cuevision.errors import CuevisionError
from cuevision.types import FeatureSeries


class FeatureMismatchError(CuevisionError):
    """A feature series that lacks columns the model was trained on."""


@dataclass(frozen=True)
class Normaliser:
    """Column order and per-feature mean and standard deviation of the training frames."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, names: Sequence[str], blocks: Sequence[np.ndarray]) -> Normaliser:
        """Statistics over all frames of ``blocks`` ((T, len(names)) arrays), NaN ignored."""
        stacked = np.concatenate([np.asarray(b, dtype=np.float64) for b in blocks])
        finite = np.isfinite(stacked)
        counts = finite.sum(axis=0)
        filled = np.where(finite, stacked, 0.0)
        mean = filled.sum(axis=0) / np.maximum(counts, 1)
        var = (np.where(finite, stacked - mean, 0.0) ** 2).sum(axis=0) / np.maximum(counts, 1)
        std = np.where(np.sqrt(var) > 1e-6, np.sqrt(var), 1.0)
        return cls(tuple(names), tuple(map(float, mean)), tuple(map(float, std)))

    @property
    def n_inputs(self) -> int:
        """Network input channels: value, session-centred value and mask per feature."""
        return 3 * len(self.names)

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normaliser:
        return cls(tuple(data["names"]), tuple(data["mean"]), tuple(data["std"]))

    def select(self, series: FeatureSeries) -> np.ndarray:
        """The model's columns of ``series``, in the model's order: (T, n_features)."""
        missing = [n for n in self.names if n not in series.names]
        if missing:
            raise FeatureMismatchError(
                f"the feature series lacks {len(missing)} feature(s) the model was trained on "
                f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); recompute the "
                "features with this cuevision version or use a model trained on these features"
            )
        index = [series.names.index(n) for n in self.names]
        return np.asarray(series.values[:, index], dtype=np.float32)

    def encode(self, values: np.ndarray) -> np.ndarray:
        """(T, n_features) raw values -> (3 * n_features, T) float32: normalised values, values
        centred on the session's median, presence masks."""
        present = np.isfinite(values)
        std = np.asarray(self.std, np.float32)
        scaled = (values - np.asarray(self.mean, np.float32)) / std
        median = np.zeros(values.shape[1], np.float32)
        seen = present.any(axis=0)
        if seen.any():
            median[seen] = np.nanmedian(values[:, seen], axis=0)
        centred = (values - median) / std
        channels = [
            np.clip(np.where(present, scaled, 0.0), -8.0, 8.0),
            np.clip(np.where(present, centred, 0.0), -8.0, 8.0),
            present.astype(np.float32),
        ]
        return np.concatenate(channels, axis=1).T.astype(np.float32)


def resample(series: FeatureSeries, fps: float) -> FeatureSeries:
    """The series on a uniform grid at ``fps`` (nearest earlier frame); unchanged if already so."""
    if abs(series.fps - fps) < 1e-9 or len(series.t_s) == 0:
        return series
    duration = len(series.t_s) / series.fps
    t_s = np.arange(int(round(duration * fps))) / fps
    index = np.clip(np.floor(t_s * series.fps + 1e-9).astype(int), 0, len(series.t_s) - 1)
    return FeatureSeries(t_s=t_s, fps=fps, names=series.names, values=series.values[index])
