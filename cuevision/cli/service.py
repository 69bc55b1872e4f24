"""``cuevision db upgrade``, ``cuevision admin ...`` and ``cuevision serve``: the service's CLI.

The store is found by ``CUEVISION_DATA_DIR`` / ``CUEVISION_DATABASE_URL`` (or the per-user data
folder), the same way ``serve`` finds it. A token is printed once, when it is made; nothing else
prints a secret.
"""

from __future__ import annotations

import dataclasses
import getpass
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from cuevision.annotate.sync import SyncSettings
from cuevision.cli.annotate import (
    DEFAULTS,
    ApiUrlOpt,
    LsDataOpt,
    LsPortOpt,
    VenvOpt,
    studio_settings,
)
from cuevision.cli.deploy import init_env
from cuevision.errors import CuevisionError

if TYPE_CHECKING:
    from cuevision.api import ApiSettings
    from cuevision.api.config import ServiceSettings

admin = typer.Typer(help="Users, studies, members and tokens of the service.", no_args_is_help=True)
db_app = typer.Typer(help="The service's database.", no_args_is_help=True)


RunnerOpt = Annotated[
    str | None,
    typer.Option(
        "--runner",
        help="embedded: job threads in this process (default); celery: send the jobs through "
        "Redis (CUEVISION_BROKER_URL) to `cuevision worker` processes. Env: CUEVISION_RUNNER.",
        show_default=False,
    ),
]
ChunkOpt = Annotated[
    float | None,
    typer.Option(
        "--chunk-s",
        help="Under --runner celery, cut the landmark stage into chunks of this many seconds "
        "(workers run them in parallel); 0 keeps it whole. Env: CUEVISION_CHUNK_S; default 300.",
        show_default=False,
    ),
]


def _settings(**overrides: object) -> ServiceSettings:
    """The settings from CUEVISION_* variables, with the options given on the command line."""
    from pydantic import ValidationError

    from cuevision.api.config import ServiceSettings

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ServiceSettings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise CuevisionError(f"the service's settings are not usable: {reasons}") from None


@contextmanager
def _db() -> Iterator[Db]:
    from cuevision.store.db import make_engine, require_current, sessions

    engine = make_engine(_settings().url)
    require_current(engine)
    with sessions(engine)() as db:
        yield db
        db.commit()
    engine.dispose()


@db_app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the database to this version's tables."""
    from cuevision.files import make_private_dir
    from cuevision.store.db import make_engine
    from cuevision.store.db import upgrade as apply

    settings = _settings()
    make_private_dir(settings.data_dir)
    engine = make_engine(settings.url)
    head = apply(engine)
    engine.dispose()
    typer.echo(f"database at revision {head} ({engine.url.render_as_string(hide_password=True)})")


@admin.command("create-user")
def create_user(
    email: Annotated[str, typer.Argument(help="The user's e-mail, their sign-in name.")],
    site_admin: Annotated[
        bool, typer.Option("--admin", help="May manage users and studies.")
    ] = False,
    password_env: Annotated[
        str, typer.Option(help="Read the password from this environment variable, else prompt.")
    ] = "CUEVISION_PASSWORD",
) -> None:
    """Create a user; the password comes from $CUEVISION_PASSWORD or a prompt."""
    from cuevision.store.people import create_user as make

    password = os.environ.get(password_env) or getpass.getpass("Password: ")
    with _db() as db:
        user = make(db, email, password, admin=site_admin)
    typer.echo(f"user {user.id}: {user.email}{' (site admin)' if site_admin else ''}")


@admin.command("create-study")
def create_study(name: Annotated[str, typer.Argument(help="The study's name.")]) -> None:
    """Create a study."""
    from cuevision.store.people import create_study as make

    with _db() as db:
        study = make(db, name)
    typer.echo(f"study {study.id}: {study.name}")


@admin.command("add-member")
def add_member(
    study: Annotated[str, typer.Argument(help="The study's name.")],
    email: Annotated[str, typer.Argument(help="The user's e-mail.")],
    role: Annotated[str, typer.Argument(help="clinician, annotator, researcher or admin.")],
) -> None:
    """Give a user a role in a study (replaces an earlier role)."""
    from cuevision.store.models import Role
    from cuevision.store.people import add_member as add
    from cuevision.store.people import study_by_name, user_by_email

    try:
        chosen = Role(role)
    except ValueError:
        raise CuevisionError(
            f"{role!r} is no role; use one of {', '.join(r.value for r in Role)}"
        ) from None
    with _db() as db:
        add(db, study_by_name(db, study), user_by_email(db, email), chosen)
    typer.echo(f"{email} is now {chosen.value} in {study}")


