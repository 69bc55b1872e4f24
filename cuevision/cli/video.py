"""``cuevision probe`` (validate and describe a video) and ``cuevision synth`` (a test dyad)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cuevision.cli.console import stdout
from cuevision.types import ANALYSIS_FPS
from cuevision.video import Limits


def probe(
    video: Annotated[Path, typer.Argument(help="Video file to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print VideoInfo as JSON.")] = False,
    max_side: Annotated[int, typer.Option(help="Largest accepted width or height, px.")] = (
        Limits.max_side_px
    ),
    max_duration: Annotated[float, typer.Option(help="Longest accepted duration, s.")] = (
        Limits.max_duration_s
    ),
) -> None:
    """Validate a video and describe it: container, codec, size, rotation, timing, audio."""
    from cuevision.video import probe as probe_video

    info = probe_video(video, Limits(max_side_px=max_side, max_duration_s=max_duration))
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=2))
        return
    table = Table(title=str(video), show_header=False)
    for name, value in info.to_dict().items():
        if name != "path":
            table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value))
    stdout().print(table)


def synth(
    output: Annotated[Path, typer.Option("-o", "--output", help="Video to write (.mp4).")],
    truth: Annotated[Path, typer.Option(help="Ground-truth events CSV to write.")],
    seed: Annotated[int, typer.Option(min=0, help="Seed: same seed, same video and truth.")] = 0,
    duration: Annotated[float, typer.Option(help="Length, s (the 20 s script repeats).")] = 20.0,
    fps: Annotated[
        float, typer.Option(help="Frame rate (constant; the default analyses every frame).")
    ] = ANALYSIS_FPS,
) -> None:
    """Make a synthetic caregiver-child video from public-domain faces, with its true events."""
    from cuevision.errors import CuevisionError
    from cuevision.synth.video import make_dyad_video

    if not 0 < duration <= 3600 or not 1 <= fps <= 60:
        raise CuevisionError("--duration must be in (0, 3600] s and --fps in [1, 60]")
    for path in (output, truth):
        if path.is_dir():  # checked before rendering: the truth CSV is written last
            raise CuevisionError(f"{path}: a folder, not a file; name the file to write")
    script = make_dyad_video(output, truth, seed=seed, duration_s=duration, fps=fps)
    console = stdout()
    console.print(
        f"wrote {output}: {script.width}x{script.height}, {script.n_frames} frames at {fps:g} fps "
        f"({duration:g} s), seed {seed}"
    )
    counts: dict[str, int] = {}
    for event in script.events:
        counts[event.type] = counts.get(event.type, 0) + 1
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    console.print(f"wrote {truth}: {len(script.events)} events ({listed})")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.command()(probe)
    app.command()(synth)
