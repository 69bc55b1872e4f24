"""One person's simulated features: resting channels, planted events and distractors, noise."""

from __future__ import annotations

import numpy as np

from cuevision.scheme import Scheme
from cuevision.synth.channels import CHANNELS
from cuevision.synth.effects import effects_of
from cuevision.synth.noise import ar1
from cuevision.types import Event, Role


def role_signals(
    rng: np.random.Generator,
    role: Role,
    events: list[Event],
    t_s: np.ndarray,
    fps: float,
    scheme: Scheme,
) -> dict[str, np.ndarray]:
    """Every channel of ``role`` (by base name), with its events and distractors planted."""
    n = len(t_s)
    amplitude = rng.uniform(0.6, 1.4)  # how expressive this person is
    noise = rng.uniform(0.7, 1.6)
    rise_s = rng.uniform(0.15, 0.5)
    signals: dict[str, np.ndarray] = {}
    jitters: dict[str, np.ndarray] = {}
    for base, channel in CHANNELS.items():
        drift = ar1(rng, n, fps, channel.between_sd * 0.5, tau_s=8.0)
        jitters[base] = ar1(rng, n, fps, channel.noise_sd * noise, tau_s=0.25)
        if channel.log:
            level = np.log(channel.base) + rng.normal(0, channel.between_sd)
            signals[base] = np.exp(level + drift)
        else:
            side = float(rng.choice([-1.0, 1.0])) if channel.sided else 1.0
            level = side * channel.base + rng.normal(0, channel.between_sd)
            signals[base] = level + drift
    own = [e for e in events if e.actor == role]
    # Distractors: weaker, unlabelled look-alikes of this role's events.
    names = [t.name for t in scheme.types_of(actor=role)]
    for _ in range(int(rng.poisson(len(t_s) / fps / 12))):
        name = str(rng.choice(names)) if names else ""
        onset = float(rng.uniform(0, t_s[-1] if n else 0))
        fake = Event(role, name, onset, onset + float(rng.uniform(0.3, 1.5)))
        _apply(signals, fake, t_s, rise_s, amplitude * rng.uniform(0.2, 0.45), rng)
    for event in own:
        _apply(signals, event, t_s, rise_s, amplitude * rng.uniform(0.75, 1.25), rng)
    for base, channel in CHANNELS.items():  # noise rides on top of events, never under them
        jitter = jitters[base]
        noisy = signals[base] * np.exp(jitter) if channel.log else signals[base] + jitter
        spikes = rng.random(n) < 0.004
        noisy = np.where(spikes, noisy + rng.normal(0, 6 * channel.scale, n), noisy)
        signals[base] = np.clip(noisy, channel.lo, channel.hi)
    return signals


def _apply(
    signals: dict[str, np.ndarray],
    event: Event,
    t_s: np.ndarray,
    rise_s: float,
    gain: float,
    rng: np.random.Generator,
) -> None:
    effects = effects_of(event.type, event.actor)
    sign = float(rng.choice([-1.0, 1.0]))  # which side a turn goes to
    for base, mode, value in effects:
        if base not in signals:
            continue
        if mode == "pulse":
            signals[base] = signals[base] + gain * value * _pulse(t_s, event.onset_s, 0.25)
            continue
        shape = _envelope(t_s, event.onset_s, event.offset_s, rise_s)
        if mode == "set":
            strength = min(gain, 1.0)
            signals[base] = signals[base] + strength * shape * (value - signals[base])
        else:
            turn = sign if base.endswith("yaw") else 1.0
            signals[base] = signals[base] + gain * value * turn * shape


def _envelope(t_s: np.ndarray, onset: float, offset: float, rise_s: float) -> np.ndarray:
    """0 before onset, a smooth rise over ``rise_s``, 1 until offset, a smooth fall after."""
    up = np.clip((t_s - onset) / rise_s, 0, 1)
    down = np.clip((offset + rise_s - t_s) / rise_s, 0, 1)
    return (0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down))).astype(np.float64)


def _pulse(t_s: np.ndarray, onset: float, width_s: float) -> np.ndarray:
    return np.exp(-0.5 * ((t_s - onset - width_s) / width_s) ** 2)
