"""``cuevision train`` (one seeded command -> one model version) and ``cuevision evaluate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cuevision.cli.console import stderr
from cuevision.cli.metrics import SchemeOption


def train(
    name: Annotated[str, typer.Option(help="Model name in the registry.")] = "cue-tcn",
    version: Annotated[str, typer.Option(help="Version to write: models/NAME/VERSION/.")] = "0.1",
    seed: Annotated[int, typer.Option(help="One seed for simulation, splits and fitting.")] = 0,
    sim_dyads: Annotated[int, typer.Option(help="Simulated dyads (70/15/15 split).")] = 400,
    sim_duration: Annotated[float, typer.Option(help="Length of each simulated dyad, s.")] = 60.0,
    real_cache: Annotated[
        Path | None,
        typer.Option(help="Cache of real clips' landmarks (outside the repo); weak labels."),
    ] = None,
    extract: Annotated[
        bool,
        typer.Option(help="First extract missing Lookit landmarks into --real-cache (slow)."),
    ] = False,
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = 12,
    steps: Annotated[int, typer.Option(help="Batches per epoch.")] = 60,
    models_dir: Annotated[
        Path | None, typer.Option(help="Registry folder (default: models/).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing version.")] = False,
    scheme_file: SchemeOption = None,
) -> None:
    """Train, tune and evaluate a detector; write models/NAME/VERSION/ with its card."""
    from cuevision.errors import CuevisionError
    from cuevision.scheme import load_scheme
    from cuevision.train.cache import cached_clips

    if sim_dyads < 2:
        raise CuevisionError(f"--sim-dyads must be at least 2 (train and test), not {sim_dyads}")
    if epochs < 1 or steps < 1 or sim_duration <= 0:
        raise CuevisionError("--epochs and --steps must be >= 1 and --sim-duration > 0")
    if extract and real_cache is None:
        raise CuevisionError("--extract needs --real-cache DIR to extract into")
    scheme = load_scheme(scheme_file)
    console = stderr()
    if extract and real_cache is not None:
        _extract(real_cache, scheme.analysis.fps, console)
    if real_cache is not None:
        cached_clips(real_cache)  # fails early, before the heavy imports, if there is no cache

    from cuevision.detect.registry import MODELS_DIR
    from cuevision.train.fit import FitSettings
    from cuevision.train.run import TrainSettings, train_model

    settings = TrainSettings(
        name=name,
        version=version,
        seed=seed,
        sim_dyads=sim_dyads,
        sim_duration_s=sim_duration,
        real_cache=real_cache,
        fit=FitSettings(epochs=epochs, steps_per_epoch=steps),
        models_dir=models_dir or MODELS_DIR,
        force=force,
    )
    folder = train_model(settings, scheme, log=lambda line: console.print(line, highlight=False))
    typer.echo(str(folder))


def _extract(cache: Path, fps: float, console: Console) -> None:
    from rich.progress import Progress

    from cuevision.errors import CuevisionError
    from cuevision.train.cache import extract_missing
    from cuevision.train.data import HELD_OUT_DYADS, LOOKIT_DIR, TRAIN_DYADS, dyad_of

    dyads = (*TRAIN_DYADS, *HELD_OUT_DYADS)
    videos = sorted(p for p in LOOKIT_DIR.glob("*.mp4") if dyad_of(p.name) in dyads)
    if not videos:
        raise CuevisionError(f"no Lookit clips found in {LOOKIT_DIR}")
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("landmarks", total=len(videos))

        def progress(clip: str, done: int, total: int) -> None:
            bar.update(task, completed=done, description=f"landmarks {clip}")

        extract_missing(videos, cache, fps=fps, progress=progress)


def evaluate(
    pred: Annotated[Path, typer.Argument(help="Predicted events CSV (e.g. candidates.csv).")],
    truth: Annotated[Path, typer.Argument(help="Reference events CSV (truth).")],
    tolerance: Annotated[float, typer.Option(help="Onset tolerance in s.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    scheme_file: SchemeOption = None,
) -> None:
    """Event precision, recall, F1 and onset error per type: optimal one-to-one matching."""
    from cuevision.cli.console import stdout
    from cuevision.errors import CuevisionError
    from cuevision.events import read_events
    from cuevision.metrics.agreement import compare, render_agreement
    from cuevision.scheme import load_scheme

    if not tolerance >= 0:
        raise CuevisionError(f"--tolerance must be >= 0 s, not {tolerance}")
    scheme = load_scheme(scheme_file)
    predicted = [e for e in read_events(pred, scheme) if e.status != "rejected"]
    reference = [e for e in read_events(truth, scheme) if e.status != "rejected"]
    result = compare(
        reference, predicted, tolerance_s=tolerance, time_unit_s=scheme.analysis.time_unit_s
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        stdout().print(render_agreement(result, f"{pred.name} against {truth.name}"))


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``evaluate`` to the root app."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
