"""Which person is the child: decided per tracklet from the whole video, so roles never flicker.

A tracklet (see ``tracking``) is one person for certain; across a gap, identity is a guess. Two
tracklets seen in the same frame are two people, so they get different roles: the tracklets and
these "not the same person" links (from frames with both faces; a body may be a duplicate
detection) form a bipartite graph, and each connected part has exactly two
consistent role assignments. Each tracklet collects votes for "child" (positive) or "caregiver"
(negative), one per frame with its face:

- **Face roundness**, the strongest cue: width / height of the face mesh (3D distances between
  the cheeks 234-454 and forehead to chin 10-152, so turning the head changes it little) is
  higher for a small child's rounder face. Median child vs caregiver on the four Lookit dyads,
  measured on frames with both faces: 1.01 vs 0.88, 0.93 vs 0.83, 0.94 vs 0.89, 0.97 vs 0.83,
  including the two where the child comes nearer the camera than the parent. In a frame with
  both faces, +-1 per 0.05 of difference between the two (antisymmetric); alone, against the
  session's median.
- **Face size**: a child may sit nearer the camera (it does in two of the four dyads), so with
  both faces the vote grows with the size ratio: +-1 per factor 1.25 (log scale), at most +-2,
  so a clearly smaller face (1.56x) outweighs roundness. Alone, +-0.25 by the log ratio to the
  session's median size, saturating at 1.5x. Weighed on the paired frames of the four dyads and
  the synthetic one (whose sprites are all adult faces), these votes favour the true child in
  every clip (the sum of votes: +608, +76, +6, +79, +161).

Each connected part takes the assignment the votes favour. Then, where that puts the two
people's faces on clearly different sides of the image, every sighting (a face, or a body whose
face is hidden) adds half a vote for the role whose side it is on, and the parts are decided
again: people in a play session rarely swap sides, and this carries the roles to tracklets with
little evidence of their own. Likewise people keep their clothes: where the two roles' clothing
(the mean colour under each pose's shoulders) differs clearly, every sighting with a body adds
half a vote for the role whose colour it wears. ``confidence`` is the net agreement of all votes
with the chosen roles, ``(agree - disagree) / total``, 0..1. The override ``child_side``
replaces the votes by the side: +1 per frame for the tracklet on the child's side of its
partner, or of the image centre when alone; confidence 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Side = Literal["left", "right"]
ROUNDNESS_STEP = 0.05  # width/height difference worth one full vote
SIZE_RATIO_STEP = 1.5  # face size ratio to the session median worth a full size vote
SIDE_APART = 0.15  # the roles' median face x this far apart: people keep their sides
SIDE_WEIGHT = 0.5  # a sighting on one role's side: half a vote
PAIRED_SIZE_STEP = 1.25  # of two faces, one this much smaller: a full vote ...
PAIRED_SIZE_CAP = 2.0  # ... and at most two (1.56x), which outweighs roundness
ALONE_SIZE_WEIGHT = 0.25  # a lone face smaller than the session's median: a quarter vote
COLOUR_APART = 15.0  # the roles' median clothing colours this far apart (CIELAB): a cue
COLOUR_WEIGHT = 0.5  # a sighting in one role's clothes: half a vote
MIN_COLOUR_FRAMES = 10  # frames of each role's clothes needed to know their colour


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
    colour: np.ndarray | None = None,
) -> RoleAssignment:
    """Roles from (N, 2) per-frame, per-slot arrays: tracklet id (-1 none), face size px,
    face roundness, and x of the face centre (else of the pose's head; NaN where nobody);
    ``colour`` (N, 2, 3): the mean CIELAB colour of the clothing under each pose's shoulders.

    >>> t = np.array([[0, 1], [0, 1], [0, -1]])
    >>> size = np.array([[80.0, 40.0], [82.0, 41.0], [79.0, np.nan]])
    >>> roundness = np.where(np.isfinite(size), 0.9, np.nan)
    >>> a = assign_roles(t, size, roundness, np.full((3, 2), 0.5))
    >>> a.child_slot.tolist(), a.confidence
    ([1, 1, 1], 1.0)
    """
    faces = np.isfinite(size)
    if child_side:
        is_child, _ = _solve(tracklet, faces, _side_votes(x, tracklet, child_side))
        return RoleAssignment(
            _child_slot(tracklet, is_child, faces), 1.0, f"override: child on the {child_side}"
        )
    votes = _votes(size, roundness)
    first, _ = _solve(tracklet, faces, votes)
    first_slot = _child_slot(tracklet, first, faces)
    side = _side_prior(tracklet, x, size, first_slot)
    looks = np.zeros(x.shape) if colour is None else _colour_prior(tracklet, colour, first_slot)
    is_child, confidence = _solve(tracklet, faces, votes + side + looks)
    method = f"face roundness and size votes over {len(is_child)} tracklets"
    if side.any():
        method += ", and which side each person keeps"
    if looks.any():
        method += ", and the colour of each person's clothes"
    return RoleAssignment(_child_slot(tracklet, is_child, faces), confidence, method)


def _solve(
    tracklet: np.ndarray, faces: np.ndarray, votes: np.ndarray
) -> tuple[dict[int, bool], float]:
    """Tracklet -> is the child, colouring each part of the not-the-same-person graph as its
    votes favour; and the net agreement of all votes with that, 0..1."""
    ids = sorted(set(tracklet[tracklet >= 0].tolist()))
    score = {i: float(votes[tracklet == i].sum()) for i in ids}
    partners: dict[int, set[int]] = {i: set() for i in ids}
    for a, b in tracklet[(tracklet >= 0).all(axis=1) & faces.all(axis=1)].tolist():
        partners[a].add(b)
        partners[b].add(a)
    is_child: dict[int, bool] = {}
    agree = 0.0
    for start in ids:
        if start in is_child:
            continue
        part = {start: True}  # breadth-first colouring of one connected part
        todo = [start]
        while todo:
            node = todo.pop()
            for other in partners[node]:
                if other not in part:
                    part[other] = not part[node]
                    todo.append(other)
        net = sum(score[i] if child else -score[i] for i, child in part.items())
        is_child.update({i: child != (net < 0) for i, child in part.items()})
        agree += abs(net)
    total = float(np.abs(votes[tracklet >= 0]).sum())
    return is_child, round(agree / total, 3) if total else 0.0


def _child_slot(tracklet: np.ndarray, is_child: dict[int, bool], faces: np.ndarray) -> np.ndarray:
    """(N,) the slot holding the child in each frame (0 where nobody is seen).

    Where both slots' tracklets got the same role (only a face-to-face frame proves two
    people), the slot showing a face keeps its role and the other takes the remaining one.
    """
    child = np.full(tracklet.shape, -1, np.int8)  # 1 child, 0 caregiver, -1 nobody
    for slot in (0, 1):
        present = tracklet[:, slot] >= 0
        child[present, slot] = [is_child[i] for i in tracklet[present, slot].tolist()]
    decider = np.where(faces[:, 0] | (child[:, 1] < 0), 0, 1)  # slot whose role stands
    rows = np.arange(len(child))
    decided = child[rows, decider]
    return np.where(decided == 1, decider, np.where(decided == 0, 1 - decider, 0)).astype(np.int8)


def _side_prior(
    tracklet: np.ndarray, x: np.ndarray, size: np.ndarray, child_slot: np.ndarray
) -> np.ndarray:
    """(N, 2) votes for people keeping their side of the image, from a first assignment.

    Where the first assignment puts the child's and the caregiver's faces clearly apart (median
    x at least ``SIDE_APART`` apart), every sighting (face, or body when the face is hidden)
    votes ``SIDE_WEIGHT`` for the role whose side it is on: this carries the roles to tracklets
    with little evidence of their own, such as a body whose face is covered.
    """
    rows = np.arange(len(x))
    faces = np.isfinite(size)
    child_x = x[rows, child_slot][faces[rows, child_slot]]
    care_x = x[rows, 1 - child_slot][faces[rows, 1 - child_slot]]
    if not len(child_x) or not len(care_x):
        return np.zeros(x.shape)
    apart = float(np.median(child_x) - np.median(care_x))
    if abs(apart) < SIDE_APART:
        return np.zeros(x.shape)
    middle = float(np.median(care_x)) + apart / 2
    votes = SIDE_WEIGHT * np.clip((x - middle) * np.sign(apart) / SIDE_APART, -1.0, 1.0)
    return np.where((tracklet >= 0) & np.isfinite(x), votes, 0.0)


def _colour_prior(tracklet: np.ndarray, colour: np.ndarray, child_slot: np.ndarray) -> np.ndarray:
    """(N, 2) votes for people keeping their clothes, from a first assignment.

    Where the first assignment gives the child's and the caregiver's clothing clearly different
    median colours (at least ``COLOUR_APART`` CIELAB units apart), every sighting with a body
    votes up to ``COLOUR_WEIGHT`` for the role whose colour it is nearer: this carries a person's
    role through stretches where only one face is seen, or across a gap that ends a tracklet.
    """
    rows = np.arange(len(colour))
    seen = np.isfinite(colour).all(axis=2) & (tracklet >= 0)
    child = colour[rows, child_slot][seen[rows, child_slot]]
    carer = colour[rows, 1 - child_slot][seen[rows, 1 - child_slot]]
    if len(child) < MIN_COLOUR_FRAMES or len(carer) < MIN_COLOUR_FRAMES:
        return np.zeros(tracklet.shape)
    child_ref, carer_ref = np.median(child, axis=0), np.median(carer, axis=0)
    apart = float(np.linalg.norm(child_ref - carer_ref))
    if apart < COLOUR_APART:
        return np.zeros(tracklet.shape)
    nearer_carer = np.linalg.norm(colour - carer_ref, axis=2) - np.linalg.norm(
        colour - child_ref, axis=2
    )
    votes = COLOUR_WEIGHT * np.clip(nearer_carer / apart, -1.0, 1.0)
    return np.where(seen, votes, 0.0)


def _votes(size: np.ndarray, roundness: np.ndarray) -> np.ndarray:
    """(N, 2) child votes per frame and slot (see module docstring).

    A face without a mesh (a detection alone: ``roundness`` NaN) votes by its size only.
    """
    votes = np.zeros(size.shape, np.float64)
    seen = np.isfinite(size)
    if not seen.any():
        return votes
    round_seen = seen & np.isfinite(roundness)
    paired = seen.all(axis=1)
    alone = seen & ~paired[:, None]
    # paired: the rounder and the smaller face of the two
    with np.errstate(invalid="ignore"):
        rounder = np.clip((roundness[paired, 1] - roundness[paired, 0]) / ROUNDNESS_STEP, -1, 1)
    smaller = np.log(size[paired, 0] / size[paired, 1]) / np.log(PAIRED_SIZE_STEP)
    votes[paired, 1] = np.nan_to_num(rounder) + np.clip(smaller, -PAIRED_SIZE_CAP, PAIRED_SIZE_CAP)
    votes[paired, 0] = -votes[paired, 1]
    # alone: against the session's medians
    ratio = np.log(np.median(size[seen]) / size[alone]) / np.log(SIZE_RATIO_STEP)
    votes[alone] = ALONE_SIZE_WEIGHT * np.clip(ratio, -1.0, 1.0)
    if round_seen.any():
        centre = np.median(roundness[round_seen])
        lone_round = alone & round_seen
        votes[lone_round] += np.clip((roundness[lone_round] - centre) / ROUNDNESS_STEP, -1, 1)
    return votes


def _side_votes(x: np.ndarray, tracklet: np.ndarray, side: Side) -> np.ndarray:
    """(N, 2) votes +1 for the slot on the child's side (of its partner, else of the centre)."""
    sign = 1.0 if side == "left" else -1.0
    other = x[:, ::-1]
    reference = np.where(np.isfinite(other), other, 0.5)
    votes = np.where(np.isfinite(x), sign * np.sign(reference - x), 0.0)
    return np.where(tracklet >= 0, votes, 0.0)
