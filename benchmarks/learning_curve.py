"""Learning curve: event F1 on the other dyad against the number of coded clips trained on.

For each ordered pair of dyads (train on A, test on B), the model is trained on the first n
coded clips of A (a seeded shuffle, the same for every n, so larger sets contain smaller ones),
its post-processing tuned on those clips, and scored on every coded clip of B against B's
confirmed events (for the Lookit coding: the two coders' consensus). "pretrained" fine-tunes a
model first fitted on simulated dyads only (one, reused); "from scratch" does not.

    .venv/bin/python benchmarks/learning_curve.py --data MANIFEST [--sizes 1,2,4,8,13]

Prints a table (Markdown); ``--json FILE`` also writes every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from cuevision.detect.infer import Detector
from cuevision.features import FEATURE_NAMES
from cuevision.scheme import load_scheme
from cuevision.train.card import pooled
from cuevision.train.data import PURPOSES, Session, load_dataset, simulated_sessions, split_seeds
from cuevision.train.fit import FitSettings
from cuevision.train.run import TrainSettings, fit_detector, load_real, training_features


def score(detector: Detector, test: list[Session], tolerance_s: float) -> dict[str, object]:
    return pooled([(s.truth, detector.candidates(s.series)) for s in test], tolerance_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="data-set manifest")
    parser.add_argument("--real-cache", type=Path, default=None)
    parser.add_argument("--sizes", default="1,2,4,8,13")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--sim-dyads", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--train-dyads", default=None, help="only these (comma-separated)")
    args = parser.parse_args()
    scheme = load_scheme()
    dataset = load_dataset(args.data)
    sessions = [
        s
        for p in PURPOSES
        for s in load_real(dataset, scheme, args.real_cache)[p]
        if s.source == "confirmed"
    ]
    dyads = sorted({s.dyad for s in sessions})
    sizes = [int(n) for n in args.sizes.split(",")]
    settings = TrainSettings(
        seed=args.seed,
        sim_dyads=0,
        fit=FitSettings(epochs=args.epochs, steps_per_epoch=args.steps, lr=args.lr, threads=1),
    )
    features = training_features(sessions)  # what every session has, both dyads
    started = time.perf_counter()
    seeds = split_seeds(args.sim_dyads, args.seed)
    sim = {
        p: simulated_sessions(
            seeds[p], scheme=scheme, feature_names=FEATURE_NAMES, fps=15.0, duration_s=60.0
        )
        for p in ("train", "validation")
    }
    pretrained = fit_detector(
        sim["train"],
        sim["validation"],
        spec="pretrained@sim",
        scheme=scheme,
        settings=replace(settings, fit=FitSettings(threads=1)),
        features=features,
    ).detector
    print(
        f"pretrained on {args.sim_dyads} simulated dyads ({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    rng = np.random.default_rng(args.seed)
    results: dict[str, dict[str, dict[int, object]]] = {}
    for train_dyad in dyads:
        if args.train_dyads and train_dyad not in args.train_dyads.split(","):
            rng.permutation(len([s for s in sessions if s.dyad == train_dyad]))  # same orders
            continue
        pool = [s for s in sessions if s.dyad == train_dyad]
        order = [pool[i] for i in rng.permutation(len(pool))]
        for test_dyad in (d for d in dyads if d != train_dyad):
            test = [s for s in sessions if s.dyad == test_dyad]
            key = f"{train_dyad}→{test_dyad}"
            results[key] = {"scratch": {}, "pretrained": {}}
            for n in (n for n in sizes if n <= len(order)):
                for kind, base in (("scratch", None), ("pretrained", pretrained)):
                    t0 = time.perf_counter()
                    fitted = fit_detector(
                        order[:n],
                        [],
                        spec=f"lc@{n}",
                        scheme=scheme,
                        settings=settings,
                        base=base,
                        features=features,
                    )
                    results[key][kind][n] = score(fitted.detector, test, settings.tolerance_s)
                    f1 = results[key][kind][n]["overall"]["f1"]  # type: ignore[index]
                    print(
                        f"{key} n={n} {kind}: F1 {f1:.3f} ({time.perf_counter() - t0:.0f} s)",
                        file=sys.stderr,
                    )
    print(
        "| clips | "
        + " | ".join(f"{k} {kind}" for k in results for kind in ("scratch", "pretrained"))
        + " | mean scratch | mean pretrained |"
    )
    print("| ---: |" + " ---: |" * (2 * len(results) + 2))
    for n in sizes:
        cells: list[str] = []
        means: dict[str, list[float]] = {"scratch": [], "pretrained": []}
        for k in results:
            for kind in ("scratch", "pretrained"):
                block = results[k][kind].get(n)
                f1 = block["overall"]["f1"] if block else None  # type: ignore[index]
                cells.append("–" if f1 is None else f"{f1:.3f}")
                if f1 is not None:
                    means[kind].append(f1)
        print(
            f"| {n} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(f"{np.mean(v):.3f}" if v else "–" for v in means.values())
            + " |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
