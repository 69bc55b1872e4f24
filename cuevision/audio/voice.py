"""One video's voice measures, and their values on the analysis grid.

:func:`measure_voice` runs once per video (decode, silero-vad, Praat); :func:`voice_grid` puts
the measures on the features' uniform grid, each grid point summarising the audio within half a
grid step of it, so that audio and video columns describe the same moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cuevision.audio.decode import Audio, decode_audio
from cuevision.audio.laughter import cry_evidence, laugh_evidence
from cuevision.audio.pitch import Prosody, prosody
from cuevision.audio.vad import CHUNK, VAD_RATE, voice_activity

# Bump when a measure changes what it computes; it is part of the features stage key.
VOICE_VERSION = "2"  # 2: laugh and cry evidence
# A voiced frame this much louder than the session's quiet floor counts as vocal even where
# silero-vad (trained on speech) hears no speech: babble, squeals and laughs.
LOUD_ABOVE_FLOOR_DB = 15.0


@dataclass(frozen=True)
class VoiceMeasures:
    """Voice activity (per 32 ms chunk) and prosody (per 10 ms) of one audio track."""

    t0_s: float
    end_s: float
    vad_t_s: np.ndarray  # (k,) start of each silero-vad chunk, video clock
    vad_p: np.ndarray  # (k,) speech probability
    prosody: Prosody


@dataclass(frozen=True)
class VoiceGrid:
    """Measures on the grid ``t_s``: NaN outside the audio, ``present`` 0 there."""

    present: np.ndarray
    activity: np.ndarray  # silero-vad speech probability, the step's maximum
    vocal: np.ndarray  # probability that anyone vocalises: speech, or loud voicing
    f0_hz: np.ndarray
    voicing: np.ndarray
    intensity_db: np.ndarray
    laugh: np.ndarray  # evidence of a laugh's burst train, the step's mean (:mod:`.laughter`)
    cry: np.ndarray  # evidence of loud, sustained, high-pitched voicing, the step's mean


def measure_voice(path: Path) -> VoiceMeasures | None:
    """Every voice measure of a video's first audio track; None when it has none."""
    audio = decode_audio(path)
    return None if audio is None else measure_audio(audio)


def measure_audio(audio: Audio) -> VoiceMeasures:
    probs = voice_activity(audio)
    starts = audio.t0_s + np.arange(len(probs)) * CHUNK / audio.rate
    return VoiceMeasures(audio.t0_s, audio.end_s, starts, probs, prosody(audio))


def voice_grid(measures: VoiceMeasures | None, t_grid: np.ndarray, fps: float) -> VoiceGrid:
    """The measures summarised at each grid point (all NaN, ``present`` 0, without audio)."""
    t_grid = np.asarray(t_grid, dtype=np.float64)
    n = len(t_grid)
    if measures is None:
        nan = np.full(n, np.nan)
        return VoiceGrid(np.zeros(n), *(nan.copy() for _ in range(7)))
    half = 0.5 / fps
    present = ((t_grid + half > measures.t0_s) & (t_grid - half < measures.end_s)).astype(float)
    hop = CHUNK / VAD_RATE
    activity = _binned(measures.vad_t_s + hop / 2, measures.vad_p, t_grid, fps, np.fmax)
    p = measures.prosody
    voiced = np.isfinite(p.f0_hz).astype(float)
    log_f0 = _binned(p.t_s, np.log2(p.f0_hz), t_grid, fps, None)
    voicing = _binned(p.t_s, voiced, t_grid, fps, None)
    level = _binned(p.t_s, p.intensity_db, t_grid, fps, None)
    laugh = _binned(p.t_s, laugh_evidence(p), t_grid, fps, None)
    cry = _binned(p.t_s, cry_evidence(p), t_grid, fps, None)
    floor = np.nanpercentile(p.intensity_db, 10) if np.isfinite(p.intensity_db).any() else 0.0
    loud = np.clip((level - floor - LOUD_ABOVE_FLOOR_DB) / 5.0 + 0.5, 0.0, 1.0)
    vocal = np.fmax(activity, np.nan_to_num(voicing * loud))
    off = present == 0
    for column in (activity, vocal, voicing, level, log_f0, laugh, cry):
        column[off] = np.nan
    vocal[~off & np.isnan(activity)] = np.nan
    return VoiceGrid(present, activity, vocal, np.exp2(log_f0), voicing, level, laugh, cry)


def _binned(
    t_src: np.ndarray,
    values: np.ndarray,
    t_grid: np.ndarray,
    fps: float,
    reduce: np.ufunc | None,
) -> np.ndarray:
    """Per grid point, the mean (``reduce`` None) or ``reduce`` of the finite values whose time
    lies within half a step of it; NaN where there are none."""
    out = np.full(len(t_grid), np.nan)
    if not len(t_grid) or not len(t_src):
        return out
    index = np.floor((np.asarray(t_src) - t_grid[0]) * fps + 0.5).astype(np.int64)
    keep = (index >= 0) & (index < len(t_grid)) & np.isfinite(values)
    index, values = index[keep], np.asarray(values, dtype=np.float64)[keep]
    if reduce is None:
        counts = np.bincount(index, minlength=len(t_grid))
        sums = np.bincount(index, weights=values, minlength=len(t_grid))
        seen = counts > 0
        out[seen] = sums[seen] / counts[seen]
    else:
        reduce.at(out, index, values)
    return out
