"""The cue/response detector: a small TCN over feature series, post-processing, the registry.

Only this package and :mod:`cuevision.train` import torch (inside :mod:`.infer` and :mod:`.model`,
loaded on first use of :func:`load_detector`).
"""

from cuevision.detect.postprocess import FrameScores, Thresholds, binarize, to_candidates
from cuevision.detect.registry import DEFAULT_MODEL, MODELS_DIR, ModelError, load_detector

__all__ = [
    "DEFAULT_MODEL",
    "MODELS_DIR",
    "FrameScores",
    "ModelError",
    "Thresholds",
    "binarize",
    "load_detector",
    "to_candidates",
]
