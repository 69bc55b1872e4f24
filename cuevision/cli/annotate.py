"""CLI: run Label Studio, push sessions to it, pull annotations back, and serve the API.

Settings are options with environment variables, so scripts, docker and tests set them the same
way; the four that only a deployment needs (see annotation/labelstudio/README.md) are variables.
Label Studio's SDK, uvicorn and FastAPI are imported inside the commands.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from cuevision.annotate.server import LabelStudioSettings
from cuevision.annotate.sync import SyncSettings
from cuevision.files import default_data_dir

VenvOpt = Annotated[
    Path,
    typer.Option(
        "--venv",
        envvar="CUEVISION_LABELSTUDIO_VENV",
        help="Label Studio's own venv (made by `up` if missing).",
    ),
]
LsDataOpt = Annotated[
    Path,
    typer.Option(
        "--labelstudio-data",
        envvar="CUEVISION_LABELSTUDIO_DATA",
        help="Label Studio's data folder (database, admin credentials).",
    ),
]
LsPortOpt = Annotated[
    int,
    typer.Option(
        "--labelstudio-port",
        envvar="CUEVISION_LABELSTUDIO_PORT",
        help="Label Studio's port on 127.0.0.1.",
    ),
]
DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="CUEVISION_DATA_DIR",
        help="cuevision's data folder (API secret, session registry); default: per user.",
    ),
]
ApiUrlOpt = Annotated[
    str,
    typer.Option(
        "--api-url",
        envvar="CUEVISION_API_URL",
        help="Our API as Label Studio and the browser reach it.",
    ),
]
StudioDataOpt = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="CUEVISION_LABELSTUDIO_DATA",
        help="Label Studio's data folder (database, admin credentials).",
    ),
]
StudioPortOpt = Annotated[
    int, typer.Option("--port", envvar="CUEVISION_LABELSTUDIO_PORT", help="Port on 127.0.0.1.")
]
DEFAULTS = LabelStudioSettings()


def studio_settings(venv: Path, data: Path, port: int) -> LabelStudioSettings:
    """Label Studio's settings; a server we did not start (docker) is named by the environment:
    ``CUEVISION_LABELSTUDIO_URL`` and ``CUEVISION_LABELSTUDIO_TOKEN``."""
    return LabelStudioSettings(
        venv=venv,
        data_dir=data,
        port=port,
        url=os.environ.get("CUEVISION_LABELSTUDIO_URL") or None,
        token=os.environ.get("CUEVISION_LABELSTUDIO_TOKEN") or None,
    )


def register(app: typer.Typer) -> None:
    """Add ``labelstudio up|down|status``, ``annotate push|pull``, ``consensus`` and ``serve``."""
    studio = typer.Typer(
        help="Run a local Label Studio (own venv, our data folder, offline).", no_args_is_help=True
    )
    annotate = typer.Typer(
        help="Send candidates to Label Studio and bring confirmed events back.",
        no_args_is_help=True,
    )
    app.add_typer(studio, name="labelstudio")
    app.add_typer(annotate, name="annotate")

    @studio.command("up")
    def up(
        venv: VenvOpt = DEFAULTS.venv,
        data: StudioDataOpt = DEFAULTS.data_dir,
        port: StudioPortOpt = DEFAULTS.port,
    ) -> None:
        """Install Label Studio if needed, start it on 127.0.0.1 and wait until it answers."""
        from cuevision.annotate.server import up as start

        state = start(studio_settings(venv, data, port))
        typer.echo(
            f"Label Studio is up at {state.url} (pid {state.pid}); "
            f"log in as {state.username}, password and token in "
            f"{data / 'cuevision-credentials.json'}"
        )

    @studio.command("down")
    def down(
        venv: VenvOpt = DEFAULTS.venv,
        data: StudioDataOpt = DEFAULTS.data_dir,
        port: StudioPortOpt = DEFAULTS.port,
    ) -> None:
        """Stop the Label Studio that `up` started (only that process group)."""
        from cuevision.annotate.server import down as stop

        typer.echo(
            "Label Studio stopped"
            if stop(studio_settings(venv, data, port))
            else "Label Studio was not running"
        )

    @studio.command("status")
    def status(
        as_json: Annotated[
            bool, typer.Option("--json", help="Print url, username, token, running.")
        ] = False,
        venv: VenvOpt = DEFAULTS.venv,
        data: StudioDataOpt = DEFAULTS.data_dir,
        port: StudioPortOpt = DEFAULTS.port,
    ) -> None:
        """Where Label Studio is, how to log in, whether it runs (a local admin command)."""
        from cuevision.annotate.server import status as probe

        state = probe(studio_settings(venv, data, port))
        if as_json:
            typer.echo(json.dumps(state.to_dict()))
            return
        word = "running" if state.running else "not running"
        typer.echo(
            f"Label Studio at {state.url} is {word}; user {state.username}, API token {state.token}"
        )
        if not state.running:
            raise typer.Exit(1)

    def _sync(
        data_dir: Path | None, api_url: str, ls_data: Path, venv: Path, ls_port: int
    ) -> SyncSettings:
        from cuevision.store.loop import loop_state  # the service's store, when it has one

        folder = data_dir or default_data_dir()
        return SyncSettings(
            data_dir=folder,
            api_url=api_url,
            labelstudio=studio_settings(venv, ls_data, ls_port),
            callback_url=os.environ.get("CUEVISION_CALLBACK_URL") or None,
            state=loop_state(folder),
        )

    @annotate.command("push")
    def push_cmd(
        outdirs: Annotated[
            list[Path], typer.Argument(help="OUTDIRs of `cuevision process`.", metavar="OUTDIR...")
        ],
        scheme: Annotated[
            Path | None, typer.Option(help="Coding scheme YAML (default: shipped).")
        ] = None,
        next_k: Annotated[
            int | None,
            typer.Option(
                "--next",
                help="Push only the K most informative OUTDIRs, first first (`review queue`).",
            ),
        ] = None,
        data_dir: DataOpt = None,
        api_url: ApiUrlOpt = SyncSettings.api_url,
        ls_data: LsDataOpt = DEFAULTS.data_dir,
        venv: VenvOpt = DEFAULTS.venv,
        ls_port: LsPortOpt = DEFAULTS.port,
    ) -> None:
        """Import sessions as Label Studio tasks with their candidates as the prediction."""
        from cuevision.annotate.sync import push
        from cuevision.scheme import load_scheme

        loaded = load_scheme(scheme)
        if next_k is not None:
            from cuevision.cli.models import next_sessions

            outdirs = next_sessions(outdirs, next_k, loaded)
        for outdir in outdirs:
            done = push(outdir, loaded, _sync(data_dir, api_url, ls_data, venv, ls_port), scheme)
            what = "created" if done.new_task else "updated"
            typer.echo(
                f"session {done.session_id}: task {done.task_id} {what}, "
                f"{done.candidates} candidates; open {done.task_url}"
            )

    @annotate.command("pull")
    def pull_cmd(
        outdir: Annotated[Path, typer.Argument(help="A pushed OUTDIR.")],
        annotator: Annotated[
            str | None,
            typer.Option(
                help="Pull this annotator's latest annotation (their email); "
                "default: the latest of anyone's."
            ),
        ] = None,
        data_dir: DataOpt = None,
        api_url: ApiUrlOpt = SyncSettings.api_url,
        ls_data: LsDataOpt = DEFAULTS.data_dir,
        venv: VenvOpt = DEFAULTS.venv,
        ls_port: LsPortOpt = DEFAULTS.port,
    ) -> None:
        """Write confirmed.csv and rejected.csv from the session's current annotation."""
        from cuevision.annotate.sync import pull

        done = pull(outdir, _sync(data_dir, api_url, ls_data, venv, ls_port), annotator)
        if not done.annotated:
            typer.echo(f"session {done.session_id}: not annotated yet")
            return
        counts = ", ".join(f"{n} {s}" for s, n in sorted(done.counts.items())) or "no events"
        change = "updated" if done.changed else "unchanged"
        typer.echo(
            f"session {done.session_id} ({done.annotator}): {counts}; confirmed.csv {change}"
        )

    @app.command("consensus")
    def consensus_cmd(
        first: Annotated[Path, typer.Argument(help="One coder's events CSV.")],
        second: Annotated[Path, typer.Argument(help="The other coder's events CSV.")],
        output: Annotated[Path, typer.Option("-o", "--output", help="Consensus events CSV.")],
        tolerance: Annotated[
            float, typer.Option(help="Onsets within this many s are the same event.")
        ] = 1.0,
        scheme: Annotated[
            Path | None, typer.Option(help="Coding scheme YAML (default: shipped).")
        ] = None,
    ) -> None:
        """One coding from two: events matched at ±TOLERANCE (as `agreement` matches them) become
        one event with onset and offset averaged; unmatched events are left out."""
        from cuevision.errors import CuevisionError
        from cuevision.events import read_events, write_events
        from cuevision.metrics.agreement import consensus
        from cuevision.scheme import load_scheme

        if not tolerance >= 0:  # NaN too
            raise CuevisionError(f"--tolerance must be >= 0 s, not {tolerance}")
        if output.resolve() in (first.resolve(), second.resolve()):
            raise CuevisionError(f"-o {output} is one of the inputs; write the consensus elsewhere")
        coding = load_scheme(scheme)
        codes = [
            [e for e in read_events(path, coding) if e.status != "rejected"]
            for path in (first, second)
        ]
        gap = coding.manual.min_gap_s if coding.manual else 0.0
        made = consensus(*codes, tolerance_s=tolerance, min_gap_s=gap)
        write_events(output, made.events)
        typer.echo(
            f"{len(made.events)} consensus events in {output}; left out "
            f"{len(made.only_first)} only in {first}, {len(made.only_second)} only in "
            f"{second}"
        )
