"""Acoustic evidence of laughing and of crying, per 10 ms Praat frame (:mod:`.pitch`).

A **laugh** is a train of short voiced bursts ("ha-ha-ha"). Three measures of the voiced envelope
(intensity where Praat finds F0, silence elsewhere) over a window of :data:`LAUGH_WINDOW_S` say
so: the share of its fluctuation that lies in the :data:`LAUGH_BAND_HZ` band, how deep that
modulation is, and how many short voiced bursts (30-300 ms) start in the window. A steady voice
(a tone, a held vowel, a cry) has almost no such modulation and silence none. Adults' speech
modulates at syllable rate too: who laughs is left to the speaker attribution.

A **cry** is loud, sustained, high-pitched voicing: over :data:`CRY_WINDOW_S` most frames are
voiced, their median F0 is above :data:`CRY_MIN_F0_HZ` (the split between the adults' and the
infants' F0 modes measured on the training dyads' clips, see :mod:`.speakers`) and their
level above :data:`CRY_MIN_DB`.

Neither says who laughs or cries: that is :mod:`.speakers`' job, and the child's laugh is the
laugh evidence where the child's share of the voice is high (:mod:`cuevision.features.weak`).

Figures measured on the 26 clips of the training dyads 2UWdXP and 6c6MZQ (Praat frames): voiced
frames sit at a median 46-69 dB per clip (samples read as pascals; the clips' devices apply
automatic gain), so a level threshold in absolute dB travels between them; short voiced bursts
(30-300 ms) occur in trains of 3-6 in the clips' laughing moments, at F0 200-300 Hz (mothers,
onsets 100-250 ms apart) and 500-950 Hz (infants). The infants' laughs are slower than the
adults' textbook 4-6 per second: bursts of 150-300 ms whose onsets lie 0.3-0.5 s apart (2-3 per
second), so the band reaches down to 2 Hz and the window spans 1.5 s. The band, window and
thresholds were chosen among 48 settings as the one whose high-F0 (> 400 Hz) laugh runs of
>= 0.2 s fell most often within 0.5 s of a consensus-coded child smile of the default scheme (11
of 15), a coding that is not the vocal one; no vocal coding was used.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from cuevision.audio.pitch import STEP_S, Prosody

LAUGH_BAND_HZ = (2.0, 7.0)
LAUGH_WINDOW_S = 1.5  # one laugh phrase
BURST_S = (0.03, 0.3)  # a laugh syllable's voiced part
MIN_BURSTS = 1.5  # soft threshold: 2 or more bursts in the window
MIN_BAND_SHARE = 0.35  # soft threshold on the band's share of the envelope's fluctuation
MIN_DEPTH_DB = 6.0  # the bursts must stand out: band RMS at least this deep
CRY_WINDOW_S = 3.0
CRY_MIN_VOICED = 0.6  # share of the window's frames voiced
CRY_MIN_F0_HZ = 400.0
CRY_MIN_DB = 60.0


def _soft_above(x: np.ndarray, threshold: float, scale: float) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + np.exp(-(x - threshold) / scale))


def _moving_mean(x: np.ndarray, width: int) -> np.ndarray:
    """Centred mean over ``width`` frames, time outside the recording counting as 0 (silence):
    a short sound in a short clip is not sustained because the clip ends around it."""
    padded = np.concatenate([np.zeros(width), x, np.zeros(width)])
    sums = np.convolve(padded, np.ones(width), mode="same")[width : width + len(x)]
    return sums / width


def voiced_envelope(p: Prosody) -> np.ndarray:
    """Intensity (dB) where a frame is voiced, 0 elsewhere: the bursts a laugh is made of."""
    return np.where(np.isfinite(p.f0_hz), np.nan_to_num(p.intensity_db), 0.0)


def burst_onsets(voiced: np.ndarray) -> np.ndarray:
    """1 at the first frame of each voiced run of laugh-syllable length (:data:`BURST_S`)."""
    edges = np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    length = (stops - starts) * STEP_S
    keep = (length >= BURST_S[0] - 1e-9) & (length <= BURST_S[1] + 1e-9)
    out = np.zeros(len(voiced))
    out[starts[keep]] = 1.0
    return out


def laugh_evidence(p: Prosody) -> np.ndarray:
    """Per frame, 0..1: a rhythmic train of short voiced bursts around this time."""
    n = len(p.t_s)
    if n == 0:
        return np.zeros(0)
    envelope = voiced_envelope(p)
    width = int(round(LAUGH_WINDOW_S / STEP_S))
    fs = 1.0 / STEP_S
    if n > 27:  # sosfiltfilt's padding needs more frames than the filter's 3 * (2 * order + 1)
        sos = butter(2, LAUGH_BAND_HZ, btype="bandpass", fs=fs, output="sos")
        band = sosfiltfilt(sos, envelope)
    else:
        band = np.zeros(n)
    fluctuation = envelope - _moving_mean(envelope, width)
    band_power = _moving_mean(band**2, width)
    share = band_power / (_moving_mean(fluctuation**2, width) + 1.0)  # +1 dB^2: silence is 0
    depth = np.sqrt(band_power)
    bursts = _moving_mean(burst_onsets(np.isfinite(p.f0_hz)), width) * width
    score = (
        _soft_above(share, MIN_BAND_SHARE, 0.05)
        * _soft_above(depth, MIN_DEPTH_DB, 1.0)
        * _soft_above(bursts, MIN_BURSTS, 0.25)
    )
    return np.where(bursts > 1e-6, score, 0.0)  # no burst around: no laugh, exactly


def cry_evidence(p: Prosody) -> np.ndarray:
    """Per frame, 0..1: loud, sustained, high-pitched voicing around this time."""
    n = len(p.t_s)
    if n == 0:
        return np.zeros(0)
    width = int(round(CRY_WINDOW_S / STEP_S))
    voiced = np.isfinite(p.f0_hz)
    sustained = _moving_mean(voiced.astype(float), width)
    log_f0 = _moving_mean(np.where(voiced, np.log2(np.where(voiced, p.f0_hz, 1.0)), 0.0), width)
    level = _moving_mean(np.where(voiced, np.nan_to_num(p.intensity_db), 0.0), width)
    share = np.maximum(sustained, 1e-9)
    f0 = np.exp2(log_f0 / share)  # geometric mean F0 of the window's voiced frames
    score = (
        _soft_above(sustained, CRY_MIN_VOICED, 0.05)
        * _soft_above(np.log2(f0), np.log2(CRY_MIN_F0_HZ), 0.1)
        * _soft_above(level / share, CRY_MIN_DB, 2.0)
    )
    return np.where(sustained > 1e-6, score, 0.0)  # no voice around: no cry, exactly
