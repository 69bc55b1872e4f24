"""Response latency: how long after a child's cue the caregiver's first allowed response starts.

For a cue with onset c and allowed-response onsets r_j, the latency is

    L = min { r_j - c : c <= r_j <= c + window_s }

and the cue is unanswered (L censored at ``window_s``) when no such r_j exists. A response that
started before the cue does not count, even if it is still going on. Every cue is judged on its
own, so one response can answer two overlapping cues. The median is Kaplan–Meier with the
unanswered cues censored at the window (:mod:`cuevision.metrics.survival`), which does not
flatter a caregiver who answers rarely but fast, as the mean over answered cues does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cuevision.metrics.survival import km_median
from cuevision.types import Event

EPS = 1e-9


@dataclass(frozen=True)
class Latency:
    """Latencies of one cue type to its allowed responses."""

    window_s: float
    cue_onsets_s: tuple[float, ...]
    latencies_s: tuple[float | None, ...]  # one per cue, in cue order; None = unanswered

    @property
    def n_cues(self) -> int:
        return len(self.latencies_s)

    @property
    def n_responded(self) -> int:
        return sum(v is not None for v in self.latencies_s)

    @property
    def response_rate(self) -> float | None:
        return self.n_responded / self.n_cues if self.n_cues else None

    @property
    def mean_latency_s(self) -> float | None:
        answered = [v for v in self.latencies_s if v is not None]
        return float(np.mean(answered)) if answered else None

    @property
    def median_latency_s(self) -> float | None:
        waits = [self.window_s if v is None else v for v in self.latencies_s]
        return km_median(waits, [v is not None for v in self.latencies_s])

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_cues": self.n_cues,
            "n_responded": self.n_responded,
            "response_rate": self.response_rate,
            "latencies_s": list(self.latencies_s),
            "mean_latency_s": self.mean_latency_s,
            "median_latency_s": self.median_latency_s,
            "window_s": self.window_s,
            "cue_onsets_s": list(self.cue_onsets_s),
        }


def response_latency(cues: Sequence[Event], responses: Sequence[Event], window_s: float) -> Latency:
    """Latency from each cue onset to the first response onset within ``[onset, onset + window]``.

    ``responses`` are the responses the scheme allows for these cues (all of them pooled).
    """
    onsets = np.sort([r.onset_s for r in responses])
    ordered = sorted(cues, key=lambda e: e.onset_s)
    latencies: list[float | None] = []
    for cue in ordered:
        first = int(np.searchsorted(onsets, cue.onset_s - EPS, side="left"))
        wait = max(0.0, float(onsets[first]) - cue.onset_s) if first < len(onsets) else None
        latencies.append(round(wait, 6) if wait is not None and wait <= window_s + EPS else None)
    return Latency(window_s, tuple(c.onset_s for c in ordered), tuple(latencies))
