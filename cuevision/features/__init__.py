"""Per-person and dyadic features from landmark tracks, on a uniform analysis grid."""

from cuevision.features.geometry import head_pose
from cuevision.features.names import (
    DYAD_FEATURES,
    FEATURE_DOCS,
    FEATURE_NAMES,
    FEATURE_VERSION,
    PERSON_FEATURES,
)

__all__ = [
    "DYAD_FEATURES",
    "FEATURE_DOCS",
    "FEATURE_NAMES",
    "FEATURE_VERSION",
    "PERSON_FEATURES",
    "head_pose",
]