@admin.command("create-token")
def create_token(
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="A label for the token (where it is used).")] = "cli",
) -> None:
    """Make a bearer token and print it once; only its hash is stored."""
    from cuevision.store.models import ApiToken
    from cuevision.store.people import create_token as make
    from cuevision.store.people import user_by_email

    with _db() as db:
        token = make(db, user_by_email(db, email), name)
        token_id = db.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))
    typer.echo(f"token {token_id} for {email} (shown once, keep it secret):")
    typer.echo(token)


@admin.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="The id create-token printed.")],
) -> None:
    """Revoke a token at once."""
    from cuevision.store.people import revoke_token as revoke

    with _db() as db:
        revoke(db, token_id)
    typer.echo(f"token {token_id} revoked")


def _api_settings(
    service: ServiceSettings,
    public_url: str | None,
    venv: Path,
    ls_data: Path,
    ls_port: int,
) -> ApiSettings:
    """The Label Studio side of the service, from options and ``CUEVISION_*`` variables: serve's,
    and a worker's for its automatic pushes, so both send the same links, hooks and server."""
    from cuevision.api import ApiSettings

    return ApiSettings(
        data_dir=service.data_dir,
        public_url=public_url,
        labelstudio=studio_settings(venv, ls_data, ls_port),
        callback_url=os.environ.get("CUEVISION_CALLBACK_URL") or None,
        labelstudio_origins=tuple(
            o for o in os.environ.get("CUEVISION_LABELSTUDIO_ORIGINS", "").split(",") if o
        ),
    )


def serve(
    host: Annotated[str, typer.Option(help="Bind address; keep 127.0.0.1 outside docker.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port of the API and the web pages.")] = 8000,
    public_url: Annotated[
        str | None, typer.Option(envvar="CUEVISION_API_URL", help="How Label Studio reaches us.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="CUEVISION_DATA_DIR",
            help="The service's data folder (database, blobs, secrets); default: per user.",
        ),
    ] = None,
    ls_data: LsDataOpt = DEFAULTS.data_dir,
    venv: VenvOpt = DEFAULTS.venv,
    ls_port: LsPortOpt = DEFAULTS.port,
    runner: RunnerOpt = None,
    chunk_s: ChunkOpt = None,
) -> None:
    """Run the service: the web pages, /v1, the job runner, and the Label Studio endpoints."""
    import uvicorn

    from cuevision.api import create_app
    from cuevision.api.service import RedactTokens
    from cuevision.files import make_private_dir

    service = _settings(data_dir=data_dir, runner=runner, chunk_s=chunk_s)
    try:
        make_private_dir(service.data_dir)
    except OSError as error:
        raise CuevisionError(
            f"{service.data_dir}: cannot use it as the data folder ({error}); pass another "
            "--data-dir"
        ) from None
    found = _api_settings(service, public_url, venv, ls_data, ls_port)
    settings = dataclasses.replace(found, host=host, port=port)
    app = create_app(settings, service)
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    typer.echo(f"cuevision on {settings.url} (sign in at {settings.url}/signin)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


def worker(
    data_dir: Annotated[
        Path | None,
        typer.Option(envvar="CUEVISION_DATA_DIR", help="The service's data folder (as serve's)."),
    ] = None,
    chunk_s: ChunkOpt = None,
    model: Annotated[
        str | None,
        typer.Option(help="The detector, NAME@VERSION; default: the service registry's."),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
    one_core: Annotated[
        bool,
        typer.Option(
            "--one-core",
            envvar="CUEVISION_WORKER_ONE_CORE",
            help="Find poses in the worker's own process: start one worker per core.",
        ),
    ] = False,
    public_url: ApiUrlOpt = SyncSettings.api_url,
    ls_data: LsDataOpt = DEFAULTS.data_dir,
    venv: VenvOpt = DEFAULTS.venv,
    ls_port: LsPortOpt = DEFAULTS.port,
) -> None:
    """Run a Celery worker for `serve --runner celery`: one task at a time. A landmark chunk
    keeps two cores busy (faces here, poses in a second process): start one worker per two
    cores, or one per core with --one-core. SIGTERM finishes the current task first. With
    CUEVISION_LABELSTUDIO=1 it pushes each session it finishes to Label Studio, as serve does:
    give it serve's Label Studio options and environment (--api-url: serve's public address)."""
    from cuevision.api.service import service_model, worker_context
    from cuevision.jobs.queue import run_worker

    settings = _settings(data_dir=data_dir, chunk_s=chunk_s)
    chosen = model or str(service_model(settings).folder)
    sync = _api_settings(settings, public_url, venv, ls_data, ls_port).sync
    with worker_context(settings, sync, chosen, one_core=one_core) as context:
        run_worker(settings, context, loglevel)


def register(app: typer.Typer) -> None:
    """Add ``db``, ``admin``, ``serve`` and ``worker`` to the root app."""
    app.add_typer(db_app, name="db")
    admin.command("init-env")(init_env)
    app.add_typer(admin, name="admin")
    app.command("serve")(serve)
    app.command("worker")(worker)
