"""Tune the post-processing of each event type on validation data, against the reported metric.

As pyannote tunes ``Binarize``: a grid over onset and offset thresholds, minimum duration and
merge gap, scored by event F1 at ``± tolerance_s`` with the project's one-to-one optimal matching
(:func:`cuevision.metrics.agreement.match_onsets`) pooled over all validation sessions. Hysteresis
depends only on the two thresholds, so runs are computed once per threshold pair and the duration
rules are applied to the short run lists.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from cuevision.detect.postprocess import FrameScores, Thresholds, clean, hysteresis
from cuevision.metrics.agreement import match_onsets
from cuevision.types import Event


@dataclass(frozen=True)
class Grid:
    """The values tried; offsets are ``onset - drop`` (never below 0.05)."""

    onsets: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    drops: tuple[float, ...] = (0.0, 0.1, 0.2, 0.35)
    min_durations_s: tuple[float, ...] = (0.0, 0.2, 0.4, 0.7, 1.0)
    merge_gaps_s: tuple[float, ...] = (0.0, 0.3, 0.6, 1.0, 1.5)


@dataclass(frozen=True)
class Tuned:
    """The best thresholds of one type and the validation F1 they reach."""

    thresholds: Thresholds
    f1: float | None
    n_reference: int


def tune(
    scores: Sequence[FrameScores],
    truths: Sequence[Sequence[Event]],
    *,
    tolerance_s: float = 1.0,
    grid: Grid = Grid(),
) -> dict[str, Tuned]:
    """Per type, the grid point with the highest pooled event F1; among equals, the one that
    finds the fewest events (so a type no validation session has is not flagged everywhere),
    then the earlier point."""
    if len(scores) != len(truths):
        raise ValueError(f"{len(scores)} score series but {len(truths)} truth lists")
    if not scores:
        raise ValueError("tuning needs at least one validation session")
    out: dict[str, Tuned] = {}
    for k, name in enumerate(scores[0].type_names):
        onsets = [[e.onset_s for e in truth if e.type == name] for truth in truths]
        n_ref = sum(map(len, onsets))
        best: tuple[float, int, Thresholds] = (-1.0, 0, Thresholds())
        for on, drop in itertools.product(grid.onsets, grid.drops):
            th0 = Thresholds(on, round(max(on - drop, 0.05), 3))
            runs = [hysteresis(s.probs[:, k], th0.onset, th0.offset) for s in scores]
            for min_d, gap in itertools.product(grid.min_durations_s, grid.merge_gaps_s):
                th = Thresholds(th0.onset, th0.offset, min_d, gap)
                matched = n_pred = 0
                for s, r, ref in zip(scores, runs, onsets, strict=True):
                    found = [float(s.t_s[first]) for first, _ in clean(r, s.t_s, s.fps, th)]
                    n_pred += len(found)
                    matched += len(match_onsets(ref, found, tolerance_s))
                f1 = 2 * matched / (n_ref + n_pred) if n_ref + n_pred else 0.0
                # equal F1 (always 0 for a type absent from validation): fewer events wins
                if f1 > best[0] + 1e-12 or (abs(f1 - best[0]) <= 1e-12 and n_pred < best[1]):
                    best = (f1, n_pred, th)
        out[name] = Tuned(best[2], best[0] if n_ref else None, n_ref)
    return out
