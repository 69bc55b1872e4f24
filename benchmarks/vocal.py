"""Vocal cues on the training dyads' clips: the child's laughs, what the audio adds, who vocalises.

    .venv/bin/python benchmarks/vocal.py --features DIR [--coding DIR] [--parts a,b,c]
        [--model cue-vocal@0.1] [--base cue-tcn@0.1] [--sim-dyads 40] [--epochs 6] [--steps 25]

``--features`` holds ``<clip>/features.parquet`` of the training dyads' clips (2UWdXP, 6c6MZQ),
written by the FEATURE_VERSION that has ``voice.laugh`` (``cuevision process``, or features
recomputed from a process folder's landmarks). ``--coding`` is the vocal reference coding: one
``<clip>.csv`` per clip (actor,type,onset_s,offset_s; the vocal scheme's types; seconds from the
first frame). Clips of the held-out dyads are refused, whatever folder they come from.

(a) **Laughs.** The child's laugh candidates of ``--model`` and the laughs rule (weak labels)
against the coding's ``child_laughs``, event F1 at +-1 s (:mod:`cuevision.metrics.agreement`).

(b) **What the audio adds.** The same recipe (simulated dyads plus the real clips; small
settings, one seed; ``child_smiles`` optionally fine-tuned from ``--base``, as cue-tcn 0.3 was
from 0.1) trained with and without the ``voice.*`` columns, leave one dyad out: one
model per dyad, trained without it, scores its clips (their candidates are kept in ``--work``,
outside the project, and reused by a later run with the same settings). ``child_smiles``
(default scheme) is judged against the consensus coding of lookit-coding
(``--smiles-manifest``), ``child_laughs`` (vocal scheme, trained on weak labels of the other
dyad) against ``--coding`` when given, else against the laughs rule.

(c) **Who vocalises.** The audio stage's vocalisations (``voice.<role>_vocalising`` > 0.5,
:func:`cuevision.metrics.turns.vocal_events`) and the model's candidates, as each person's
voice (the child's vocalises, laughs and cries together), against the coding's, event F1 at
+-0.5 s per person.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cuevision.detect.infer import Detector, load_detector  # noqa: E402
from cuevision.events import read_events, write_events  # noqa: E402
from cuevision.features import read_features  # noqa: E402
from cuevision.features.weak import label_events, label_frames  # noqa: E402
from cuevision.files import make_private_dir  # noqa: E402
from cuevision.metrics.agreement import MatchCounts, compare_sessions  # noqa: E402
from cuevision.metrics.turns import vocal_events  # noqa: E402
from cuevision.resources import DEFAULT_SCHEME  # noqa: E402
from cuevision.scheme import Scheme, load_scheme  # noqa: E402
from cuevision.train.data import (  # noqa: E402
    Session,
    load_dataset,
    real_sessions,
    simulated_sessions,
    split_seeds,
)
from cuevision.train.fit import FitSettings  # noqa: E402
from cuevision.train.run import TrainSettings, fit_detector, training_features  # noqa: E402
from cuevision.types import Event, FeatureSeries  # noqa: E402

HELD_OUT = ("3dC3SQ", "4JDccE")
VOCAL_SCHEME = DEFAULT_SCHEME.with_name("vocal.yaml")
SMILES_MANIFEST = ROOT / "annotation" / "datasets" / "lookit-coding" / "manifest.yaml"
Coded = list[tuple[list[Event], list[Event], float]]  # (reference, other, duration_s)


def clips(features: Path) -> dict[str, FeatureSeries]:
    out = {}
    for folder in sorted(p for p in features.iterdir() if (p / "features.parquet").is_file()):
        if folder.name.startswith(HELD_OUT):
            raise SystemExit(f"{folder}: a clip of a held-out dyad; remove it from {features}")
        series = read_features(folder / "features.parquet")
        if "voice.laugh" not in series.names:
            raise SystemExit(f"{folder}: features without voice.laugh; recompute them")
        out[folder.name] = series
    return out


def coding(folder: Path, names: Sequence[str], scheme: Scheme) -> dict[str, list[Event]]:
    """The reference events of each clip that the coder coded (a missing file: not coded)."""
    return {
        n: read_events(folder / f"{n}.csv", scheme)
        for n in names
        if (folder / f"{n}.csv").is_file()
    }


def duration(series: FeatureSeries) -> float:
    return float(len(series.t_s) / series.fps)


def only(events: Sequence[Event], type_name: str) -> list[Event]:
    return [e for e in events if e.type == type_name]


def by_person(events: Sequence[Event]) -> list[Event]:
    """Each event as its actor's voice: the child's vocalisations, laughs and cries are one."""
    return [replace(e, type=f"{e.actor}_voice") for e in events]


def row(table: Table, label: str, counts: MatchCounts | None) -> None:
    if counts is None:
        table.add_row(label, "0", "0", "0", "-", "-", "-")
        return

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}"

    table.add_row(
        label,
        str(counts.n_reference),
        str(counts.n_other),
        str(counts.n_matched),
        fmt(counts.precision),
        fmt(counts.recall),
        fmt(counts.f1),
    )


def new_table(title: str) -> Table:
    table = Table(title=title)
    for column in ("codes", "reference", "found", "matched", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "codes" else "right")
    return table


def score(sessions: Coded, tolerance_s: float, type_name: str) -> MatchCounts | None:
    return compare_sessions(sessions, tolerance_s=tolerance_s).per_type.get(type_name)


def part_a(
    series: dict[str, FeatureSeries], truth: dict[str, list[Event]], model: Detector, scheme: Scheme
) -> Table:
    table = new_table(f"(a) child_laughs on {len(truth)} coded clips, +-1 s")
    for label, find in (
        (f"{model.version} candidates", lambda s: model.candidates(s)),
        ("laughs rule (weak labels)", lambda s: label_events(s, scheme)),
    ):
        coded = [
            (
                only(truth[n], "child_laughs"),
                only(find(series[n]), "child_laughs"),
                duration(series[n]),
            )
            for n in truth
        ]
        row(table, label, score(coded, 1.0, "child_laughs"))
    return table


def part_c(
    series: dict[str, FeatureSeries], truth: dict[str, list[Event]], model: Detector
) -> Table:
    table = new_table(f"(c) who vocalises on {len(truth)} coded clips, +-0.5 s")
    for label, find in (
        ("audio stage: voice.<role>_vocalising > 0.5", vocal_events),
        (f"{model.version} candidates", lambda s: model.candidates(s)),
    ):
        coded = [
            (by_person(truth[n]), by_person(find(series[n])), duration(series[n])) for n in truth
        ]
        result = compare_sessions(coded, tolerance_s=0.5)
        for person in ("child", "caregiver"):
            row(table, f"{label}: {person}", result.per_type.get(f"{person}_voice"))
    return table


def weak_session(name: str, series: FeatureSeries, scheme: Scheme) -> Session:
    return Session(
        name,
        name.split(".")[0],
        series,
        label_frames(series, scheme),
        tuple(label_events(series, scheme)),
        "weak",
    )


def leave_one_dyad_out(
    real: Sequence[Session],
    scheme: Scheme,
    args: argparse.Namespace,
    audio: bool,
    base: Detector | None = None,
) -> dict[str, list[Event]]:
    """Every real session's candidates from the fold model trained without its dyad; kept in
    ``--work`` (events only) and read back from there on a later run with the same settings."""
    variant = (
        f"{scheme.name}-{'audio' if audio else 'video'}-{args.sim_dyads}-{args.epochs}-"
        f"{args.steps}{'-' + base.version if base else ''}"
    )
    kept = args.work / variant
    if all((kept / f"{s.name}.csv").is_file() for s in real):
        return {s.name: read_events(kept / f"{s.name}.csv", scheme) for s in real}
    seeds = split_seeds(args.sim_dyads, 0)
    fps = scheme.analysis.fps
    names = training_features(list(real))
    if base is not None:  # fine-tuned: the base's inputs, plus the voice's (widened, see train)
        names = [*base.normaliser.names, *(n for n in names if n.startswith("voice."))]
    if not audio:
        names = [n for n in names if not n.startswith("voice.")]
    sim = {
        purpose: simulated_sessions(
            seeds[purpose], scheme=scheme, feature_names=names, fps=fps, duration_s=60.0
        )
        for purpose in ("train", "validation")
    }
    settings = TrainSettings(
        fit=FitSettings(epochs=args.epochs, steps_per_epoch=args.steps, threads=args.threads)
    )
    out: dict[str, list[Event]] = {}
    for dyad in sorted({s.dyad for s in real}):
        train = [*sim["train"], *(s for s in real if s.dyad != dyad)]
        fitted = fit_detector(
            train,
            sim["validation"],
            spec=f"bench/{'audio' if audio else 'video'}-without-{dyad}",
            scheme=scheme,
            settings=settings,
            base=base,
            features=names,
        )
        out.update({s.name: fitted.detector.candidates(s.series) for s in real if s.dyad == dyad})
    make_private_dir(kept)
    for name, events in out.items():
        write_events(kept / f"{name}.csv", events)
    return out


def part_b(
    series: dict[str, FeatureSeries], truth: dict[str, list[Event]], args: argparse.Namespace
) -> Table:
    table = new_table("(b) video alone vs video + audio, leave one dyad out, +-1 s")
    default = load_scheme(DEFAULT_SCHEME)
    dataset = load_dataset(args.smiles_manifest)
    smiles_real = [
        s
        for purpose in ("train", "validation", "test")
        for s in real_sessions(
            dataset,
            purpose,
            scheme=default,
            read=lambda e: series[e.id],
            label_frames=label_frames,
            label_events=label_events,
        )
        if s.name in series
    ]
    vocal = load_scheme(VOCAL_SCHEME)
    laughs_real = [weak_session(n, s, vocal) for n, s in series.items()]
    laugh_truth = truth or {s.name: list(s.truth) for s in laughs_real}
    against = "vocal coding" if truth else "laughs rule"
    base = load_detector(args.base, scheme=default) if args.base else None
    for audio in (False, True):
        found = leave_one_dyad_out(smiles_real, default, args, audio, base)
        coded = [
            (only(s.truth, "child_smiles"), only(found[s.name], "child_smiles"), duration(s.series))
            for s in smiles_real
        ]
        what = "video + audio" if audio else "video alone"
        row(table, f"child_smiles vs consensus, {what}", score(coded, 1.0, "child_smiles"))
        found = leave_one_dyad_out(laughs_real, vocal, args, audio)
        coded = [
            (
                only(laugh_truth[n], "child_laughs"),
                only(found[n], "child_laughs"),
                duration(series[n]),
            )
            for n in laugh_truth
        ]
        row(table, f"child_laughs vs {against}, {what}", score(coded, 1.0, "child_laughs"))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--coding", type=Path, default=None)
    parser.add_argument("--parts", default="a,b,c")
    parser.add_argument("--model", default="cue-vocal@0.1")
    parser.add_argument("--smiles-manifest", type=Path, default=SMILES_MANIFEST)
    parser.add_argument("--sim-dyads", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--base", default=None, help="fine-tune child_smiles' models from this")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cuevision-bench/vocal"))
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    series = clips(args.features)
    vocal = load_scheme(VOCAL_SCHEME)
    truth = coding(args.coding, list(series), vocal) if args.coding else {}
    console = Console(width=120)
    console.print(f"{len(series)} clips; {len(truth)} with a vocal coding")
    if truth and parts & {"a", "c"}:
        model = load_detector(args.model, scheme=vocal)
        if "a" in parts:
            console.print(part_a(series, truth, model, vocal))
        if "c" in parts:
            console.print(part_c(series, truth, model))
    elif parts & {"a", "c"}:
        console.print("(a) and (c) need --coding: no vocal coding given")
    if "b" in parts:
        console.print(part_b(series, truth, args))


if __name__ == "__main__":
    main()
