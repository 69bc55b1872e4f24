"""Face geometry from MediaPipe face-mesh landmarks: head pose, gaze and face shape.

Landmarks arrive in MediaPipe's normalised image coordinates (x across the width, y down the
height, both 0..1; z on the scale of x, larger = farther from the camera). Angles only mean
something once the axes have equal units, so everything here works in pixels, on camera axes
X right, Y up, Z toward the camera (right-handed).

Head frame: ``R = Ry(yaw) @ Rx(-pitch) @ Rz(roll)`` maps the face's (right, up, forward) axes,
where "right" is image right for a frontal face, to the camera's.

- yaw > 0: the nose points toward image right (+x);
- pitch > 0: the face points up;
- roll > 0: the head tilts counter-clockwise as seen in the image.

Only a subset of the 478 mesh points is used (``FACE_POINTS``); functions below take that subset
as ``(N, len(FACE_POINTS), 3)`` camera-pixel arrays, so long videos stay small in memory.
"""

from __future__ import annotations

import numpy as np

# Face-mesh indices (subject's left/right; a subject's right appears on image left).
R_EYE_OUTER, R_EYE_INNER, L_EYE_OUTER, L_EYE_INNER = 33, 133, 263, 362
R_LID_UP, R_LID_DOWN, L_LID_UP, L_LID_DOWN = 159, 145, 386, 374
R_CHEEK, L_CHEEK = 234, 454
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
R_IRIS, L_IRIS = 468, 473
LIP_UP_IN, LIP_DOWN_IN, R_MOUTH, L_MOUTH = 13, 14, 61, 291
R_BROW, L_BROW = (70, 63, 105, 66, 107), (300, 293, 334, 296, 336)
CONTOUR = (127, 356, 162, 389, 58, 288, 172, 397, 136, 365, 148, 377)
FACE_CENTRE = (R_EYE_OUTER, R_EYE_INNER, L_EYE_OUTER, L_EYE_INNER, NOSE_TIP, R_MOUTH, L_MOUTH)

FACE_POINTS: tuple[int, ...] = tuple(
    dict.fromkeys(
        (R_EYE_OUTER, R_EYE_INNER, L_EYE_OUTER, L_EYE_INNER, R_LID_UP, R_LID_DOWN, L_LID_UP)
        + (L_LID_DOWN, R_CHEEK, L_CHEEK, FOREHEAD, CHIN, NOSE_TIP, R_IRIS, L_IRIS, LIP_UP_IN)
        + (LIP_DOWN_IN, R_MOUTH, L_MOUTH, 0, 17, 4)
        + R_BROW
        + L_BROW
        + CONTOUR
    )
)
_AT = {index: k for k, index in enumerate(FACE_POINTS)}

# Eyeball radius over eye width (about 12 mm over 30 mm): iris offset -> eye rotation.
EYE_RADIUS_PER_WIDTH = 0.4


