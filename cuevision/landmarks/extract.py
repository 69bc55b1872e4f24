"""Video in, ``landmarks.parquet`` out: faces, poses, tracks and roles, on two cores.

Pose, the slowest part (~35 ms a frame against ~20 ms for two faces), runs in a second process
(``pose_worker``) on the second core. The main process decodes, finds faces, tracks, reads the
colour of each body's clothes (role evidence), and streams rows to a temporary Parquet file
labelled by track; once the whole video is seen, roles are decided and the file is rewritten, a
row group at a time, with role labels. A face is written with its mesh where the mesh succeeds,
else as the detection's box alone (``face_source`` 1: profiles, faces cut by the edge). The time
chunks of a long video (``chunks``) run the same per-frame loop (``track_frames``) on their time
range, and their stitch ends the same way (``write_roles``); the face meshes and the pose restart
every ``restart_s`` of video time in both (``tracking.Restarts``), so chunks cut there are exact.

Analysis rate: by default the frames nearest a 15 Hz grid (every frame of slower sources).
15 Hz keeps every frame of the 7.5-15 fps home webcams, resolves gaze shifts and smiles
(hundreds of milliseconds long) to 67 ms, well inside the 2-frame tolerance of the cue labels,
and halves the work on 30 fps video, which is what brings 720p 30 fps to real time on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from cuevision import __version__
from cuevision.files import atomic_path
from cuevision.landmarks.io import RowWriter, relabel
from cuevision.landmarks.pose_worker import InlinePoses, PoseStream
from cuevision.landmarks.roles import RoleAssignment, Side, assign_roles
from cuevision.landmarks.tracking import Box, FaceBox, Restarts, Tracker
from cuevision.types import ANALYSIS_FPS, RESTART_S, ROLES, Role, VideoInfo
from cuevision.video import Frame, decode, probe

if TYPE_CHECKING:
    from cuevision.landmarks.backend import FaceBackend

TRACKS = ("track0", "track1")
# Bump when extraction or role assignment changes what landmarks.parquet holds for the same
# settings: it is part of the pipeline's stage key, so an upgrade recomputes old landmarks.
# 2: two face detectors, faces cut by the edge, faces without a mesh, search near pose heads;
# 3: the trackers restart on a grid of video time (restart_s), so that time chunks are exact
LANDMARKS_VERSION = 3
FOLLOWED_SCORE = 0.5  # face_score of a face found by its mesh alone, without a detection
HEAD_FROM_POSE = 1.2  # face box side / spread of the pose's face points (ears to mouth)
FOLLOW_BOX = 0.8  # a detection box is about this fraction of the mesh's landmark box
CLOTHING_SPAN = 0.6  # of the shoulder line, the middle part whose clothes give the colour
CLOTHING_VISIBILITY = 0.5  # both shoulders at least this visible to read the clothes
CLOTHING_MIN_PX = 64  # a smaller patch of clothes says nothing


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "cuevision"


@dataclass(frozen=True)
class LandmarkSettings:
    """How landmarks are extracted; its hash is stored in every output."""

    analysis_fps: float | None = ANALYSIS_FPS  # None: every frame
    child_side: Side | None = None  # override of the automatic role assignment
    face_min_confidence: float = 0.5  # both face detectors
    mesh_min_presence: float = 0.5  # face mesh presence to keep tracking a face (blur, turns)
    pose_min_confidence: float = 0.3  # PoseLandmarker detection, presence and tracking
    pose_min_visibility: float = 0.5  # mean visibility of head and shoulders to keep a pose
    crop_scale: float = 2.0  # face crop side / detected face box side, for the mesh
    max_gap_s: float = 1.0  # a track unseen for longer has left the frame
    # the face meshes and the pose restart every this many seconds of video (tracking.Restarts),
    # so that time chunks of a multiple of it give what the whole video gives (chunks); each
    # restart may lose a half-visible parent's body for a few seconds (benchmarks/chunks.py)
    restart_s: float = RESTART_S
    cache_dir: Path = field(default_factory=_default_cache)  # the built pose model bundle
    pose_process: bool = True  # poses on a second core; False: in this process (one core)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("cache_dir")  # where a model is cached does not change results
        data.pop("pose_process")  # nor which process finds the poses
        return data

    def decode_fps(self, info: VideoInfo) -> float | None:
        """The decode rate: the analysis rate, or None (every frame) for sources no faster."""
        fps = self.analysis_fps
        return None if fps is None or info.nominal_fps <= fps else fps

    @property
    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class LandmarkSummary:
    """What an extraction found and how fast it ran."""

    frames: int  # analysed frames
    duration_s: float  # of the video
    wall_s: float
    face_fraction: dict[Role, float]  # of analysed frames with that role's face
    pose_fraction: dict[Role, float]
    role_confidence: float
    role_method: str

    @property
    def speed(self) -> float:
        """Seconds of video per second of work (x real time)."""
        return self.duration_s / self.wall_s if self.wall_s > 0 else math.inf


def extract_landmarks(
    video: Path,
    out_parquet: Path,
    *,
    settings: LandmarkSettings,
    progress: Callable[[int, int], None] | None = None,
    info: VideoInfo | None = None,
) -> LandmarkSummary:
    """Extract both roles' face and pose landmarks of ``video`` into ``out_parquet``.

    ``progress(done, total)`` is called after each analysed frame (``total`` is an estimate).
    ``info`` is the caller's :func:`~cuevision.video.probe` of the video (under its own limits);
    without it the video is probed here with the default limits. Raises ``VideoError`` for an
    unusable video before any work.
    """
    started = time.perf_counter()
    info = info or probe(video)
    out_parquet = Path(out_parquet)
    with tempfile.TemporaryDirectory(dir=out_parquet.parent, prefix=".landmarks-") as scratch:
        partial = Path(scratch) / "tracks.parquet"  # rows by track slot, relabelled below
        with RowWriter(partial) as writer:
            tracked = track_frames(video, writer, settings=settings, info=info, progress=progress)
        assignment = write_roles(
            partial, out_parquet, tracked, settings=settings, info=info, video=video
        )
    return summarise(out_parquet, len(tracked.t_s), info, started, assignment)


@dataclass(frozen=True)
class Tracked:
    """What the per-frame loop learnt besides the rows: per analysed frame, its index, time and
    role evidence (``evidence`` columns: tracklet by slot, then face size, roundness and x by
    slot, then clothing colour by slot; see ``roles.assign_roles``)."""

    frame: np.ndarray  # (N,) int64
    t_s: np.ndarray  # (N,) float64
    evidence: np.ndarray  # (N, EVIDENCE_COLUMNS) float64


EVIDENCE_COLUMNS = 14


def track_frames(
    video: Path,
    writer: RowWriter,
    *,
    settings: LandmarkSettings,
    info: VideoInfo,
    progress: Callable[[int, int], None] | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> Tracked:
    """The per-frame loop: faces, poses and tracks of the analysed frames with
    ``start_s <= t_s < end_s`` (``end_s`` None: to the end), streamed to ``writer`` labelled by
    track slot (``TRACKS``). One loop for whole videos and time chunks, so a chunk's frames are
    analysed exactly as the whole video's are."""
    from cuevision.landmarks.backend import FaceBackend

    target_fps = settings.decode_fps(info)
    total = info.n_frames
    if target_fps is not None:
        total = min(total, math.floor(info.duration_s * target_fps) + 1)
    if start_s > 0 or end_s is not None:  # a time chunk: its share of the frames
        end = info.duration_s if end_s is None else min(end_s, info.duration_s)
        total = max(1, round(total * max(end - start_s, 0.0) / info.duration_s))
    faces = FaceBackend(
        slots=2,
        min_confidence=settings.face_min_confidence,
        min_presence=settings.mesh_min_presence,
        crop_scale=settings.crop_scale,
    )
    tracker = Tracker(slots=2, max_gap_s=settings.max_gap_s, default_size_px=0.1 * info.height)
    options: dict[str, object] = {
        "cache_dir": str(settings.cache_dir),
        "min_confidence": settings.pose_min_confidence,
        "min_visibility": settings.pose_min_visibility,
        "start_s": start_s,
        "end_s": end_s,
        "restart_s": settings.restart_s,
    }
    poses = (
        PoseStream(video, target_fps, options) if settings.pose_process else InlinePoses(options)
    )
    meshes: dict[int, np.ndarray] = {}
    restarts = Restarts(settings.restart_s)
    evidence: list[tuple[float, ...]] = []  # per frame: tracklet, size, roundness, x by slot
    times: list[float] = []
    indices: list[int] = []
    frames = decode(video, target_fps=target_fps, start_s=start_s, end_s=end_s)
    try:
        for done, frame in enumerate(frames, start=1):
            if restarts(frame.t_s):  # the pose restarts with them (pose_worker)
                faces.restart()
                meshes = {}
            meshes, scores, boxes = _faces(faces, tracker, frame, meshes)
            pose_points, pose_scores = poses.get(frame)
            heads = [_head(p, info.width, info.height) for p in pose_points]
            pose_of = tracker.assign_poses(heads, frame.t_s)
            for slot, body in pose_of.items():
                if slot not in meshes:
                    _face_from_pose(
                        faces, tracker, frame, slot, pose_points[body], meshes, scores, boxes
                    )
            row = [np.nan] * 12  # size, roundness, x (face, else pose head) per slot; colours
            for slot, label in enumerate(TRACKS):
                mesh = meshes.get(slot)
                k = pose_of.get(slot)
                pose = None if k is None else pose_points[k]
                writer.add(
                    frame.index,
                    frame.t_s,
                    label,
                    mesh,
                    scores.get(slot, 0.0),
                    pose,
                    0.0 if k is None else float(pose_scores[k]),
                    None if slot not in boxes else (boxes[slot].cx, boxes[slot].cy),
                )
                if mesh is not None:
                    row[3 * slot : 3 * slot + 3] = _face_shape(mesh, info.width, info.height)
                elif slot in boxes:
                    box = boxes[slot]
                    size = math.sqrt(box.w * info.width * box.h * info.height) / FOLLOW_BOX
                    row[3 * slot : 3 * slot + 3] = (size, math.nan, box.cx)  # mesh's scale
                elif k is not None:
                    row[3 * slot + 2] = heads[k][0] / info.width
                if pose is not None:
                    row[6 + 3 * slot : 9 + 3 * slot] = _clothing(frame.image, pose)
            writer.end_frame()
            evidence.append((*tracker.tracklets(frame.t_s), *row))
            times.append(frame.t_s)
            indices.append(frame.index)
            if progress is not None:
                progress(done, max(total, done))
    finally:
        poses.close()
        faces.close()
    return Tracked(
        np.array(indices, np.int64),
        np.array(times, np.float64),
        np.array(evidence, np.float64).reshape(-1, EVIDENCE_COLUMNS),
    )


