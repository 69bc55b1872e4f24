"""Real face landmarks for feature tests: one MediaPipe face-mesh run on a real photo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


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