def to_camera(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Normalised (..., >=3) landmarks -> camera-axis pixels (X right, Y up, Z toward camera)."""
    scale = np.array([width, -height, -width], dtype=np.float64)
    return points[..., :3].astype(np.float64) * scale


def face_subset(face: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 478, 3) normalised mesh -> (N, len(FACE_POINTS), 3) camera pixels."""
    return to_camera(face[:, list(FACE_POINTS)], width, height)


def _p(face: np.ndarray, index: int) -> np.ndarray:
    return face[:, _AT[index]]


def _mean(face: np.ndarray, indices: tuple[int, ...]) -> np.ndarray:
    return face[:, [_AT[i] for i in indices]].mean(axis=1)


def nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over the present (non-NaN) values along ``axis``; NaN where none is present."""
    present = np.isfinite(values)
    count = present.sum(axis=axis)
    total = np.where(present, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def moving_mean(x: np.ndarray, frames: int) -> np.ndarray:
    """Centred moving mean of (T,) over ``frames`` (odd) of the present values; NaN stays NaN."""
    if frames <= 1 or len(x) == 0:
        return x
    kernel = np.ones(frames)
    present = np.isfinite(x)
    centre = slice((frames - 1) // 2, (frames - 1) // 2 + len(x))  # "same", for any length
    total = np.convolve(np.where(present, x, 0.0), kernel)[centre]
    count = np.convolve(present.astype(float), kernel)[centre]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present, total / np.maximum(count, 1), np.nan)


def nanmin(values: np.ndarray, axis: int) -> np.ndarray:
    """Minimum over the present values along ``axis``; NaN where none is present."""
    low = np.where(np.isfinite(values), values, np.inf).min(axis=axis)
    return np.where(np.isfinite(low), low, np.nan)


def nanmax(values: np.ndarray, axis: int) -> np.ndarray:
    """Maximum over the present values along ``axis``; NaN where none is present."""
    return -nanmin(-values, axis=axis)


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1)


def head_axes(face: np.ndarray) -> np.ndarray:
    """Subset (N, K, 3) -> (N, 3, 3) rotation; columns: the face's right, up, forward axes.

    Right comes from three left-right pairs (outer and inner eye corners, cheeks), up from chin to
    forehead made orthogonal to it; forward (out of the nose) is right x up.
    """
    right = _unit(
        (_p(face, L_EYE_OUTER) - _p(face, R_EYE_OUTER))
        + (_p(face, L_EYE_INNER) - _p(face, R_EYE_INNER))
        + (_p(face, L_CHEEK) - _p(face, R_CHEEK))
    )
    forward = _unit(np.cross(right, _p(face, FOREHEAD) - _p(face, CHIN)))
    up = np.cross(forward, right)
    return np.stack([right, up, forward], axis=-1)


def atan2_deg(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``degrees(arctan2(y, x))``, the same in every run: numpy 1.26's float32 arctan2 of
    strided inputs (a column of a table) differs in the last bit with where its arrays were
    allocated, so one run's features differed from another's; contiguous inputs take one path."""
    return np.degrees(np.arctan2(np.ascontiguousarray(y), np.ascontiguousarray(x)))


def direction_angles(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit (N, 3) directions -> yaw (> 0 toward image right), pitch (> 0 up), in degrees."""
    yaw = atan2_deg(v[:, 0], v[:, 2])
    return yaw, np.degrees(np.arcsin(np.clip(v[:, 1], -1.0, 1.0)))


def euler_from_axes(rot: np.ndarray) -> np.ndarray:
    """(N, 3, 3) head rotations -> (N, 3) yaw, pitch, roll in degrees (conventions: module doc)."""
    right, forward = rot[..., 0], rot[..., 2]
    yaw, pitch = direction_angles(forward)
    # The right axis with roll 0 for this yaw and pitch is Ry(yaw) @ (1, 0, 0).
    yaw_rad = np.radians(yaw)
    right0 = np.stack([np.cos(yaw_rad), np.zeros_like(yaw_rad), -np.sin(yaw_rad)], axis=-1)
    up0 = np.cross(forward, right0)
    roll = atan2_deg(np.sum(right * up0, -1), np.sum(right * right0, -1))
    return np.stack([yaw, pitch, roll], axis=-1)


def head_pose(face: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 478, 3) normalised face landmarks -> (N, 3) yaw, pitch, roll in degrees; NaN in, NaN out.

    yaw > 0 when the nose points toward image right, pitch > 0 when the face points up, roll > 0
    when the head tilts counter-clockwise in the image.
    """
    face = np.asarray(face)
    if face.ndim != 3 or face.shape[1] < 478 or face.shape[2] < 3:
        raise ValueError(f"head_pose expects (N, 478, 3) face landmarks, got shape {face.shape}")
    return euler_from_axes(head_axes(face_subset(face, width, height)))


def gaze(face: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Subset (N, K, 3) and head axes -> (N, 3) unit gaze direction in camera axes.

    The iris centre's offset from the midpoint of the eye corners, along the head's right and
    up axes and in eye widths, is read as an eyeball rotation ``asin(offset / 0.4)``; both eyes
    are averaged (one is enough), and the rotation is applied to the head's forward axis.
    """
    right, up = rot[..., 0], rot[..., 1]
    offsets = []
    for iris, outer, inner in (
        (R_IRIS, R_EYE_OUTER, R_EYE_INNER),
        (L_IRIS, L_EYE_OUTER, L_EYE_INNER),
    ):
        mid = (_p(face, outer) + _p(face, inner)) / 2
        rel = (_p(face, iris) - mid) / _dist(_p(face, outer), _p(face, inner))[:, None]
        offsets.append(np.stack([np.sum(rel * right, -1), np.sum(rel * up, -1)], axis=-1))
    offset = nanmean(np.stack(offsets), axis=0)
    eye = np.arcsin(np.clip(offset / EYE_RADIUS_PER_WIDTH, -1.0, 1.0))
    in_head = np.stack(
        [
            np.sin(eye[:, 0]) * np.cos(eye[:, 1]),
            np.sin(eye[:, 1]),
            np.cos(eye[:, 0]) * np.cos(eye[:, 1]),
        ],
        axis=-1,
    )
    return np.einsum("nij,nj->ni", rot, in_head)


def face_size(face: np.ndarray) -> np.ndarray:
    """(N,) 3-D distance between the outer eye corners, in pixels: the unit of face lengths."""
    return _dist(_p(face, L_EYE_OUTER), _p(face, R_EYE_OUTER))


def face_centre(face: np.ndarray) -> np.ndarray:
    """(N, 3) mean of the eye corners, nose tip and mouth corners: where a partner looks."""
    return _mean(face, FACE_CENTRE)


def eye_midpoint(face: np.ndarray) -> np.ndarray:
    """(N, 3) midpoint between the two eyes: where gaze starts."""
    return _mean(face, (R_EYE_OUTER, R_EYE_INNER, L_EYE_OUTER, L_EYE_INNER))


def face_shape(face: np.ndarray, rot: np.ndarray) -> dict[str, np.ndarray]:
    """Mouth, smile, eye and brow measures, each normalised by this frame's face size.

    Heights are taken along the head's own up axis, so nodding or tilting does not move them.
    """
    size = face_size(face)
    up = rot[..., 1]
    mouth_width = _dist(_p(face, R_MOUTH), _p(face, L_MOUTH)) / size
    lip_up, lip_down = _p(face, LIP_UP_IN), _p(face, LIP_DOWN_IN)
    corners = (_p(face, R_MOUTH) + _p(face, L_MOUTH)) / 2
    # Against the mouth's centre, an open mouth alone leaves the corners level; a smile lifts them.
    raise_ = np.sum((corners - (lip_up + lip_down) / 2) * up, -1) / size
    eyes = [
        _dist(_p(face, top), _p(face, low)) / _dist(_p(face, outer), _p(face, inner))
        for top, low, outer, inner in (
            (R_LID_UP, R_LID_DOWN, R_EYE_OUTER, R_EYE_INNER),
            (L_LID_UP, L_LID_DOWN, L_EYE_OUTER, L_EYE_INNER),
        )
    ]
    brows = [
        np.sum((_mean(face, brow) - (_p(face, outer) + _p(face, inner)) / 2) * up, -1) / size
        for brow, outer, inner in (
            (R_BROW, R_EYE_OUTER, R_EYE_INNER),
            (L_BROW, L_EYE_OUTER, L_EYE_INNER),
        )
    ]
    return {
        "mouth_open": _dist(lip_up, lip_down) / size,
        "mouth_width": mouth_width,
        "lip_corner_raise": raise_,
        "smile": raise_ + mouth_width,
        "eye_open": (eyes[0] + eyes[1]) / 2,
        "brow_raise": (brows[0] + brows[1]) / 2,
    }


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) degrees between two (N, 3) direction arrays (any length)."""
    cos = np.sum(_unit(a) * _unit(b), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
