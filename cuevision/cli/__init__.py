"""The Typer CLI: a thin layer over the stages. Each domain registers its own commands.

Heavy libraries (mediapipe, torch) are imported inside commands, so ``cuevision --help`` is quick.
"""

from __future__ import annotations

import typer

from cuevision import __version__
from cuevision.cli import annotate, console, detect, landmarks, metrics, pipeline, service, video
from cuevision.errors import CuevisionError

app = typer.Typer(
    name="cuevision",
    help="Caregiver-child cue and response moments from video: detect, confirm, measure.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cuevision {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """cuevision command line."""


for module in (
    video,
    landmarks,
    detect,
    pipeline,
    metrics,
    annotate,
    service,
):  # service's serve wins
    module.register(app)


def main() -> None:
    """Entry point: user-fixable errors become one red line and exit code 2, never a traceback."""
    try:
        app()
    except CuevisionError as error:
        console.error(error)
        raise SystemExit(2) from None
