"""``cuevision train`` (one seeded command -> one model version), ``cuevision evaluate``; the
registry's and review queue's commands come from :mod:`cuevision.cli.models`."""

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
    version: Annotated[
        str, typer.Option(help="Version to write: NAME/VERSION/ in the registry.")
    ] = "0.1",
    seed: Annotated[int, typer.Option(help="One seed for simulation, splits and fitting.")] = 0,
    sim_dyads: Annotated[
        int, typer.Option(help="Simulated dyads (70/15/15 split); 0: none (needs --data).")
    ] = 400,
    sim_duration: Annotated[float, typer.Option(help="Length of each simulated dyad, s.")] = 60.0,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Data-set manifest (YAML): real sessions, their dyads and splits, confirmed "
            "events (else weak labels), the held-out dyads. Without it, simulation only.",
            metavar="MANIFEST",
        ),
    ] = None,
    real_cache: Annotated[
        Path | None,
        typer.Option(
            help="Landmarks cache (outside the repo) for sessions that give only a video."
        ),
    ] = None,
    extract: Annotated[
        bool,
        typer.Option(
            help="First extract those sessions' missing landmarks into --real-cache (slow)."
        ),
    ] = False,
    base: Annotated[
        str | None,
        typer.Option(help="Fine-tune this version (NAME@VERSION) instead of starting afresh."),
    ] = None,
    cross_dyad: Annotated[
        bool,
        typer.Option(
            help="Also train one model per dyad without it and score its confirmed sessions "
            "(leave one dyad out): the evaluation the promotion gate compares on."
        ),
    ] = False,
    epochs: Annotated[int, typer.Option(help="Training epochs.")] = 12,
    steps: Annotated[int, typer.Option(help="Batches per epoch.")] = 60,
    lr: Annotated[float, typer.Option(help="Peak learning rate (one-cycle schedule).")] = 3e-3,
    tune_folds: Annotated[
        int,
        typer.Option(
            help="Without a validation dyad, tune on the training sessions cross-fitted in this "
            "many folds (each scored by a network that did not see it); < 2: as fitted."
        ),
    ] = 0,
    threads: Annotated[
        int, typer.Option(help="Torch threads (the result depends on it; 1 on a busy machine).")
    ] = 2,
    real_fraction: Annotated[
        float, typer.Option(help="Share of training windows from real sessions, with simulation.")
    ] = 0.25,
    models_dir: Annotated[
        Path | None,
        typer.Option(
            help="Registry folder to write to (default: the checkout's models/; installed from a "
            "wheel, ~/.local/share/cuevision/models)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing version.")] = False,
    scheme_file: SchemeOption = None,
) -> None:
    """Train, tune and evaluate a detector; write MODELS_DIR/NAME/VERSION/ with its card."""
    from cuevision.errors import CuevisionError
    from cuevision.resources import writable_models_dir
    from cuevision.scheme import load_scheme
    from cuevision.train.cache import landmarks_path, require_cache
    from cuevision.train.data import load_dataset

    if sim_dyads < 2 and not (sim_dyads == 0 and data is not None):
        raise CuevisionError(
            f"--sim-dyads must be at least 2 (train and test), or 0 with --data, not {sim_dyads}"
        )
    if not lr > 0:
        raise CuevisionError(f"--lr must be > 0, not {lr}")
    if threads < 1:
        raise CuevisionError(f"--threads must be at least 1, not {threads}")
    if not 0.0 <= real_fraction <= 1.0:
        raise CuevisionError(f"--real-fraction must lie in [0, 1], not {real_fraction}")
    if cross_dyad and data is None:
        raise CuevisionError("--cross-dyad needs --data MANIFEST with confirmed sessions")
    if epochs < 1 or steps < 1 or sim_duration <= 0:
        raise CuevisionError("--epochs and --steps must be >= 1 and --sim-duration > 0")
    if extract and real_cache is None:
        raise CuevisionError("--extract needs --real-cache DIR to extract into")
    if real_cache is not None and not extract:
        require_cache(real_cache)
    if real_cache is not None and data is None:
        raise CuevisionError(
            "--real-cache needs --data MANIFEST, the data set whose landmarks it holds"
        )
    scheme = load_scheme(scheme_file)
    console = stderr()
    # fails early, before the heavy imports, on a bad manifest or a missing file
    dataset = load_dataset(data) if data is not None else None
    if dataset is not None and dataset.video_only() and real_cache is None:
        raise CuevisionError(
            f"{len(dataset.video_only())} sessions of {data} give only a video; pass "
            "--real-cache DIR --extract to extract their landmarks"
        )
    if extract and real_cache is not None and dataset is not None:
        _extract(dataset.video_only(), real_cache, scheme.analysis.fps, console)
    if real_cache is not None and dataset is not None:
        missing = [i for i in dataset.video_only() if not landmarks_path(real_cache, i).is_file()]
        if missing:
            raise CuevisionError(
                f"{len(missing)} sessions have no landmarks in {real_cache} (first: {missing[0]}); "
                "add --extract to extract them"
            )

    from cuevision.train.fit import FitSettings
    from cuevision.train.run import TrainSettings, train_model

    settings = TrainSettings(
        name=name,
        version=version,
        seed=seed,
        sim_dyads=sim_dyads,
        sim_duration_s=sim_duration,
        data=data,
        real_cache=real_cache,
        base=base,
        cross_dyad=cross_dyad,
        fit=FitSettings(
            epochs=epochs,
            steps_per_epoch=steps,
            real_fraction=real_fraction,
            threads=threads,
            lr=lr,
        ),
        tune_folds=tune_folds,
        models_dir=models_dir or writable_models_dir(),
        force=force,
    )
    folder = train_model(settings, scheme, log=lambda line: console.print(line, highlight=False))
    typer.echo(str(folder))


def _extract(videos: dict[str, Path], cache: Path, fps: float, console: Console) -> None:
    from rich.progress import Progress

    from cuevision.train.cache import extract_missing

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
    """Add ``train``, ``evaluate``, ``models`` and ``review`` to the root app."""
    from cuevision.cli.models import models, review

    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.add_typer(models, name="models")
    app.add_typer(review, name="review")
