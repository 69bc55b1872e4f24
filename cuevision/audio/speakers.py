"""Who is speaking: per grid point, the probability that the child and that the caregiver vocalise.

Two kinds of evidence, combined as log-odds that a vocalisation heard now is the child's:

- **pitch**: young children's F0 sits well above adults'. On all 26 Lookit clips of the dyads
  2UWdXP and 6c6MZQ, the F0 of vocal grid points (1009 of them) has two modes, 200-300 Hz (the
  mothers' speech) and 500-800 Hz (the infants' squeals and babble), with its minimum at
  400-450 Hz; :data:`SPLIT_HZ` lies there, at the geometric middle of the two modes.
- **the mouths**: a person who speaks moves the mouth. Each visible face's mouth motion
  (the speed of ``mouth_open``, smoothed over ~0.2 s) is scaled by that face's own typical motion,
  so a wide-mouthed or a close face does not read as a talker. A face that is not visible gives no
  evidence; with no face at all the attribution rests on pitch alone (``mouth_evidence`` 0),
  which the coverage reports.

One speaker at a time: the vocal probability is split between the two, not duplicated, so
overlapping speech is given to whoever the evidence favours. The weights are set by hand, not fit,
and the mouth evidence is weak: on four clips of these dyads, where pitch and mouths both lean
clearly one way (|z| > 1, F0 over a quarter octave from the split), they agree on 30 of 51 vocal
grid points (59%). No vocal coding exists yet to fit or score the attribution against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cuevision.audio.voice import VoiceGrid
from cuevision.types import Role

SPLIT_HZ = 400.0  # between the modes of adult (200-300 Hz) and infant (500-800 Hz) F0
PITCH_OCTAVES = 0.25  # log-odds 1 per quarter octave away from the split
MOUTH_WEIGHT = 1.0  # log-odds per robust z of mouth motion, child minus caregiver
MOUTH_SMOOTH_S = 0.2
MAX_MOUTH_Z = 4.0


@dataclass(frozen=True)
class Speakers:
    """Per grid point: each role's vocalising probability, and how many faces informed it."""

    vocalising: dict[Role, np.ndarray]
    mouth_evidence: np.ndarray  # 0, 1 or 2 faces; NaN where there is no audio


def attribute(
    voice: VoiceGrid,
    mouth_open: dict[Role, np.ndarray],
    face_visible: dict[Role, np.ndarray],
    fps: float,
) -> Speakers:
    """Split ``voice.vocal`` between the child and the caregiver (see the module docstring)."""
    pitch = (np.log2(voice.f0_hz) - np.log2(SPLIT_HZ)) / PITCH_OCTAVES
    logit = np.nan_to_num(pitch, nan=0.0)
    z = {role: mouth_motion_z(mouth_open[role], face_visible[role], fps) for role in mouth_open}
    seen = {role: np.isfinite(value) for role, value in z.items()}
    logit = logit + MOUTH_WEIGHT * (
        np.where(seen["child"], z["child"], 0.0) - np.where(seen["caregiver"], z["caregiver"], 0.0)
    )
    child_share = 1.0 / (1.0 + np.exp(-logit))
    evidence = (seen["child"].astype(float) + seen["caregiver"]).astype(float)
    evidence[voice.present == 0] = np.nan
    return Speakers(
        {"child": voice.vocal * child_share, "caregiver": voice.vocal * (1.0 - child_share)},
        evidence,
    )


def mouth_motion_z(mouth_open: np.ndarray, face_visible: np.ndarray, fps: float) -> np.ndarray:
    """Smoothed |d mouth_open / dt| as a robust z against this face's own motion; NaN unseen."""
    x = np.where(np.asarray(face_visible) > 0, np.asarray(mouth_open, dtype=np.float64), np.nan)
    speed = np.full(len(x), np.nan)
    if len(x) >= 2:
        speed[1:] = np.abs(np.diff(x)) * fps
        speed[0] = speed[1]  # the first frame has no predecessor: its successor's speed
    finite = np.isfinite(speed)
    if not finite.any():
        return speed
    width = min(len(x), max(1, int(round(MOUTH_SMOOTH_S * fps))))
    kernel = np.ones(width)
    sums = np.convolve(np.where(finite, speed, 0.0), kernel, mode="same")
    counts = np.convolve(finite.astype(float), kernel, mode="same")
    smooth = np.where(finite, sums / np.maximum(counts, 1), np.nan)
    centre = float(np.nanmedian(smooth))
    spread = 1.4826 * float(np.nanmedian(np.abs(smooth - centre)))
    return np.clip((smooth - centre) / max(spread, 1e-6), -MAX_MOUTH_Z, MAX_MOUTH_Z)
