"""Evaluation on confirmed sessions: cross-dyad (the recipe judged on dyads it never saw, one dyad
at a time) or the test split.

For every dyad with confirmed sessions, a fold model is trained by the same recipe on all the
other dyads' real sessions (plus the simulated training dyads, if any) and scores the held-back
dyad's sessions. Pooled over the folds, every confirmed session is scored by a model that saw
neither its labels nor its features. The same sessions are scored by the registry's default
model of the time and by the labelling functions, and every coding is compared with the data
set's confirmed events and with each coder's own coding (the model as one more coder).

The fold predictions are stored (``evaluation.json`` in the version folder, events only, no
media), so the promotion gate compares versions on exactly these sessions without retraining.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cuevision.detect.infer import Detector
from cuevision.features.weak import label_events
from cuevision.scheme import Scheme
from cuevision.train.card import pooled
from cuevision.train.data import DataSetError, Session
from cuevision.types import Event

PROTOCOL = "leave-one-dyad-out"
REFERENCE = "reference"  # the data set's confirmed events of each session
FitFold = Callable[[list[Session], list[Session], str], Detector]


def pack(events: Sequence[Event]) -> list[list[Any]]:
    """Events as compact rows ``[actor, type, onset_s, offset_s, score]`` for JSON."""
    return [[e.actor, e.type, e.onset_s, e.offset_s, e.score] for e in events]


def unpack(rows: Sequence[Sequence[Any]]) -> list[Event]:
    return [Event(a, t, float(on), float(off), score=s) for a, t, on, off, s in rows]


def reference_hash(sessions: Mapping[str, Mapping[str, Any]]) -> str:
    """Hash of the reference codings of an evaluation: same hash, same sessions and truth."""
    data = {
        sid: {"reference": s["reference"], "references": s["references"]}
        for sid, s in sorted(sessions.items())
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def cross_dyad(
    sessions: Sequence[Session],
    *,
    sim_train: Sequence[Session],
    sim_val: Sequence[Session],
    spec: str,
    scheme: Scheme,
    fit_fold: FitFold,
    snapshot: str,
    baseline: Detector | None,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Train one fold per dyad with confirmed sessions; every coding of every such session."""
    dyads = sorted({s.dyad for s in sessions if s.source == "confirmed"})
    if len(dyads) < 2:
        raise DataSetError(
            f"cross-dyad evaluation needs confirmed sessions of at least two dyads, found "
            f"{len(dyads)} ({', '.join(dyads) or 'none'})"
        )
    out: dict[str, dict[str, Any]] = {}
    folds = []
    for dyad in dyads:
        train = [*sim_train, *(s for s in sessions if s.dyad != dyad)]
        detector = fit_fold(train, list(sim_val), f"{spec}/without-{dyad}")
        test = [s for s in sessions if s.dyad == dyad and s.source == "confirmed"]
        folds.append({"test_dyad": dyad, "train_real_sessions": len(train) - len(sim_train)})
        log(f"cross-dyad fold without {dyad}: scored {len(test)} sessions")
        out.update({s.name: score(s, detector, baseline, scheme) for s in test})
    return _evaluation(PROTOCOL, spec, baseline, snapshot, out, folds=folds)


def test_split(
    sessions: Sequence[Session],
    detector: Detector,
    *,
    scheme: Scheme,
    snapshot: str,
    baseline: Detector | None,
) -> dict[str, Any] | None:
    """The model itself on the test split's confirmed sessions (None if there are none)."""
    test = [s for s in sessions if s.source == "confirmed"]
    if not test:
        return None
    out = {s.name: score(s, detector, baseline, scheme) for s in test}
    return _evaluation("test split", detector.version, baseline, snapshot, out, folds=[])


def score(
    session: Session, detector: Detector, baseline: Detector | None, scheme: Scheme
) -> dict[str, Any]:
    """Every coding of one confirmed session: its references, the model's, the baseline's and
    the labelling functions' events."""
    return {
        "dyad": session.dyad,
        "reference": pack(session.truth),
        "references": {coder: pack(events) for coder, events in session.references},
        "model": pack(detector.candidates(session.series)),
        "labelling_functions": pack(label_events(session.series, scheme)),
        "baseline": pack(baseline.candidates(session.series)) if baseline else None,
    }


def _evaluation(
    protocol: str,
    spec: str,
    baseline: Detector | None,
    snapshot: str,
    sessions: dict[str, dict[str, Any]],
    *,
    folds: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "protocol": protocol,
        "model": spec,
        "baseline": baseline.version if baseline else None,
        "snapshot": snapshot,
        "reference_hash": reference_hash(sessions),
        "folds": folds,
        "sessions": sessions,
    }


def codings(evaluation: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(rows, columns): the codings judged, and the codings they are judged against."""
    sessions = evaluation["sessions"].values()
    coders = sorted({c for s in sessions for c in s["references"]})
    rows = ["model", *(["baseline"] if evaluation.get("baseline") else [])]
    return [*rows, "labelling_functions", *coders], [REFERENCE, *coders]


def coding(session: Mapping[str, Any], name: str) -> list[Event]:
    """One coding of a stored session: a top-level one (reference, model, ...) or a coder's."""
    if name in session and name not in ("dyad", "references"):
        return unpack(session[name])
    return unpack(session["references"][name])


def summarise(
    evaluation: Mapping[str, Any], *, scheme: Scheme, tolerance_s: float
) -> dict[str, Any]:
    """Pooled event agreement of every coding against every reference (``row -> column``)."""
    rows, columns = codings(evaluation)
    sessions = list(evaluation["sessions"].values())
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        table[row] = {
            col: pooled([(coding(s, col), coding(s, row)) for s in sessions], tolerance_s)
            for col in columns
            if col != row
        }
    return {
        "protocol": evaluation["protocol"],
        "sessions": len(sessions),
        "dyads": sorted({s["dyad"] for s in sessions}),
        "baseline": evaluation.get("baseline"),
        "reference_hash": evaluation["reference_hash"],
        "tolerance_s": tolerance_s,
        "type_names": list(scheme.type_names),
        "agreement": table,
    }
