"""Profiles and faces cut by the edge, on the first seconds of a real clip (2UWdXP, Peekaboo).

In its first 3 s both people are in profile, facing each other: the baby at left (a
three-quarter view, partly hidden), the mother at right, close to the camera and cut by the
frame's right edge. Landmarks version 1 (one full-range detector) found neither face there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from cuevision.landmarks import LandmarkSettings, extract_landmarks
from cuevision.landmarks.io import FROM_BOX, FROM_MESH
from cuevision.video import VideoWriter, decode, probe

pytestmark = pytest.mark.slow
CLIP = "2UWdXP.joke1.rep2.take1.Peekaboo.mp4"


@pytest.fixture(scope="module")
def opening(lookit: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip's first 3 s, written to a temporary folder (never into the project)."""
    source = lookit(CLIP)
    info = probe(source)
    out = tmp_path_factory.mktemp("profiles") / "opening.mp4"
    with VideoWriter(out, info.nominal_fps, info.width, info.height) as writer:
        for frame in decode(source):
            if frame.t_s >= 3.0:
                break
            writer.write(frame.image)
    return out


def test_detectors_find_the_profile_at_the_edge(opening: Path) -> None:
    from cuevision.landmarks.backend import FaceBackend

    backend = FaceBackend(slots=2, min_confidence=0.5, min_presence=0.2, crop_scale=2.0)
    try:
        frame = next(f for f in decode(opening) if f.t_s >= 2.0)
        boxes = backend.detect(frame.image)
    finally:
        backend.close()
    assert any(b.cx > 0.7 and 0.45 < b.cy < 0.8 for b in boxes), boxes  # the mother
    assert any(b.cx < 0.45 and b.cy > 0.6 for b in boxes), boxes  # the baby
    for i, a in enumerate(boxes):  # duplicates of the two detectors are merged
        assert all(np.hypot(a.cx - b.cx, a.cy - b.cy) > 0.05 for b in boxes[i + 1 :])


def test_faces_without_a_mesh_are_written_and_keep_their_roles(
    opening: Path, tmp_path: Path
) -> None:
    out = tmp_path / "landmarks.parquet"
    extract_landmarks(opening, out, settings=LandmarkSettings())
    rows = pq.read_table(str(out)).to_pandas()
    for role, least in (("caregiver", 0.9), ("child", 0.5)):
        mine = rows[rows["role"] == role]
        assert (mine["face_score"] > 0).mean() >= least, role
        box = mine[mine["face_source"] == FROM_BOX]
        assert len(box), f"no {role} face found by its detection alone"
        assert box[["face_cx", "face_cy"]].notna().all().all()
        assert all(np.isnan(np.asarray(face)).all() for face in box["face"])
        mesh = mine[mine["face_source"] == FROM_MESH]
        assert all(np.isfinite(np.asarray(face)).all() for face in mesh["face"])
        assert ((mine["face_source"] == 0) == (mine["face_score"] == 0)).all()
    both = rows.pivot(index="frame", columns="role", values="face_cx").dropna()
    assert len(both) and (both["caregiver"] > both["child"]).all()  # the mother is at right
