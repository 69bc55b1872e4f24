"""Annotation effort: what an annotator would do with a model's candidates, clip by clip.

For every session of a model's evaluation (``evaluation.json``: for a ``--cross-dyad`` model,
candidates of a fold model that never saw the session's dyad; the default model of the time is
recorded beside it), each reference event (the data set's confirmed events: for the Lookit coding,
the consensus) is

- **accepted** as-is: a candidate of its type matches it at ± tolerance (the matching of event
  F1: one-to-one, optimal, on onsets);
- **edited**: not matched, but an unmatched candidate of its type overlaps it in time (the
  annotator moves its boundaries);
- **added**: neither; the annotator codes it from scratch;

and every candidate left over is one to **delete**.

    .venv/bin/python benchmarks/effort.py cue-tcn@0.2 [--models-dir models]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from cuevision.detect.registry import MODELS_DIR, resolve
from cuevision.metrics.agreement import match_onsets
from cuevision.train.crossval import coding
from cuevision.train.gate import read_evaluation
from cuevision.types import Event

ACTIONS = ("accept", "edit", "add", "delete")


def effort(
    reference: Sequence[Event], candidates: Sequence[Event], tolerance_s: float
) -> dict[str, int]:
    counts = dict.fromkeys(ACTIONS, 0)
    for name in sorted({e.type for e in (*reference, *candidates)}):
        ref = [e for e in reference if e.type == name]
        cand = [e for e in candidates if e.type == name]
        pairs = match_onsets([e.onset_s for e in ref], [e.onset_s for e in cand], tolerance_s)
        counts["accept"] += len(pairs)
        free = [c for j, c in enumerate(cand) if j not in {j for _, j in pairs}]
        for i, event in enumerate(ref):
            if i in {i for i, _ in pairs}:
                continue
            overlap = [c for c in free if c.onset_s < event.offset_s and event.onset_s < c.offset_s]
            if overlap:
                free.remove(
                    max(
                        overlap,
                        key=lambda c: (
                            min(c.offset_s, event.offset_s) - max(c.onset_s, event.onset_s)
                        ),
                    )
                )
                counts["edit"] += 1
            else:
                counts["add"] += 1
        counts["delete"] += len(free)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="NAME@VERSION with an evaluation.json")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--tolerance", type=float, default=1.0)
    args = parser.parse_args()
    ref = resolve(args.model, args.models_dir)
    evaluation = read_evaluation(ref)
    if evaluation is None:
        raise SystemExit(f"{args.model} has no evaluation.json; train it with --cross-dyad")
    versions = {"model": f"{ref.name}@{ref.version}", "baseline": evaluation.get("baseline")}
    keys = [k for k in ("baseline", "model") if versions[k]]
    header = ["clip", "events"] + [f"{versions[k]} {a}" for k in keys for a in ACTIONS]
    print("| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 1))
    totals = {k: dict.fromkeys(ACTIONS, 0) for k in keys}
    n_total = 0
    for sid, session in sorted(evaluation["sessions"].items()):
        reference = coding(session, "reference")
        n_total += len(reference)
        cells = [sid, str(len(reference))]
        for k in keys:
            counts = effort(reference, coding(session, k), args.tolerance)
            for a in ACTIONS:
                totals[k][a] += counts[a]
            n = max(len(reference), 1)
            cells += [f"{counts[a] / n:.0%}" for a in ACTIONS[:3]] + [str(counts["delete"])]
        print("| " + " | ".join(cells) + " |")
    cells = ["**all**", str(n_total)]
    for k in keys:
        cells += [f"**{totals[k][a] / max(n_total, 1):.0%}**" for a in ACTIONS[:3]]
        cells.append(f"**{totals[k]['delete']}**")
    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
