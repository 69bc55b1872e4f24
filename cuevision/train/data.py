"""Training data: simulated dyads with exact truth, and the real sessions of a data-set manifest.

A data set is an input, not a constant of the package: a YAML (or JSON) manifest lists its
sessions, each with its dyad and split, and the dyads that are held out.

.. code-block:: yaml

    name: lookit
    held_out_dyads: [3dC3SQ, 4JDccE]     # named only: training never opens their files
    coding: two independent coders following the manual, from frame sheets   # for model cards
    sessions:
      - id: 2UWdXP.joke1.rep2.take1.Peekaboo
        dyad: 2UWdXP
        split: train                       # train | validation | test | held_out
        video: clips/2UWdXP.joke1.rep2.take1.Peekaboo.mp4   # relative to the manifest, or absolute
        output: out/2UWdXP.joke1...        # and/or a `cuevision process` folder (features.parquet)
        events: codes/2UWdXP...csv         # optional confirmed events (pull's confirmed.csv)
        rejected: codes/2UWdXP...rej.csv   # optional rejected candidates: confirmed negatives
        coded_types: [child_smiles]        # optional; else the manifest's coded_types, else all
        references: {c1: c1/2UWdXP...csv}  # optional other codings, for agreement only

Everything is split by dyad: all sessions of a dyad share one split, and the sessions of the
held-out dyads, and only they, have the split ``held_out``. Training and tuning never see them
(:func:`assert_not_held_out` guards every path in), and their files are never opened, not even to
check that they exist.

Sessions with confirmed events learn from them (:func:`confirmed_targets`); the others get weak
labels. ``coded_types`` (per manifest, or per session) says which types the annotator was asked
to code: only for those does time outside every confirmed event count as "not this type".
``references`` name other codings of a session (for example each coder of a consensus), used
only to report agreement. Every label file is part of the data set's :attr:`DataSet.snapshot`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cuevision.detect.postprocess import frame_events
from cuevision.errors import CuevisionError
from cuevision.events import read_events
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
    rejected: Path | None = None  # rejected candidates (``annotate pull``'s rejected.csv)
    coded_types: list[str] | None = None  # None: the manifest's coded_types
    references: dict[str, Path] = Field(default_factory=dict)  # coder -> events CSV

    @model_validator(mode="after")
    def _has_features(self) -> SessionEntry:
        if self.video is None and self.output is None:
            raise ValueError(f"session {self.id} needs a video or an output folder")
        return self


class Manifest(_Strict):
    name: str = Field(min_length=1)
    held_out_dyads: list[str]
    # the types annotators were asked to code; None: every type of the scheme
    coded_types: list[str] | None = None
    coding: str | None = None  # who coded the events and how, in a phrase for model cards
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

    def coded_types(self, entry: SessionEntry, scheme: Scheme) -> tuple[str, ...]:
        """The types ``entry``'s annotator coded (session field, else manifest, else all)."""
        given = entry.coded_types if entry.coded_types is not None else self.manifest.coded_types
        if given is None:
            return scheme.type_names
        unknown = sorted(set(given) - set(scheme.type_names))
        if unknown:
            raise DataSetError(
                f"{self.path}: session {entry.id}: coded_types {', '.join(unknown)} are not "
                f"types of the scheme {scheme.name!r}; use {', '.join(scheme.type_names)}"
            )
        return tuple(given)

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
            f"{s.id}:{kind}": hashlib.sha256(self.resolve(path).read_bytes()).hexdigest()
            for s in self.manifest.sessions
            if s.split != "held_out"
            for kind, path in (
                ("events", s.events),
                ("rejected", s.rejected),
                *sorted(s.references.items()),
            )
            if path is not None
        }
        data = {
            "held_out_dyads": sorted(self.manifest.held_out_dyads),
            "coded_types": self.manifest.coded_types,
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
            "coding": self.manifest.coding,
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
            ("rejected", s.rejected, Path.is_file),
            *((f"reference {c}", p, Path.is_file) for c, p in sorted(s.references.items())),
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
    truth: tuple[Event, ...]  # exact truth (simulated), confirmed events, or weak labels' events
    source: Literal["simulated", "weak", "confirmed"]
    references: tuple[tuple[str, tuple[Event, ...]], ...] = ()  # (coder, events) for agreement


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


POSITIVE = frozenset({None, "accepted", "edited", "added"})  # None: a coding without statuses


def confirmed_targets(
    events: Sequence[Event],
    type_names: Sequence[str],
    t_s: np.ndarray,
    coded: Collection[str],
) -> np.ndarray:
    """(T, n_types) targets from confirmed events: 1 inside an accepted, edited or added event;
    0 inside a rejected candidate; 0 elsewhere for the ``coded`` types; NaN (no label) elsewhere
    for the types nobody was asked to code."""
    unknown = [e.status for e in events if e.status not in POSITIVE and e.status != "rejected"]
    if unknown:
        raise DataSetError(
            f"confirmed events must be accepted, edited, added or rejected, not {unknown[0]!r}; "
            "give annotate pull's confirmed.csv and rejected.csv, not candidates.csv"
        )
    targets = np.full((len(t_s), len(type_names)), np.nan, dtype=np.float32)
    for k, name in enumerate(type_names):
        if name in coded:
            targets[:, k] = 0.0
    rejected = [e for e in events if e.status == "rejected"]
    positive = [e for e in events if e.status in POSITIVE]
    negative = frame_events(rejected, type_names, t_s) > 0
    targets[negative] = 0.0
    on = frame_events(positive, type_names, t_s) > 0
    targets[on] = 1.0
    return targets


def real_sessions(
    dataset: DataSet,
    purpose: Purpose,
    *,
    scheme: Scheme,
    read: Callable[[SessionEntry], FeatureSeries],
    label_frames: WeakLabeller,
    label_events: Callable[[FeatureSeries, Scheme], list[Event]],
) -> list[Session]:
    """The ``purpose`` split's sessions: features (``read(entry)``) with their confirmed events'
    targets, or weak labels where a session has none."""
    entries = dataset.sessions(purpose)
    assert_not_held_out(((s.id, s.dyad) for s in entries), dataset.held_out_dyads)
    return [
        _session(dataset, entry, read(entry), scheme, label_frames, label_events)
        for entry in entries
    ]


def _session(
    dataset: DataSet,
    entry: SessionEntry,
    series: FeatureSeries,
    scheme: Scheme,
    label_frames: WeakLabeller,
    label_events: Callable[[FeatureSeries, Scheme], list[Event]],
) -> Session:
    references = tuple(
        (coder, tuple(_read(dataset, entry, path, scheme)))
        for coder, path in sorted(entry.references.items())
    )
    if entry.events is None:
        targets = np.asarray(label_frames(series, scheme), dtype=np.float32)
        weak = tuple(label_events(series, scheme))
        return Session(entry.id, entry.dyad, series, targets, weak, "weak", references)
    events = _read(dataset, entry, entry.events, scheme)
    if entry.rejected is not None:
        events += [
            replace(e, status="rejected") for e in _read(dataset, entry, entry.rejected, scheme)
        ]
    coded = dataset.coded_types(entry, scheme)
    targets = confirmed_targets(events, scheme.type_names, series.t_s, coded)
    truth = tuple(e for e in events if e.status in POSITIVE)
    return Session(entry.id, entry.dyad, series, targets, truth, "confirmed", references)


def _read(dataset: DataSet, entry: SessionEntry, path: Path, scheme: Scheme) -> list[Event]:
    try:
        return read_events(dataset.resolve(path), scheme)
    except CuevisionError as error:
        raise DataSetError(f"{dataset.path}: session {entry.id}: {error}") from None
