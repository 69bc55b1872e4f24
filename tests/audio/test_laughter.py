"""Laugh and cry evidence: synthetic voices through Praat, and a real clip of the dyad 2UWdXP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cuevision.audio import Audio, measure_voice, voice_grid
from cuevision.audio.laughter import cry_evidence, laugh_evidence
from cuevision.audio.pitch import prosody
from tests.audio.sounds import RATE

SILENCE = np.zeros(int(0.5 * RATE), np.float32)


def steady(f0_hz: float, duration_s: float) -> np.ndarray:
    """A held voiced sound: F0 and four harmonics at a constant level (no syllable envelope)."""
    t = np.arange(int(duration_s * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, 6))
    return (0.3 * wave / 2.3).astype(np.float32)


def bursts(f0_hz: float, per_s: float, duration_s: float = 2.0) -> np.ndarray:
    """A laugh's train: the steady sound switched on for half of each 1/per_s period."""
    x = steady(f0_hz, duration_s)
    on = (np.arange(len(x)) / RATE * per_s) % 1 < 0.5
    return (x * on).astype(np.float32)


def evidence(sound: np.ndarray) -> tuple[float, float]:
    """The peak laugh and cry evidence of ``sound`` with half a second of silence each side."""
    p = prosody(Audio(RATE, 0.0, np.concatenate([SILENCE, sound, SILENCE])))
    return float(laugh_evidence(p).max()), float(cry_evidence(p).max())


@pytest.mark.parametrize(("f0_hz", "per_s"), [(550.0, 5.0), (600.0, 2.5), (220.0, 5.0)])
def test_a_train_of_voiced_bursts_is_a_laugh_not_a_cry(f0_hz: float, per_s: float) -> None:
    """The infants' slow laughs (2.5 per second) count as much as the textbook 5 per second;
    the adult pitch too: who laughs is the speaker attribution's question."""
    laugh, cry = evidence(bursts(f0_hz, per_s))
    assert laugh > 0.9 and cry < 0.1


def test_a_steady_tone_is_no_laugh_and_a_long_high_one_is_a_cry() -> None:
    laugh, cry = evidence(steady(500.0, 4.0))
    assert laugh < 0.05 and cry > 0.9
    laugh, cry = evidence(steady(220.0, 4.0))  # an adult's held note: too low for a cry
    assert laugh < 0.05 and cry < 0.05
    laugh, cry = evidence(steady(500.0, 0.8))  # a short squeal: not sustained
    assert cry < 0.1


def test_silence_gives_no_evidence() -> None:
    assert evidence(np.zeros(2 * RATE, np.float32)) == (0.0, 0.0)
    empty = prosody(Audio(RATE, 0.0, np.zeros(10, np.float32)))  # shorter than Praat's window
    assert len(laugh_evidence(empty)) == len(cry_evidence(empty)) == 0


def test_a_real_clip_laughs_where_the_infant_bursts(lookit: Callable[[str], Path]) -> None:
    """2UWdXP's NomNomNom, 3rd repetition: in its first 3 s the infant sounds five bursts of
    150-270 ms at 490-770 Hz, 0.4-0.5 s apart; later the mother speaks (200-260 Hz) with
    longer voiced stretches and no such train."""
    measures = measure_voice(lookit("2UWdXP.joke2.rep3.take1.NomNomNom.mp4"))
    assert measures is not None
    t = np.arange(int(measures.end_s * 15)) / 15
    grid = voice_grid(measures, t, 15.0)
    assert np.nanmax(grid.laugh[t < 3.0]) > 0.5
    assert np.nanmax(grid.laugh[(t > 4.0) & (t < 8.5)]) < 0.5
    assert np.nanmax(grid.cry) < 0.5
    assert np.all((grid.laugh >= 0) & (grid.laugh <= 1) | np.isnan(grid.laugh))
