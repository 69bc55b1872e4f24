"""All metrics of one session, from its events (and optionally its feature signals) and a scheme.

Which cues and responses belong together, the windows, the repair rule and the analysis settings
all come from the scheme; nothing here names a label. Events marked ``rejected`` by an annotator
are left out; every other status counts.

``coverage`` says how much data the numbers rest on:

* ``events``: ``n_events`` read, ``n_used`` (all but rejected), ``n_excluded``, ``by_status``
  (``unspecified`` where a file has no status), ``by_type`` of the used events, and
  ``confirmed_fraction``: the share of used events an annotator accepted, edited or added;
* ``signals`` (``null`` without signals): ``fps``, ``span_s`` and ``fraction_of_session`` the
  signal table covers, and per signal pair ``valid_fraction``, the share of samples where both
  people's values exist. Each synchrony entry adds its own ``coverage``: the share of windows
  with enough valid samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cuevision.errors import CuevisionError
from cuevision.metrics.contingency import Contingency, contingency_table
from cuevision.metrics.latency import Latency, response_latency
from cuevision.metrics.repair import Repair, repair_episodes
from cuevision.metrics.signals import Signals
from cuevision.metrics.synchrony import Synchrony, synchrony
from cuevision.metrics.turns import Voices
from cuevision.scheme import Scheme
from cuevision.types import Event

Basis = Literal["confirmed", "candidates"]
EXCLUDED_STATUSES = ("rejected",)
CONFIRMED_STATUSES = ("accepted", "edited", "added")


@dataclass(frozen=True)
class Link:
    """Which responses answer a cue type, within how long. Keyed ``cue`` or ``cue->response``."""

    key: str
    cue: str
    responses: tuple[str, ...]
    window_s: float


@dataclass(frozen=True)
class SessionMetrics:
    basis: Basis
    duration_s: float
    events: tuple[Event, ...]  # the events the metrics rest on (rejected ones left out)
    links: dict[str, Link]
    latency: dict[str, Latency]
    contingency: dict[str, Contingency]
    synchrony: dict[str, Synchrony]
    repair: Repair | None
    coverage: dict[str, Any]
    settings: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    voices: Voices | None = None  # None: no voice columns to read (a CSV signals table)

    def to_dict(self) -> dict[str, Any]:
        """The content of ``metrics.json``."""

        def described(key: str, values: dict[str, Any]) -> dict[str, Any]:
            link = self.links[key]
            return {"cue": link.cue, "responses": list(link.responses), **values}

        return {
            "basis": self.basis,
            "duration_s": self.duration_s,
            "coverage": self.coverage,
            "latency": {k: described(k, v.to_dict()) for k, v in self.latency.items()},
            "contingency": {
                k: described(k, {"window_s": self.links[k].window_s, **v.to_dict()})
                for k, v in self.contingency.items()
            },
            "synchrony": {k: v.to_dict() for k, v in self.synchrony.items()},
            "repair": self.repair.to_dict() if self.repair else None,
            "voices": self.voices.to_dict() if self.voices else None,
            "settings": self.settings,
            "provenance": self.provenance,
        }


def links_of(scheme: Scheme) -> dict[str, Link]:
    """Each cue type with all its allowed responses pooled, then each ``cue->response`` pair."""
    pooled: dict[str, Link] = {}
    pairs: dict[str, Link] = {}
    for rule in scheme.contingency:
        known = pooled.get(rule.cue)
        responses = tuple(dict.fromkeys((*(known.responses if known else ()), *rule.responses)))
        window = max(rule.window_s, known.window_s if known else 0.0)
        pooled[rule.cue] = Link(rule.cue, rule.cue, responses, window)
        for response in rule.responses:
            key = f"{rule.cue}->{response}"
            pairs[key] = Link(key, rule.cue, (response,), rule.window_s)
    return {**pooled, **pairs}


def _coverage(
    all_events: Sequence[Event], used: Sequence[Event], duration_s: float, signals: Signals | None
) -> dict[str, Any]:
    by_status: dict[str, int] = {}
    for event in all_events:
        by_status[event.status or "unspecified"] = (
            by_status.get(event.status or "unspecified", 0) + 1
        )
    by_type: dict[str, int] = {}
    for event in used:
        by_type[event.type] = by_type.get(event.type, 0) + 1
    confirmed = sum(e.status in CONFIRMED_STATUSES for e in used)
    signal_cover = None
    if signals is not None:
        span = float(signals.t_s[-1] - signals.t_s[0]) + 1.0 / signals.fps
        signal_cover = {
            "fps": signals.fps,
            "span_s": span,
            "fraction_of_session": min(1.0, span / duration_s) if duration_s > 0 else None,
            "valid_fraction": {name: signals.valid_fraction(name) for name in signals.pairs},
        }
    return {
        "events": {
            "n_events": len(all_events),
            "n_used": len(used),
            "n_excluded": len(all_events) - len(used),
            "confirmed_fraction": confirmed / len(used) if used else None,
            "by_status": by_status,
            "by_type": by_type,
        },
        "signals": signal_cover,
    }


def session_metrics(
    events: Sequence[Event],
    *,
    scheme: Scheme,
    duration_s: float,
    basis: Basis,
    signals: Signals | None = None,
    provenance: dict[str, Any] | None = None,
    voices: Voices | None = None,
) -> SessionMetrics:
    """Latency, contingency, synchrony, repair and coverage of one session; ``voices`` (from
    :func:`cuevision.metrics.turns.read_voices`) adds the vocal turns and replies."""
    if basis not in ("confirmed", "candidates"):
        raise CuevisionError(f"basis must be 'confirmed' or 'candidates', not {basis!r}")
    if not duration_s > 0:
        raise CuevisionError(f"the session duration must be > 0 s, not {duration_s}")
    unknown = sorted({e.type for e in events} - set(scheme.type_names))
    if unknown:
        raise CuevisionError(
            f"event type(s) {', '.join(unknown)} are not in the scheme {scheme.name!r}; "
            f"pass the scheme the events were coded with"
        )
    used = [e for e in events if e.status not in EXCLUDED_STATUSES]
    analysis = scheme.analysis
    of_type = {name: [e for e in used if e.type == name] for name in scheme.type_names}
    links = links_of(scheme)
    latency, contingency = {}, {}
    for key, link in links.items():
        cues = of_type[link.cue]
        responses = [e for name in link.responses for e in of_type[name]]
        latency[key] = response_latency(cues, responses, link.window_s)
        contingency[key] = contingency_table(
            cues,
            responses,
            window_s=link.window_s,
            duration_s=duration_s,
            time_unit_s=analysis.time_unit_s,
            permutations=analysis.permutations,
            seed=analysis.seed,
        )
    sync = analysis.synchrony
    synchronies: dict[str, Synchrony] = {}
    pairs, fps = (signals.pairs, signals.fps) if signals else ({}, 1.0)
    for name, (child, caregiver) in pairs.items():
        synchronies[name] = synchrony(
            child,
            caregiver,
            fps=fps,
            window_s=sync.window_s,
            step_s=sync.step_s,
            max_lag_s=sync.max_lag_s,
            surrogates=sync.surrogates,
            seed=analysis.seed,
        )
    repair = None
    if scheme.repair is not None:
        rule = scheme.repair
        of_actor = [e for e in used if e.actor == rule.actor]
        repair = repair_episodes(
            [e for e in of_actor if e.type in rule.ruptures],
            [e for e in of_actor if e.type in rule.repairs],
            max_s=rule.max_s,
            duration_s=duration_s,
        )
    settings = {
        "scheme": {"name": scheme.name, "version": scheme.version, "hash": scheme.hash},
        "time_unit_s": analysis.time_unit_s,
        "permutations": analysis.permutations,
        "seed": analysis.seed,
        "synchrony": sync.model_dump(),
        "contingency_rules": [rule.model_dump() for rule in scheme.contingency],
        "repair_rule": scheme.repair.model_dump() if scheme.repair else None,
        "excluded_statuses": list(EXCLUDED_STATUSES),
    }
    return SessionMetrics(
        basis=basis,
        duration_s=duration_s,
        events=tuple(sorted(used, key=lambda e: (e.onset_s, e.type))),
        links=links,
        latency=latency,
        contingency=contingency,
        synchrony=synchronies,
        repair=repair,
        coverage=_coverage(events, used, duration_s, signals),
        settings=settings,
        provenance=dict(provenance or {}),
        voices=voices,
    )
