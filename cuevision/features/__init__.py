"""Per-person and dyadic features from landmark tracks, on a uniform analysis grid.

Every column and its one-line meaning: :data:`FEATURE_DOCS` (order: :data:`FEATURE_NAMES`).
"""

from cuevision.features.compute import compute_features
from cuevision.features.geometry import head_pose
from cuevision.features.io import read_feature_meta, read_features, write_features
from cuevision.features.names import (
    DYAD_FEATURES,
    FEATURE_DOCS,
    FEATURE_NAMES,
    FEATURE_VERSION,
    PERSON_FEATURES,
)
from cuevision.features.timegrid import FeaturesError

__all__ = [
    "DYAD_FEATURES",
    "FEATURE_DOCS",
    "FEATURE_NAMES",
    "FEATURE_VERSION",
    "PERSON_FEATURES",
    "FeaturesError",
    "compute_features",
    "head_pose",
    "read_feature_meta",
    "read_features",
    "write_features",
]
