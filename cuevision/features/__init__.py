"""Per-person and dyadic features from landmark tracks, on a uniform analysis grid."""

from cuevision.features.geometry import head_pose

__all__ = ["head_pose"]
