"""The promotion gate: a version becomes the default only if it codes at least as well as the
current default on the same confirmed sessions.

The candidate's figure comes from its ``evaluation.json`` (its cross-dyad folds' or its own
predictions on the confirmed sessions of its evaluation). The current default is judged on
exactly those sessions against exactly those references (same reference hash), in the first way
that applies:

1. its own ``evaluation.json`` covers them: its out-of-sample predictions there;
2. the candidate recorded its predictions there at training time (it was the default then);
3. ``--data MANIFEST`` gives the sessions' features: it is run on them now.

The decision is on overall event F1 at the evaluation's tolerance; per-type figures of both are
shown and recorded. ``--force`` promotes anyway, and needs a reason, which is recorded too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cuevision.detect.infer import load_detector
from cuevision.detect.registry import (
    EVALUATION_FILE,
    MODELS_DIR,
    ModelError,
    ModelRef,
    default_model,
    resolve,
    scheme_of,
    set_default,
)
from cuevision.scheme import Scheme
from cuevision.train.card import pooled
from cuevision.train.crossval import coding, pack
from cuevision.train.data import PURPOSES, load_dataset


class GateRefused(ModelError):
    """The candidate scores below the current default; the message carries both figures."""


@dataclass(frozen=True)
class Judgement:
    """Both versions' event F1 on the same sessions, per type and overall."""

    candidate: str
    default: str
    sessions: tuple[str, ...]
    protocol: str
    reference_hash: str
    default_basis: str  # how the default's predictions were obtained
    tolerance_s: float
    candidate_f1: dict[str, float | None]  # per type, and "overall"
    default_f1: dict[str, float | None]

    @property
    def passed(self) -> bool:
        return (self.candidate_f1["overall"] or 0.0) >= (self.default_f1["overall"] or 0.0)

    def table(self) -> str:
        rows = [f"{'type':<28} {self.candidate:>16} {self.default:>16}"]
        for name in self.candidate_f1:
            rows.append(
                f"{name:<28} {_fmt(self.candidate_f1[name]):>16} {_fmt(self.default_f1[name]):>16}"
            )
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "compared_on": {
                "protocol": self.protocol,
                "sessions": list(self.sessions),
                "reference_hash": self.reference_hash,
                "tolerance_s": self.tolerance_s,
                "default_predictions": self.default_basis,
            },
            "event_f1": {"candidate": self.candidate_f1, "default": self.default_f1},
        }


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def read_evaluation(ref: ModelRef) -> dict[str, Any] | None:
    path = ref.folder / EVALUATION_FILE
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"{path}: unreadable evaluation ({error}); retrain the model") from None


def f1_table(
    sessions: Mapping[str, Mapping[str, Any]], key: str, tolerance_s: float, types: list[str]
) -> dict[str, float | None]:
    block = pooled(
        [(coding(s, "reference"), coding(s, key)) for s in sessions.values()], tolerance_s
    )
    out = {t: block["per_type"].get(t, {}).get("f1") for t in types}
    return {**out, "overall": block["overall"]["f1"]}


