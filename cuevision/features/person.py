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
NOSE, EARS = 0, (7, 8)  # left, right ear
# Head direction from the pose (2-D, coarse), modelling the head as a sphere seen from the front:
# the nose sits about one ear-to-ear half-span in front of the ears' axis and, with the head
# level, about POSE_NOSE_DROP face sizes below the ears; POSE_NOSE_REACH face sizes in front.
POSE_NOSE_DROP = 0.3
POSE_NOSE_REACH = 1.1
POSE_ONE_EAR_YAW = 70.0  # degrees: the far ear hidden, the head turned well away
MESH, POSE = 2.0, 1.0  # head_source values (0: neither)
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
    pose_yaw, pose_pitch = pose_head_angles(me.pose, unit)
    pose_forward = forward_from_angles(pose_yaw, pose_pitch)
    from_pose = g.angle_between(pose_forward, partner_direction(me, partner, focal_px, pose=True))
    head_to_partner = g.angle_between(rot[..., 2], to_partner3)
    gaze_to_partner = g.angle_between(look, to_partner3)

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
        "gaze_to_partner": gaze_to_partner,
        "head_to_partner": head_to_partner,
        **g.face_shape(me.face, rot),
        "face_motion": g.nanmean(speed(me.face[:, :, :2], fps), axis=1) / unit,
        "body_motion": g.nanmean(speed(me.pose[:, BODY], fps), axis=1) / unit,
        "wrist_speed": g.nanmax(speed(me.pose[:, list(WRISTS)], fps), axis=1) / unit,
        "hand_to_partner": hand_to_partner,
        "hand_approach": -velocity(hand_to_partner, fps),
        "head_approach": head_approach,
        "trunk_lean": trunk_lean(me.pose, toward[:, 0]),
        "head_source": np.where(
            np.isfinite(head_to_partner), MESH, np.where(np.isfinite(from_pose), POSE, 0.0)
        ),
        "pose_yaw": pose_yaw,
        "pose_pitch": pose_pitch,
        "any_head_to_partner": np.where(np.isfinite(head_to_partner), head_to_partner, from_pose),
        "any_gaze_to_partner": np.where(np.isfinite(gaze_to_partner), gaze_to_partner, from_pose),
    }


def partner_direction(
    me: Body, partner: Body, focal_px: float, *, pose: bool = False
) -> np.ndarray:
    """(T, 3) camera-axis direction from this person's eyes to the partner's head.

    Across the image: the pixel offset at the pair's mean depth (weak perspective, so moving
    the pair in the frame changes nothing); in depth: the difference of the two depths read
    from face sizes (a parent near the webcam is far in front of a child in a high chair).
    With ``pose``, from this person's head (face centre, else the pose's nose and eyes), for
    the pose's head direction where the mesh is missing.
    """
    mine, theirs = me.depth(focal_px), partner.depth(focal_px)
    origin = me.head() if pose else g.eye_midpoint(me.face)[:, :2]
    across = (partner.head() - origin) * ((mine + theirs) / 2 / focal_px)[:, None]
    return np.concatenate([across, (mine - theirs)[:, None]], axis=1)


def pose_head_angles(pose: np.ndarray, unit: float) -> tuple[np.ndarray, np.ndarray]:
    """(T,) coarse head yaw and pitch in degrees from the pose's nose and ears (2-D), NaN
    without the nose and an ear.

    Yaw: the nose's offset from the ears' midpoint over their half-span (a sphere: 0 facing
    the camera, +-90 in profile); with one ear hidden, +-``POSE_ONE_EAR_YAW`` toward the side
    the nose points to. Pitch: the nose's height above its level-head place below the ears,
    over its reach, in face sizes ``unit``.
    """
    nose, ears = pose[:, NOSE], pose[:, list(EARS)]
    both = np.isfinite(ears).all(axis=(1, 2))
    middle = g.nanmean(ears, axis=1)
    half_span = np.abs(ears[:, 0, 0] - ears[:, 1, 0]) / 2
    offset = nose[:, 0] - middle[:, 0]
    with np.errstate(invalid="ignore"):
        yaw = np.where(
            both,
            g.atan2_deg(offset, half_span),
            np.sign(offset) * POSE_ONE_EAR_YAW,
        )
        lift = ((nose[:, 1] - middle[:, 1]) / unit + POSE_NOSE_DROP) / POSE_NOSE_REACH
        pitch = np.degrees(np.arcsin(np.clip(lift, -1.0, 1.0)))
    found = np.isfinite(nose).all(axis=1) & np.isfinite(middle).all(axis=1)
    return np.where(found, yaw, np.nan), np.where(found, pitch, np.nan)


def forward_from_angles(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """(T, 3) unit camera-axis direction of yaw and pitch in degrees (the inverse of
    :func:`geometry.direction_angles`)."""
    y, p = np.radians(yaw), np.radians(pitch)
    return np.stack([np.sin(y) * np.cos(p), np.sin(p), np.cos(y) * np.cos(p)], axis=-1)


def trunk_lean(pose: np.ndarray, toward_x: np.ndarray) -> np.ndarray:
    """(T,) degrees of the hip-to-shoulder line from vertical, > 0 leaning toward the partner."""
    trunk = g.nanmean(pose[:, list(SHOULDERS)], axis=1) - g.nanmean(pose[:, list(HIPS)], axis=1)
    hips_seen = np.isfinite(pose[:, list(HIPS)]).all(axis=2).all(axis=1)
    lean = g.atan2_deg(trunk[:, 0] * np.sign(toward_x), trunk[:, 1])
    return np.where(hips_seen, lean, np.nan)
