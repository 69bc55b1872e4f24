"""``cuevision models list|show|compare|promote`` and ``cuevision review queue``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cuevision.cli.console import stdout
from cuevision.cli.metrics import SchemeOption

if TYPE_CHECKING:
    from cuevision.scheme import Scheme

models = typer.Typer(
    help="The model registry: versions, comparison, promotion.", no_args_is_help=True
)
review = typer.Typer(help="What to look at next.", no_args_is_help=True)

ModelsDir = Annotated[
    Path | None,
    typer.Option(help="Registry folder (default: the one models are looked up in)."),
]
DataOpt = Annotated[
    Path | None,
    typer.Option(
        help="Data-set manifest the candidate was evaluated on, to run the other version on "
        "its sessions when no predictions of it are recorded.",
        metavar="MANIFEST",
    ),
]
CacheOpt = Annotated[
    Path | None, typer.Option(help="Landmarks cache for the data set's video-only sessions.")
]


def _dir(models_dir: Path | None) -> Path:
    from cuevision.detect.registry import MODELS_DIR

    return models_dir or MODELS_DIR


def _evaluation_f1(folder: Path) -> str:
    path = folder / "metrics.json"
    try:
        block = json.loads(path.read_text()).get("confirmed")
        f1 = block["agreement"]["model"]["reference"]["overall"]["f1"]
    except (OSError, ValueError, KeyError, TypeError):
        return "–"
    return f"{f1:.3f} ({block['protocol']}, {block['sessions']} sessions)"


@models.command("list")
def list_cmd(models_dir: ModelsDir = None) -> None:
    """Every version, the default marked, with its data set and evaluation F1."""
    from rich.table import Table

    from cuevision.detect.registry import default_model, list_models, resolve

    root = _dir(models_dir)
    current = default_model(root)
    table = Table("", "model", "data set", "event F1 on confirmed sessions")
    for spec in list_models(root):
        ref = resolve(spec, root)
        data = ref.config.get("data") or {}
        table.add_row(
            "*" if spec == current else "",
            spec,
            f"{data['name']} {data['snapshot']}" if data else "no data-set manifest",
            _evaluation_f1(ref.folder),
        )
    stdout().print(table)


@models.command("show")
def show_cmd(
    spec: Annotated[str, typer.Argument(help="NAME@VERSION.", metavar="NAME@VERSION")],
    models_dir: ModelsDir = None,
) -> None:
    """The version's card, and its promotions in the registry's history."""
    from cuevision.detect.registry import read_registry, resolve

    root = _dir(models_dir)
    ref = resolve(spec, root)
    name = f"{ref.name}@{ref.version}"
    typer.echo((ref.folder / "card.md").read_text() if (ref.folder / "card.md").is_file() else "")
    registry = read_registry(root)
    typer.echo(
        f"default: {registry['default']}{' (this one)' if registry['default'] == name else ''}"
    )
    for entry in registry["history"]:
        if name in (entry.get("to"), entry.get("from")):
            typer.echo(_history_line(entry))


def _history_line(entry: dict[str, Any]) -> str:
    f1 = entry.get("event_f1", {})
    figures = (
        f", event F1 {f1['candidate']['overall']:.3f} vs {f1['default']['overall']:.3f}"
        if f1 and f1["candidate"]["overall"] is not None and f1["default"]["overall"] is not None
        else ""
    )
    forced = f", forced: {entry['reason']}" if entry.get("forced") else ""
    change = f"{entry['from']} -> {entry['to']}"
    return f"{entry.get('at')}: {change} (gate {entry['gate']}{figures}{forced})"


@models.command("compare")
def compare_cmd(
    a: Annotated[str, typer.Argument(help="NAME@VERSION with an evaluation.", metavar="A")],
    b: Annotated[str, typer.Argument(help="NAME@VERSION to compare with.", metavar="B")],
    data: DataOpt = None,
    real_cache: CacheOpt = None,
    models_dir: ModelsDir = None,
    scheme_file: SchemeOption = None,
) -> None:
    """Event F1 per type of A and B on A's evaluation sessions, against the same references."""
    from cuevision.scheme import load_scheme
    from cuevision.train.gate import judge

    verdict = judge(
        a,
        scheme=load_scheme(scheme_file),
        models_dir=_dir(models_dir),
        data=data,
        real_cache=real_cache,
        against=b,
    )
    typer.echo(
        f"{len(verdict.sessions)} sessions ({verdict.protocol}, references "
        f"{verdict.reference_hash}); {verdict.default}: {verdict.default_basis}"
    )
    typer.echo(verdict.table())


@models.command("promote")
def promote_cmd(
    spec: Annotated[str, typer.Argument(help="NAME@VERSION.", metavar="NAME@VERSION")],
    force: Annotated[bool, typer.Option(help="Promote even if the gate refuses.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (needed with --force).")] = None,
    data: DataOpt = None,
    real_cache: CacheOpt = None,
    models_dir: ModelsDir = None,
    scheme_file: SchemeOption = None,
) -> None:
    """Make a version the default if its event F1 is at least the default's on the same sessions."""
    from cuevision.scheme import load_scheme
    from cuevision.train.gate import promote

    verdict, record = promote(
        spec,
        scheme=load_scheme(scheme_file),
        models_dir=_dir(models_dir),
        force=force,
        reason=reason,
        data=data,
        real_cache=real_cache,
    )
    if verdict is not None:
        typer.echo(verdict.table())
    typer.echo(f"default: {record['to']} (was {record['from']}; gate {record['gate']})")


@review.command("queue")
def queue_cmd(
    outdirs: Annotated[list[Path], typer.Argument(help="`cuevision process` output folders.")],
    model: Annotated[str | None, typer.Option(help="Model (default: the registry's).")] = None,
    against: Annotated[
        list[str] | None,
        typer.Option(help="Other versions to measure disagreement with (repeatable)."),
    ] = None,
    band: Annotated[
        float, typer.Option(help="Score distance from the threshold that counts as uncertain.")
    ] = 0.15,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    models_dir: ModelsDir = None,
    scheme_file: SchemeOption = None,
) -> None:
    """Rank sessions by uncertainty and disagreement between versions, most informative first."""
    from rich.table import Table

    from cuevision.detect.infer import load_detector
    from cuevision.scheme import load_scheme
    from cuevision.train.review import rank

    scheme = load_scheme(scheme_file)
    root = _dir(models_dir)
    detector = load_detector(model, scheme=scheme, models_dir=root)
    others = [load_detector(s, scheme=scheme, models_dir=root) for s in against or []]
    entries = rank(outdirs, detector, others, band=band)
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    table = Table("#", "session", "priority", "uncertainty", "disagreement", "look at (s)")
    for number, e in enumerate(entries, start=1):
        table.add_row(
            str(number),
            f"{e.outdir}{' (confirmed)' if e.confirmed else ''}",
            f"{e.priority:.3f}",
            f"{e.uncertainty:.3f}",
            "–" if e.disagreement is None else f"{e.disagreement:.3f}",
            f"{e.segment[0]:.1f}–{e.segment[1]:.1f}",
        )
    stdout().print(table)


def next_sessions(outdirs: list[Path], k: int, scheme: Scheme) -> list[Path]:
    """The ``k`` unconfirmed OUTDIRs the review queue ranks first (default model, no others)."""
    from cuevision.detect.infer import load_detector
    from cuevision.errors import CuevisionError
    from cuevision.train.review import rank

    if k < 1:
        raise CuevisionError(f"--next must be at least 1, not {k}")
    entries = rank(outdirs, load_detector(scheme=scheme))
    return [e.outdir for e in entries if not e.confirmed][:k]
