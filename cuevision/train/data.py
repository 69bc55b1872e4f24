"""Training data: simulated dyads with exact truth, and the real sessions of a data-set manifest.

A data set is an input, not a constant of the package: a YAML (or JSON) manifest lists its
sessions, each with its dyad and split, and the dyads that are held out.

.. code-block:: yaml

    name: lookit
    held_out_dyads: [3dC3SQ, 4JDccE]     # named only: training never opens their files
    sessions:
      - id: 2UWdXP.joke1.rep2.take1.Peekaboo
        dyad: 2UWdXP
        split: train                       # train | validation | test | held_out
        video: clips/2UWdXP.joke1.rep2.take1.Peekaboo.mp4   # relative to the manifest, or absolute
        output: out/2UWdXP.joke1...        # and/or a `cuevision process` folder (features.parquet)
        events: codes/2UWdXP...csv         # optional confirmed events

Everything is split by dyad: all sessions of a dyad share one split, and the sessions of the
held-out dyads, and only they, have the split ``held_out``. Training and tuning never see them
(:func:`assert_not_held_out` guards every path in), and their files are never opened, not even to
check that they exist. Sessions without confirmed events get weak labels; training on confirmed
events is not done yet, but their content is part of the data set's :attr:`DataSet.snapshot`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cuevision.detect.postprocess import frame_events
from cuevision.errors import CuevisionError
from cuevision.scheme import Scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.types import Event, FeatureSeries

Purpose = Literal["train", "validation", "test"]
PURPOSES: tuple[Purpose, ...] = ("train", "validation", "test")
WeakLabeller = Callable[[FeatureSeries, Scheme], np.ndarray]


class DataSetError(CuevisionError):
    """A data-set manifest that cannot be used; the message names the session and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionEntry(_Strict):
    """One session of a manifest, as written there (paths not yet resolved)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    dyad: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    split: Literal["train", "validation", "test", "held_out"]
    video: Path | None = None
    output: Path | None = None  # a `cuevision process` output folder: its features.parquet
    events: Path | None = None  # confirmed events (the events interchange CSV)

    @model_validator(mode="after")
    def _has_features(self) -> SessionEntry:
        if self.video is None and self.output is None:
            raise ValueError(f"session {self.id} needs a video or an output folder")
        return self


class Manifest(_Strict):
    name: str = Field(min_length=1)
    held_out_dyads: list[str]
    sessions: list[SessionEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _split_by_dyad(self) -> Manifest:
        ids = [s.id for s in self.sessions]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"session ids must be unique: {', '.join(twice)}")
        split_of: dict[str, str] = {}
        for s in self.sessions:
            if split_of.setdefault(s.dyad, s.split) != s.split:
                raise ValueError(
                    f"dyad {s.dyad} is in both {split_of[s.dyad]} and {s.split} (session "
                    f"{s.id}): splits are by dyad, so give all its sessions one split"
                )
            if (s.split == "held_out") != (s.dyad in self.held_out_dyads):
                raise ValueError(
                    f"session {s.id}: split {s.split}, but dyad {s.dyad} is "
                    f"{'' if s.dyad in self.held_out_dyads else 'not '}in held_out_dyads; "
                    "the sessions of the held-out dyads, and only they, have split held_out"
                )
        return self


@dataclass(frozen=True)
class DataSet:
    """A validated manifest whose sessions' files (other than held-out ones) all exist."""

    path: Path
    manifest: Manifest

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self.path.parent / path

    @property
    def held_out_dyads(self) -> tuple[str, ...]:
        return tuple(self.manifest.held_out_dyads)

    def sessions(self, purpose: Purpose) -> list[SessionEntry]:
        return [s for s in self.manifest.sessions if s.split == purpose]

    def video_only(self) -> dict[str, Path]:
        """Session id -> video of the usable sessions without an output folder: their landmarks
        come from the training cache (:mod:`cuevision.train.cache`)."""
        return {
            s.id: self.resolve(s.video)
            for s in self.manifest.sessions
            if s.split != "held_out" and s.output is None and s.video is not None
        }

    @cached_property
    def snapshot(self) -> str:
        """Hash of the manifest's sessions and held-out list plus the content of each label file.

        Paths enter as written, so the same data set hashes the same on every machine; held-out
        sessions' label files are not read.
        """
        labels = {
            s.id: hashlib.sha256(self.resolve(s.events).read_bytes()).hexdigest()
            for s in self.manifest.sessions
            if s.events is not None and s.split != "held_out"
        }
        data = {
            "held_out_dyads": sorted(self.manifest.held_out_dyads),
            "sessions": sorted(
                (s.model_dump(mode="json") for s in self.manifest.sessions),
                key=lambda s: str(s["id"]),
            ),
            "labels": labels,
        }
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> dict[str, object]:
        """What the model card and splits record: the data set's name, hash and sessions."""
        return {
            "name": self.manifest.name,
            "snapshot": self.snapshot,
            "sessions": {p: [s.id for s in self.sessions(p)] for p in PURPOSES},
            "dyads": {p: sorted({s.dyad for s in self.sessions(p)}) for p in PURPOSES},
            "held_out_dyads": list(self.held_out_dyads),
        }


