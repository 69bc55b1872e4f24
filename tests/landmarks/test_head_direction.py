"""Head direction from the pose where the face mesh is missing (``any_*``, ``pose_*`` features)."""

from __future__ import annotations

import numpy as np
import pytest

from cuevision.features.geometry import FACE_POINTS
from cuevision.features.person import Body, person_features, pose_head_angles

T = 8


def _pose(nose: tuple[float, float], ears: list[tuple[float, float] | None]) -> np.ndarray:
    """(T, 33, 2) camera-pixel pose (X right, Y up) with a nose, ears and eyes; rest NaN."""
    pose = np.full((T, 33, 2), np.nan)
    pose[:, 0] = nose
    for index, ear in zip((7, 8), ears, strict=True):
        if ear is not None:
            pose[:, index] = ear
    pose[:, 2] = (nose[0] - 10, nose[1] + 12)  # eyes, for the head position
    pose[:, 5] = (nose[0] + 10, nose[1] + 12)
    pose[:, 3] = (nose[0] - 16, nose[1] + 12)  # outer eye corners: the face size (32 px)
    pose[:, 6] = (nose[0] + 16, nose[1] + 12)
    return pose


def test_frontal_profile_and_one_ear() -> None:
    frontal = _pose((100, -110), [(70, -100), (130, -100)])
    yaw, pitch = pose_head_angles(frontal, 32.0)
    assert np.allclose(yaw, 0.0) and np.all(np.abs(pitch) < 15)
    turned_right = _pose((130, -110), [(95, -100), (105, -100)])
    yaw, _ = pose_head_angles(turned_right, 32.0)
    assert np.all(yaw > 75)
    one_ear = _pose((80, -110), [None, (110, -100)])
    yaw, _ = pose_head_angles(one_ear, 32.0)
    assert np.allclose(yaw, -70.0)
    up = _pose((100, -80), [(70, -100), (130, -100)])
    assert np.all(pose_head_angles(up, 32.0)[1] > 30)
    no_nose = frontal.copy()
    no_nose[:, 0] = np.nan
    assert np.isnan(pose_head_angles(no_nose, 32.0)).all()


@pytest.mark.parametrize(("nose_x", "toward"), [(135.0, True), (65.0, False)])
def test_pose_direction_to_partner_without_a_mesh(nose_x: float, toward: bool) -> None:
    """A body without a face mesh, at image left: facing right (the partner) reads a small
    angle to the partner, facing left a large one; marked as a pose-sourced direction."""
    no_face = np.full((T, len(FACE_POINTS), 3), np.nan)
    me = Body(face=no_face, pose=_pose((nose_x, -110), [(95, -100), (105, -100)]))
    partner = Body(face=no_face, pose=_pose((500, -110), [(470, -100), (530, -100)]))
    found = person_features(me, partner, fps=15.0, dyad_unit=32.0, focal_px=560.0)
    assert np.isnan(found["head_to_partner"]).all() and np.isnan(found["gaze_to_partner"]).all()
    assert (found["head_source"] == 1.0).all()
    angle = found["any_head_to_partner"]
    assert np.array_equal(angle, found["any_gaze_to_partner"])
    assert np.all(angle < 45) if toward else np.all(angle > 120)
