"""Who vocalises: pitch and each role's mouth motion, with pitch alone where no face is seen."""

from __future__ import annotations

import numpy as np
import pytest

from cuevision.audio import VoiceGrid, attribute
from cuevision.audio.speakers import SPLIT_HZ
from cuevision.types import Role

FPS = 15.0
N = 150  # 10 s
T = np.arange(N) / FPS
SPEAKING = (T >= 4.0) & (T < 6.0)


def voice(f0_hz: float) -> VoiceGrid:
    vocal = np.where(SPEAKING, 1.0, 0.0)
    f0 = np.where(SPEAKING, f0_hz, np.nan)
    zero = np.zeros(N)  # no laugh, no cry
    return VoiceGrid(
        np.ones(N), vocal, vocal.copy(), f0, vocal.copy(), np.full(N, 60.0), zero, zero
    )


def mouth(moving: bool, seed: int) -> np.ndarray:
    """A mouth at rest with small tracking noise, opening and closing at 4 Hz while speaking."""
    rest = 0.05 + 0.003 * np.random.default_rng(seed).normal(size=N)
    return rest + (0.08 * (1 + np.sin(2 * np.pi * 4 * T)) * SPEAKING if moving else 0.0)


def faces(child: bool, caregiver: bool) -> dict[Role, np.ndarray]:
    return {"child": np.full(N, float(child)), "caregiver": np.full(N, float(caregiver))}


@pytest.mark.parametrize(
    ("f0_hz", "talker"), [(550.0, "child"), (220.0, "caregiver"), (SPLIT_HZ, "child")]
)
def test_the_moving_mouth_and_the_pitch_pick_the_talker(f0_hz: float, talker: Role) -> None:
    """At the split pitch the voice says nothing, so the mouth decides."""
    other: Role = "caregiver" if talker == "child" else "child"
    mouths = {talker: mouth(True, 1), other: mouth(False, 2)}
    found = attribute(voice(f0_hz), mouths, faces(True, True), FPS)
    share = found.vocalising[talker][SPEAKING]
    assert np.median(share) > 0.9, np.median(share)
    assert found.vocalising[other][~SPEAKING].max() == 0.0
    total = found.vocalising["child"] + found.vocalising["caregiver"]
    assert np.allclose(total, voice(f0_hz).vocal)  # one speaker at a time: split, not doubled
    assert (found.mouth_evidence == 2).all()


@pytest.mark.parametrize(("f0_hz", "talker"), [(600.0, "child"), (210.0, "caregiver")])
def test_without_faces_pitch_alone_decides_and_says_so(f0_hz: float, talker: Role) -> None:
    mouths = {"child": np.full(N, np.nan), "caregiver": np.full(N, np.nan)}
    found = attribute(voice(f0_hz), mouths, faces(False, False), FPS)
    assert np.median(found.vocalising[talker][SPEAKING]) > 0.9
    assert (found.mouth_evidence == 0).all()


def test_a_moving_mouth_outweighs_an_ambiguous_voice_but_not_a_clear_one() -> None:
    """The caregiver's face alone is seen: her moving mouth pulls an ambiguous voice (380 Hz)
    to her, while a clearly childish voice (700 Hz) with her mouth still stays the child's."""
    mouths = {"child": np.full(N, np.nan), "caregiver": mouth(True, 3)}
    ambiguous = attribute(voice(380.0), mouths, faces(False, True), FPS)
    assert np.median(ambiguous.vocalising["caregiver"][SPEAKING]) > 0.8
    assert (ambiguous.mouth_evidence == 1).all()
    still = {"child": np.full(N, np.nan), "caregiver": mouth(False, 3)}
    clear = attribute(voice(700.0), still, faces(False, True), FPS)
    assert np.median(clear.vocalising["child"][SPEAKING]) > 0.9
