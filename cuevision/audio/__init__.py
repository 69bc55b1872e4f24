"""Voices: the audio track on the frames' clock, voice activity, pitch, and who is speaking.

Decoding is PyAV's; voice activity is silero-vad's ONNX model run by onnxruntime (no torch);
F0, voicing and intensity are Praat's (praat-parselmouth), and the evidence of laughing and crying
is read off them (:mod:`.laughter`). :func:`measure_voice` reads a video once;
:func:`voice_columns` puts the measures and the speaker attribution on the features' grid as the
``voice.*`` columns of :data:`cuevision.features.names.VOICE_FEATURES`.
"""

from __future__ import annotations

import numpy as np

from cuevision.audio.decode import SAMPLE_RATE, Audio, AudioError, decode_audio
from cuevision.audio.speakers import Speakers, attribute
from cuevision.audio.voice import (
    VOICE_VERSION,
    VoiceGrid,
    VoiceMeasures,
    measure_audio,
    measure_voice,
    voice_grid,
)
from cuevision.types import Role


def voice_columns(
    measures: VoiceMeasures | None,
    t_grid: np.ndarray,
    fps: float,
    mouth_open: dict[Role, np.ndarray],
    face_visible: dict[Role, np.ndarray],
) -> dict[str, np.ndarray]:
    """The ``voice.*`` columns (names without the prefix) on the grid ``t_grid``."""
    return grid_columns(voice_grid(measures, t_grid, fps), fps, mouth_open, face_visible)


def grid_columns(
    grid: VoiceGrid,
    fps: float,
    mouth_open: dict[Role, np.ndarray],
    face_visible: dict[Role, np.ndarray],
) -> dict[str, np.ndarray]:
    """The ``voice.*`` columns of a grid of voice measures (a real one, or the simulator's),
    with who vocalises attributed from the mouths."""
    speakers = attribute(grid, mouth_open, face_visible, fps)
    return {
        "present": grid.present,
        "activity": grid.activity,
        "vocal": grid.vocal,
        "f0_hz": grid.f0_hz,
        "voicing": grid.voicing,
        "intensity_db": grid.intensity_db,
        "child_vocalising": speakers.vocalising["child"],
        "caregiver_vocalising": speakers.vocalising["caregiver"],
        "mouth_evidence": speakers.mouth_evidence,
        "laugh": grid.laugh,
        "cry": grid.cry,
    }


__all__ = [
    "SAMPLE_RATE",
    "VOICE_VERSION",
    "Audio",
    "AudioError",
    "Speakers",
    "VoiceGrid",
    "VoiceMeasures",
    "attribute",
    "decode_audio",
    "grid_columns",
    "measure_audio",
    "measure_voice",
    "voice_columns",
    "voice_grid",
]
