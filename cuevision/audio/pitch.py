"""F0, voicing and intensity every 10 ms with Praat's algorithms (praat-parselmouth).

The pitch range is wide on purpose: adult women speak around 150-250 Hz, but infants babble,
squeal and cry at 300-600 Hz and above, so the ceiling must sit well above both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cuevision.audio.decode import Audio

STEP_S = 0.01
PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 1000.0


@dataclass(frozen=True)
class Prosody:
    """Praat's measures at times ``t_s`` (video clock): F0 is NaN where a frame is unvoiced."""

    t_s: np.ndarray  # (n,) float64
    f0_hz: np.ndarray  # (n,) float64, NaN unvoiced
    intensity_db: np.ndarray  # (n,) float64, dB re 2e-5 (samples read as pascals), >= 0


def prosody(audio: Audio) -> Prosody:
    """Autocorrelation pitch (Praat's ``To Pitch (ac)``) and intensity on one 10 ms grid."""
    import parselmouth

    empty = np.zeros(0)
    if len(audio.samples) < 0.1 * audio.rate:  # shorter than Praat's analysis windows
        return Prosody(empty, empty, empty)
    sound = parselmouth.Sound(
        audio.samples.astype(np.float64), sampling_frequency=audio.rate, start_time=audio.t0_s
    )
    pitch = sound.to_pitch_ac(
        time_step=STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ
    )
    t = np.asarray(pitch.xs(), dtype=np.float64)
    f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
    f0[f0 <= 0] = np.nan
    intensity = sound.to_intensity(minimum_pitch=PITCH_FLOOR_HZ, time_step=STEP_S)
    level = np.interp(
        t, np.asarray(intensity.xs()), np.asarray(intensity.values[0]), left=np.nan, right=np.nan
    )
    level = np.maximum(level, 0.0)  # Praat gives -300 dB for digital silence: 0 dB is quiet enough
    return Prosody(t, f0, level)
