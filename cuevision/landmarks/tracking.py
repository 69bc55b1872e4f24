"""Two person tracks kept stable across frames, short gaps and exits from the frame.

Each track remembers where its face last was (centre and size, in pixels) and where its pose's
head last was. Detections go to tracks by an optimal assignment (Hungarian) on a cost that grows
with the distance from the last position, in units of face size, and with the change of face
size (a face's size changes slowly; two people's faces often differ). A track seen recently
only accepts a detection close to it (a gate), so a third face, a picture or a hand, cannot
steal it; a track unseen for longer than ``max_gap_s`` has left the frame and takes back the
next face that no recent track claims, preferring one near where it left. A body (pose) joins
the person whose face or body is within ``POSE_GATE`` face sizes of its head; one near a
tracked person never starts another track (PoseLandmarker sometimes reports one person twice).

Identity after a gap is a guess, so each stretch of a track without such a gap is a *tracklet*
with its own number; roles are decided per tracklet (``roles``), never by the slot alone. A
tracklet also ends where a face appears far from the track's last face (more than half a face
size away): a short tracklet too many costs little, two people in one tracklet a wrong role.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

NEVER = 1e6  # cost of a forbidden pairing
NEW_TRACK_COST = 5.0  # a face starting a never-seen track: worse than any plausible match
STALE_CAP = 4.0  # a track away for longer than max_gap_s: any face may re-enter it
FACE_GATE = 2.5  # a recent track refuses faces farther than this (cost units)
JUMP = 0.5  # a face this many face sizes from the track's last face starts a new tracklet
POSE_GATE = 1.25  # a pose's head farther than this many face sizes from the face: another person


class Restarts:
    """When the trackers with state (face meshes, poses) start afresh: at the first analysed
    frame at or after each multiple of ``every_s`` seconds of video (PTS from the first frame).

    MediaPipe's trackers carry state from frame to frame without end, so a run started anywhere
    else (a time chunk) would find other landmarks ever after. On a fixed grid of video time, a
    chunk cut at a grid point starts where the whole video's run starts afresh too, and from
    there both analyse alike. Call once per analysed frame, in order: True where the trackers
    must restart before it (never for the first frame: they are new then anyway).
    """

    def __init__(self, every_s: float) -> None:
        self._every_s = every_s
        self._period: int | None = None

    def __call__(self, t_s: float) -> bool:
        period = math.floor(t_s / self._every_s)
        due = self._period is not None and period != self._period
        self._period = period
        return due


@dataclass(frozen=True)
class FaceBox:
    """A detected face in normalised coordinates of the full frame."""

    cx: float
    cy: float
    w: float
    h: float
    score: float


@dataclass(frozen=True)
class Box:
    """A face in pixels: centre, size (geometric mean of width and height)."""

    x: float
    y: float
    size: float


@dataclass
class _Track:
    face: Box | None = None
    face_t: float = -math.inf
    head: tuple[float, float] | None = None
    head_t: float = -math.inf
    tracklet: int = -1  # changes whenever the track is taken up again after a gap

    @property
    def seen_t(self) -> float:
        return max(self.face_t, self.head_t)


class Tracker:
    """Stable slot numbers (0, 1, ...) for faces and poses of up to ``slots`` people."""

    def __init__(self, *, slots: int, max_gap_s: float, default_size_px: float) -> None:
        self._tracks = [_Track() for _ in range(slots)]
        self._tracklets = 0
        self._max_gap_s = max_gap_s
        self._default_size = default_size_px  # face size assumed for a body never seen with one

    def _anchor(self, track: _Track, t_s: float) -> tuple[float, float, float, bool] | None:
        """Where the person of ``track`` is expected: x, y, face size (px), and whether recent.

        The last face if recent, else the last head of the body (face turned away or covered),
        else whichever was seen last.
        """
        size = track.face.size if track.face is not None else self._default_size
        face = (track.face.x, track.face.y) if track.face is not None else None
        if face is not None and t_s - track.face_t <= self._max_gap_s:
            return (*face, size, True)
        if track.head is not None and t_s - track.head_t <= self._max_gap_s:
            return (*track.head, size, True)
        last = face if track.face_t >= track.head_t else track.head
        return None if last is None else (*last, size, False)

    def _cost(self, track: _Track, seen: Box, t_s: float, gate: float) -> float:
        """Cost of ``seen`` (size 0: a body's head, size unknown) continuing ``track``."""
        x, y, size = seen.x, seen.y, seen.size
        anchor = self._anchor(track, t_s)
        if anchor is None:
            return NEW_TRACK_COST
        ax, ay, asize, recent = anchor
        cost = math.hypot(x - ax, y - ay) / max(asize, size)
        if track.face is not None and size > 0:
            cost += 2.0 * abs(math.log(size / track.face.size))
        if not recent:
            return min(cost, STALE_CAP)
        return cost if cost <= gate else NEVER

    def _face_cost(self, track: _Track, box: Box, t_s: float) -> float:
        return self._cost(track, box, t_s, FACE_GATE)

    def _pose_cost(self, track: _Track, head: tuple[float, float], t_s: float) -> float:
        return self._cost(track, Box(head[0], head[1], 0.0), t_s, POSE_GATE)

    def assign_faces(self, boxes: Sequence[Box], t_s: float) -> dict[int, int]:
        """Map slot -> index into ``boxes`` for this frame, and remember the matched faces."""
        pairs = _assign(
            [[self._face_cost(track, box, t_s) for track in self._tracks] for box in boxes]
        )
        for box_index, slot in pairs:
            self._resume(slot, t_s, boxes[box_index])
            self._tracks[slot].face = boxes[box_index]
            self._tracks[slot].face_t = t_s
        return {slot: box_index for box_index, slot in pairs}

    def follow_face(self, slot: int, box: Box, t_s: float) -> None:
        """Record a face of ``slot`` that was found without a detection (followed by its mesh)."""
        self._resume(slot, t_s, box)
        self._tracks[slot].face = box
        self._tracks[slot].face_t = t_s

    def nearest(self, x: float, y: float, t_s: float) -> int | None:
        """The slot whose recent position (face, else body) is nearest to (x, y) px, if any."""
        best: tuple[float, int] | None = None
        for slot, track in enumerate(self._tracks):
            anchor = self._anchor(track, t_s)
            if anchor is not None and anchor[3]:
                distance = math.hypot(x - anchor[0], y - anchor[1]) / anchor[2]
                best = min(best, (distance, slot)) if best else (distance, slot)
        return None if best is None else best[1]

    def _resume(self, slot: int, t_s: float, face: Box | None = None) -> None:
        """Start a new tracklet where identity is a guess: after a gap longer than
        ``max_gap_s``, or where a face appears more than ``JUMP`` face sizes from the track's
        last face (typically after the face was missing a while and a body carried the track)."""
        track = self._tracks[slot]
        jump = (
            face is not None
            and track.face is not None
            and math.hypot(face.x - track.face.x, face.y - track.face.y)
            > JUMP * max(face.size, track.face.size)
        )
        if t_s - track.seen_t > self._max_gap_s or jump:
            track.tracklet = self._tracklets
            self._tracklets += 1

    def tracklets(self, t_s: float) -> tuple[int, ...]:
        """Each slot's tracklet number if it was seen at ``t_s``, else -1."""
        return tuple(track.tracklet if track.seen_t == t_s else -1 for track in self._tracks)

    def assign_poses(self, heads: Sequence[tuple[float, float]], t_s: float) -> dict[int, int]:
        """Map slot -> index into ``heads`` (pose head centres in pixels); call after faces.

        A body near a person already tracked is theirs or a duplicate: it never starts or takes
        up another track (PoseLandmarker sometimes reports one person twice).
        """
        cost = [[self._pose_cost(track, head, t_s) for track in self._tracks] for head in heads]
        for row in cost:
            if min(row) <= POSE_GATE:  # near a recent track: only recent tracks may take it
                row[:] = [c if c <= POSE_GATE else NEVER for c in row]
        pairs = _assign(cost)
        for head_index, slot in pairs:
            self._resume(slot, t_s)
            self._tracks[slot].head = heads[head_index]
            self._tracks[slot].head_t = t_s
        return {slot: head_index for head_index, slot in pairs}


def _assign(cost: list[list[float]]) -> list[tuple[int, int]]:
    """Optimal (row, column) pairs of a cost matrix, forbidden pairings left out."""
    if not cost:
        return []
    matrix = np.asarray(cost, dtype=np.float64)
    rows, cols = linear_sum_assignment(matrix)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if matrix[r, c] < NEVER]