def write_roles(
    partial: Path,
    out_parquet: Path,
    tracked: Tracked,
    *,
    settings: LandmarkSettings,
    info: VideoInfo,
    video: Path,
) -> RoleAssignment:
    """Decide the roles of the whole video from ``tracked`` and write ``out_parquet``
    (atomically) from ``partial``, the rows labelled by track slot in the same frame order.
    Whole-video extraction and the stitch of time chunks end here, so their files are alike."""
    table = tracked.evidence
    assignment = assign_roles(
        table[:, 0:2].astype(np.int64),
        table[:, [2, 5]],
        table[:, [3, 6]],
        table[:, [4, 7]],
        settings.child_side,
        table[:, 8:14].reshape(-1, 2, 3),
    )
    metadata = {
        "width": info.width,
        "height": info.height,
        "role_confidence": assignment.confidence,
        "role_method": assignment.method,
        "settings": settings.to_dict(),
        "settings_hash": settings.hash,
        "cuevision_version": __version__,
        "landmarks_version": LANDMARKS_VERSION,
        "video": Path(video).name,
    }
    with atomic_path(out_parquet) as target:
        relabel(
            partial,
            target,
            TRACKS,
            assignment.child_slot,
            _with_faces(table, tracked.t_s, settings.max_gap_s),
            metadata,
        )
    return assignment


