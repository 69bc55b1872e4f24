"""Inference: a loaded model version turns a feature series into frame scores and candidates."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from cuevision.detect.inputs import Normaliser, resample
from cuevision.detect.model import Architecture, CueTCN
from cuevision.detect.postprocess import (
    FrameScores,
    Thresholds,
    thresholds_from_dict,
    to_candidates,
)
from cuevision.detect.registry import MODELS_DIR, ModelError, check_scheme, default_model, resolve
from cuevision.features.weak import evidence_mask
from cuevision.types import Event, FeatureSeries, Role

if TYPE_CHECKING:
    from cuevision.scheme import Scheme


@dataclass(frozen=True)
class Detector:
    """A trained network plus everything it needs: inputs, output classes, thresholds, version."""

    version: str  # NAME@VERSION, stamped on every candidate
    network: CueTCN
    normaliser: Normaliser
    fps: float
    type_names: tuple[str, ...]
    actors: dict[str, Role]
    thresholds: dict[str, Thresholds]

    @classmethod
    def from_folder(cls, folder: Path, config: dict[str, Any]) -> Detector:
        network = CueTCN(Architecture(**config["architecture"]))
        weights = Path(folder) / "weights.pt"
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            network.load_state_dict(state)
        except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as error:
            raise ModelError(f"{weights}: unusable weights ({error}); retrain the model") from None
        network.eval()
        return cls(
            version=f"{config['name']}@{config['version']}",
            network=network,
            normaliser=Normaliser.from_dict(config["normaliser"]),
            fps=float(config["fps"]),
            type_names=tuple(config["type_names"]),
            actors=dict(config["actors"]),
            thresholds=thresholds_from_dict(config["thresholds"]),
        )

    def predict(self, series: FeatureSeries) -> FrameScores:
        """Per-frame probabilities on the model's grid (the series is resampled if needed)."""
        series = resample(series, self.fps)
        x = self.normaliser.encode(self.normaliser.select(series))
        if x.shape[1] == 0:
            probs = np.zeros((0, len(self.type_names)), dtype=np.float32)
        else:
            with torch.no_grad():
                logits = self.network(torch.from_numpy(x)[None])[0]
            probs = torch.sigmoid(logits).T.numpy().astype(np.float32)
        return FrameScores(np.asarray(series.t_s, float), self.fps, self.type_names, probs)

    def candidates(self, series: FeatureSeries) -> list[Event]:
        """Candidate events, post-processed with the thresholds tuned for this version.

        Frames where a type cannot be observed score 0: without evidence there is no candidate
        (a video with nobody in it gives none; a heard type needs the audio, not the face).
        """
        scores = self.predict(series)
        grid = resample(series, self.fps)
        probs = scores.probs.copy()
        for j, name in enumerate(self.type_names):
            mask = evidence_mask(name, self.actors[name])
            if mask in grid.names:
                probs[~(np.nan_to_num(grid.column(mask)) > 0), j] = 0.0
        return to_candidates(
            replace(scores, probs=probs), self.thresholds, self.actors, self.version
        )


def load_detector(
    spec: str | Path | None = None,
    *,
    scheme: Scheme | None = None,
    models_dir: Path = MODELS_DIR,
) -> Detector:
    """Load a model version (default: the registry's, for ``scheme`` if it names one) for
    inference on CPU; with ``scheme``, check that it is the model's."""
    if spec is None:
        spec = default_model(models_dir, scheme.name if scheme is not None else None)
    ref = resolve(spec, models_dir)
    if scheme is not None:
        check_scheme(ref.config, scheme, ref.folder)
    return Detector.from_folder(ref.folder, ref.config)
