"""Features of the pair: how far apart the two are, and whether they look at each other."""

from __future__ import annotations

import numpy as np

from cuevision.features.person import Body

# Gaze within about this many degrees of the partner's face counts as looking at them (on real
# clips a person looking at the partner reads 18-58 degrees, one facing the camera 66-115); the
# logistic slope turns the angle into a probability rather than a hard cut.
LOOK_ANGLE_DEG = 55.0
LOOK_SLOPE_DEG = 8.0


def looking_probability(gaze_to_partner: np.ndarray) -> np.ndarray:
    """(T,) probability that a person looks at the partner, from the gaze-to-partner angle."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp((gaze_to_partner - LOOK_ANGLE_DEG) / LOOK_SLOPE_DEG))


def dyad_features(
    a: Body, b: Body, gaze_a: np.ndarray, gaze_b: np.ndarray, *, dyad_unit: float
) -> dict[str, np.ndarray]:
    """Every feature of :data:`names.DYAD_FEATURES`, as (T,) arrays."""
    return {
        "distance": np.linalg.norm(a.head() - b.head(), axis=-1) / dyad_unit,
        "mutual_gaze": looking_probability(gaze_a) * looking_probability(gaze_b),
    }
