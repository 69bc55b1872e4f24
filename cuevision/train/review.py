"""The review queue: which sessions a person's look would teach the model most.

Two signals, each in [0, 1], added with equal weight:

- **uncertainty**: the share of frames (where the actor is visible) and types whose score lies
  within ``band`` of that type's tuned onset threshold: the model could go either way there;
- **disagreement**: one minus the event F1 at ± ``tolerance_s`` between the candidates of the
  default model and of each other version (averaged): where versions disagree, at least one is
  wrong.

Sessions that already have confirmed events (a ``confirmed.csv``) come last: a person has looked.
Each session also names its most uncertain window (``segment_s`` long), where to start looking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cuevision.detect.infer import Detector
from cuevision.detect.inputs import resample
from cuevision.features import read_features
from cuevision.metrics.agreement import compare

CONFIRMED = "confirmed.csv"


@dataclass(frozen=True)
class Entry:
    """One session of the queue."""

    outdir: Path
    priority: float
    uncertainty: float
    disagreement: float | None  # None: only one version
    segment: tuple[float, float]  # the most uncertain window, s
    confirmed: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "outdir": str(self.outdir),
            "priority": round(self.priority, 4),
            "uncertainty": round(self.uncertainty, 4),
            "disagreement": None if self.disagreement is None else round(self.disagreement, 4),
            "segment_s": [round(self.segment[0], 2), round(self.segment[1], 2)],
            "confirmed": self.confirmed,
        }


def near_threshold(detector: Detector, outdir: Path, band: float) -> np.ndarray:
    """(T,) share of types whose score is within ``band`` of its onset threshold, per frame;
    types whose actor is not visible in a frame count as certain there."""
    series = resample(read_features(outdir / "features.parquet"), detector.fps)
    probs = detector.predict(series).probs
    near = np.zeros(probs.shape, dtype=bool)
    for k, name in enumerate(detector.type_names):
        close = np.abs(probs[:, k] - detector.thresholds[name].onset) < band
        mask = f"{detector.actors[name]}.visible"
        if mask in series.names:
            close &= np.nan_to_num(series.column(mask)) > 0
        near[:, k] = close
    return near.mean(axis=1) if probs.shape[1] else np.zeros(len(probs))


def disagreement(
    detector: Detector, others: Sequence[Detector], outdir: Path, tolerance_s: float
) -> float | None:
    if not others:
        return None
    series = read_features(outdir / "features.parquet")
    mine = detector.candidates(series)
    values = []
    for other in others:
        f1 = compare(mine, other.candidates(series), tolerance_s=tolerance_s).overall.f1
        values.append(0.0 if f1 is None else 1.0 - f1)  # both empty: they agree
    return float(np.mean(values))


def rank(
    outdirs: Sequence[Path],
    detector: Detector,
    others: Sequence[Detector] = (),
    *,
    band: float = 0.15,
    tolerance_s: float = 1.0,
    segment_s: float = 10.0,
) -> list[Entry]:
    """The sessions, most informative first (unconfirmed before confirmed; ties by folder)."""
    entries = []
    for outdir in outdirs:
        outdir = Path(outdir)
        near = near_threshold(detector, outdir, band)
        width = max(1, int(round(segment_s * detector.fps)))
        if len(near):
            sums = np.convolve(near, np.ones(width), mode="valid") if len(near) > width else None
            start = int(np.argmax(sums)) if sums is not None else 0
        else:
            start = 0
        segment = (start / detector.fps, min(len(near), start + width) / detector.fps)
        uncertainty = float(near.mean()) if len(near) else 0.0
        disagree = disagreement(detector, others, outdir, tolerance_s)
        entries.append(
            Entry(
                outdir=outdir,
                priority=uncertainty + (disagree or 0.0),
                uncertainty=uncertainty,
                disagreement=disagree,
                segment=segment,
                confirmed=(outdir / CONFIRMED).is_file(),
            )
        )
    return sorted(entries, key=lambda e: (e.confirmed, -e.priority, str(e.outdir)))
