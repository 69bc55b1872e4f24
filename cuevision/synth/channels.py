"""How each simulated per-person feature behaves at rest: level, spread between people, noise.

Keyed by the feature's base name (the part after ``<role>.``), as :mod:`cuevision.features`
defines it: angles in degrees, lengths in face sizes, speeds in face sizes per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["face", "pose"]


@dataclass(frozen=True)
class Channel:
    """How one per-role feature behaves at rest: level, spread between dyads, noise, limits.

    Positive, heavy-tailed features (motion energies, speeds) are ``log``: their level varies by
    a factor and their noise is multiplicative (``between_sd`` and ``noise_sd`` in log units).
    A ``sided`` feature (yaw) sits at ``± base``: which side of the camera the person is on.
    """

    base: float
    between_sd: float  # sd of the person's baseline around ``base``
    noise_sd: float
    lo: float
    hi: float
    source: Source = "face"
    log: bool = False
    sided: bool = False

    @property
    def scale(self) -> float:
        """A typical size of the frame-to-frame noise, in the feature's own units."""
        return self.noise_sd * (self.base if self.log else 1.0)


# Levels and noise are set to the spread measured on the real clips of the training dyads (2UWdXP,
# 6c6MZQ): people often sit in profile to the camera, a child facing the parent reads 40-50
# degrees of gaze to partner and one facing the camera 80-95. ``forward`` is hidden: how far the
# head has moved toward the partner, from which distance and head_approach follow.
CHANNELS: dict[str, Channel] = {
    "yaw": Channel(35.0, 15.0, 3.0, -90, 90, sided=True),
    "pitch": Channel(-10.0, 6.0, 2.5, -60, 60),
    "roll": Channel(-3.0, 6.0, 1.5, -60, 60),
    "gaze_yaw": Channel(35.0, 15.0, 4.5, -90, 90, sided=True),
    "gaze_pitch": Channel(-3.0, 6.0, 3.5, -60, 60),
    "gaze_to_partner": Channel(72.0, 12.0, 6.0, 0, 180),
    "head_to_partner": Channel(70.0, 10.0, 4.0, 0, 180),
    "mouth_open": Channel(0.05, 0.02, 0.012, 0, 2),
    "mouth_width": Channel(0.55, 0.03, 0.012, 0.1, 2),
    "lip_corner_raise": Channel(-0.05, 0.02, 0.008, -1, 1),
    "eye_open": Channel(0.27, 0.04, 0.012, 0, 1),
    "brow_raise": Channel(0.23, 0.015, 0.005, 0, 2),
    "face_motion": Channel(0.5, 0.4, 0.5, 0, 50, log=True),
    "body_motion": Channel(1.3, 0.4, 0.6, 0, 80, "pose", log=True),
    "wrist_speed": Channel(1.8, 0.4, 0.7, 0, 80, "pose", log=True),
    "hand_to_partner": Channel(3.8, 1.2, 0.2, 0, 20, "pose"),
    "trunk_lean": Channel(0.0, 15.0, 1.5, -90, 90, "pose"),
    "forward": Channel(0.0, 0.0, 0.03, -5, 5, "pose"),
}
