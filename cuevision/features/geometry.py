"""Face geometry from MediaPipe face-mesh landmarks: head pose and gaze direction.

Landmarks arrive in MediaPipe's normalised image coordinates (x across the width, y down the
height, both 0..1; z on the scale of x, larger = farther from the camera). Angles only mean
something once the axes have equal units, so everything here first converts to pixels.

Head frame, in camera coordinates X right, Y up, Z toward the camera (right-handed):
``R = Ry(yaw) @ Rx(-pitch) @ Rz(roll)`` maps the face's (right, up, forward) axes to the camera's.

- yaw > 0: the nose points toward image right (+x);
- pitch > 0: the face points up;
- roll > 0: the head tilts counter-clockwise as seen in the image.
"""

from __future__ import annotations

import numpy as np

# Face-mesh landmark indices (subject's left/right; a subject's right appears on image left).
R_EYE_OUTER, R_EYE_INNER, L_EYE_OUTER, L_EYE_INNER = 33, 133, 263, 362
R_CHEEK, L_CHEEK = 234, 454
FOREHEAD, CHIN = 10, 152
R_IRIS, L_IRIS = 468, 473


def to_pixels(face: np.ndarray, width: int, height: int) -> np.ndarray:
    """Normalised (..., 3) landmarks -> pixel units on all three axes (z is on x's scale)."""
    return face[..., :3].astype(np.float64) * np.array([width, height, width], dtype=np.float64)


def _to_camera(p: np.ndarray) -> np.ndarray:
    """Image axes (x right, y down, z away) -> camera axes (X right, Y up, Z toward camera)."""
    return p * np.array([1.0, -1.0, -1.0])


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def head_axes(face: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 478, 3) landmarks -> (N, 3, 3) rotation whose columns are the face's right, up and
    forward (nose) unit axes in camera coordinates; NaN where the face is missing.

    Right comes from three left-right landmark pairs (outer and inner eye corners, cheeks), up
    from chin to forehead, made orthogonal to right; forward is right x up.
    """
    p = _to_camera(to_pixels(face, width, height))
    right = (
        (p[:, L_EYE_OUTER] - p[:, R_EYE_OUTER])
        + (p[:, L_EYE_INNER] - p[:, R_EYE_INNER])
        + (p[:, L_CHEEK] - p[:, R_CHEEK])
    )
    right = _unit(right)
    up = p[:, FOREHEAD] - p[:, CHIN]
    forward = _unit(np.cross(right, up))
    up = np.cross(forward, right)
    return np.stack([right, up, forward], axis=-1)


def euler_from_axes(rot: np.ndarray) -> np.ndarray:
    """(N, 3, 3) head rotations -> (N, 3) yaw, pitch, roll in degrees (conventions: module doc)."""
    right, forward = rot[..., 0], rot[..., 2]
    yaw = np.arctan2(forward[:, 0], forward[:, 2])
    pitch = np.arcsin(np.clip(forward[:, 1], -1.0, 1.0))
    # The right axis with roll 0 for this yaw and pitch: Ry(yaw) @ (1, 0, 0).
    right0 = np.stack([np.cos(yaw), np.zeros_like(yaw), -np.sin(yaw)], axis=-1)
    up0 = np.cross(forward, right0)
    roll = np.arctan2(np.sum(right * up0, axis=-1), np.sum(right * right0, axis=-1))
    return np.degrees(np.stack([yaw, pitch, roll], axis=-1))


def head_pose(face: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 478, 3) normalised face landmarks -> (N, 3) yaw, pitch, roll in degrees; NaN in, NaN out.

    yaw > 0 when the nose points toward image right, pitch > 0 when the face points up, roll > 0
    when the head tilts counter-clockwise in the image.
    """
    face = np.asarray(face)
    if face.ndim != 3 or face.shape[1] < 468 or face.shape[2] < 3:
        raise ValueError(f"head_pose expects (N, 478, 3) face landmarks, got shape {face.shape}")
    return euler_from_axes(head_axes(face, width, height))
