"""Agreement between two codings of one session: two annotators, or the model against a person.

Three views, each per event type:

* **Event agreement.** Events of one type are matched one to one so that the number of pairs whose
  onsets lie within ``tolerance_s`` is as large as possible and, among those, the summed onset error
  is smallest (an optimal assignment, :func:`scipy.optimize.linear_sum_assignment`). Precision =
  matched / n_other, recall = matched / n_reference, F1 = 2PR / (P + R); each is ``None`` when its
  denominator is 0.
* **Time-unit Cohen's kappa with tolerance** (Bakeman, Quera & Gnisci 2009). The session is cut
  into units of ``time_unit_s``; a unit is 1 for a coder when one of their events of the type covers
  it. A unit where the coders disagree still counts as agreement when the other coder has the same
  value within ``± tolerance_s``. Kappa (:func:`sklearn.metrics.cohen_kappa_score`) is computed
  from each coder's side and the two are averaged, so the result does not depend on which coding
  is the reference; with tolerance 0 it is plain time-unit Cohen's kappa.
* **Krippendorff's alpha** (nominal, two coders) on the same units *without* tolerance: the strict
  view. ``None`` where it does not fit: when the units hold only one value across both coders.

Several sessions pool (:func:`compare_sessions`): events are matched within each session, counts
add up, and kappa and alpha are computed over the sessions' units laid end to end (tolerance never
reaches across a session boundary). :func:`consensus` turns two codings into one by the same
matching.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from cuevision.metrics.contingency import unit_of
from cuevision.types import Event

if TYPE_CHECKING:
    from rich.table import Table


@dataclass(frozen=True)
class MatchCounts:
    """Event agreement for one type, or for all types together."""

    n_reference: int
    n_other: int
    n_matched: int
    mean_onset_error_s: float | None  # mean |onset_other - onset_reference| over matched pairs

    @property
    def precision(self) -> float | None:
        return self.n_matched / self.n_other if self.n_other else None

    @property
    def recall(self) -> float | None:
        return self.n_matched / self.n_reference if self.n_reference else None

    @property
    def f1(self) -> float | None:
        total = self.n_reference + self.n_other
        return 2 * self.n_matched / total if total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            **asdict(self),
        }


@dataclass(frozen=True)
class AgreementResult:
    overall: MatchCounts
    per_type: dict[str, MatchCounts]
    kappa: dict[str, float | None]
    alpha: dict[str, float | None]
    tolerance_s: float
    time_unit_s: float
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "per_type": {name: counts.to_dict() for name, counts in self.per_type.items()},
            "kappa": dict(self.kappa),
            "alpha": dict(self.alpha),
            "settings": {
                "tolerance_s": self.tolerance_s,
                "time_unit_s": self.time_unit_s,
                "duration_s": self.duration_s,
            },
        }


def match_onsets(
    reference: Sequence[float], other: Sequence[float], tolerance_s: float
) -> list[tuple[int, int]]:
    """Optimal one-to-one pairs ``(i_reference, j_other)`` with onsets within the tolerance.

    Pairs outside the tolerance cost more than all admissible pairs together, so the assignment
    first maximises the number of matches and then minimises their summed onset error.
    """
    from scipy.optimize import linear_sum_assignment

    if not len(reference) or not len(other):
        return []
    ref = np.asarray(reference, dtype=float)[:, None]
    oth = np.asarray(other, dtype=float)[None, :]
    error = np.abs(ref - oth)
    admissible = error <= tolerance_s + 1e-9
    forbidden = (tolerance_s + 1.0) * (min(error.shape) + 1)
    rows, cols = linear_sum_assignment(np.where(admissible, error, forbidden))
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if admissible[i, j]]


def _match_counts(
    reference: Sequence[Event], other: Sequence[Event], tolerance_s: float
) -> MatchCounts:
    pairs = match_onsets([e.onset_s for e in reference], [e.onset_s for e in other], tolerance_s)
    errors = [abs(other[j].onset_s - reference[i].onset_s) for i, j in pairs]
    return MatchCounts(
        n_reference=len(reference),
        n_other=len(other),
        n_matched=len(pairs),
        mean_onset_error_s=float(np.mean(errors)) if errors else None,
    )


def _pooled(counts: Sequence[MatchCounts]) -> MatchCounts:
    """Counts added up; the mean onset error weighted by each part's matches."""
    matched = sum(c.n_matched for c in counts)
    error = sum((c.mean_onset_error_s or 0.0) * c.n_matched for c in counts)
    return MatchCounts(
        n_reference=sum(c.n_reference for c in counts),
        n_other=sum(c.n_other for c in counts),
        n_matched=matched,
        mean_onset_error_s=error / matched if matched else None,
    )


