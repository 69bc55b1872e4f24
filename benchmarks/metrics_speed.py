"""Metrics stage speed: contingency, synchrony and the whole stage, now and at an earlier commit.

    .venv/bin/python benchmarks/metrics_speed.py [--minutes 10 60] [--old-minutes 10]

Each session is simulated (:func:`cuevision.synth.dyad.simulate_dyad`, the scheme's analysis
fps, all features) and its ``features.parquet`` written to ``--work``. The stage is what
``cuevision process`` runs: :func:`cuevision.report.write_session_outputs` with the simulated
events as candidates. The previous implementation is ``contingency.py`` and ``synchrony.py`` as
``git show --old-commit`` has them, loaded as modules and put in place of the current ones for
one run of the same stage, so both run here, now, on the same data; ``same`` says whether the
two ``metrics.json`` are equal. Times are CPU seconds of this process (steadier than wall time
on a shared machine) and wall seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from cuevision.features import FEATURE_NAMES, write_features
from cuevision.metrics import contingency, session, synchrony
from cuevision.report import write_session_outputs
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.types import Event

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("contingency", "synchrony", "stage")


def old_module(commit: str, name: str) -> ModuleType:
    """``cuevision/metrics/<name>.py`` at ``commit``, as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{commit}:cuevision/metrics/{name}.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module_name = f"old_{name}"
    spec = importlib.util.spec_from_loader(module_name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up
    exec(compile(source, f"{commit}:{name}.py", "exec"), module.__dict__)
    return module


@contextmanager
def clocks(times: dict[str, list[float]], part: str) -> Iterator[None]:
    """Adds this block's CPU and wall seconds to ``times[part]``."""
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        yield
    finally:
        total = times.setdefault(part, [0.0, 0.0])
        total[0] += time.process_time() - cpu
        total[1] += time.perf_counter() - wall


def timed(part: str, fn: Callable[..., Any], times: dict[str, list[float]]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        with clocks(times, part):
            return fn(*args, **kwargs)

    return run


def stage(
    modules: tuple[ModuleType, ModuleType],
    events: list[Event],
    features: Path,
    duration_s: float,
    outdir: Path,
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """The metrics stage with these contingency and synchrony modules, timed per part."""
    times: dict[str, list[float]] = {}
    cont, sync = modules
    with (
        mock.patch.object(
            session, "contingency_table", timed("contingency", cont.contingency_table, times)
        ),
        mock.patch.object(session, "synchrony", timed("synchrony", sync.synchrony, times)),
        clocks(times, "stage"),
    ):
        data = write_session_outputs(
            outdir,
            events,
            scheme=load_scheme(),
            duration_s=duration_s,
            basis="candidates",
            signals=features,
        )
    data.pop("provenance")
    return times, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--old-minutes", type=float, nargs="*", default=[10.0])
    parser.add_argument("--old-commit", default="51ed041")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cuevision-metrics-speed"))
    args = parser.parse_args()
    scheme = load_scheme()
    old = (old_module(args.old_commit, "contingency"), old_module(args.old_commit, "synchrony"))
    print(f"old: {args.old_commit} (git show), new: the working tree; seed {args.seed}")
    print(
        f"{'session':>8} {'part':>12} {'old cpu s':>10} {'new cpu s':>10} {'x faster':>9} "
        f"{'old wall s':>10} {'new wall s':>10} {'same':>5}",
        flush=True,
    )
    for minutes in args.minutes:
        series, events = simulate_dyad(
            args.seed,
            duration_s=minutes * 60,
            fps=scheme.analysis.fps,
            scheme=scheme,
            feature_names=FEATURE_NAMES,
        )
        name = f"{minutes:g} min"
        folder = args.work / name.replace(" ", "-")
        folder.mkdir(parents=True, exist_ok=True)
        features = folder / "features.parquet"
        write_features(features, series, meta={})
        new_times, new_data = stage(
            (contingency, synchrony), events, features, minutes * 60, folder / "new"
        )
        old_times, same = None, "-"
        if minutes in args.old_minutes:
            old_times, old_data = stage(old, events, features, minutes * 60, folder / "old")
            same = "yes" if old_data == new_data else "NO"
        for part in PARTS:
            after = new_times[part]
            before = old_times[part] if old_times else None
            old_cpu, old_wall, ratio = (
                (f"{before[0]:.2f}", f"{before[1]:.2f}", f"{before[0] / after[0]:.1f}")
                if before
                else ("-", "-", "-")
            )
            print(
                f"{name:>8} {part:>12} {old_cpu:>10} {after[0]:>10.2f} {ratio:>9} "
                f"{old_wall:>10} {after[1]:>10.2f} {same:>5}",
                flush=True,
            )


if __name__ == "__main__":
    main()
