"""The cue/response detector: a small TCN over feature series, post-processing, the registry.

Only this package and :mod:`cuevision.train` import torch, and only in :mod:`.infer` and
:mod:`.model`: importing the package or its registry loads no torch, so the API and training can
list models cheaply. :func:`load_detector` (and :class:`Detector`) load them on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cuevision.detect.postprocess import FrameScores, Thresholds, binarize, to_candidates
from cuevision.detect.registry import MODELS_DIR, ModelError, default_model, list_models

if TYPE_CHECKING:
    from cuevision.detect.infer import Detector, load_detector

_NEED_TORCH = ("Detector", "load_detector")


def __getattr__(name: str) -> Any:
    """``Detector`` and ``load_detector`` import :mod:`.infer`, and so torch, when first used."""
    if name in _NEED_TORCH:
        from cuevision.detect import infer

        return getattr(infer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MODELS_DIR",
    "Detector",
    "FrameScores",
    "ModelError",
    "Thresholds",
    "binarize",
    "default_model",
    "list_models",
    "load_detector",
    "to_candidates",
]