def judge(
    candidate: str,
    *,
    scheme: Scheme,
    models_dir: Path = MODELS_DIR,
    data: Path | None = None,
    real_cache: Path | None = None,
    tolerance_s: float = 1.0,
    against: str | None = None,
) -> Judgement:
    """Both versions' figures on the candidate's evaluation sessions (see the module doc);
    ``against`` another version instead of the current default."""
    ref = resolve(candidate, models_dir)
    spec = f"{ref.name}@{ref.version}"
    if against is None:  # the default of the candidate's scheme
        current = default_model(models_dir, scheme=scheme_of(ref))
    else:
        other = resolve(against, models_dir)
        current = f"{other.name}@{other.version}"
    if current == spec:
        raise ModelError(
            f"{spec} is already the default model" if against is None else "compare two versions"
        )
    evaluation = read_evaluation(ref)
    if evaluation is None:
        raise ModelError(
            f"{spec} has no evaluation on confirmed sessions ({ref.folder / EVALUATION_FILE}); "
            "train it with --data MANIFEST and --cross-dyad (or a test split of confirmed "
            "sessions), or promote it with --force --reason TEXT"
        )
    sessions: dict[str, dict[str, Any]] = {k: dict(v) for k, v in evaluation["sessions"].items()}
    wanted = evaluation["reference_hash"]
    default_ref = resolve(current, models_dir)
    own = read_evaluation(default_ref)
    if own is not None and own["reference_hash"] == wanted:
        for sid, s in sessions.items():
            s["default"] = own["sessions"][sid]["model"]
        basis = f"{current}'s own {own['protocol']} predictions (its evaluation.json)"
    elif evaluation.get("baseline") == current:
        for s in sessions.values():
            s["default"] = s["baseline"]
        basis = f"{current}'s candidates on these sessions, recorded when {spec} was trained"
    elif data is not None:
        _run_default(sessions, current, scheme, models_dir, data, real_cache)
        basis = f"{current} run now on these sessions' features from {data}"
    else:
        raise ModelError(
            f"no predictions of {current} on {spec}'s evaluation sessions; pass --data MANIFEST "
            f"(the data set {spec} was evaluated on) to run {current} on them"
        )
    types = list(scheme.type_names)
    return Judgement(
        candidate=spec,
        default=current,
        sessions=tuple(sorted(sessions)),
        protocol=str(evaluation["protocol"]),
        reference_hash=wanted,
        default_basis=basis,
        tolerance_s=tolerance_s,
        candidate_f1=f1_table(sessions, "model", tolerance_s, types),
        default_f1=f1_table(sessions, "default", tolerance_s, types),
    )


def _run_default(
    sessions: dict[str, dict[str, Any]],
    current: str,
    scheme: Scheme,
    models_dir: Path,
    data: Path,
    real_cache: Path | None,
) -> None:
    from cuevision.train.run import session_reader

    dataset = load_dataset(data)
    entries = {s.id: s for p in PURPOSES for s in dataset.sessions(p)}
    missing = sorted(set(sessions) - set(entries))
    if missing:
        raise ModelError(
            f"{data} lacks {len(missing)} of the evaluation's sessions (first: {missing[0]}); "
            "give the data set the candidate was evaluated on"
        )
    detector = load_detector(current, scheme=scheme, models_dir=models_dir)
    read = session_reader(dataset, real_cache, scheme.analysis.fps)
    for sid, s in sessions.items():
        s["default"] = pack(detector.candidates(read(entries[sid])))


def promote(
    candidate: str,
    *,
    scheme: Scheme,
    models_dir: Path = MODELS_DIR,
    force: bool = False,
    reason: str | None = None,
    data: Path | None = None,
    real_cache: Path | None = None,
) -> tuple[Judgement | None, dict[str, Any]]:
    """Judge ``candidate`` and make it the default if it passes (or ``force`` with a reason)."""
    if force and not (reason and reason.strip()):
        raise ModelError("--force needs --reason TEXT: why the gate is overridden is recorded")
    try:
        verdict: Judgement | None = judge(
            candidate, scheme=scheme, models_dir=models_dir, data=data, real_cache=real_cache
        )
    except ModelError as error:
        if not force or "already the default" in str(error):
            raise
        verdict = None  # forced without figures: recorded as "not judged"
    if verdict is not None and not verdict.passed and not force:
        raise GateRefused(
            f"{verdict.candidate} is not promoted: overall event F1 "
            f"{_fmt(verdict.candidate_f1['overall'])} < {_fmt(verdict.default_f1['overall'])} of "
            f"the default {verdict.default} on the same {len(verdict.sessions)} sessions "
            f"({verdict.protocol}); per type:\n{verdict.table()}\n"
            "Pass --force --reason TEXT to promote it anyway."
        )
    record: dict[str, Any] = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "gate": ("not judged" if verdict is None else ("passed" if verdict.passed else "failed")),
        "forced": force,
        **({"reason": reason.strip()} if force and reason else {}),
        **(verdict.to_dict() if verdict is not None else {}),
    }
    return verdict, set_default(candidate, record, models_dir)