def summarise(
    out_parquet: Path, frames: int, info: VideoInfo, started: float, assignment: RoleAssignment
) -> LandmarkSummary:
    """The summary of a landmarks file just written; ``started``: its ``time.perf_counter()``."""
    fractions = _fractions(out_parquet)
    return LandmarkSummary(
        frames=frames,
        duration_s=info.duration_s,
        wall_s=time.perf_counter() - started,
        face_fraction=fractions["face_score"],
        pose_fraction=fractions["pose_score"],
        role_confidence=assignment.confidence,
        role_method=assignment.method,
    )


def _faces(
    backend: FaceBackend, tracker: Tracker, frame: Frame, previous: dict[int, np.ndarray]
) -> tuple[dict[int, np.ndarray], dict[int, float], dict[int, FaceBox]]:
    """Face meshes and scores by track slot, and the detections whose mesh failed, by slot.

    A detection without a mesh (a profile, a face cut by the edge) still places the person's
    face: it keeps the track, tells the roles that two people are in view, and is written as a
    face without a mesh (``face_source`` 1).

    A face the detector misses in this frame (a profile, a close-up, motion blur) is followed by
    its mesh from the previous analysed frame (``previous``), scored ``FOLLOWED_SCORE``; the
    mesh's own presence check ends the chase when the face is gone.
    """
    height, width = frame.image.shape[:2]
    boxes = backend.detect(frame.image)[:4]
    pixel = [Box(b.cx * width, b.cy * height, math.sqrt(b.w * width * b.h * height)) for b in boxes]
    meshes: dict[int, np.ndarray] = {}
    scores: dict[int, float] = {}
    unmeshed: dict[int, FaceBox] = {}
    for slot, k in tracker.assign_faces(pixel, frame.t_s).items():
        mesh = backend.mesh(frame.image, slot, boxes[k])
        scores[slot] = boxes[k].score
        if mesh is not None:
            meshes[slot] = mesh
        else:
            unmeshed[slot] = boxes[k]
    for slot, last in previous.items():
        if slot in meshes:
            continue
        low, high = last[:, :2].min(axis=0), last[:, :2].max(axis=0)
        cx, cy = (low + high) / 2
        w, h = (high - low) * FOLLOW_BOX
        mesh = backend.mesh(frame.image, slot, FaceBox(float(cx), float(cy), float(w), float(h), 0))
        if mesh is not None:
            size = math.sqrt(float(w) * width * float(h) * height)
            _keep_found(tracker, slot, frame, mesh, size, meshes, scores)
    return meshes, scores, {s: b for s, b in unmeshed.items() if s not in meshes}