def load_dataset(path: Path) -> DataSet:
    """Read and validate a manifest; every file of a usable session must exist."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataSetError(f"data-set manifest {path} not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise DataSetError(f"{path}: unreadable data-set manifest ({error})") from None
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'manifest'}: {e['msg']}"
            for e in error.errors()
        )
        raise DataSetError(f"{path}: invalid data-set manifest: {problems}") from None
    dataset = DataSet(path, manifest)
    for s in manifest.sessions:
        if s.split == "held_out":
            continue
        for kind, given, exists in (
            ("video", s.video, Path.is_file),
            ("output folder", s.output, Path.is_dir),
            ("events", s.events, Path.is_file),
        ):
            if given is not None and not exists(dataset.resolve(given)):
                raise DataSetError(
                    f"{path}: session {s.id}: {kind} {given} not found "
                    f"(looked for {dataset.resolve(given)}); correct the path in the manifest"
                )
    return dataset


@dataclass(frozen=True)
class Session:
    """One session ready for training or scoring."""

    name: str  # sim-<seed> or the manifest's session id
    dyad: str
    series: FeatureSeries
    targets: np.ndarray  # (T, n_types) float32 in {0, 1, NaN}; NaN = no label (abstain)
    truth: tuple[Event, ...]  # exact truth (simulated) or the weak labels' events (real)
    source: Literal["simulated", "weak"]


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
    """Simulated dyad seeds for train, validation and test; distinct from ``seed``'s own stream."""
    base = 1_000_000 * (seed + 1)
    seeds = [base + i for i in range(n)]
    n_train = max(1, int(round(n * fractions[0])))
    n_val = max(1, int(round(n * fractions[1]))) if n > 1 else 0
    return {
        "train": seeds[:n_train],
        "validation": seeds[n_train : n_train + n_val],
        "test": seeds[n_train + n_val :],
    }


def assert_not_held_out(
    sessions: Iterable[tuple[str, str]], held_out_dyads: Collection[str]
) -> None:
    """The guard on every path into training and tuning: no ``(name, dyad)`` of a held-out dyad."""
    leaked = [name for name, dyad in sessions if dyad in held_out_dyads]
    if leaked:
        raise DataSetError(
            f"sessions of the held-out dyads {', '.join(sorted(held_out_dyads))} must stay out "
            f"of training and tuning: {', '.join(leaked)}"
        )


def real_sessions(
    dataset: DataSet,
    purpose: Purpose,
    *,
    scheme: Scheme,
    read: Callable[[SessionEntry], FeatureSeries],
    label_frames: WeakLabeller,
    label_events: Callable[[FeatureSeries, Scheme], list[Event]],
) -> list[Session]:
    """The ``purpose`` split's sessions: features (``read(entry)``) with weak labels."""
    entries = dataset.sessions(purpose)
    assert_not_held_out(((s.id, s.dyad) for s in entries), dataset.held_out_dyads)
    out = []
    for entry in entries:
        series = read(entry)
        targets = np.asarray(label_frames(series, scheme), dtype=np.float32)
        events = tuple(label_events(series, scheme))
        out.append(Session(entry.id, entry.dyad, series, targets, events, "weak"))
    return out
