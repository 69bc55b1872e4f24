"""The synthetic dyad: faces found where the script shows them, head turns recovered in time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from cuevision.features.geometry import head_pose
from cuevision.landmarks import read_landmarks
from cuevision.synth.video import DyadScript, dyad_script
from cuevision.types import ROLES, LandmarkTracks, Role

Outdir = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def script_and_tracks(synthetic_landmarks: Outdir) -> tuple[DyadScript, LandmarkTracks]:
    tracks = read_landmarks(synthetic_landmarks[0] / "landmarks.parquet")
    script = dyad_script()  # the seed, length and rate that `cuevision synth` uses by default
    assert len(tracks.frame) == script.n_frames, "every frame of the 15 fps video is analysed"
    return script, tracks


@pytest.mark.parametrize("role", ROLES)
def test_face_found_while_visible_and_never_while_out_of_frame(
    script_and_tracks: tuple[DyadScript, LandmarkTracks], role: Role
) -> None:
    script, tracks = script_and_tracks
    found = tracks.roles[role].face_score > 0
    visible = np.array([script.is_visible(role, t) for t in tracks.t_s])
    absent = np.array([script.is_absent(role, t) for t in tracks.t_s])
    assert visible.sum() > 100
    assert found[visible].mean() >= 0.95
    assert not found[absent].any(), f"{role} face reported at {tracks.t_s[found & absent]}"
    assert np.isnan(tracks.roles[role].face[~found]).all()


@pytest.mark.parametrize("role", ROLES)
def test_face_is_where_the_script_puts_that_role(
    script_and_tracks: tuple[DyadScript, LandmarkTracks], role: Role
) -> None:
    """The caregiver's face is the caregiver's sprite (left, larger), not the child's: nearer
    its own scripted head position than the other's in every frame (turns shift the mesh)."""
    script, tracks = script_and_tracks
    other: Role = "child" if role == "caregiver" else "caregiver"
    found = tracks.roles[role].face_score > 0
    x = np.nanmean(tracks.roles[role].face[found, :, 0], axis=1) * tracks.width
    own = np.array([script.value_at(role, "x", t) for t in tracks.t_s[found]])
    theirs = np.array([script.value_at(other, "x", t) for t in tracks.t_s[found]])
    assert (np.abs(x - own) < np.abs(x - theirs)).all()


@pytest.mark.parametrize("role", ROLES)
def test_head_turns_recovered_within_two_frames(
    script_and_tracks: tuple[DyadScript, LandmarkTracks], role: Role
) -> None:
    """Each scripted turn's midpoint matches where the measured yaw crosses its midpoint.

    ::

        scripted yaw  ____/‾‾‾‾     the turn: a ramp from `before` to `after`, midpoint t_mid
        measured yaw  ___/‾‾‾‾‾     (FaceMesh reads ~0.4-0.65 of the cylinder turn, so levels
                         ^          are measured on each side, and the time where it crosses
                     t_measured     halfway between them must be within 2 frames of t_mid)
    """
    script, tracks = script_and_tracks
    yaw = head_pose(tracks.roles[role].face, tracks.width, tracks.height)[:, 0]
    t = tracks.t_s
    keys = script.yaw_keys(role)
    checked = 0
    for (start, v0), (end, v1) in zip(keys, keys[1:], strict=False):
        if abs(v1 - v0) < 30 or not (
            script.is_visible(role, start - 0.6) and script.is_visible(role, end + 0.6)
        ):
            continue
        before = np.nanmedian(yaw[(t >= start - 0.6) & (t <= start - 0.05)])
        after = np.nanmedian(yaw[(t >= end + 0.05) & (t <= end + 0.6)])
        assert np.sign(after - before) == np.sign(v1 - v0), f"turn at {start:.2f} s missed"
        window = np.flatnonzero((t >= start - 0.4) & (t <= end + 0.4))
        side = np.sign(yaw[window] - (before + after) / 2) * np.sign(after - before)
        first = window[np.argmax(side > 0)]  # first frame past halfway
        y0, y1 = yaw[first - 1], yaw[first]
        crossing = t[first - 1] + (t[first] - t[first - 1]) * ((before + after) / 2 - y0) / (
            y1 - y0
        )
        assert abs(crossing - (start + end) / 2) <= 2 / script.fps, f"turn at {start:.2f} s"
        checked += 1
    assert checked >= 3, f"only {checked} turns of {role} could be checked"
