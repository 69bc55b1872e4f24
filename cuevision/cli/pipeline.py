"""``cuevision process``: the whole embedded pipeline on one video, a progress bar per stage."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from cuevision.cli.console import stderr, stdout
from cuevision.cli.landmarks import ChildSide
from cuevision.detect.registry import default_model
from cuevision.video import Limits

STAGE_LABELS = {
    "probe": "Checking the video",
    "landmarks": "Face and pose landmarks",
    "features": "Features",
    "detect": "Candidate cues and responses",
    "metrics": "Metrics and report",
}


def process(
    video: Annotated[Path, typer.Argument(help="The session video (mp4, mov, ...).")],
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Folder for every output.")],
    model: Annotated[
        str | None,
        typer.Option(
            show_default="the one models/registry.json names for the scheme",
            help="Detector as NAME@VERSION from models/.",
        ),
    ] = None,
    scheme_file: Annotated[
        Path | None, typer.Option("--scheme", help="Coding scheme YAML (default: annotation/).")
    ] = None,
    analysis_fps: Annotated[
        float | None, typer.Option(help="Analysis rate in Hz (default: the scheme's).")
    ] = None,
    child_side: Annotated[
        ChildSide | None,
        typer.Option(help="Override roles: the side of the image where the child is."),
    ] = None,
    max_side: Annotated[int, typer.Option(help="Refuse videos wider or taller than this.")] = (
        Limits.max_side_px
    ),
    max_duration: Annotated[float, typer.Option(help="Refuse videos longer than this, s.")] = (
        Limits.max_duration_s
    ),
) -> None:
    """Run validation, landmarks, features, detection and preliminary metrics on VIDEO."""
    from cuevision.pipeline import STAGES, ProcessSettings
    from cuevision.pipeline import process as run_process
    from cuevision.scheme import load_scheme

    scheme = load_scheme(scheme_file)
    settings = ProcessSettings(
        model=model or default_model(scheme=scheme.name),
        analysis_fps=analysis_fps,
        child_side=None if child_side is None else child_side.value,
        limits=Limits(max_side_px=max_side, max_duration_s=max_duration),
    )
    bars = Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=stderr(),
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if not tasks:  # the first report comes after validation: a refused file shows no bars
            bars.start()
            for name in STAGES:
                tasks[name] = bars.add_task(STAGE_LABELS[name], total=None, start=False, note="")
        bars.start_task(tasks[stage])
        bars.update(tasks[stage], completed=done, total=total or None)

    try:
        result = run_process(video, outdir, scheme=scheme, settings=settings, progress=report)
        for name in result.reused:
            bars.update(tasks[name], note="reused")
    finally:
        if tasks:  # a never-started display would still print an empty line
            bars.stop()

    counts = Counter(c.type for c in result.candidates)
    table = Table(title=f"Candidates in {video.name} ({result.info.duration_s:.1f} s)")
    table.add_column("event type")
    table.add_column("actor")
    table.add_column("candidates", justify="right")
    for kind in scheme.event_types:
        table.add_row(kind.name, kind.actor, str(counts.get(kind.name, 0)))
    out = stdout()
    out.print(table)
    out.print(
        f"Wrote {outdir}/: video.json, landmarks.parquet, features.parquet, candidates.csv, "
        "candidates.json, metrics.json, report.html"
    )
    out.print(
        f"Report (unconfirmed candidates): {outdir / 'report.html'}  "
        f"Next: cuevision annotate push {outdir}"
    )


def register(app: typer.Typer) -> None:
    """Add ``process`` to the root app."""
    app.command()(process)
