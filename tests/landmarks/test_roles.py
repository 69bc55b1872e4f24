"""Role assignment per tracklet (pure logic: hand-made evidence, no video)."""

from __future__ import annotations

import numpy as np

from cuevision.landmarks.roles import assign_roles

NAN = np.nan


def _evidence(rows: list[tuple[int, float, float, float, int, float, float, float]]) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # fmt: skip
    """Rows of (tracklet, size, roundness, x) for slot 0 then slot 1."""
    a = np.array(rows, np.float64)
    return a[:, [0, 4]].astype(np.int64), a[:, [1, 5]], a[:, [2, 6]], a[:, [3, 7]]


def test_tracklets_after_a_gap_get_roles_of_their_own() -> None:
    """Slot 0 holds the adult, loses it, then takes the child when the child re-enters alone::

        frame     0  1  2  3 | 4  5 | 6  7
        slot 0    A  A  A  A | .  . | C' C'    A adult (large, long face), C child (small, round)
        slot 1    C  C  C  C | .  . | .  .     C' the child again, in slot 0, tracklet 2

    Slot 0 must not keep the caregiver role through frames 6-7.
    """
    adult = (0, 120.0, 0.82, 0.3)
    child = (1, 70.0, 0.97, 0.7)
    none = (-1, NAN, NAN, NAN)
    again = (2, 72.0, 0.98, 0.6)
    rows = [(*adult, *child)] * 4 + [(*none, *none)] * 2 + [(*again, *none)] * 2
    result = assign_roles(*_evidence(rows))
    seen = [0, 1, 2, 3, 6, 7]  # frames 4-5 have nobody: either slot may be called the child
    assert result.child_slot[seen].tolist() == [1, 1, 1, 1, 0, 0]
    assert result.confidence > 0.8


def test_rounder_face_is_the_child_even_when_nearer_the_camera() -> None:
    """A toddler close to the camera: her face is a little larger, but much rounder."""
    rows = [(0, 100.0, 0.83, 0.2, 1, 110.0, 0.97, 0.7)] * 10
    assert assign_roles(*_evidence(rows)).child_slot.tolist() == [1] * 10


def test_much_smaller_face_outweighs_roundness() -> None:
    rows = [(0, 120.0, 0.80, 0.2, 1, 60.0, 0.75, 0.7)] * 10
    assert assign_roles(*_evidence(rows)).child_slot.tolist() == [1] * 10


def test_child_side_override_wins() -> None:
    rows = [(0, 120.0, 0.80, 0.2, 1, 60.0, 0.97, 0.7)] * 5 + [(0, 118.0, 0.8, 0.25, -1, NAN,
            NAN, NAN)]  # fmt: skip
    result = assign_roles(*_evidence(rows), child_side="left")
    assert result.child_slot.tolist() == [0] * 6
    assert result.confidence == 1.0 and "override" in result.method


def test_nobody_at_all() -> None:
    rows = [(-1, NAN, NAN, NAN, -1, NAN, NAN, NAN)] * 3
    result = assign_roles(*_evidence(rows))
    assert result.child_slot.shape == (3,) and result.confidence == 0.0


def test_clothes_carry_a_role_through_a_lone_stretch() -> None:
    """Both people side by side for 20 frames (adult in red, child in blue), then a third
    tracklet alone whose face misleads (a large, long face: the child seen close, in profile):
    in blue clothes it is the child; without colours, the face votes make it the caregiver.
    Faces without a mesh (roundness NaN) still count: two faces seen together."""
    adult, child = (0, 120.0, 0.82, 0.5), (1, 70.0, 0.97, 0.5)
    alone = (2, 125.0, 0.80, 0.5)
    none = (-1, NAN, NAN, NAN)
    rows = [(*adult, *child)] * 20 + [(*alone, *none)] * 20
    rows[0] = (0, 120.0, NAN, 0.5, 1, 70.0, NAN, 0.5)  # no mesh on either face
    red, blue, unknown = (50.0, 60.0, 40.0), (40.0, 10.0, -50.0), (NAN, NAN, NAN)
    colour = np.array([(red, blue)] * 20 + [(blue, unknown)] * 20)
    evidence = _evidence(rows)
    assert assign_roles(*evidence).child_slot[20:].tolist() == [1] * 20  # slot 0: caregiver
    dressed = assign_roles(*evidence, colour=colour)
    assert dressed.child_slot.tolist() == [1] * 20 + [0] * 20
    assert "clothes" in dressed.method
    same = np.array([(red, red)] * 20 + [(red, unknown)] * 20)  # alike clothes: no cue
    assert "clothes" not in assign_roles(*evidence, colour=same).method


def test_clothing_colour_read_under_the_shoulders_and_nowhere_else() -> None:
    from cuevision.landmarks.extract import _clothing

    image = np.zeros((100, 100, 3), np.uint8)
    image[40:80, 20:80] = (200, 30, 30)  # a red shirt
    pose = np.zeros((33, 4), np.float32)
    pose[11] = (0.7, 0.35, 0, 0.9)
    pose[12] = (0.3, 0.35, 0, 0.9)
    lightness, red, _ = _clothing(image, pose)
    assert 30 < lightness < 60 and red > 40
    for away in [(1.4, 1.3), (-0.6, 1.5), (0.5, -0.9)]:  # shoulders guessed outside the frame
        off = pose.copy()
        off[[11, 12], 0] += away[0]
        off[[11, 12], 1] += away[1]
        assert np.isnan(_clothing(image, off)).all()
    hidden = pose.copy()
    hidden[12, 3] = 0.2
    assert np.isnan(_clothing(image, hidden)).all()
