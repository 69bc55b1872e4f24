"""Training data: simulated dyads with exact truth, and real clips with weak labels.

Everything is split by dyad. Real Lookit clips of the held-out dyads (:data:`HELD_OUT_DYADS`)
never enter training or tuning: :func:`real_sessions` refuses them for those purposes, and the
split written beside the model records which clips were used for what.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from cuevision.detect.postprocess import frame_events
from cuevision.errors import CuevisionError
from cuevision.scheme import Scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.types import Event, FeatureSeries

# Dyads whose real clips may be used for training and tuning, and the held-out real test dyads.
TRAIN_DYADS = ("2UWdXP", "6c6MZQ")
HELD_OUT_DYADS = ("3dC3SQ", "4JDccE")
LOOKIT_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "lookit"

Purpose = Literal["train", "val", "test"]
WeakLabeller = Callable[[FeatureSeries, Scheme], np.ndarray]


@dataclass(frozen=True)
class Session:
    """One session ready for training or scoring."""

    name: str  # sim-<seed> or the clip's file stem
    dyad: str
    series: FeatureSeries
    targets: np.ndarray  # (T, n_types) float32 in {0, 1, NaN}; NaN = no label (abstain)
    truth: tuple[Event, ...]  # exact truth (simulated) or the weak labels' events (real)
    source: Literal["simulated", "weak"]


def dyad_of(clip: str) -> str:
    """``2UWdXP.joke1.rep2.take1.Peekaboo`` -> ``2UWdXP``."""
    return Path(clip).name.split(".")[0]


def simulated_sessions(
    seeds: Sequence[int],
    *,
    scheme: Scheme,
    feature_names: Sequence[str],
    fps: float,
    duration_s: float,
) -> list[Session]:
    """One simulated dyad per seed; each seed is its own dyad."""
    out = []
    for seed in seeds:
        series, events = simulate_dyad(
            seed, duration_s=duration_s, fps=fps, scheme=scheme, feature_names=feature_names
        )
        targets = frame_events(events, scheme.type_names, series.t_s)
        out.append(
            Session(f"sim-{seed}", f"sim-{seed}", series, targets, tuple(events), "simulated")
        )
    return out


def split_seeds(
    n: int, seed: int, fractions: tuple[float, float] = (0.7, 0.15)
) -> dict[Purpose, list[int]]:
    """Simulated dyad seeds for train, val and test; distinct from ``seed``'s own stream."""
    base = 1_000_000 * (seed + 1)
    seeds = [base + i for i in range(n)]
    n_train = max(1, int(round(n * fractions[0])))
    n_val = max(1, int(round(n * fractions[1]))) if n > 1 else 0
    return {
        "train": seeds[:n_train],
        "val": seeds[n_train : n_train + n_val],
        "test": seeds[n_train + n_val :],
    }


def split_clips(clips: Sequence[str], every: int = 4) -> dict[Purpose, list[str]]:
    """Real clips: the held-out dyads are test; of the training dyads every ``every``-th clip
    (sorted by name) is validation, the rest train. Clips of any other dyad are left out."""
    names = sorted(Path(c).name.removesuffix(".parquet").removesuffix(".mp4") for c in clips)
    usable = [c for c in names if dyad_of(c) in TRAIN_DYADS]
    split: dict[Purpose, list[str]] = {
        "train": [c for i, c in enumerate(usable) if i % every != every - 1],
        "val": [c for i, c in enumerate(usable) if i % every == every - 1],
        "test": [c for c in names if dyad_of(c) in HELD_OUT_DYADS],
    }
    assert_not_held_out([*split["train"], *split["val"]])
    return split


def assert_not_held_out(clips: Sequence[str]) -> None:
    """The guard on every path into training and tuning: held-out dyads must never pass."""
    leaked = [c for c in clips if dyad_of(c) in HELD_OUT_DYADS]
    if leaked:
        raise CuevisionError(
            f"clips of the held-out dyads {', '.join(HELD_OUT_DYADS)} must stay out of training "
            f"and tuning: {', '.join(leaked)}"
        )


def real_sessions(
    clips: Sequence[str],
    purpose: Purpose,
    *,
    scheme: Scheme,
    read: Callable[[str], FeatureSeries],
    label_frames: WeakLabeller,
    label_events: Callable[[FeatureSeries, Scheme], list[Event]],
) -> list[Session]:
    """Real clips' features (``read(clip)``) with weak labels; held-out clips only for ``test``."""
    if purpose != "test":
        assert_not_held_out(clips)
    out = []
    for clip in clips:
        series = read(clip)
        targets = np.asarray(label_frames(series, scheme), dtype=np.float32)
        events = tuple(label_events(series, scheme))
        out.append(Session(clip, dyad_of(clip), series, targets, events, "weak"))
    return out
