"""``cuevision train``: one command, one seed, one model version folder in the registry.

Steps: simulate dyads (split by dyad), load the real clips of the training dyads with weak labels,
fit the normalisation and the network, tune the post-processing on the validation sessions
against event F1, evaluate the model and the labelling-function baseline on the test sessions,
then write weights, config, metrics, card and splits into ``models/<name>/<version>/``.
"""

from __future__ import annotations

import json
import platform
import shutil
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
from cuevision.detect.registry import MODELS_DIR, ModelError, version_folder
from cuevision.detect.tune import tune
from cuevision.errors import CuevisionError
from cuevision.features import FEATURE_NAMES
from cuevision.features.weak import describe, label_events, label_frames
from cuevision.scheme import Scheme
from cuevision.train.cache import cached_clips, clip_features
from cuevision.train.card import evaluate_all, write_card
from cuevision.train.data import (
    HELD_OUT_DYADS,
    TRAIN_DYADS,
    Session,
    assert_not_held_out,
    real_sessions,
    simulated_sessions,
    split_clips,
    split_seeds,
)
from cuevision.train.fit import FitSettings, fit


@dataclass(frozen=True)
class TrainSettings:
    name: str = "cue-tcn"
    version: str = "0.1"
    seed: int = 0
    sim_dyads: int = 400
    sim_duration_s: float = 60.0
    real_cache: Path | None = None  # cached landmarks of real clips; None: simulation only
    channels: int = 32
    levels: int = 4
    kernel: int = 5
    fit: FitSettings = field(default_factory=FitSettings)
    tolerance_s: float = 1.0
    models_dir: Path = MODELS_DIR
    force: bool = False  # replace an existing version folder

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("models_dir")
        data.pop("force")
        data["real_cache"] = "given" if self.real_cache else None  # a local path says nothing
        return data


Log = Callable[[str], None]


def train_model(settings: TrainSettings, scheme: Scheme, log: Log = lambda line: None) -> Path:
    """Train, tune, evaluate and register one model version; return its folder."""
    started = time.perf_counter()
    target = version_folder(settings.name, settings.version, settings.models_dir)
    if target.exists() and not settings.force:
        raise ModelError(f"{target} exists; choose another --version or pass --force")
    fps = scheme.analysis.fps
    clips = split_clips(cached_clips(settings.real_cache)) if settings.real_cache else {}
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
    real: dict[str, list[Session]] = {}
    for purpose, names in clips.items():
        real[purpose] = real_sessions(
            names,
            purpose,
            read=lambda clip: clip_features(settings.real_cache or Path(), clip, fps),
            scheme=scheme,
            label_frames=label_frames,
            label_events=label_events,
        )
    log(
        "real clips (weak labels): "
        + (", ".join(f"{p} {len(v)}" for p, v in clips.items()) if clips else "none")
    )
    train = [*sim["train"], *real.get("train", [])]
    val = [*sim["val"], *real.get("val", [])]
    assert_not_held_out([s.name for s in (*train, *val) if s.source == "weak"])
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
        "libraries": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    splits = {
        "simulated_seeds": seeds,
        "real_clips": clips,
        "train_dyads": list(TRAIN_DYADS),
        "held_out_dyads": list(HELD_OUT_DYADS),
        "rule": "real clips of the held-out dyads are used for testing only, never for "
        "training or tuning (enforced by cuevision.train.data.assert_not_held_out)",
    }
    _write_folder(target, network, config, metrics, splits, settings)
    log(f"wrote {target} in {time.perf_counter() - started:.0f} s")
    return target


def _write_folder(
    target: Path,
    network: torch.nn.Module,
    config: dict[str, Any],
    metrics: dict[str, Any],
    splits: dict[str, Any],
    settings: TrainSettings,
) -> None:
    """Write everything into a temporary folder beside the target, then swap it in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".partial-") as tmp:
        folder = Path(tmp)
        torch.save(network.state_dict(), folder / "weights.pt")
        for name, data in (("config", config), ("metrics", metrics), ("splits", splits)):
            (folder / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
        write_card(folder / "card.md", config, metrics, splits)
        if target.exists():
            if not settings.force:
                raise CuevisionError(f"{target} appeared while training; not overwriting it")
            shutil.rmtree(target)
        folder.rename(target)
        folder.mkdir()  # let the context manager clean up an empty folder
