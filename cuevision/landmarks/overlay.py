"""Landmarks drawn on the video, and contact sheets: people would rather look than read.

Each role has a colour (caregiver orange, child cyan): face-mesh points, the pose skeleton and a
label with the face score. Only analysed frames are drawn, at their own mean rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from cuevision.errors import CuevisionError
from cuevision.landmarks import read_landmarks
from cuevision.types import ANALYSIS_FPS, LandmarkTracks, Role
from cuevision.video import VideoWriter, decode

COLOURS: dict[Role, tuple[int, int, int]] = {"caregiver": (255, 140, 0), "child": (0, 200, 255)}
SKELETON = (  # MediaPipe pose indices: shoulders, arms, hips, legs
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28),
)  # fmt: skip
MIN_VISIBILITY = 0.5


def draw(image: np.ndarray, tracks: LandmarkTracks, row: int) -> np.ndarray:
    """A copy of ``image`` with both roles' landmarks of analysed frame ``row`` drawn on it."""
    out = image.copy()
    height, width = out.shape[:2]
    scale = np.array([width, height], np.float64)
    thick = max(1, round(height / 360))
    for role, track in tracks.roles.items():
        colour = COLOURS[role]
        pose = track.pose[row]
        if np.isfinite(pose).all():
            points = (pose[:, :2] * scale).round().astype(int)
            for a, b in SKELETON:
                if min(pose[a, 3], pose[b, 3]) >= MIN_VISIBILITY:
                    cv2.line(out, tuple(points[a]), tuple(points[b]), colour, thick, cv2.LINE_AA)
        face = track.face[row]
        if np.isfinite(face).all():
            xy = (face[:, :2] * scale).round().astype(int)
            inside = (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
            out[xy[inside, 1], xy[inside, 0]] = colour
            x0, y0 = xy.min(axis=0)
            label = f"{role} {track.face_score[row]:.2f}"
            anchor = (int(max(x0, 0)), int(max(y0 - 6, 14)))
            cv2.putText(out, label, anchor, cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, thick)
        elif np.isfinite(pose).all():
            nose = (pose[0, :2] * scale).round().astype(int)
            anchor = (int(np.clip(nose[0], 0, width - 80)), int(np.clip(nose[1], 14, height)))
            cv2.putText(out, f"{role} (body)", anchor, cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1)
    return out


def _analysed(video: Path, tracks: LandmarkTracks) -> Iterator[tuple[int, np.ndarray]]:
    """(row in tracks, frame image) for every analysed frame, decoding the video once."""
    rows = {int(frame): row for row, frame in enumerate(tracks.frame)}
    for frame in decode(video):
        if frame.index == 0 and frame.image.shape[:2] != (tracks.height, tracks.width):
            raise CuevisionError(
                f"{video} is {frame.image.shape[1]}x{frame.image.shape[0]} px but the landmarks "
                f"are of a {tracks.width}x{tracks.height} video; give the video they came from"
            )
        row = rows.get(frame.index)
        if row is not None:
            yield row, frame.image
        if frame.index >= tracks.frame[-1]:
            return


def write_overlay(video: Path, outdir: Path, out: Path, sheet: Path | None = None) -> int:
    """Write the overlay video (H.264) and optionally a contact sheet; returns frames written."""
    if sheet is not None and (sheet.suffix.lower() != ".png" or sheet.is_dir()):
        raise CuevisionError(f"{sheet}: the contact sheet is a PNG file; name it like sheet.png")
    tracks = read_landmarks(outdir / "landmarks.parquet")
    n = len(tracks.frame)
    if n == 0:
        return 0
    span = float(tracks.t_s[-1] - tracks.t_s[0])
    fps = (n - 1) / span if n > 1 and span > 0 else ANALYSIS_FPS
    picks = set(np.linspace(0, n - 1, num=min(n, 6)).round().astype(int).tolist())
    tiles: list[np.ndarray] = []
    with VideoWriter(out, fps, tracks.width, tracks.height) as writer:
        for row, image in _analysed(video, tracks):
            drawn = draw(image, tracks, row)
            writer.write(drawn)
            if row in picks:
                label = f"t={tracks.t_s[row]:.2f}s frame {tracks.frame[row]}"
                cv2.putText(drawn, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255,) * 3, 1)
                tiles.append(drawn)
        written = writer.frames_written
    if sheet is not None:
        write_sheet(tiles, sheet)
    return written


def write_sheet(images: list[np.ndarray], path: Path, columns: int = 3, width: int = 480) -> None:
    """Tile images (RGB) into a PNG contact sheet, each scaled to ``width`` pixels."""
    if not images:
        return
    height = round(images[0].shape[0] * width / images[0].shape[1])
    small = [cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA) for image in images]
    while len(small) % columns:
        small.append(np.zeros_like(small[0]))
    rows = [np.hstack(small[i : i + columns]) for i in range(0, len(small), columns)]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR)):
        raise CuevisionError(f"{path}: cannot write the contact sheet; check the folder")
