"""Track slots and tracklets (pure logic: hand-made boxes, no video)."""

from __future__ import annotations

from cuevision.landmarks.tracking import Box, Tracker


def _tracker() -> Tracker:
    return Tracker(slots=2, max_gap_s=1.0, default_size_px=50.0)


def test_identity_follows_motion_not_order() -> None:
    """Detections arrive in any order; each face keeps its slot as it moves::

    t    0.0          0.1           0.2
    A    (100, 100)   (108, 102)    (116, 104)     big face, 80 px
    B    (400, 200)   (396, 200)    (392, 201)     small face, 40 px
    """
    tracker = _tracker()
    first = tracker.assign_faces([Box(100, 100, 80), Box(400, 200, 40)], 0.0)
    a, b = first[0], first[1]
    assert (a, b) == (0, 1)
    second = tracker.assign_faces([Box(396, 200, 40), Box(108, 102, 80)], 0.1)
    assert second == {0: 1, 1: 0}
    third = tracker.assign_faces([Box(116, 104, 82), Box(392, 201, 41)], 0.2)
    assert third == {0: 0, 1: 1}
    assert tracker.tracklets(0.2) == (0, 1)


def test_a_third_face_far_away_cannot_steal_a_recent_track() -> None:
    tracker = _tracker()
    tracker.assign_faces([Box(100, 100, 80), Box(400, 200, 40)], 0.0)
    got = tracker.assign_faces([Box(102, 100, 80), Box(600, 50, 30), Box(401, 200, 40)], 0.1)
    assert got == {0: 0, 1: 2}


def test_return_after_a_gap_starts_a_new_tracklet() -> None:
    """B leaves for 2 s (> max_gap_s) and comes back: same slot, new tracklet number::

    t      0.0   0.1 ........ 2.1
    A      x     x            x
    B      x     .  (gone)    x
    """
    tracker = _tracker()
    tracker.assign_faces([Box(100, 100, 80), Box(400, 200, 40)], 0.0)
    tracker.assign_faces([Box(100, 100, 80)], 0.1)
    assert tracker.tracklets(0.1) == (0, -1)
    for k in range(2, 21):
        tracker.assign_faces([Box(100, 100, 80)], k / 10)
    got = tracker.assign_faces([Box(100, 100, 80), Box(430, 210, 42)], 2.1)
    assert got == {0: 0, 1: 1}
    assert tracker.tracklets(2.1) == (0, 2)


def test_poses_join_the_person_whose_face_they_carry() -> None:
    tracker = _tracker()
    tracker.assign_faces([Box(100, 100, 80), Box(400, 200, 40)], 0.0)
    assert tracker.assign_poses([(395.0, 210.0), (110.0, 95.0)], 0.0) == {0: 1, 1: 0}
    # a body far from both faces is not theirs
    assert tracker.assign_poses([(250.0, 600.0)], 0.1) == {}
