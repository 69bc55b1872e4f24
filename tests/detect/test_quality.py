"""The simulation-trained model (cue-tcn 0.1, the base the default is fine-tuned from) beats the
labelling functions on freshly simulated held-out dyads. The default itself is judged against
human codes by the promotion gate (cuevision.train.gate), not on simulation."""

from __future__ import annotations

from cuevision.detect import load_detector
from cuevision.features import FEATURE_NAMES
from cuevision.features.weak import label_events
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.train.card import pooled

FRESH_SEEDS = range(424_242, 424_262)  # never used by `cuevision train` (see split_seeds)


def test_model_beats_labelling_functions_on_fresh_dyads() -> None:
    scheme = load_scheme()
    detector = load_detector("cue-tcn@0.1", scheme=scheme)
    model, baseline = [], []
    for seed in FRESH_SEEDS:
        series, truth = simulate_dyad(
            seed, duration_s=60, fps=15.0, scheme=scheme, feature_names=FEATURE_NAMES
        )
        model.append((truth, detector.candidates(series)))
        baseline.append((truth, label_events(series, scheme)))
    ours, theirs = pooled(model, 1.0), pooled(baseline, 1.0)
    assert ours["overall"]["f1"] > theirs["overall"]["f1"] + 0.1, (
        ours["overall"],
        theirs["overall"],
    )
    f1 = {n: (ours["per_type"][n]["f1"] or 0.0) for n in scheme.type_names}
    base = {n: (theirs["per_type"].get(n, {}).get("f1") or 0.0) for n in scheme.type_names}
    better = [n for n in scheme.type_names if f1[n] > base[n]]
    assert len(better) > len(scheme.type_names) / 2, (f1, base)  # most types improve
    assert all(f1[n] > base[n] - 0.1 for n in scheme.type_names), (f1, base)  # none collapses
