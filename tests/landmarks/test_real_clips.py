"""Real Lookit clips (../shared/data): both roles found, and never swapped.

Only clips of the training dyads: the held-out dyads 3dC3SQ and 4JDccE are for one final figure,
never for tests that code is made to pass. The child's side is the two-coder visibility reference's
(annotation/datasets/lookit-coding/visibility/): in these five clips the two people never change
sides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.landmarks.conftest import Extraction

pytestmark = pytest.mark.slow

CHILD_SIDE = {  # where the child is relative to the caregiver, as both coders marked it
    "6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4": "right",  # in a high chair, mother at left
    "2UWdXP.joke2.rep3.take1.NomNomNom.mp4": "left",  # baby in a high chair, mother close, right
    "2UWdXP.joke4.rep2.take1.TearingPaper.mp4": "left",  # mother in profile at the right edge
    "2UWdXP.joke1.rep2.take1.Peekaboo.mp4": "left",  # baby in a high chair, mother right
    "6c6MZQ.joke3.rep2.take1.Peekaboo.mp4": "right",  # mother hides her face behind her hands
}
CLIPS = tuple(CHILD_SIDE)


def _centres(run: Extraction, role: str) -> np.ndarray:
    """(N, 2) face centre x, y; NaN where no face."""
    face = run.tracks.roles[role].face  # type: ignore[index]
    return face[:, :, :2].mean(axis=1)


@pytest.mark.parametrize("name", CLIPS)
def test_both_roles_found(
    name: str, lookit: Callable[[str], Path], extract: Callable[[Path], Extraction]
) -> None:
    run = extract(lookit(name))
    assert run.summary.frames == len(run.tracks.frame) > 0
    for role, track in run.tracks.roles.items():
        assert (track.face_score > 0).mean() >= 0.05, f"{role} face almost never found"
        assert ((track.face_score > 0) | (track.pose_score > 0)).mean() >= 0.3, role


def test_clean_clip_coverage(
    lookit: Callable[[str], Path], extract: Callable[[Path], Extraction]
) -> None:
    run = extract(lookit("6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4"))
    assert run.summary.face_fraction["child"] >= 0.95
    assert run.summary.face_fraction["caregiver"] >= 0.90


@pytest.mark.parametrize("name", CLIPS)
def test_roles_not_swapped(
    name: str, lookit: Callable[[str], Path], extract: Callable[[Path], Extraction]
) -> None:
    """The child is on its side of the caregiver: in (nearly) every frame with both faces, and
    in the median over all frames; and identities never jump between consecutive frames::

        frame k      C . . . . K        C caregiver's face, K child's face
        frame k+1    K . . . . C        a jump: each label is nearer the other's last place
    """
    run = extract(lookit(name))
    sign = 1.0 if CHILD_SIDE[name] == "right" else -1.0
    care, child = _centres(run, "caregiver"), _centres(run, "child")
    both = np.isfinite(care[:, 0]) & np.isfinite(child[:, 0])
    if both.sum() >= 10:
        on_side = sign * (child[both, 0] - care[both, 0]) > 0
        assert on_side.mean() >= 0.95, f"child on the wrong side in {1 - on_side.mean():.0%}"
    assert sign * (np.nanmedian(child[:, 0]) - np.nanmedian(care[:, 0])) > 0
    t = run.tracks.t_s
    steps = np.flatnonzero(both[:-1] & both[1:] & (np.diff(t) < 0.25))
    keep = np.hypot(*(care[steps + 1] - care[steps]).T) + np.hypot(
        *(child[steps + 1] - child[steps]).T
    )
    swap = np.hypot(*(care[steps + 1] - child[steps]).T) + np.hypot(
        *(child[steps + 1] - care[steps]).T
    )
    assert (keep <= swap).all(), f"identity jumps at t = {t[steps[keep > swap]]}"


def test_no_face_video_finds_no_face(
    shared_data: Path, extract: Callable[[Path], Extraction]
) -> None:
    run = extract(shared_data / "pyfeat" / "no_face.mp4")
    assert run.summary.frames > 0
    for role, track in run.tracks.roles.items():
        assert not (track.face_score > 0).any(), f"a {role} face found in a video with none"
        assert np.isnan(track.face).all()
        # PoseLandmarker sees confident "people" in this cartoon sky: they must be filtered out
        assert not (track.pose_score > 0).any(), f"a {role} body found in a video with none"
