"""Pitch, voicing, intensity and voice activity on synthetic voice-like tones (numpy), and the
measures on the analysis grid."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cuevision.audio import Audio, measure_audio, voice_grid
from cuevision.audio.pitch import prosody
from cuevision.audio.vad import model_path, voice_activity
from tests.audio.sounds import RATE, harmonic

FPS = 15.0


def silence(duration_s: float) -> np.ndarray:
    return np.zeros(int(duration_s * RATE), np.float32)


@pytest.fixture(scope="module")
def two_voices() -> Audio:
    """From 0.25 s on the video clock: 1 s quiet, an adult-like 220 Hz voice (1 s), 0.5 s quiet,
    a soft child-like 520 Hz voice (1 s), 1 s quiet."""
    parts = [silence(1), harmonic(220, 1), silence(0.5), harmonic(520, 1, level=0.1), silence(1)]
    return Audio(RATE, 0.25, np.concatenate(parts))


def test_f0_voicing_and_intensity_of_each_tone(two_voices: Audio) -> None:
    p = prosody(two_voices)
    assert np.all(np.diff(p.t_s) == pytest.approx(0.01))
    for (start, end), f0 in (((1.35, 2.15), 220.0), ((2.85, 3.65), 520.0)):
        inside = (p.t_s > start) & (p.t_s < end)
        assert np.isfinite(p.f0_hz[inside]).mean() > 0.95
        assert np.nanmedian(p.f0_hz[inside]) == pytest.approx(f0, rel=0.01)
    quiet = p.t_s < 1.15
    assert not np.isfinite(p.f0_hz[quiet]).any()  # silence is unvoiced, not 0 Hz
    assert np.nanmax(p.intensity_db[quiet]) == 0.0  # digital silence: the floor, not -300 dB
    loud, soft = (p.t_s > 1.4) & (p.t_s < 2.1), (p.t_s > 2.9) & (p.t_s < 3.6)
    assert np.mean(p.intensity_db[loud]) - np.mean(p.intensity_db[soft]) == pytest.approx(
        20 * np.log10(3), abs=1.5
    )


def test_voice_activity_is_one_probability_per_32_ms_and_silence_is_not_speech(
    two_voices: Audio,
) -> None:
    """(silero-vad is a speech model: whether it hears tones is its business; real speech is
    checked on a real clip in test_real_clip.py.)"""
    probs = voice_activity(two_voices)
    assert len(probs) == -(-len(two_voices.samples) // 512)
    t = two_voices.t0_s + (np.arange(len(probs)) + 0.5) * 0.032
    assert probs[t < 1.2].max() < 0.1 and probs[t > 4.4].max() < 0.1
    assert ((probs >= 0) & (probs <= 1)).all()


def test_the_model_comes_from_the_wheel_and_torch_stays_out() -> None:
    assert model_path().name == "silero_vad.onnx" and "site-packages" in str(model_path())
    code = (
        "import sys, numpy as np\n"
        "from cuevision.audio import Audio, measure_audio\n"
        "measure_audio(Audio(16000, 0.0, np.zeros(16000, np.float32)))\n"
        "print('torch' in sys.modules, 'silero_vad' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_measures_on_the_grid(two_voices: Audio) -> None:
    t = np.arange(int(5.0 * FPS)) / FPS
    grid = voice_grid(measure_audio(two_voices), t, FPS)
    before = t < 0.25 - 0.5 / FPS
    assert (grid.present[before] == 0).all() and np.isnan(grid.vocal[before]).all()
    assert (grid.present[(t > 0.3) & (t < 4.7)] == 1).all()
    adult, child = (t > 1.4) & (t < 2.1), (t > 2.9) & (t < 3.6)
    assert np.nanmedian(grid.f0_hz[adult]) == pytest.approx(220, rel=0.01)
    assert np.nanmedian(grid.f0_hz[child]) == pytest.approx(520, rel=0.01)
    assert (grid.voicing[adult] > 0.9).all() and (grid.vocal[adult] > 0.5).mean() > 0.8
    quiet = (t > 0.4) & (t < 1.1)
    assert (grid.vocal[quiet] < 0.1).all() and np.isnan(grid.f0_hz[quiet]).all()


def test_no_audio_gives_an_explicit_absence() -> None:
    grid = voice_grid(None, np.arange(30) / FPS, FPS)
    assert (grid.present == 0).all()
    assert all(np.isnan(c).all() for c in (grid.activity, grid.vocal, grid.f0_hz, grid.voicing))