def occupancy(events: Sequence[Event], n_units: int, time_unit_s: float) -> np.ndarray:
    """0/1 per time unit: unit k (``[k u, (k+1) u)``) is 1 when an event overlaps it.

    An event of zero length still marks the unit its onset falls in.
    """
    units = np.zeros(n_units, dtype=np.int8)
    for event in events:
        first = unit_of(event.onset_s, time_unit_s)
        last = max(first + 1, math.ceil(event.offset_s / time_unit_s - 1e-9))
        units[max(first, 0) : min(last, n_units)] = 1
    return units


def _read_as(reader: np.ndarray, coder: np.ndarray, tolerance_units: int) -> np.ndarray:
    """``coder``'s units as ``reader`` reads them: unit k takes the reader's value when the coder
    has that value anywhere in ``[k - t, k + t]``."""
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    size = 2 * tolerance_units + 1
    has_one = maximum_filter1d(coder, size, mode="nearest") == 1
    has_zero = minimum_filter1d(coder, size, mode="nearest") == 0
    forgiven = np.where(reader == 1, has_one, has_zero)
    return np.where(forgiven, reader, coder)


def _sessions_kappa(
    streams: Sequence[tuple[np.ndarray, np.ndarray]], tolerance_units: int
) -> float | None:
    """Tolerant kappa of the sessions' ``(a, b)`` unit streams laid end to end (see below)."""
    from sklearn.metrics import cohen_kappa_score

    if not streams or len(np.unique(np.concatenate([x for ab in streams for x in ab]))) < 2:
        return None
    sides = []
    for first, second in (
        (
            np.concatenate([a for a, _ in streams]),
            np.concatenate([_read_as(a, b, tolerance_units) for a, b in streams]),
        ),
        (
            np.concatenate([b for _, b in streams]),
            np.concatenate([_read_as(b, a, tolerance_units) for a, b in streams]),
        ),
    ):
        if len(np.unique(np.concatenate([first, second]))) < 2:
            sides.append(1.0)  # both constant and equal after forgiving: perfect agreement
            continue
        value = float(cohen_kappa_score(first, second))
        if not math.isfinite(value):
            return None
        sides.append(value)
    return float(np.mean(sides))


def tolerant_kappa(a: np.ndarray, b: np.ndarray, tolerance_units: int) -> float | None:
    """Time-unit Cohen's kappa of two 0/1 streams, disagreements forgiven within ±tolerance units.

    From coder A's side, B's unit k is read as A's value when B takes that value anywhere in
    ``[k - t, k + t]``; kappa(A, B read so) is one side. The result is the mean of both sides, so
    it does not depend on which coding is the reference; with t = 0 it is plain Cohen's kappa.
    ``None`` where kappa is undefined (both coders constant and equal).
    """
    return _sessions_kappa([(a, b)], tolerance_units)


def nominal_alpha(a: np.ndarray, b: np.ndarray) -> float | None:
    """Krippendorff's alpha (nominal) of two coders' unit streams; ``None`` if one value only."""
    import krippendorff

    if len(np.unique(np.concatenate([a, b]))) < 2:
        return None
    value = float(
        krippendorff.alpha(reliability_data=np.vstack([a, b]), level_of_measurement="nominal")
    )
    return value if math.isfinite(value) else None


SessionCodings = tuple[Sequence[Event], Sequence[Event], float | None]


def compare(
    reference: Sequence[Event],
    other: Sequence[Event],
    *,
    tolerance_s: float = 1.0,
    duration_s: float | None = None,
    time_unit_s: float = 0.1,
) -> AgreementResult:
    """Agreement of ``other`` with ``reference`` per event type and overall (see the module doc).

    ``duration_s`` defaults to the last offset in either coding. Types are those present in either
    coding, in sorted order; events are matched only within their own type.
    """
    return compare_sessions(
        [(reference, other, duration_s)], tolerance_s=tolerance_s, time_unit_s=time_unit_s
    )


def compare_sessions(
    sessions: Sequence[SessionCodings], *, tolerance_s: float = 1.0, time_unit_s: float = 0.1
) -> AgreementResult:
    """Pooled agreement of several sessions' ``(reference, other, duration_s)`` codings.

    Events are matched within a session and type, and the counts add up; kappa and alpha see the
    sessions' time units end to end. ``duration_s`` is the sum of the sessions' durations.
    """
    if tolerance_s < 0:
        raise ValueError(f"tolerance_s must be >= 0, not {tolerance_s}")
    if time_unit_s <= 0:
        raise ValueError(f"time_unit_s must be > 0, not {time_unit_s}")
    tolerance_units = round(tolerance_s / time_unit_s)
    durations = [
        float(max((e.offset_s for e in (*ref, *oth)), default=0.0)) if d is None else d
        for ref, oth, d in sessions
    ]
    names = sorted({e.type for ref, oth, _ in sessions for e in (*ref, *oth)})
    per_type: dict[str, MatchCounts] = {}
    kappa: dict[str, float | None] = {}
    alpha: dict[str, float | None] = {}
    for name in names:
        counts, streams = [], []
        for (reference, other, _), duration_s in zip(sessions, durations, strict=True):
            n_units = max(1, math.ceil(duration_s / time_unit_s - 1e-9))
            ref = [e for e in reference if e.type == name]
            oth = [e for e in other if e.type == name]
            counts.append(_match_counts(ref, oth, tolerance_s))
            streams.append(
                (occupancy(ref, n_units, time_unit_s), occupancy(oth, n_units, time_unit_s))
            )
        per_type[name] = _pooled(counts)
        kappa[name] = _sessions_kappa(streams, tolerance_units)
        alpha[name] = nominal_alpha(
            np.concatenate([a for a, _ in streams]), np.concatenate([b for _, b in streams])
        )
    return AgreementResult(
        _pooled(list(per_type.values())),
        per_type,
        kappa,
        alpha,
        tolerance_s,
        time_unit_s,
        float(sum(durations)),
    )


