"""Which track is the child: decided once per session from the whole video, so roles never swap.

Cue: the child's face is smaller than the caregiver's. It is judged on the frames where both
faces are seen (paired frames), where camera distance and zoom affect both people alike: the
child is the track whose face is the smaller in most paired frames, and the confidence is how
one-sided that vote is, ``|2p - 1|``, shrunk while there are fewer than ``FULL_EVIDENCE`` paired
frames. Without paired frames, the median face sizes are compared instead, at half the
confidence. With one person only, that person is the caregiver, confidence 0. A per-session
override (``child_side``) names the side of the image where the child sits, confidence 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cuevision.types import Role

Side = Literal["left", "right"]
FULL_EVIDENCE = 30  # paired frames needed for full confidence (2 s at 15 Hz)


@dataclass(frozen=True)
class RoleAssignment:
    """Track index -> role, with how sure the assignment is (0..1) and how it was made."""

    roles: tuple[Role, Role]
    confidence: float
    method: str


def assign_roles(
    face_size: np.ndarray, face_x: np.ndarray, child_side: Side | None = None
) -> RoleAssignment:
    """Roles of two tracks from their per-frame face sizes and centres x, shape (N, 2), NaN = none.

    >>> sizes = np.array([[80.0, 40.0], [82.0, np.nan], [79.0, 41.0]])
    >>> assign_roles(sizes, np.full((3, 2), 0.5)).roles
    ('caregiver', 'child')
    """
    seen = np.isfinite(face_size)
    if child_side is not None:
        x = np.array([np.nanmedian(face_x[:, k]) if seen[:, k].any() else np.nan for k in (0, 1)])
        left_is_0 = not (x[1] < x[0])  # NaN (an empty track) sorts as the other side
        child = 0 if (child_side == "left") == left_is_0 else 1
        return RoleAssignment(_roles(child), 1.0, f"override: child on the {child_side}")
    paired = seen.all(axis=1)
    n_paired = int(paired.sum())
    if n_paired:
        p = float(np.mean(face_size[paired, 1] < face_size[paired, 0]))
        child = 1 if p >= 0.5 else 0
        confidence = abs(2 * p - 1) * min(1.0, n_paired / FULL_EVIDENCE)
        return RoleAssignment(
            _roles(child),
            round(confidence, 3),
            f"child's face smaller in {max(p, 1 - p):.0%} of {n_paired} frames with both faces",
        )
    if seen[:, 0].any() and seen[:, 1].any():
        medians = [float(np.median(face_size[seen[:, k], k])) for k in (0, 1)]
        child = int(np.argmin(medians))
        ratio = max(medians) / min(medians)
        confidence = 0.5 * min(1.0, math.log(ratio) / math.log(1.5))
        return RoleAssignment(
            _roles(child),
            round(confidence, 3),
            "child's median face smaller (never both faces in one frame)",
        )
    return RoleAssignment(_roles(1), 0.0, "one person only: taken as the caregiver")


def _roles(child: int) -> tuple[Role, Role]:
    return ("caregiver", "child") if child == 1 else ("child", "caregiver")
