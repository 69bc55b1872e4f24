"""``cuevision metrics`` (one session or a cohort) and ``cuevision agreement`` (two codings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from cuevision.cli.console import stdout

if TYPE_CHECKING:
    from cuevision.metrics.session import Basis
    from cuevision.scheme import Scheme
    from cuevision.types import Event

SchemeOption = Annotated[
    Path | None,
    typer.Option("--scheme", help="Coding scheme YAML (default: annotation/schemes/default.yaml)."),
]


def session_duration(events_path: Path, events: list[Event], duration: float | None) -> float:
    """video.json beside the events, else ``--duration``, else the last offset."""
    from cuevision.errors import CuevisionError
    from cuevision.types import VideoInfo

    info = events_path.parent / "video.json"
    if info.is_file():
        try:
            return VideoInfo.load(info).duration_s
        except (ValueError, TypeError, KeyError) as error:
            raise CuevisionError(f"{info}: not a readable video.json ({error})") from None
    if duration is not None:
        if not duration > 0:
            raise CuevisionError(f"--duration must be > 0 s, not {duration}")
        return duration
    last = max((e.offset_s for e in events), default=0.0)
    if last <= 0:
        raise CuevisionError(
            f"{events_path}: cannot tell how long the session is (no events end after 0 s and no "
            "video.json beside it); pass --duration SECONDS"
        )
    return last


def _check_inside(path: Path, events: list[Event], duration_s: float) -> None:
    from cuevision.errors import CuevisionError

    for row, event in enumerate(events, start=1):
        if event.onset_s > duration_s + 1e-6:
            raise CuevisionError(
                f"{path}, row {row}: onset_s {event.onset_s} is after the end of the session "
                f"({duration_s:g} s); check the events or --duration"
            )


def _basis(events: list[Event], basis: str) -> Basis:
    from cuevision.errors import CuevisionError
    from cuevision.metrics.session import CONFIRMED_STATUSES, EXCLUDED_STATUSES

    if basis == "confirmed":
        return "confirmed"
    if basis == "candidates":
        return "candidates"
    if basis != "auto":
        raise CuevisionError(f"--basis must be auto, confirmed or candidates, not {basis!r}")
    reviewed = (*CONFIRMED_STATUSES, *EXCLUDED_STATUSES)
    if events and all(e.status in reviewed for e in events):
        return "confirmed"
    return "candidates"


def _names(paths: list[Path]) -> list[str]:
    """Session names: the file stem, or folder_stem where stems repeat (candidates.csv ...)."""
    stems = [p.stem for p in paths]
    names = [
        s if stems.count(s) == 1 else f"{p.parent.name}_{s}"
        for p, s in zip(paths, stems, strict=True)
    ]
    if len(set(names)) < len(names):
        names = [f"{i + 1:03d}_{n}" for i, n in enumerate(names)]
    return names


def _run_session(
    path: Path,
    outdir: Path,
    scheme: Scheme,
    signals: Path | None,
    duration: float | None,
    basis: str,
    name: str,
) -> dict[str, Any]:
    from cuevision import __version__
    from cuevision.events import read_events
    from cuevision.report import write_session_outputs

    events = read_events(path, scheme)
    duration_s = session_duration(path, events, duration)
    _check_inside(path, events, duration_s)
    if signals is None and (path.parent / "features.parquet").is_file():
        signals = path.parent / "features.parquet"
    return write_session_outputs(
        outdir,
        events,
        scheme=scheme,
        duration_s=duration_s,
        basis=_basis(events, basis),
        signals=signals,
        provenance={"pipeline_version": __version__, "events": str(path)},
        title=name,
    )


def metrics(
    events: Annotated[list[Path], typer.Argument(help="Events CSV(s); several make a cohort.")],
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Folder for the outputs.")],
    scheme_file: SchemeOption = None,
    signals: Annotated[
        Path | None,
        typer.Option(
            help="Parquet/CSV with t_s and child.<name>/caregiver.<name> columns "
            "(default: features.parquet beside the events, if any)."
        ),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Session length in s, if no video.json is beside.")
    ] = None,
    basis: Annotated[
        str,
        typer.Option(
            help="confirmed, candidates, or auto: confirmed when every event carries a "
            "reviewed status (accepted/edited/added/rejected)."
        ),
    ] = "auto",
) -> None:
    """Latency, contingency, synchrony and repair: metrics.json, CSV tables and report.html.

    With several events files, each session goes to OUTDIR/<session>/ and OUTDIR/cohort.csv holds
    one row per session per metric.
    """
    from cuevision.errors import CuevisionError
    from cuevision.report.tables import write_cohort
    from cuevision.scheme import load_scheme

    scheme = load_scheme(scheme_file)
    console = stdout()
    if len(events) > 1 and signals is not None:
        raise CuevisionError(
            "--signals belongs to one session; for a cohort put each session's features.parquet "
            "beside its events file"
        )
    existing = next(p for p in (outdir, *outdir.parents) if p.exists())
    if not existing.is_dir():
        raise CuevisionError(f"-o {outdir}: {existing} is a file, not a folder; choose a folder")
    names = _names(events)
    if len(events) == 1:
        data = _run_session(events[0], outdir, scheme, signals, duration, basis, names[0])
        _summary(console, names[0], data)
        console.print(f"wrote {outdir / 'metrics.json'} and {outdir / 'report.html'}")
        return
    cohort = {}
    for path, name in zip(events, names, strict=True):
        cohort[name] = _run_session(path, outdir / name, scheme, None, duration, basis, name)
        _summary(console, name, cohort[name])
    write_cohort(outdir / "cohort.csv", cohort)
    console.print(f"wrote {len(cohort)} sessions under {outdir} and {outdir / 'cohort.csv'}")


def _summary(console: Console, name: str, data: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{name} ({data['basis']})", title_justify="left")
    for column in ("cue", "answered", "median latency s", "Yule's Q", "p"):
        table.add_column(column, justify="left" if column == "cue" else "right")
    contingency = data["contingency"]
    for key, values in data["latency"].items():
        if "->" in key:
            continue
        q, p = contingency[key]["yules_q"], contingency[key]["p_value"]
        median = values["median_latency_s"]
        table.add_row(
            key,
            f"{values['n_responded']} of {values['n_cues']}",
            "–" if median is None else f"{median:.2f}",
            "–" if q is None else f"{q:+.2f}",
            "–" if p is None else f"{p:.3f}",
        )
    console.print(table)


def agreement(
    reference: Annotated[Path, typer.Argument(help="The reference coding (events CSV).")],
    other: Annotated[Path, typer.Argument(help="The coding to compare with it.")],
    tolerance: Annotated[float, typer.Option(help="Onset tolerance in s.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    scheme_file: SchemeOption = None,
    duration: Annotated[
        float | None, typer.Option(help="Session length in s, if no video.json is beside.")
    ] = None,
) -> None:
    """Event F1, tolerant time-unit kappa and Krippendorff's alpha between two codings."""
    from cuevision.errors import CuevisionError
    from cuevision.events import read_events
    from cuevision.metrics.agreement import compare, render_agreement
    from cuevision.scheme import load_scheme

    if not tolerance >= 0:  # NaN too
        raise CuevisionError(f"--tolerance must be >= 0 s, not {tolerance}")
    scheme = load_scheme(scheme_file)
    ref = [e for e in read_events(reference, scheme) if e.status != "rejected"]
    oth = [e for e in read_events(other, scheme) if e.status != "rejected"]
    both = ref + oth
    duration_s = session_duration(reference, both, duration)
    result = compare(
        ref,
        oth,
        tolerance_s=tolerance,
        duration_s=duration_s,
        time_unit_s=scheme.analysis.time_unit_s,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        stdout().print(render_agreement(result, f"{other.name} against {reference.name}"))


def register(app: typer.Typer) -> None:
    """Add ``metrics`` and ``agreement`` to the root app."""
    app.command("metrics")(metrics)
    app.command("agreement")(agreement)
