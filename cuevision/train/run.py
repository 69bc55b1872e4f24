"""``cuevision train``: one command, one seed, one model version folder in the registry.

Steps: simulate dyads (split by dyad), load the real sessions of the data set (``--data
MANIFEST``, split by dyad there) with weak labels, fit the normalisation and the network, tune the
post-processing on the validation sessions against event F1, evaluate the model and the
labelling-function baseline on the test sessions, then write weights, config, metrics, card and
splits into ``<models dir>/<name>/<version>/`` (see
:func:`cuevision.resources.writable_models_dir`).
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cuevision.detect.infer import Detector
from cuevision.detect.inputs import Normaliser
from cuevision.detect.model import Architecture, n_parameters
from cuevision.detect.registry import ModelError, version_folder
from cuevision.detect.tune import tune
from cuevision.errors import CuevisionError
from cuevision.features import FEATURE_NAMES, read_features
from cuevision.features.weak import describe, label_events, label_frames
from cuevision.files import atomic_path, make_private_dir, write_json
from cuevision.resources import writable_models_dir
from cuevision.scheme import Scheme
from cuevision.train.cache import clip_features
from cuevision.train.card import evaluate_all, write_card
from cuevision.train.data import (
    PURPOSES,
    DataSet,
    DataSetError,
    Purpose,
    Session,
    SessionEntry,
    assert_not_held_out,
    load_dataset,
    real_sessions,
    simulated_sessions,
    split_seeds,
)
from cuevision.train.fit import FitSettings, fit
from cuevision.types import FeatureSeries


@dataclass(frozen=True)
class TrainSettings:
    name: str = "cue-tcn"
    version: str = "0.1"
    seed: int = 0
    sim_dyads: int = 400
    sim_duration_s: float = 60.0
    data: Path | None = None  # the data-set manifest of real sessions; None: simulation only
    real_cache: Path | None = None  # cached landmarks of the data set's video-only sessions
    channels: int = 32
    levels: int = 4
    kernel: int = 5
    fit: FitSettings = field(default_factory=FitSettings)
    tolerance_s: float = 1.0
    models_dir: Path = field(default_factory=writable_models_dir)
    force: bool = False  # replace an existing version folder

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("models_dir")
        data.pop("force")
        # a local path says nothing; the data set is recorded by its snapshot hash
        data["data"] = "given" if self.data else None
        data["real_cache"] = "given" if self.real_cache else None
        return data


Log = Callable[[str], None]


def train_model(settings: TrainSettings, scheme: Scheme, log: Log = lambda line: None) -> Path:
    """Train, tune, evaluate and register one model version; return its folder."""
    started = time.perf_counter()
    target = version_folder(settings.name, settings.version, settings.models_dir)
    if target.exists() and not settings.force:
        raise ModelError(f"{target} exists; choose another --version or pass --force")
    fps = scheme.analysis.fps
    dataset = load_dataset(settings.data) if settings.data else None
    seeds = split_seeds(settings.sim_dyads, settings.seed)
    sim = {
        purpose: simulated_sessions(
            s,
            scheme=scheme,
            feature_names=FEATURE_NAMES,
            fps=fps,
            duration_s=settings.sim_duration_s,
        )
        for purpose, s in seeds.items()
    }
    log(f"simulated {settings.sim_dyads} dyads of {settings.sim_duration_s:g} s")
    real: dict[Purpose, list[Session]] = {}
    if dataset is not None:
        read = _reader(dataset, settings.real_cache, fps)
        for purpose in PURPOSES:
            real[purpose] = real_sessions(
                dataset,
                purpose,
                read=read,
                scheme=scheme,
                label_frames=label_frames,
                label_events=label_events,
            )
        log(
            f"data set {dataset.manifest.name} ({dataset.snapshot}), weak labels: "
            + ", ".join(f"{p} {len(v)}" for p, v in real.items())
        )
    train = [*sim["train"], *real.get("train", [])]
    val = [*sim["validation"], *real.get("validation", [])]
    if dataset is not None:
        assert_not_held_out(
            ((s.name, s.dyad) for s in (*train, *val) if s.source != "simulated"),
            dataset.held_out_dyads,
        )
    normaliser = Normaliser.fit(FEATURE_NAMES, [s.series.values for s in train])
    arch = Architecture(
        n_inputs=normaliser.n_inputs,
        n_outputs=len(scheme.type_names),
        channels=settings.channels,
        levels=settings.levels,
        kernel=settings.kernel,
    )
    history: list[dict[str, float]] = []

    def record(row: dict[str, float]) -> None:
        history.append(row)
        log(f"epoch {row['epoch']:.0f}: train {row['train_loss']:.4f}, val {row['val_loss']:.4f}")

    network = fit(
        train,
        val,
        normaliser=normaliser,
        arch=arch,
        settings=settings.fit,
        seed=settings.seed,
        log=record,
    )
    actors = {t.name: t.actor for t in scheme.event_types}
    spec = f"{settings.name}@{settings.version}"
    untuned = Detector(spec, network, normaliser, fps, scheme.type_names, actors, {})
    tuned = tune(
        [untuned.predict(s.series) for s in val],
        [s.truth for s in val],
        tolerance_s=settings.tolerance_s,
    )
    detector = Detector(
        spec,
        network,
        normaliser,
        fps,
        scheme.type_names,
        actors,
        {name: t.thresholds for name, t in tuned.items()},
    )
    log("tuned post-processing on " + f"{len(val)} validation sessions")
    metrics = evaluate_all(
        detector,
        sim_test=sim["test"],
        real_test=real.get("test", []),
        scheme=scheme,
        tolerance_s=settings.tolerance_s,
        label_events=label_events,
    )
    metrics["tuning"] = {
        name: {"thresholds": t.thresholds.to_dict(), "val_f1": t.f1, "val_n": t.n_reference}
        for name, t in tuned.items()
    }
    metrics["labelling_functions"] = describe(scheme)
    metrics["training"] = {"wall_s": round(time.perf_counter() - started, 1), "history": history}
    config = {
        "name": settings.name,
        "version": settings.version,
        "architecture": arch.to_dict(),
        "n_parameters": n_parameters(network),
        "receptive_field_s": round(arch.receptive_field / fps, 2),
        "fps": fps,
        "type_names": list(scheme.type_names),
        "actors": actors,
        "scheme": {"name": scheme.name, "version": scheme.version, "hash": scheme.hash},
        "normaliser": normaliser.to_dict(),
        "thresholds": {name: t.thresholds.to_dict() for name, t in tuned.items()},
        "seed": settings.seed,
        "training": settings.to_dict(),
        "data": (
            {"name": dataset.manifest.name, "snapshot": dataset.snapshot} if dataset else None
        ),
        "libraries": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    splits = {
        "simulated_seeds": seeds,
        "data": dataset.describe() if dataset else None,
        "rule": "splits are by dyad, as the data set's manifest gives them; sessions of its "
        "held-out dyads never enter training, tuning or testing, and their files are not opened "
        "(enforced by cuevision.train.data)",
    }
    _write_folder(target, network, config, metrics, splits, settings)
    log(f"wrote {target} in {time.perf_counter() - started:.0f} s")
    return target


def _reader(
    dataset: DataSet, cache: Path | None, fps: float
) -> Callable[[SessionEntry], FeatureSeries]:
    """A session's features: its output folder's ``features.parquet``, else cached landmarks'."""

    def read(entry: SessionEntry) -> FeatureSeries:
        if entry.output is not None:
            path = dataset.resolve(entry.output) / "features.parquet"
            series = read_features(path)
        elif cache is None:
            raise DataSetError(
                f"session {entry.id} of {dataset.path} gives only a video; pass --real-cache DIR "
                "--extract to extract its landmarks, or give its `cuevision process` output folder"
            )
        else:
            path = cache
            series = clip_features(cache, entry.id, fps)
        if series.fps != fps or series.names != tuple(FEATURE_NAMES):
            raise DataSetError(
                f"session {entry.id}: the features in {path} are not this version's "
                f"({series.fps:g} Hz, {len(series.names)} columns; want {fps:g} Hz, "
                f"{len(FEATURE_NAMES)}); re-run `cuevision process` on it"
            )
        return series

    return read


def _write_folder(
    target: Path,
    network: torch.nn.Module,
    config: dict[str, Any],
    metrics: dict[str, Any],
    splits: dict[str, Any],
    settings: TrainSettings,
) -> None:
    """Write every file into a temporary folder beside the target, then rename it into place.

    So a version folder is whole or absent: a crash leaves only a hidden ``.partial-*`` folder.
    """
    make_private_dir(target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".partial-") as tmp:
        folder = Path(tmp) / "version"
        make_private_dir(folder)
        with atomic_path(folder / "weights.pt") as weights:
            torch.save(network.state_dict(), weights)
        for name, data in (("config", config), ("metrics", metrics), ("splits", splits)):
            write_json(folder / f"{name}.json", data)
        write_card(folder / "card.md", config, metrics, splits)
        if target.exists():
            if not settings.force:
                raise CuevisionError(f"{target} appeared while training; not overwriting it")
            target.rename(Path(tmp) / "replaced")  # removed with the temporary folder
        folder.rename(target)
