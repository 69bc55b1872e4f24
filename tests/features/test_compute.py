"""compute_features: invariances, missing data, the analysis grid, and bad input.

The dyads are built from one real MediaPipe face (see conftest): the caregiver on the left, the
child (smaller) on the right, with template bodies.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cuevision.features import FEATURE_NAMES, FeaturesError, compute_features
from cuevision.features.compute import FACE_WIDTH, FOCAL_PER_SIDE
from cuevision.types import FeatureSeries, LandmarkTracks
from tests.features.conftest import RealFace, dyad_tracks, rotate_face

DEPTH_AWARE = ("gaze_to_partner", "head_to_partner", "mutual_gaze")
ANGLES = ("yaw", "pitch", "roll", "gaze_yaw", "gaze_pitch", "to_partner", "trunk_lean")


def moving_dyad(
    face: RealFace, t_s: np.ndarray, width: int = 640, height: int = 480
) -> LandmarkTracks:
    """The child turns toward the caregiver and back; the caregiver drifts right and reaches out."""
    base = dyad_tracks(face, t_s, width=width, height=height)
    child, carer = base.roles["child"], base.roles["caregiver"]
    frac = (t_s - t_s[0]) / (t_s[-1] - t_s[0])
    yaw = -45.0 * np.sin(np.pi * frac)  # caregiver on the image left: negative yaw faces her
    child_face = np.stack(
        [rotate_face(child.face[0].astype(np.float64), width, height, "y", a) for a in yaw]
    )
    carer_face, carer_pose = carer.face.copy(), carer.pose.copy()
    carer_face[:, :, 0] += 0.04 * frac[:, None]
    carer_pose[:, :, 0] += 0.04 * frac[:, None]
    carer_pose[:, [16, 18, 20, 22], 0] += 0.25 * frac[:, None]  # her right hand, nearer the child
    return replace(
        base,
        roles={
            "child": replace(child, face=child_face.astype(np.float32)),
            "caregiver": replace(carer, face=carer_face, pose=carer_pose),
        },
    )


def zoomed(tracks: LandmarkTracks, scale: float, shift: tuple[float, float]) -> LandmarkTracks:
    """The same scene, the dyad shrunk by ``scale`` and moved by ``shift`` (normalised units)."""
    roles = {}
    for role, track in tracks.roles.items():
        face, pose = track.face.astype(np.float64), track.pose.astype(np.float64)
        face[..., :2] = face[..., :2] * scale + shift
        pose[..., :2] = pose[..., :2] * scale + shift
        face[..., 2] *= scale
        pose[..., 2] *= scale
        roles[role] = replace(track, face=face.astype(np.float32), pose=pose.astype(np.float32))
    return replace(tracks, roles=roles)


def assert_same_features(a: FeatureSeries, b: FeatureSeries) -> None:
    assert a.names == b.names
    np.testing.assert_allclose(a.t_s, b.t_s)
    for name in a.names:
        x, y = a.column(name), b.column(name)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=name)
        tol = 0.05 if any(k in name for k in ANGLES) else 2e-3
        np.testing.assert_allclose(x, y, rtol=2e-3, atol=tol, equal_nan=True, err_msg=name)


def vfr_clock(n: int, seed: int = 0) -> np.ndarray:
    """A webcam-like clock: frame gaps of 30-36 ms in no fixed pattern."""
    gaps = np.random.default_rng(seed).uniform(0.030, 0.036, n - 1)
    return np.concatenate([[0.0], np.cumsum(gaps)])


@pytest.fixture(scope="module")
def moving(real_face: RealFace) -> LandmarkTracks:
    return moving_dyad(real_face, vfr_clock(90))


def test_every_named_feature_is_computed(moving: LandmarkTracks) -> None:
    series = compute_features(moving)
    assert series.names == FEATURE_NAMES
    assert series.values.dtype == np.float32 and series.values.shape == (
        len(series.t_s),
        len(FEATURE_NAMES),
    )
    finite = np.isfinite(series.values).mean(axis=0)
    # without hips no trunk lean; without audio (these tracks have none) the voice is NaN
    no_hips_needed = [
        n for n in FEATURE_NAMES if not n.endswith("trunk_lean") and not n.startswith("voice.")
    ]
    assert (series.column("voice.present") == 0).all()
    for name in no_hips_needed:
        assert finite[FEATURE_NAMES.index(name)] > 0.9, name


def test_image_size_does_not_change_features(moving: LandmarkTracks) -> None:
    bigger = replace(moving, width=3 * moving.width, height=3 * moving.height)
    assert_same_features(compute_features(moving), compute_features(bigger))


def test_moving_the_dyad_in_the_frame_does_not_change_features(moving: LandmarkTracks) -> None:
    assert_same_features(
        compute_features(moving), compute_features(zoomed(moving, 1.0, (0.15, -0.1)))
    )


def test_zooming_changes_only_the_depth_read_from_face_sizes(moving: LandmarkTracks) -> None:
    """The image shrunk by 0.6 and moved: every length and speed reads the same. The direction
    to the partner uses each person's depth (from face size), which a zoom scales, so the three
    features built on it are left to the next test."""
    base, small = compute_features(moving), compute_features(zoomed(moving, 0.6, (0.25, 0.1)))
    keep = [k for k, n in enumerate(base.names) if not n.endswith(DEPTH_AWARE)]
    assert_same_features(
        FeatureSeries(base.t_s, base.fps, tuple(base.names[k] for k in keep), base.values[:, keep]),
        FeatureSeries(
            small.t_s, small.fps, tuple(small.names[k] for k in keep), small.values[:, keep]
        ),
    )


def test_walking_the_camera_back_keeps_the_gaze_angles(moving: LandmarkTracks) -> None:
    """A pinhole camera moved back by the pair's mean distance: each person shrinks toward the
    image centre by depth / (depth + d), the nearer one more. Angles to the partner stay within a
    few degrees (the rest of the error is the weak-perspective approximation)."""
    focal = FOCAL_PER_SIDE * max(moving.width, moving.height)
    depth = {}
    for role, track in moving.roles.items():
        eyes = (track.face[0, 263] - track.face[0, 33]) * np.array(
            [moving.width, moving.height, moving.width]
        )
        depth[role] = focal * FACE_WIDTH[role] / np.linalg.norm(eyes)
    back = float(np.mean(list(depth.values())))
    roles = {}
    for role, track in moving.roles.items():
        k = depth[role] / (depth[role] + back)
        one = zoomed(replace(moving, roles={role: track}), k, (0.5 * (1 - k), 0.5 * (1 - k)))
        roles[role] = one.roles[role]
    near, far = compute_features(moving), compute_features(replace(moving, roles=roles))
    for name in ("child.gaze_to_partner", "caregiver.head_to_partner", "child.yaw", "child.smile"):
        np.testing.assert_allclose(near.column(name), far.column(name), atol=3.0, err_msg=name)


def test_gaze_to_partner_dips_when_the_child_turns_to_the_caregiver(moving: LandmarkTracks) -> None:
    series = compute_features(moving)
    angle, yaw = series.column("child.gaze_to_partner"), series.column("child.yaw")
    frontal, turned = np.argmax(yaw), np.argmin(yaw)
    assert yaw[turned] < yaw[frontal] - 35
    assert angle[turned] < angle[frontal] - 30
    assert angle[frontal] > 70  # facing the camera, the partner is off to the side
    assert series.column("dyad.mutual_gaze")[turned] > series.column("dyad.mutual_gaze")[frontal]


def test_reaching_hand_approaches_the_partner(moving: LandmarkTracks) -> None:
    series = compute_features(moving)
    distance = series.column("caregiver.hand_to_partner")
    assert distance[-1] < distance[0] - 0.5
    assert np.nanmedian(series.column("caregiver.hand_approach")) > 0
    assert np.nanmedian(series.column("caregiver.wrist_speed")) > 1
    assert np.nanmax(series.column("child.wrist_speed")) == pytest.approx(0, abs=1e-3)


def test_speed_is_in_face_sizes_per_second(real_face: RealFace) -> None:
    """A head that slides right at a known pixel speed reads that speed over its face size."""
    t_s = vfr_clock(60)
    tracks = dyad_tracks(real_face, t_s)
    carer = tracks.roles["caregiver"]
    face, pose = carer.face.copy(), carer.pose.copy()
    face[:, :, 0] += 0.1 * t_s[:, None].astype(np.float32)  # 0.1 width per second = 64 px/s
    pose[:, :, 0] += 0.1 * t_s[:, None].astype(np.float32)
    tracks = replace(
        tracks, roles={**tracks.roles, "caregiver": replace(carer, face=face, pose=pose)}
    )
    series = compute_features(tracks)
    eyes = carer.face[0, 263, :] - carer.face[0, 33, :]
    size = np.linalg.norm(eyes * np.array([640, 480, 640]))
    inner = slice(2, -2)
    np.testing.assert_allclose(series.column("caregiver.face_motion")[inner], 64 / size, rtol=0.02)
    np.testing.assert_allclose(series.column("caregiver.body_motion")[inner], 64 / size, rtol=0.02)


def test_grid_is_uniform_from_a_variable_rate_clock(moving: LandmarkTracks) -> None:
    series = compute_features(moving, fps=15.0)
    last = moving.t_s[-1]
    assert series.fps == 15.0
    assert len(series.t_s) == int(np.floor(last * 15)) + 1
    np.testing.assert_allclose(series.t_s, np.arange(len(series.t_s)) / 15.0)


def test_a_slow_video_is_interpolated_onto_a_faster_grid(real_face: RealFace) -> None:
    """7.5 frames/s in, 15 Hz out: every grid time between two frames gets a value."""
    t_s = np.arange(20) / 7.5
    series = compute_features(moving_dyad(real_face, t_s), fps=15.0)
    assert len(series.t_s) == 39
    assert np.isfinite(series.column("child.yaw")).all()
    assert (series.column("child.face_visible") == 1).all()


def test_missing_face_stays_nan_with_mask_zero(real_face: RealFace) -> None:
    """
    frames   0 ........ 20 ............. 40 ....... 60 .... 70 71 ... 89
    child    face       |--- no face ---|           face    |x| face
                        (0.67 s: NaN)                       one frame: bridged
    """
    t_s = np.arange(90) / 30.0
    tracks = dyad_tracks(real_face, t_s)
    child = tracks.roles["child"]
    face, score = child.face.copy(), child.face_score.copy()
    face[20:40] = np.nan
    face[70] = np.nan
    score[20:40] = score[70] = 0
    tracks = replace(
        tracks, roles={**tracks.roles, "child": replace(child, face=face, face_score=score)}
    )
    series = compute_features(tracks, fps=30.0)
    hole = (series.t_s > 20 / 30 + 0.02) & (series.t_s < 39 / 30 - 0.02)
    for name in ("face_visible", "yaw", "gaze_to_partner", "smile", "eye_open", "face_motion"):
        assert np.isnan(series.column(f"child.{name}")[hole]).all() or name == "face_visible", name
    assert (series.column("child.face_visible")[hole] == 0).all()
    assert (series.column("child.visible")[hole] == 1).all()  # the body is still there
    assert (series.column("child.pose_visible")[hole] == 1).all()
    # The caregiver still knows where the child's head is (from the child's pose).
    assert np.isfinite(series.column("caregiver.gaze_to_partner")[hole]).all()
    assert series.column("child.face_visible")[70] == 1
    assert np.isfinite(series.column("child.yaw")[70])


def test_absent_role_is_all_missing(real_face: RealFace) -> None:
    tracks = dyad_tracks(real_face, np.arange(30) / 15.0)
    alone = replace(tracks, roles={"caregiver": tracks.roles["caregiver"]})
    series = compute_features(alone)
    assert (series.column("child.visible") == 0).all()
    assert np.isnan(series.column("child.yaw")).all()
    assert np.isnan(series.column("caregiver.gaze_to_partner")).all()
    assert np.isfinite(series.column("caregiver.yaw")).all()


def test_empty_tracks_give_an_empty_series(real_face: RealFace) -> None:
    tracks = dyad_tracks(real_face, np.arange(3) / 15.0)
    empty = replace(
        tracks,
        frame=tracks.frame[:0],
        t_s=tracks.t_s[:0],
        roles={
            r: replace(
                t,
                face=t.face[:0],
                face_score=t.face_score[:0],
                pose=t.pose[:0],
                pose_score=t.pose_score[:0],
            )
            for r, t in tracks.roles.items()
        },
    )
    series = compute_features(empty)
    assert series.values.shape == (0, len(FEATURE_NAMES))


# problem -> words of its own message (each problem must be named, not just any of them)
BAD_TRACKS = {
    "backwards clock": "not strictly increasing",
    "nan clock": "NaN or infinity",
    "short face array": "do not match the 10 timestamps",
    "zero size": "no frame size",
    "fps": "analysis rate must be a positive",
}


@pytest.mark.parametrize("problem", sorted(BAD_TRACKS))
def test_bad_tracks_raise_a_clear_error(real_face: RealFace, problem: str) -> None:
    tracks = dyad_tracks(real_face, np.arange(10) / 15.0)
    fps = 15.0
    if problem == "backwards clock":
        tracks = replace(tracks, t_s=tracks.t_s[::-1].copy())
    elif problem == "nan clock":
        tracks = replace(tracks, t_s=np.where(np.arange(10) == 3, np.nan, tracks.t_s))
    elif problem == "short face array":
        child = tracks.roles["child"]
        tracks = replace(
            tracks, roles={**tracks.roles, "child": replace(child, face=child.face[:5])}
        )
    elif problem == "zero size":
        tracks = replace(tracks, width=0)
    else:
        fps = 0.0
    with pytest.raises(FeaturesError, match=BAD_TRACKS[problem]):
        compute_features(tracks, fps=fps)


def test_trunk_lean_toward_the_partner_and_hips_out_of_frame(real_face: RealFace) -> None:
    """Shoulders shifted toward the child (on her right) lean > 0; hips MediaPipe placed below
    the frame's edge, however "visible" it calls them, are guesses: no lean."""
    tracks = dyad_tracks(real_face, np.arange(10) / 15.0)
    carer = tracks.roles["caregiver"]
    upright = compute_features(tracks).column("caregiver.trunk_lean")
    np.testing.assert_allclose(upright, 0.0, atol=0.5)
    leaning = carer.pose.copy()
    leaning[:, 11:13, 0] += 0.03
    lean = compute_features(
        replace(tracks, roles={**tracks.roles, "caregiver": replace(carer, pose=leaning)})
    ).column("caregiver.trunk_lean")
    assert (lean > 5).all()
    below = carer.pose.copy()
    below[:, 23:25, 1] = 1.1
    below[:, 23:25, 3] = 0.95
    cut = compute_features(
        replace(tracks, roles={**tracks.roles, "caregiver": replace(carer, pose=below)})
    ).column("caregiver.trunk_lean")
    assert np.isnan(cut).all()
