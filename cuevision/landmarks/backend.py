"""MediaPipe, the only module of cuevision that imports it: faces by detection + mesh, poses.

Choices, measured on this machine (640x480 Lookit clips, one core each):

- **Faces: two face detectors, then a 478-point face mesh on a crop around each face.**
  Full-frame FaceMesh misses faces narrower than ~100 px and often misses the parent in home
  clips. The full-range detector (``model_selection=1``, ~4 ms a frame) finds small faces; it
  sees the frame padded by ``PAD`` on every side, so that a face cut by the edge is whole to it.
  The short-range detector (``model_selection=0``, ~2 ms) finds the large, close, turned faces
  of webcam play: on frames of the 26 reference clips of two dyads, it found 88% of the faces
  both coders saw, the full-range one 56% (profiles: 94% against 51%). Boxes of both are merged
  when their centres are within ``SAME_FACE`` face sizes. The mesh (~4 ms a face) then runs on
  each crop, and fails on most profiles even so (its landmark model does); the extraction keeps
  such a face as a box without a mesh. Each tracked person keeps their own FaceMesh in tracking
  mode, so from frame to frame the mesh follows its own landmarks inside the crop and rarely
  re-runs its internal detector; that also lets ``extract`` follow a face the detectors miss
  from the previous frame's mesh, or look for it around its body's head (``detect_near``).
- **Poses: Tasks ``PoseLandmarker(num_poses=2)``** (~35 ms a frame), because the legacy ``Pose``
  finds one person only. Its model bundle is built here, offline, from the wheel's own
  ``pose_detection.tflite`` and ``pose_landmark_full.tflite`` (the latter given the input
  normalisation metadata it lacks, [0, 255] -> [0, 1]), into a cache folder; nothing is ever
  downloaded. Only the full model (complexity 1) ships in the wheel. Poses whose head-and-shoulder
  landmarks are not visible enough are dropped; visibility alone is not enough, though (0.99 on
  the cartoon sky of ``pyfeat/no_face.mp4``), so ``extract`` also drops bodies never seen with a
  face.
- **Timestamps.** MediaPipe's VIDEO mode needs strictly increasing integer milliseconds; real
  clips have frames < 1 ms apart, so the backend is fed its own strictly increasing clock while
  outputs keep the true PTS.
- **GIL.** MediaPipe's Python calls hold the GIL (two threads ran no faster than one), so the
  extraction runs pose in a second *process* (see ``extract``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks import python as mp_tasks
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.metadata.metadata_writers import (
    metadata_writer,
    model_asset_bundle_utils,
)

from cuevision.files import atomic_path, make_private_dir
from cuevision.landmarks.tracking import FaceBox

HEAD_AND_SHOULDERS = slice(0, 13)  # pose landmarks 0..12: face points and both shoulders
_MODULES = Path(mp.__file__).parent / "modules"
PAD = 0.15  # the full-range detector sees the frame padded by this fraction of its long side
DETECT_WIDTH = 640  # the detectors see frames no wider than this
SEARCH_SCALE = 2.5  # crop side / head box side, for the search around a pose's head
SAME_FACE = 0.5  # boxes of the two detectors closer than this many face sizes are one face


@dataclass(frozen=True)
class Pose:
    """One person's pose: (33, 4) x y z visibility, normalised; ``score``: head+shoulders seen."""

    points: np.ndarray
    score: float


def pose_bundle(cache_dir: Path) -> Path:
    """The PoseLandmarker ``.task`` bundle built from the wheel's tflite files (cached by hash)."""
    detector = (_MODULES / "pose_detection" / "pose_detection.tflite").read_bytes()
    landmarks = (_MODULES / "pose_landmark" / "pose_landmark_full.tflite").read_bytes()
    digest = hashlib.sha256(detector + landmarks).hexdigest()[:12]
    path = Path(cache_dir).expanduser() / f"pose_landmarker_full_{digest}.task"
    if path.is_file():
        return path
    writer = metadata_writer.MetadataWriter.create(bytearray(landmarks))
    writer.add_general_info("pose_landmarks_detector", "pose_landmark_full from mediapipe 0.10.21")
    writer.add_image_input(norm_mean=[0.0], norm_std=[255.0])
    for _ in range(5):  # landmarks, presence, segmentation, heatmap, world landmarks
        writer.add_feature_output()
    with_metadata, _ = writer.populate()
    make_private_dir(path.parent)
    with atomic_path(path) as partial:  # concurrent runs never see half a bundle
        model_asset_bundle_utils.create_model_asset_bundle(
            {
                "pose_detector.tflite": detector,
                "pose_landmarks_detector.tflite": bytes(with_metadata),
            },
            str(partial),
        )
    return path