def _keep_found(
    tracker: Tracker,
    slot: int,
    frame: Frame,
    mesh: np.ndarray,
    size_px: float,
    meshes: dict[int, np.ndarray],
    scores: dict[int, float],
) -> None:
    """Keep a face that a search for ``slot`` found, unless it is someone else's."""
    height, width = frame.image.shape[:2]
    centre = mesh[:, :2].mean(axis=0)
    if not _own_face(tracker, slot, frame, centre, meshes):
        return
    meshes[slot] = mesh
    scores[slot] = FOLLOWED_SCORE
    tracker.follow_face(
        slot, Box(float(centre[0] * width), float(centre[1] * height), size_px), frame.t_s
    )


def _own_face(
    tracker: Tracker, slot: int, frame: Frame, centre: np.ndarray, meshes: dict[int, np.ndarray]
) -> bool:
    """Whether a face found by a search for ``slot`` (centre normalised) is not someone else's:
    no other track's face of this frame lies on it, and no other track was last seen nearer."""
    height, width = frame.image.shape[:2]
    for other in meshes.values():
        span = other[:, :2].max(axis=0) - other[:, :2].min(axis=0)
        if np.hypot(*((centre - other[:, :2].mean(axis=0)) / span)) < 0.5:
            return False
    nearest = tracker.nearest(float(centre[0] * width), float(centre[1] * height), frame.t_s)
    return nearest is None or nearest == slot


def _face_from_pose(
    backend: FaceBackend,
    tracker: Tracker,
    frame: Frame,
    slot: int,
    pose: np.ndarray,
    meshes: dict[int, np.ndarray],
    scores: dict[int, float],
    boxes: dict[int, FaceBox],
) -> None:
    """Look for the face of a body whose face neither the detectors nor the mesh found.

    The crop is centred on the pose's face points (0..10), sized by their spread; the mesh's own
    detector then works on a face at a good scale. Where the mesh fails and no detection placed
    the face yet, the short-range detector searches a crop around the head (``detect_near``).
    Adds to ``meshes``, ``scores`` and ``boxes``.
    """
    height, width = frame.image.shape[:2]
    points = pose[:11, :2] * (width, height)
    centre = points.mean(axis=0)
    side = max(float(np.ptp(points, axis=0).max()) * HEAD_FROM_POSE, 0.05 * height)
    box = FaceBox(centre[0] / width, centre[1] / height, side / width, side / height, 0.0)
    mesh = backend.mesh(frame.image, slot, box)  # also where a detection's crop failed: on
    if mesh is not None:  # the 26 reference clips, skipping those loses 7% of the meshes
        _keep_found(tracker, slot, frame, mesh, side, meshes, scores)
        if slot in meshes:
            boxes.pop(slot, None)
        return
    if slot in boxes:
        return
    found = backend.detect_near(frame.image, box)
    if found is None:
        return
    at = np.array([found.cx, found.cy])
    if not _own_face(tracker, slot, frame, at, meshes) or any(
        np.hypot(*((at - (b.cx, b.cy)) / (b.w, b.h))) < 0.5 for b in boxes.values()
    ):
        return
    boxes[slot] = found
    scores[slot] = found.score
    size = math.sqrt(found.w * width * found.h * height)
    tracker.follow_face(slot, Box(found.cx * width, found.cy * height, size), frame.t_s)


