"""Held-out evaluation of a trained model and its model card.

Every figure is event agreement from :func:`cuevision.metrics.agreement.compare` (one-to-one
optimal matching of onsets within ``± tolerance_s``, per type), pooled over sessions by laying
them end to end on one timeline with gaps wider than the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cuevision.detect.infer import Detector
from cuevision.files import write_text
from cuevision.metrics.agreement import compare
from cuevision.scheme import Scheme
from cuevision.train.data import Session
from cuevision.types import Event, FeatureSeries

GAP_S = 60.0  # between sessions on the pooled timeline; far more than any tolerance


def pooled(
    pairs: Sequence[tuple[Sequence[Event], Sequence[Event]]], tolerance_s: float
) -> dict[str, Any]:
    """Agreement of ``(reference, other)`` codings of many sessions, as one ``to_dict()``."""
    reference: list[Event] = []
    other: list[Event] = []
    offset = 0.0
    for ref, oth in pairs:
        reference += [e.shifted(offset) for e in ref]
        other += [e.shifted(offset) for e in oth]
        offset += max((e.offset_s for e in (*ref, *oth)), default=0.0) + GAP_S
    return compare(reference, other, tolerance_s=tolerance_s, duration_s=offset).to_dict()


def evaluate_all(
    detector: Detector,
    *,
    sim_test: Sequence[Session],
    real_test: Sequence[Session],
    scheme: Scheme,
    tolerance_s: float,
    label_events: Callable[[FeatureSeries, Scheme], list[Event]],
) -> dict[str, Any]:
    """Model and labelling-function baseline on the test simulated dyads and real sessions."""
    metrics: dict[str, Any] = {"tolerance_s": tolerance_s}
    if sim_test:
        metrics["simulated_test"] = {
            "sessions": len(sim_test),
            "duration_s": round(sum(len(s.series.t_s) / s.series.fps for s in sim_test), 1),
            "reference": "exact simulated truth",
            "model": pooled(
                [(s.truth, detector.candidates(s.series)) for s in sim_test], tolerance_s
            ),
            "labelling_functions": pooled(
                [(s.truth, label_events(s.series, scheme)) for s in sim_test], tolerance_s
            ),
        }
    real_test = [s for s in real_test if s.source == "weak"]  # confirmed: see crossval
    if real_test:
        # Types whose weak labels abstain everywhere (no labelling function) cannot be judged.
        judged = {
            name
            for k, name in enumerate(scheme.type_names)
            if any(np.isfinite(s.targets[:, k]).any() for s in real_test)
        }
        metrics["real_test"] = {
            "sessions": [s.name for s in real_test],
            "dyads": sorted({s.dyad for s in real_test}),
            "duration_s": round(sum(len(s.series.t_s) / s.series.fps for s in real_test), 1),
            "reference": "weak labels (the labelling functions) on the test dyads' sessions",
            "not_judged": [n for n in scheme.type_names if n not in judged],
            "model": pooled(
                [
                    (s.truth, [e for e in detector.candidates(s.series) if e.type in judged])
                    for s in real_test
                ],
                tolerance_s,
            ),
            "labelling_functions": "identical to the reference by construction (F1 = 1)",
        }
    return metrics


def confirmed_section(block: dict[str, Any], data: dict[str, Any] | None) -> list[str]:
    """The model judged as one more coder: against the confirmed events and each coder, beside
    the coders against each other, the previous default and the labelling functions."""
    table = block["agreement"]
    columns = ["reference", *(c for c in table if c not in _NOT_CODERS)]
    how = (
        "Each session was scored by a model trained by this same recipe without any session of "
        "its dyad (leave one dyad out), so these figures judge the recipe on a dyad it never "
        "saw; this version itself saw all of them. The previous default is scored as it "
        "shipped, not retrained per fold: if it trained on these sessions, its row is in-sample "
        "and flatters it."
        if block["protocol"] == "leave-one-dyad-out"
        else "The test split's sessions; the model saw neither their labels nor their features."
    )
    coding = (data or {}).get("coding") or "the data set's annotators (see its README)"
    lines = [
        f"### Judged as a third coder ({block['sessions']} confirmed sessions of the dyads "
        f"{', '.join(block['dyads'])})",
        "",
        f"{how} Event F1 at ±{block['tolerance_s']:g} s (one-to-one optimal matching of onsets "
        "per type, pooled over sessions). *reference* is the data set's confirmed events; the "
        f"other columns are its coders: {coding}.",
        "",
        "| coding | " + " | ".join(f"vs {c}" for c in columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for row, against in table.items():
        name = _ROW_NAMES.get(row, row).format(baseline=block.get("baseline"))
        lines.append(
            f"| {name} | "
            + " | ".join(_f1(against[c]) if c in against else "—" for c in columns)
            + " |"
        )
    coders = columns[1:]
    pair = (coders[1], coders[0]) if len(coders) >= 2 else None
    rows = [r for r in table if r in _NOT_CODERS]
    head = [*(_ROW_NAMES[r].format(baseline=block.get("baseline")) for r in rows)]
    if pair:
        head.append(f"{pair[0]} vs {pair[1]}")
    lines += [
        "",
        "Per type, against the reference"
        + (" (the last column: the coders against each other)" if pair else "")
        + ":",
        "",
        "| type | " + " | ".join(head) + " |",
        "| --- |" + " ---: |" * len(head),
    ]
    for name in [*block["type_names"], None]:
        cells = [_f1(table[r]["reference"], name) for r in rows]
        if pair:
            cells.append(_f1(table[pair[0]][pair[1]], name))
        label = "**overall**" if name is None else name
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


_NOT_CODERS = ("model", "baseline", "labelling_functions")
_ROW_NAMES = {
    "model": "this model",
    "baseline": "{baseline} (the default when trained, as shipped)",
    "labelling_functions": "labelling functions",
}


def _f1(block: dict[str, Any], name: str | None = None) -> str:
    counts = block["overall"] if name is None else block["per_type"].get(name)
    if counts is None or counts["f1"] is None:
        return "–"
    return f"{counts['f1']:.2f}"


def _labels(splits: dict[str, Any], purpose: str) -> str:
    n_confirmed = len(splits.get("confirmed", {}).get(purpose, []))
    n_weak = len(splits["data"]["sessions"][purpose]) - n_confirmed
    parts = [
        *([f"confirmed events of {n_confirmed}"] if n_confirmed else []),
        *([f"weak labels (`cuevision.features.weak.label_frames`) on {n_weak}"] if n_weak else []),
    ]
    return " and ".join(parts) or "none"


def _sessions(data: dict[str, Any], purpose: str) -> str:
    dyads = ", ".join(data["dyads"][purpose]) or "none"
    return f"{len(data['sessions'][purpose])} real sessions (dyads {dyads})"


def write_card(
    path: Path, config: dict[str, Any], metrics: dict[str, Any], splits: dict[str, Any]
) -> None:
    """The model card: what the model is, what it saw, how it scores and what it is NOT."""
    sim, real = metrics.get("simulated_test"), metrics.get("real_test")
    data = splits["data"]
    held_out = (
        f" The data set's held-out dyads {', '.join(data['held_out_dyads'])} were neither used "
        "nor opened."
        if data and data["held_out_dyads"]
        else ""
    )
    lines = [
        f"# {config['name']} {config['version']}",
        "",
        "A small temporal convolutional network over cuevision feature series "
        f"({config['n_parameters']:,} parameters, {config['fps']:g} Hz, receptive field "
        f"{config['receptive_field_s']:g} s) that flags candidate "
        "child cues and caregiver responses of the scheme "
        f"`{config['scheme']['name']}` (hash `{config['scheme']['hash']}`). Its outputs are "
        "**candidates for human confirmation**, not codes.",
        "",
        "## Trained on",
        "",
        *(
            [
                f"- {len(splits['simulated_seeds']['train'])} simulated dyads "
                f"({config['training']['sim_duration_s']:g} s each) from `cuevision.synth.dyad`, "
                "with exact planted events;"
            ]
            if splits["simulated_seeds"]["train"]
            else []
        ),
        *([f"- fine-tuned from `{config['base']}`;"] if config.get("base") else []),
        "- "
        + (
            f"{_sessions(data, 'train')} of the data set `{data['name']}` (snapshot "
            f"`{data['snapshot']}`): {_labels(splits, 'train')}."
            if data
            else "no real session (no data set was given)."
        ),
        "",
        f"Post-processing (hysteresis, minimum duration, merge gap) was tuned per type against "
        f"event F1 at ±{metrics['tolerance_s']:g} s on {metrics['tuning']['sessions']}. "
        f"Seed {config['seed']}; "
        f"`splits.json` lists every dyad and session.{held_out}",
        "",
        "## Evaluated on",
        "",
    ]
    if sim:
        lines += [
            f"Held-out simulated dyads ({sim['sessions']} dyads, {sim['duration_s']:g} s), "
            f"against the exact truth; event F1 at ±{metrics['tolerance_s']:g} s "
            "(one-to-one optimal matching of onsets per type):",
            "",
            "| type | model F1 | labelling functions F1 |",
            "| --- | ---: | ---: |",
            *(
                f"| {name} | {_f1(sim['model'], name)} | {_f1(sim['labelling_functions'], name)} |"
                for name in config["type_names"]
            ),
            f"| **overall** | **{_f1(sim['model'])}** | **{_f1(sim['labelling_functions'])}** |",
            "",
        ]
    if real:
        lines += [
            f"Real test dyads {', '.join(real['dyads'])} ({len(real['sessions'])} sessions, "
            f"{real['duration_s']:g} s), against the weak labels. This measures agreement "
            "with the labelling functions, not accuracy; the labelling functions score 1 against "
            "themselves by construction. Types without a labelling function cannot be judged "
            f"here: {', '.join(real['not_judged']) or 'none'}.",
            "",
            "| type | model F1 vs weak labels |",
            "| --- | ---: |",
            *(
                f"| {name} | {_f1(real['model'], name)} |"
                for name in config["type_names"]
                if name not in real["not_judged"]
            ),
            f"| **overall** | **{_f1(real['model'])}** |",
            "",
        ]
    if "confirmed" in metrics:
        lines += confirmed_section(metrics["confirmed"], data)
        if config.get("base"):
            lines += [
                f"Every fold, like this version, was fine-tuned from `{config['base']}`; see its "
                "card for what it saw (where that includes these dyads' features, with weak "
                "labels, the folds are not wholly new to the held-back dyad).",
                "",
            ]
    lines += [
        "The labelling functions (`cuevision.features.weak`), baseline and weak labels alike:",
        "",
        *(f"- `{name}`: {rule}" for name, rule in metrics.get("labelling_functions", {}).items()),
        "",
        "## NOT validated against",
        "",
        *(
            [
                "- **Clinical experts.** The human codes above are those of the data set's coders "
                "(see its README), not of clinical experts; the held-out dyads are judged "
                "outside this project.",
            ]
            if "confirmed" in metrics
            else [
                "- **Human coders.** No human-coded video existed when this model was trained. "
                "Every figure above rests on simulated truth or on heuristic labelling functions. "
                "Its accuracy on real sessions is unknown until annotators' confirmations are "
                "compared with it.",
            ]
        ),
        "- Other ages, settings, cameras or cultures than those of the dyads above.",
        "- Clinical use: candidates must be confirmed by a person before any metric is reported "
        "as confirmed.",
        "",
        "## Reproduce",
        "",
        "```",
        f"cuevision train --name {config['name']} --version {config['version']} "
        f"--seed {config['seed']} --sim-dyads {config['training']['sim_dyads']} "
        f"--epochs {config['training']['fit']['epochs']} "
        f"--steps {config['training']['fit']['steps_per_epoch']} "
        f"--real-fraction {config['training']['fit']['real_fraction']:g} "
        f"--threads {config['training']['fit']['threads']} --lr {config['training']['fit']['lr']:g}"
        f" --tune-folds {config['training']['tune_folds']}"
        + (" --data MANIFEST" if data else "")
        + (f" --base {config['base']}" if config.get("base") else "")
        + (" --cross-dyad" if config["training"].get("cross_dyad") else "")
        + (" --real-cache DIR --extract" if config["training"].get("real_cache") else ""),
        "```",
        "",
        *(
            [
                f"MANIFEST is the data set `{data['name']}` whose snapshot hash is "
                f"`{data['snapshot']}` (the hash of its sessions and their label files).",
                "",
            ]
            if data
            else []
        ),
        *(
            [
                "`--extract` fills DIR (outside the repository) with the landmarks of the data "
                "set's sessions that give only a video, once (about real time); features and weak "
                "labels are recomputed from them at every run.",
                "",
            ]
            if config["training"].get("real_cache")
            else []
        ),
        f"This run took {metrics['training']['wall_s']:.0f} s on this machine's CPU"
        + (
            " (all cross-dyad folds included)."
            if "cross_dyad" in config["training"] and config["training"]["cross_dyad"]
            else "."
        ),
        "",
    ]
    write_text(path, "\n".join(lines))
