"""One person's features on the analysis grid, relative to the partner where that matters.

A :class:`Body` holds one person's resampled landmarks in camera pixels (X right, Y up). All
lengths are divided by a face size, so the features read the same whatever the image size, the
zoom or the place of the dyad in the frame. The direction to the partner is taken in 3-D, with
depth from face sizes: it stays put when the camera moves back (a zoom alone changes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cuevision.features import geometry as g

# MediaPipe pose indices.
POSE_HEAD = (0, 2, 5)  # nose, left eye, right eye
POSE_EYE_OUTER = (3, 6)
SHOULDERS, HIPS = (11, 12), (23, 24)
WRISTS = (15, 16)
HANDS = ((15, 17, 19, 21), (16, 18, 20, 22))  # wrist, pinky, index, thumb: left, right
BODY = tuple(range(25))  # head, arms, hands and hips; legs are rarely in view


@dataclass(frozen=True)
class Body:
    """One person's landmarks on the grid: NaN where missing.

    ``face`` is the :data:`geometry.FACE_POINTS` subset, (T, K, 3) camera pixels; ``pose`` is
    (T, 33, 2) camera pixels (X, Y) with points of low visibility or outside the frame (MediaPipe
    guesses those, often with high visibility) already set to NaN.
    """

    face: np.ndarray
    pose: np.ndarray
    face_width: float = 1.0  # physical face width relative to an adult's (a child's is smaller)

    @property
    def face_visible(self) -> np.ndarray:
        return np.isfinite(self.face).all(axis=(1, 2))

    @property
    def pose_visible(self) -> np.ndarray:
        return np.isfinite(self.pose[:, BODY]).all(axis=2).any(axis=1)

    def head(self) -> np.ndarray:
        """(T, 2) head position: the face centre, or the pose's nose and eyes without a face."""
        from_face = g.face_centre(self.face)[:, :2]
        from_pose = g.nanmean(self.pose[:, POSE_HEAD], axis=1)
        return np.where(np.isfinite(from_face), from_face, from_pose)

    def points(self) -> np.ndarray:
        """(T, M, 2) every body and face point, for the nearest-point distance to a hand."""
        return np.concatenate([self.pose[:, BODY], self.face[:, :, :2]], axis=1)

    def unit(self) -> float:
        """The face size in pixels: median 3-D outer-eye-corner distance over the clip.

        Without any face mesh, the pose's outer eye corners stand in (2-D); NaN without either.
        """
        sizes = g.face_size(self.face)
        if np.isfinite(sizes).any():
            return float(np.nanmedian(sizes))
        eyes = np.linalg.norm(
            self.pose[:, POSE_EYE_OUTER[0]] - self.pose[:, POSE_EYE_OUTER[1]], axis=-1
        )
        return float(np.nanmedian(eyes)) if np.isfinite(eyes).any() else float("nan")

    def depth(self, focal_px: float) -> np.ndarray:
        """(T,) distance from the camera in adult face widths, from the apparent face size.

        Pinhole camera: depth = focal * width / size. The size is smoothed over 5 frames;
        without a face the clip's face size stands in.
        """
        size = g.moving_mean(g.face_size(self.face), 5)
        size = np.where(np.isfinite(size), size, self.unit())
        return focal_px * self.face_width / size


def velocity(x: np.ndarray, fps: float) -> np.ndarray:
    """Central-difference velocity along the grid (axis 0), per second; NaN next to gaps."""
    if len(x) < 2:
        return np.full_like(x, np.nan)
    return np.gradient(x, axis=0) * fps


def speed(x: np.ndarray, fps: float) -> np.ndarray:
    """Speed magnitude of (T, ..., 2) positions, per second."""
    return np.linalg.norm(velocity(x, fps), axis=-1)


def person_features(
    me: Body, partner: Body, *, fps: float, dyad_unit: float, focal_px: float
) -> dict[str, np.ndarray]:
    """Every per-person feature of :data:`names.PERSON_FEATURES`, as (T,) arrays.

    ``focal_px`` is the camera's focal length in pixels, for the direction to the partner.
    """
    unit = me.unit()
    face_visible, pose_visible = me.face_visible, me.pose_visible
    rot = g.head_axes(me.face)
    pose = g.euler_from_axes(rot)
    look = g.gaze(me.face, rot)
    gaze_yaw, gaze_pitch = g.direction_angles(look)

    to_partner3 = partner_direction(me, partner, focal_px)

    hands = np.stack([g.nanmean(me.pose[:, list(h)], axis=1) for h in HANDS], axis=1)
    gaps = np.linalg.norm(hands[:, :, None, :] - partner.points()[:, None, :, :], axis=-1)
    hand_to_partner = g.nanmin(g.nanmin(gaps, axis=2), axis=1) / dyad_unit

    head, partner_head = me.head(), partner.head()
    toward = partner_head - head
    with np.errstate(invalid="ignore", divide="ignore"):
        toward_unit = toward / np.linalg.norm(toward, axis=-1, keepdims=True)
    head_approach = np.sum(velocity(head, fps) * toward_unit, axis=-1) / unit

    return {
        "visible": (face_visible | pose_visible).astype(np.float32),
        "face_visible": face_visible.astype(np.float32),
        "pose_visible": pose_visible.astype(np.float32),
        "yaw": pose[:, 0],
        "pitch": pose[:, 1],
        "roll": pose[:, 2],
        "gaze_yaw": gaze_yaw,
        "gaze_pitch": gaze_pitch,
        "gaze_to_partner": g.angle_between(look, to_partner3),
        "head_to_partner": g.angle_between(rot[..., 2], to_partner3),
        **g.face_shape(me.face, rot),
        "face_motion": g.nanmean(speed(me.face[:, :, :2], fps), axis=1) / unit,
        "body_motion": g.nanmean(speed(me.pose[:, BODY], fps), axis=1) / unit,
        "wrist_speed": g.nanmax(speed(me.pose[:, list(WRISTS)], fps), axis=1) / unit,
        "hand_to_partner": hand_to_partner,
        "hand_approach": -velocity(hand_to_partner, fps),
        "head_approach": head_approach,
        "trunk_lean": trunk_lean(me.pose, toward[:, 0]),
    }


def partner_direction(me: Body, partner: Body, focal_px: float) -> np.ndarray:
    """(T, 3) camera-axis direction from this person's eyes to the partner's head.

    Across the image: the pixel offset at the pair's mean depth (weak perspective, so moving
    the pair in the frame changes nothing); in depth: the difference of the two depths read
    from face sizes (a parent near the webcam is far in front of a child in a high chair).
    """
    mine, theirs = me.depth(focal_px), partner.depth(focal_px)
    across = (partner.head() - g.eye_midpoint(me.face)[:, :2]) * ((mine + theirs) / 2 / focal_px)[
        :, None
    ]
    return np.concatenate([across, (mine - theirs)[:, None]], axis=1)


def trunk_lean(pose: np.ndarray, toward_x: np.ndarray) -> np.ndarray:
    """(T,) degrees of the hip-to-shoulder line from vertical, > 0 leaning toward the partner."""
    trunk = g.nanmean(pose[:, list(SHOULDERS)], axis=1) - g.nanmean(pose[:, list(HIPS)], axis=1)
    hips_seen = np.isfinite(pose[:, list(HIPS)]).all(axis=2).all(axis=1)
    lean = np.degrees(np.arctan2(trunk[:, 0] * np.sign(toward_x), trunk[:, 1]))
    return np.where(hips_seen, lean, np.nan)