class StrictClock:
    """Integer milliseconds that strictly increase, as MediaPipe's VIDEO mode demands."""

    def __init__(self) -> None:
        self._last = -1

    def __call__(self, t_s: float) -> int:
        self._last = max(int(round(t_s * 1000.0)), self._last + 1)
        return self._last


class FaceBackend:
    """Full-range face detection on the frame, then a tracking face mesh per person on a crop."""

    def __init__(
        self, *, slots: int, min_confidence: float, min_presence: float, crop_scale: float
    ) -> None:
        self._far, self._near = (
            mp.solutions.face_detection.FaceDetection(
                model_selection=model, min_detection_confidence=min_confidence
            )
            for model in (1, 0)
        )
        self._slots, self._min_confidence, self._min_presence = slots, min_confidence, min_presence
        self._meshes = self._new_meshes()
        self._crop_scale = crop_scale

    def _new_meshes(self) -> list[mp.solutions.face_mesh.FaceMesh]:
        return [
            mp.solutions.face_mesh.FaceMesh(
                static_image_mode=False,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=self._min_confidence,
                min_tracking_confidence=self._min_presence,
            )
            for _ in range(self._slots)
        ]

    def restart(self) -> None:
        """New face meshes, forgetting what they tracked (``tracking.Restarts``); the detectors
        keep no state."""
        for mesh in self._meshes:
            mesh.close()
        self._meshes = self._new_meshes()

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in the frame from both detectors, most confident first, duplicates merged.

        The full-range model sees the frame padded by ``PAD`` of its long side on every side, so
        a face cut by the edge is whole to it; the short-range model sees the frame as it is (it
        expects large faces, and padding shrinks them). Both see a copy at most ``DETECT_WIDTH``
        wide (their inputs are 192 and 128 pixels square): padding and converting a 720p frame
        cost more than detecting.
        """
        height, width = image.shape[:2]
        small = image
        if width > DETECT_WIDTH:
            size = (DETECT_WIDTH, int(round(height * DETECT_WIDTH / width)))
            small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        sh, sw = small.shape[:2]
        pad = int(round(PAD * max(sh, sw)))
        found = _boxes(self._near.process(small), 0, sw, sh, sw, sh)
        found += _boxes(
            self._far.process(_pad(small, pad)), pad, sw + 2 * pad, sh + 2 * pad, sw, sh
        )
        kept: list[FaceBox] = []
        for box in sorted(found, key=lambda b: -b.score):
            if not any(_same_face(box, other, width, height) for other in kept):
                kept.append(box)
        return kept

    def detect_near(self, image: np.ndarray, box: FaceBox) -> FaceBox | None:
        """The most confident face that the short-range detector finds in a square crop of side
        ``SEARCH_SCALE`` x the larger side of ``box`` around its centre (padded where it leaves
        the frame), whose centre lies within ``box``; None if none.

        For a head that the pose places but the full-frame detectors missed (a small face
        looking down, a blurred one): in the crop the face is large, as that model expects.
        """
        height, width = image.shape[:2]
        side = int(max(box.w * width, box.h * height) * SEARCH_SCALE)
        x0, y0 = int(box.cx * width) - side // 2, int(box.cy * height) - side // 2
        if side < 16:
            return None
        pad = max(0, -x0, -y0, x0 + side - width, y0 + side - height)
        source = image
        if pad:
            source = _pad(image, pad)
        crop = np.ascontiguousarray(source[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side])
        found = _boxes(self._near.process(crop), 0, side, side, side, side)
        for face in sorted(found, key=lambda b: -b.score):
            cx, cy = (x0 + face.cx * side) / width, (y0 + face.cy * side) / height
            if abs(cx - box.cx) <= box.w / 2 and abs(cy - box.cy) <= box.h / 2:
                return FaceBox(cx, cy, face.w * side / width, face.h * side / height, face.score)
        return None

    def mesh(self, image: np.ndarray, slot: int, box: FaceBox) -> np.ndarray | None:
        """(478, 3) landmarks of the face in ``box``, normalised to the full frame, or None.

        z is rescaled from the crop's width to the frame's width, so it stays on the scale of x.
        """
        height, width = image.shape[:2]
        side = max(box.w * width, box.h * height) * self._crop_scale
        x0 = int(max(0.0, box.cx * width - side / 2))
        y0 = int(max(0.0, box.cy * height - side / 2))
        x1 = int(min(float(width), box.cx * width + side / 2))
        y1 = int(min(float(height), box.cy * height + side / 2))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        result = self._meshes[slot].process(crop)
        if not result.multi_face_landmarks:
            return None
        points = np.array(
            [(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], dtype=np.float32
        )
        crop_w, crop_h = x1 - x0, y1 - y0
        points[:, 0] = (x0 + points[:, 0] * crop_w) / width
        points[:, 1] = (y0 + points[:, 1] * crop_h) / height
        points[:, 2] *= crop_w / width
        return points

    def close(self) -> None:
        self._far.close()
        self._near.close()
        for mesh in self._meshes:
            mesh.close()


def _pad(image: np.ndarray, pad: int) -> np.ndarray:
    """``image`` with a black border of ``pad`` pixels on every side."""
    return np.asarray(
        cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    )


def _boxes(
    result: object, pad: int, seen_w: int, seen_h: int, width: int, height: int
) -> list[FaceBox]:
    """A detector's faces, from the (padded) image it saw to the frame's normalised coordinates."""
    boxes = []
    for detection in getattr(result, "detections", None) or []:
        box = detection.location_data.relative_bounding_box
        boxes.append(
            FaceBox(
                cx=((box.xmin + box.width / 2) * seen_w - pad) / width,
                cy=((box.ymin + box.height / 2) * seen_h - pad) / height,
                w=box.width * seen_w / width,
                h=box.height * seen_h / height,
                score=float(detection.score[0]),
            )
        )
    return boxes


def _same_face(a: FaceBox, b: FaceBox, width: int, height: int) -> bool:
    """Two boxes whose centres are closer than half the larger face: one face."""
    size = max(a.w * width, a.h * height, b.w * width, b.h * height)
    return math.hypot((a.cx - b.cx) * width, (a.cy - b.cy) * height) < SAME_FACE * size


class PoseBackend:
    """Tasks PoseLandmarker, up to ``num_poses`` people, in VIDEO (tracking) mode."""

    def __init__(
        self, *, cache_dir: Path, num_poses: int, min_confidence: float, min_visibility: float
    ) -> None:
        self._options = vision.PoseLandmarkerOptions(
            base_options=mp_tasks.BaseOptions(model_asset_path=str(pose_bundle(cache_dir))),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=min_confidence,
            min_pose_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        self._landmarker = vision.PoseLandmarker.create_from_options(self._options)
        self._clock = StrictClock()
        self._min_visibility = min_visibility

    def restart(self) -> None:
        """A new landmarker and clock, forgetting the poses it tracked (``tracking.Restarts``)."""
        self._landmarker.close()
        self._landmarker = vision.PoseLandmarker.create_from_options(self._options)
        self._clock = StrictClock()

    def detect(self, image: np.ndarray, t_s: float) -> list[Pose]:
        """Poses whose head and shoulders are visible enough (mean visibility >= threshold)."""
        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        result = self._landmarker.detect_for_video(frame, self._clock(t_s))
        poses = []
        for landmarks in result.pose_landmarks:
            points = np.array(
                [(p.x, p.y, p.z, p.visibility or 0.0) for p in landmarks], dtype=np.float32
            )
            score = float(points[HEAD_AND_SHOULDERS, 3].mean())
            if score >= self._min_visibility:
                poses.append(Pose(points, score))
        return poses

    def close(self) -> None:
        self._landmarker.close()
