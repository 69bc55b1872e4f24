"""`cuevision landmarks` (face and pose per role) and `cuevision overlay` (draw them)."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cuevision.cli.console import stdout
from cuevision.errors import CuevisionError
from cuevision.types import ANALYSIS_FPS


class ChildSide(StrEnum):
    left = "left"
    right = "right"


def landmarks(
    video: Annotated[Path, typer.Argument(help="The session video.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    child_side: Annotated[
        ChildSide | None,
        typer.Option(help="Override roles: the side of the image where the child is."),
    ] = None,
    analysis_fps: Annotated[
        float, typer.Option(help="Frames analysed per second (nearest a grid); 0: every frame.")
    ] = ANALYSIS_FPS,
) -> None:
    """Extract face (478 points) and pose (33 points) landmarks of caregiver and child.

    Writes OUT/video.json and OUT/landmarks.parquet, then prints a summary.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from cuevision.files import write_json
    from cuevision.landmarks import LandmarkSettings, extract_landmarks
    from cuevision.pipeline import make_outdir
    from cuevision.types import ROLES
    from cuevision.video import probe

    if not 0 <= analysis_fps < math.inf:  # NaN too
        raise CuevisionError(f"--analysis-fps must be >= 0 (0 = every frame), got {analysis_fps}")
    info = probe(video)
    make_outdir(out)
    write_json(out / "video.json", info.to_dict())
    settings = LandmarkSettings(
        analysis_fps=analysis_fps or None,
        child_side=None if child_side is None else child_side.value,
    )
    with Progress(
        TextColumn("landmarks"), BarColumn(), TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
    ) as bar:  # fmt: skip
        task = bar.add_task("landmarks", total=None)
        summary = extract_landmarks(
            video,
            out / "landmarks.parquet",
            settings=settings,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            info=info,
        )
    table = Table(title=f"{video.name}: {summary.frames} frames analysed")
    table.add_column("role")
    table.add_column("face", justify="right")
    table.add_column("pose", justify="right")
    for role in ROLES:
        table.add_row(
            role, f"{summary.face_fraction[role]:.0%}", f"{summary.pose_fraction[role]:.0%}"
        )
    console = stdout()
    console.print(table)
    console.print(
        f"roles: {summary.role_method} (confidence {summary.role_confidence:.2f}); "
        f"speed {summary.speed:.2f}x real time ({summary.wall_s:.1f} s for "
        f"{summary.duration_s:.1f} s of video)"
    )


def overlay(
    video: Annotated[Path, typer.Argument(help="The session video.")],
    outdir: Annotated[Path, typer.Argument(help="Folder of `cuevision landmarks` output.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Overlay video to write (H.264).")],
    sheet: Annotated[Path | None, typer.Option(help="Also write a contact sheet PNG.")] = None,
) -> None:
    """Draw the landmarks and role labels on the video."""
    from cuevision.landmarks.overlay import write_overlay
    from cuevision.video import probe

    probe(video)
    written = write_overlay(video, outdir, out, sheet)
    typer.echo(f"wrote {out} ({written} frames)" + (f" and {sheet}" if sheet else ""))


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.command("landmarks")(landmarks)
    app.command("overlay")(overlay)
