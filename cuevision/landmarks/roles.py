"""Which person is the child: decided per tracklet from the whole video, so roles never flicker.

A tracklet (see ``tracking``) is one person for certain; across a gap, identity is a guess. Two
tracklets seen in the same frame are two people, so they get different roles: the tracklets and
these "not the same person" links form a bipartite graph, and each connected part has exactly two
consistent role assignments. Each tracklet collects votes for "child" (positive) or "caregiver"
(negative), one per frame with its face:

- **Face size, paired:** in a frame with both faces, +1 for the smaller face, -1 for the larger
  (distance to the camera and zoom act on both alike).
- **Face size, alone:** +-0.5 by the log ratio to the session's median face size (saturating at
  1.5x), a weak cue, as the child may come close to the camera.
- **Face roundness:** width / height of the face mesh (3D distances between cheeks 234-454 and
  forehead-chin 10-152) is higher for a small child's rounder face (measured median: 1.01 vs
  0.88, 0.90 vs 0.83, 0.89 vs 0.92 on three Lookit dyads, the last with the child nearer the
  camera); +-1 per 0.05 above or below the session's median.

Each connected part takes the assignment the votes favour; ``confidence`` is the net agreement
of all votes with the chosen roles, ``(agree - disagree) / total``, 0..1. The override
``child_side`` replaces the votes by the side: +1 per frame for the tracklet on the child's side
of its partner, or of the image centre when alone; confidence 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Side = Literal["left", "right"]
ROUNDNESS_STEP = 0.05  # width/height difference worth one full vote
SIZE_RATIO_STEP = 1.5  # face size ratio to the session median worth half a vote


@dataclass(frozen=True)
class RoleAssignment:
    """Per analysed frame, which slot (0 or 1) holds the child; with confidence and method."""

    child_slot: np.ndarray  # (N,) int8
    confidence: float
    method: str


def assign_roles(
    tracklet: np.ndarray,
    size: np.ndarray,
    roundness: np.ndarray,
    x: np.ndarray,
    child_side: Side | None = None,
) -> RoleAssignment:
    """Roles from (N, 2) per-frame, per-slot arrays: tracklet id (-1 none), face size px,
    face roundness and face centre x (NaN where no face).

    >>> t = np.array([[0, 1], [0, 1], [0, -1]])
    >>> size = np.array([[80.0, 40.0], [82.0, 41.0], [79.0, np.nan]])
    >>> a = assign_roles(t, size, np.full((3, 2), np.nan), np.full((3, 2), 0.5))
    >>> a.child_slot.tolist(), a.confidence
    ([1, 1, 1], 1.0)
    """
    votes = _side_votes(x, tracklet, child_side) if child_side else _votes(size, roundness)
    ids = sorted(set(tracklet[tracklet >= 0].tolist()))
    score = {i: float(votes[tracklet == i].sum()) for i in ids}
    weight = {i: float(np.abs(votes[tracklet == i]).sum()) for i in ids}
    partners: dict[int, set[int]] = {i: set() for i in ids}
    for a, b in tracklet[(tracklet >= 0).all(axis=1)].tolist():
        partners[a].add(b)
        partners[b].add(a)
    is_child: dict[int, bool] = {}
    agree = 0.0
    for start in ids:
        if start in is_child:
            continue
        part = {start: True}  # colour a connected part by breadth-first search
        todo = [start]
        while todo:
            node = todo.pop()
            for other in partners[node]:
                if other not in part:
                    part[other] = not part[node]
                    todo.append(other)
        net = sum(score[i] if child else -score[i] for i, child in part.items())
        flip = net < 0
        is_child.update({i: child != flip for i, child in part.items()})
        agree += abs(net)
    total = sum(weight.values())
    child_slot = np.zeros(len(tracklet), np.int8)
    for slot in (0, 1):
        present = tracklet[:, slot] >= 0
        child_here = np.array([is_child[i] for i in tracklet[present, slot].tolist()], bool)
        rows = np.flatnonzero(present)
        child_slot[rows[child_here]] = slot
        child_slot[rows[~child_here]] = 1 - slot
    if child_side:
        return RoleAssignment(child_slot, 1.0, f"override: child on the {child_side}")
    confidence = round(agree / total, 3) if total else 0.0
    method = f"face size and roundness votes over {len(ids)} tracklets"
    return RoleAssignment(child_slot, confidence, method)


def _votes(size: np.ndarray, roundness: np.ndarray) -> np.ndarray:
    """(N, 2) child votes per frame and slot (see module docstring)."""
    seen = np.isfinite(size)
    votes = np.zeros(size.shape, np.float64)
    paired = seen.all(axis=1)
    smaller = size[paired, 1] < size[paired, 0]
    votes[paired, 1] = np.where(smaller, 1.0, -1.0)
    votes[paired, 0] = -votes[paired, 1]
    if seen.any():
        alone = seen & ~paired[:, None]
        ratio = np.log(np.nanmedian(size) / size[alone]) / np.log(SIZE_RATIO_STEP)
        votes[alone] = 0.5 * np.clip(ratio, -1.0, 1.0)
        rounded = np.isfinite(roundness)
        centre = np.median(roundness[rounded])
        votes[rounded] += np.clip((roundness[rounded] - centre) / ROUNDNESS_STEP, -1.0, 1.0)
    return votes


def _side_votes(x: np.ndarray, tracklet: np.ndarray, side: Side) -> np.ndarray:
    """(N, 2) votes +1 for the slot on the child's side (of its partner, else of the centre)."""
    sign = 1.0 if side == "left" else -1.0
    other = x[:, ::-1]
    reference = np.where(np.isfinite(other), other, 0.5)
    votes = np.where(np.isfinite(x), sign * np.sign(reference - x), 0.0)
    return np.where(tracklet >= 0, votes, 0.0)
