"""LandmarkTracks (and the voice) -> FeatureSeries: resample both people onto the grid, measure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cuevision.features import geometry as g
from cuevision.features.dyad import dyad_features
from cuevision.features.names import (
    DYAD_FEATURES,
    FEATURE_NAMES,
    PERSON_FEATURES,
    VOICE_FEATURES,
)
from cuevision.features.person import Body, person_features
from cuevision.features.timegrid import FeaturesError, analysis_grid, check_clock, resample
from cuevision.types import ANALYSIS_FPS, ROLES, FeatureSeries, LandmarkTracks, PersonTrack, Role

if TYPE_CHECKING:
    from cuevision.audio import VoiceMeasures

MAX_GAP_S = 0.3  # interpolate across at most this much missing time; longer holes stay NaN
MIN_VISIBILITY = 0.5  # pose points MediaPipe is less sure of than this count as missing
IN_FRAME_MARGIN = 0.02  # pose points this far outside the frame are guesses: missing
FOCAL_PER_SIDE = 0.87  # focal length / long image side: a webcam's ~60 degree field of view
FACE_WIDTH: dict[Role, float] = {"caregiver": 1.0, "child": 0.8}  # eye-corner width, vs adult


def compute_features(
    tracks: LandmarkTracks,
    *,
    fps: float = ANALYSIS_FPS,
    max_gap_s: float = MAX_GAP_S,
    voice: VoiceMeasures | None = None,
) -> FeatureSeries:
    """Every feature of :data:`FEATURE_NAMES` on the grid ``t = i / fps`` covering the video.

    ``voice`` is the video's audio (:func:`cuevision.audio.measure_voice`); None means no audio.
    """
    from cuevision.audio import voice_columns

    t_src = np.asarray(tracks.t_s, dtype=np.float64)
    check_clock(t_src)
    if tracks.width <= 0 or tracks.height <= 0:
        raise FeaturesError(f"landmark tracks have no frame size ({tracks.width}x{tracks.height})")
    t_grid = analysis_grid(t_src, fps)
    bodies = {
        role: _body(
            tracks.roles.get(role),
            t_src,
            t_grid,
            tracks.width,
            tracks.height,
            max_gap_s,
            FACE_WIDTH[role],
        )
        for role in ROLES
    }
    focal_px = FOCAL_PER_SIDE * max(tracks.width, tracks.height)
    units = [bodies[role].unit() for role in ROLES]
    dyad_unit = float(np.nanmean(units)) if np.isfinite(units).any() else float("nan")
    columns: dict[str, np.ndarray] = {}
    for role, partner in zip(ROLES, ROLES[::-1], strict=True):
        found = person_features(
            bodies[role], bodies[partner], fps=fps, dyad_unit=dyad_unit, focal_px=focal_px
        )
        columns.update({f"{role}.{name}": found[name] for name in PERSON_FEATURES})
    a, b = ROLES
    pair = dyad_features(
        bodies[a],
        bodies[b],
        columns[f"{a}.gaze_to_partner"],
        columns[f"{b}.gaze_to_partner"],
        dyad_unit=dyad_unit,
    )
    columns.update({f"dyad.{name}": pair[name] for name in DYAD_FEATURES})
    heard = voice_columns(
        voice,
        t_grid,
        fps,
        mouth_open={role: columns[f"{role}.mouth_open"] for role in ROLES},
        face_visible={role: columns[f"{role}.face_visible"] for role in ROLES},
    )
    columns.update({f"voice.{name}": heard[name] for name in VOICE_FEATURES})
    values = np.stack([columns[name] for name in FEATURE_NAMES], axis=1).astype(np.float32)
    return FeatureSeries(t_s=t_grid, fps=float(fps), names=FEATURE_NAMES, values=values)


def _body(
    track: PersonTrack | None,
    t_src: np.ndarray,
    t_grid: np.ndarray,
    width: int,
    height: int,
    max_gap_s: float,
    face_width: float,
) -> Body:
    """One role's landmarks in camera pixels, on the grid; a role with no track is all NaN."""
    n = len(t_src)
    if track is None:
        face = np.full((n, 478, 3), np.nan, dtype=np.float32)
        pose = np.full((n, 33, 4), np.nan, dtype=np.float32)
    else:
        face, pose = np.asarray(track.face), np.asarray(track.pose)
        if (
            face.shape[0] != n
            or pose.shape[0] != n
            or face.shape[1:] != (478, 3)
            or pose.shape[1:] != (33, 4)
        ):
            raise FeaturesError(
                f"landmark arrays do not match the {n} timestamps (face {face.shape}, pose "
                f"{pose.shape}); re-run `landmarks` to rebuild the file"
            )
    pose_xy = g.to_camera(pose[..., :3], width, height)[..., :2]
    inside = np.all(np.abs(pose[..., :2] - 0.5) <= 0.5 + IN_FRAME_MARGIN, axis=-1)
    pose_xy[~((pose[..., 3] >= MIN_VISIBILITY) & inside)] = np.nan
    return Body(
        face=resample(t_src, g.face_subset(face, width, height), t_grid, max_gap_s),
        pose=resample(t_src, pose_xy, t_grid, max_gap_s),
        face_width=face_width,
    )
