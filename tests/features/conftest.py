"""Real face landmarks for feature tests: one MediaPipe face-mesh run on a real photo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cuevision.types import LandmarkTracks, PersonTrack, Role


@dataclass(frozen=True)
class RealFace:
    """One face found by MediaPipe: (478, 3) normalised landmarks and the image size."""

    landmarks: np.ndarray
    width: int
    height: int


@pytest.fixture(scope="session")
def real_face(shared_data: Path) -> RealFace:
    """The face-mesh landmarks (with iris) of ../shared/data/pyfeat/single_face.jpg."""
    import cv2
    import mediapipe as mp

    path = shared_data / "pyfeat" / "single_face.jpg"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    image = np.ascontiguousarray(cv2.imread(str(path))[:, :, ::-1])
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=1, refine_landmarks=True
    ) as mesh:
        found = mesh.process(image).multi_face_landmarks
    assert found, "MediaPipe found no face in single_face.jpg"
    points = np.array([[p.x, p.y, p.z] for p in found[0].landmark], dtype=np.float32)
    return RealFace(points, width=image.shape[1], height=image.shape[0])


# A standing figure around a face, in eye-distances from the face centre (x right, y down):
# enough of a MediaPipe pose for hands, shoulders and hips to exist. Legs are left invisible.
POSE_TEMPLATE: dict[int, tuple[float, float]] = {
    0: (0.0, 0.3),
    1: (0.3, -0.1),
    2: (0.45, -0.1),
    3: (0.55, -0.1),
    4: (-0.3, -0.1),
    5: (-0.45, -0.1),
    6: (-0.55, -0.1),
    7: (0.9, 0.0),
    8: (-0.9, 0.0),
    9: (0.25, 0.7),
    10: (-0.25, 0.7),
    11: (1.8, 2.2),
    12: (-1.8, 2.2),
    13: (2.2, 4.2),
    14: (-2.2, 4.2),
    15: (1.6, 5.5),
    16: (-1.6, 5.5),
    17: (1.8, 5.9),
    18: (-1.8, 5.9),
    19: (1.6, 6.0),
    20: (-1.6, 6.0),
    21: (1.4, 5.8),
    22: (-1.4, 5.8),
    23: (1.2, 6.5),
    24: (-1.2, 6.5),
}


def rotate_face(
    points: np.ndarray, width: int, height: int, axis: str, degrees: float
) -> np.ndarray:
    """Normalised (478, 3) landmarks rotated about their centre by a known angle.

    Camera axes: X right, Y up, Z toward the camera; the rotation happens in pixels.
    """
    from scipy.spatial.transform import Rotation

    scale = np.array([width, height, width])
    flip = np.array([1.0, -1.0, -1.0])
    pixels = points * scale
    centre = pixels.mean(axis=0)
    turn = Rotation.from_euler(axis, degrees, degrees=True).as_matrix()
    back = (((pixels - centre) * flip) @ turn.T) * flip + centre
    return back / scale


def place_face(face: RealFace, centre: tuple[float, float], scale: float) -> np.ndarray:
    """The real face moved to ``centre`` (normalised) and resized by ``scale``, aspect kept."""
    points = face.landmarks.astype(np.float64).copy()
    mid = points[:, :2].mean(axis=0)
    points[:, :2] = (points[:, :2] - mid) * scale + np.array(centre)
    points[:, 2] *= scale
    return points


def pose_for(face_points: np.ndarray, width: int, height: int) -> np.ndarray:
    """(33, 4) pose built from POSE_TEMPLATE around a placed face; legs have visibility 0."""
    eyes = np.linalg.norm((face_points[263, :2] - face_points[33, :2]) * [width, height])
    centre = face_points[[33, 133, 263, 362, 1, 61, 291], :2].mean(axis=0)
    pose = np.zeros((33, 4))
    pose[:, :2] = centre
    for index, (dx, dy) in POSE_TEMPLATE.items():
        pose[index, :2] = centre + np.array([dx * eyes / width, dy * eyes / height])
        pose[index, 3] = 1.0
    return pose


def dyad_tracks(
    face: RealFace,
    t_s: np.ndarray,
    *,
    width: int = 640,
    height: int = 480,
    caregiver: tuple[float, float] = (0.3, 0.35),
    child: tuple[float, float] = (0.72, 0.5),
    scale: float = 0.35,
) -> LandmarkTracks:
    """A still dyad of two copies of the real face (the child's smaller), with template poses."""
    roles: dict[Role, PersonTrack] = {}
    for role, centre, size in (("caregiver", caregiver, scale), ("child", child, 0.7 * scale)):
        points = place_face(face, centre, size)
        pose = pose_for(points, width, height)
        n = len(t_s)
        roles[role] = PersonTrack(
            face=np.repeat(points[None], n, axis=0).astype(np.float32),
            face_score=np.ones(n, dtype=np.float32),
            pose=np.repeat(pose[None], n, axis=0).astype(np.float32),
            pose_score=np.ones(n, dtype=np.float32),
        )
    return LandmarkTracks(
        frame=np.arange(len(t_s)),
        t_s=np.asarray(t_s, dtype=np.float64),
        width=width,
        height=height,
        roles=roles,
        role_confidence=1.0,
    )