@dataclass(frozen=True)
class Consensus:
    """Two codings made one: the agreed events, and what each coder had that the other did not."""

    events: list[Event]
    only_first: list[Event]
    only_second: list[Event]


def consensus(
    first: Sequence[Event],
    second: Sequence[Event],
    *,
    tolerance_s: float = 1.0,
    min_gap_s: float = 0.0,
) -> Consensus:
    """The events both coders coded, by the agreement's own matching, onset and offset averaged.

    Per type, events are paired by :func:`match_onsets` (onsets within ``tolerance_s``, one to
    one), exactly the pairs that event agreement counts. Each pair becomes one event whose onset
    and offset are the means of the two; consensus events of one type less than ``min_gap_s``
    apart (the manual's minimum gap) are merged. Unpaired events are left out: the consensus
    holds only what two people saw, and each coder's own file keeps the rest.
    """
    agreed: list[Event] = []
    only_first: list[Event] = []
    only_second: list[Event] = []
    for name in sorted({e.type for e in (*first, *second)}):
        ones = sorted((e for e in first if e.type == name), key=lambda e: e.onset_s)
        twos = sorted((e for e in second if e.type == name), key=lambda e: e.onset_s)
        pairs = match_onsets([e.onset_s for e in ones], [e.onset_s for e in twos], tolerance_s)
        merged = [_average(ones[i], twos[j]) for i, j in pairs]
        agreed.extend(_merge_close(merged, min_gap_s))
        paired_first, paired_second = {i for i, _ in pairs}, {j for _, j in pairs}
        only_first.extend(e for i, e in enumerate(ones) if i not in paired_first)
        only_second.extend(e for j, e in enumerate(twos) if j not in paired_second)
    return Consensus(sorted(agreed, key=_order), only_first, only_second)


def _order(event: Event) -> tuple[float, str, str]:
    return event.onset_s, event.actor, event.type


def _average(one: Event, two: Event) -> Event:
    who = sorted({a for a in (one.annotator, two.annotator) if a})
    return Event(
        actor=one.actor,
        type=one.type,
        onset_s=(one.onset_s + two.onset_s) / 2,
        offset_s=(one.offset_s + two.offset_s) / 2,
        status="added",
        source="consensus",
        annotator="+".join(who) or None,
    )


def _merge_close(events: Sequence[Event], min_gap_s: float) -> list[Event]:
    """Events of one type in onset order; one that starts less than ``min_gap_s`` after the
    previous one ends (or overlaps it) joins it."""
    out: list[Event] = []
    for event in sorted(events, key=_order):
        if out and event.onset_s - out[-1].offset_s < min_gap_s:
            out[-1] = replace(out[-1], offset_s=max(out[-1].offset_s, event.offset_s))
        else:
            out.append(event)
    return out


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_agreement(result: AgreementResult, title: str) -> Table:
    """A rich table: one row per type and a bold overall row."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("type", no_wrap=True)
    for column in ("ref", "other", "matched", "prec", "recall", "F1", "err s", "kappa", "alpha"):
        table.add_column(column, justify="right")

    def row(name: str, counts: MatchCounts, kappa: str, alpha: str, style: str = "") -> None:
        table.add_row(
            name,
            str(counts.n_reference),
            str(counts.n_other),
            str(counts.n_matched),
            _fmt(counts.precision),
            _fmt(counts.recall),
            _fmt(counts.f1),
            _fmt(counts.mean_onset_error_s),
            kappa,
            alpha,
            style=style,
        )

    for name, counts in result.per_type.items():
        row(name, counts, _fmt(result.kappa[name]), _fmt(result.alpha[name]))
    row("overall", result.overall, "", "", style="bold")
    table.caption = (
        f"onsets matched within ±{result.tolerance_s:g} s; kappa on {result.time_unit_s:g} s units "
        f"with the same tolerance; alpha without tolerance"
    )
    return table