def _clothing(image: np.ndarray, pose: np.ndarray) -> tuple[float, float, float]:
    """Mean CIELAB colour of the clothes under a pose's shoulders (NaN where not in view).

    The patch spans the middle ``CLOTHING_SPAN`` of the shoulder line across, and reaches down
    from it by half the shoulders' width: the chest, whatever the hips do.
    """
    height, width = image.shape[:2]
    shoulders = pose[[11, 12]]
    if (shoulders[:, 3] < CLOTHING_VISIBILITY).any():
        return (math.nan, math.nan, math.nan)
    (lx, ly), (rx, ry) = shoulders[:, :2] * (width, height)
    span = abs(lx - rx)
    middle, top = (lx + rx) / 2, max(ly, ry) + 0.1 * span
    x0, x1 = (
        int(max(middle - CLOTHING_SPAN * span / 2, 0)),
        int(min(middle + CLOTHING_SPAN * span / 2, width)),
    )
    y0, y1 = int(max(top, 0)), int(min(top + span / 2, height))
    if min(x1 - x0, y1 - y0) < 2 or (x1 - x0) * (y1 - y0) < CLOTHING_MIN_PX:
        return (math.nan, math.nan, math.nan)
    patch = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB)
    lab = patch.reshape(-1, 3).mean(axis=0) * (100 / 255, 1, 1) - (0, 128, 128)  # L 0..100
    return (float(lab[0]), float(lab[1]), float(lab[2]))


def _head(pose: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """Visibility-weighted centre of a pose's face points (0..10), in pixels."""
    weight = np.clip(pose[:11, 3], 1e-3, None)
    return (
        float(np.average(pose[:11, 0], weights=weight) * width),
        float(np.average(pose[:11, 1], weights=weight) * height),
    )


def _with_faces(table: np.ndarray, t_s: np.ndarray, max_gap_s: float) -> np.ndarray:
    """(N, 2) whether each sighting belongs to a person seen with a face mesh at some time.

    Poses alone are not trusted: PoseLandmarker reports people with head-and-shoulder visibility
    0.99 on a cartoon sky (``pyfeat/no_face.mp4``), and the short-range face detector finds a few
    faces there too, which its mesh rejects. A body, or a face without a mesh, is kept when its
    tracklet, or one that the same track continued without a gap (a split at a jumping face),
    shows a face mesh.
    """
    tracklet = table[:, 0:2].astype(np.int64)
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    for slot in (0, 1):
        last, last_t = -1, -math.inf
        for k in np.flatnonzero(tracklet[:, slot] >= 0):
            i = int(tracklet[k, slot])
            if last >= 0 and i != last and t_s[k] - last_t <= max_gap_s:
                parent[root(i)] = root(last)
            last, last_t = i, float(t_s[k])
    faced = {root(int(i)) for i in tracklet[np.isfinite(table[:, [3, 6]])] if i >= 0}  # meshes
    keep = np.zeros(tracklet.shape, bool)
    for slot in (0, 1):
        keep[:, slot] = [i >= 0 and root(int(i)) in faced for i in tracklet[:, slot]]
    return keep


def _face_shape(mesh: np.ndarray, width: int, height: int) -> tuple[float, float, float]:
    """Face size (px, geometric mean of the landmark box's sides), roundness, centre x.

    Roundness is cheek-to-cheek (234-454) over forehead-to-chin (10-152) in 3D, so turning the
    head changes it little; ``roles`` explains why it tells a child from an adult.
    """
    span = mesh[:, :2].max(axis=0) - mesh[:, :2].min(axis=0)
    size = math.sqrt(max(float(span[0]) * width, 0.0) * max(float(span[1]) * height, 0.0))
    pixels = mesh * np.array([width, height, width], np.float32)
    across = np.linalg.norm(pixels[234] - pixels[454])
    down = np.linalg.norm(pixels[10] - pixels[152])
    return size, float(across / down) if down > 0 else math.nan, float(mesh[:, 0].mean())


def _fractions(path: Path) -> dict[str, dict[Role, float]]:
    """By score column (face, pose): fraction of analysed frames where each role scores > 0."""
    import pyarrow.parquet as pq

    columns = ["face_score", "pose_score"]
    table = pq.read_table(str(path), columns=["role", *columns]).to_pandas()
    found = (table[columns] > 0).groupby(table["role"]).mean()
    return {
        column: {role: float(found[column].get(role, 0.0)) for role in ROLES} for column in columns
    }
