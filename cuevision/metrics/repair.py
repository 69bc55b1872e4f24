"""Rupture and repair (Tronick & Gianino 1986): how quickly a mismatch is put right.

The scheme's repair rule names rupture types (e.g. the child fusses or looks away) and repair
types (the child looks back or smiles), both by the rule's actor. An *episode* opens at a rupture
onset r and is repaired by the first repair onset p with r < p <= r + max_s; its repair latency
is p − r. A rupture that starts while an episode is still open joins that episode (the dyad is
already out of step) rather than opening a second one. An unrepaired episode is censored at
``min(max_s, session end − r)``: we only know repair took at least that long. The median repair
time is Kaplan–Meier over the episodes (:mod:`cuevision.metrics.survival`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cuevision.metrics.survival import km_median
from cuevision.types import Event

EPS = 1e-9


@dataclass(frozen=True)
class Episode:
    rupture: Event
    repair: Event | None
    ruptures: int  # ruptures that joined this episode, the first included
    wait_s: float  # repair latency if repaired, else the censoring time

    @property
    def repaired(self) -> bool:
        return self.repair is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rupture_type": self.rupture.type,
            "rupture_onset_s": self.rupture.onset_s,
            "ruptures": self.ruptures,
            "repaired": self.repaired,
            "repair_type": self.repair.type if self.repair else None,
            "repair_onset_s": self.repair.onset_s if self.repair else None,
            "repair_latency_s": self.wait_s if self.repaired else None,
            "censored_at_s": None if self.repaired else self.wait_s,
        }


@dataclass(frozen=True)
class Repair:
    episodes: tuple[Episode, ...]
    max_s: float

    @property
    def n_ruptures(self) -> int:
        return len(self.episodes)

    @property
    def n_repaired(self) -> int:
        return sum(e.repaired for e in self.episodes)

    @property
    def repair_latencies_s(self) -> list[float]:
        return [e.wait_s for e in self.episodes if e.repaired]

    @property
    def median_repair_s(self) -> float | None:
        episodes = self.episodes
        return km_median([e.wait_s for e in episodes], [e.repaired for e in episodes])

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_ruptures": self.n_ruptures,
            "n_repaired": self.n_repaired,
            "repair_latencies_s": self.repair_latencies_s,
            "median_repair_s": self.median_repair_s,
            "max_s": self.max_s,
            "episodes": [e.to_dict() for e in self.episodes],
        }


def repair_episodes(
    ruptures: Sequence[Event], repairs: Sequence[Event], *, max_s: float, duration_s: float
) -> Repair:
    """Group ruptures into episodes and find each episode's repair (see the module docstring)."""
    repair_onsets = sorted(repairs, key=lambda e: e.onset_s)
    episodes: list[Episode] = []
    open_until = -1.0  # the time the current episode closes (its repair, or its censoring)
    for rupture in sorted(ruptures, key=lambda e: e.onset_s):
        if episodes and rupture.onset_s < open_until - EPS:
            last = episodes[-1]
            episodes[-1] = Episode(last.rupture, last.repair, last.ruptures + 1, last.wait_s)
            continue
        onset = rupture.onset_s
        limit = min(onset + max_s, duration_s)
        fix = next((p for p in repair_onsets if onset + EPS < p.onset_s <= limit + EPS), None)
        wait = round(fix.onset_s - onset, 6) if fix else round(max(0.0, limit - onset), 6)
        episodes.append(Episode(rupture, fix, 1, wait))
        open_until = onset + wait
    return Repair(tuple(episodes), max_s)
