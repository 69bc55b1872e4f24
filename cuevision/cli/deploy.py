"""``cuevision admin init-env``: the secrets of the lab server's docker-compose stack.

``docker-compose.yml`` takes every password and token from ``.env`` and has no default for any of
them, so the stack does not start without this file. Each value is made here, fresh and random,
and written once (0600, whole or absent); the command never prints one and never replaces a file
that exists: PostgreSQL and Label Studio keep the values they were first started with in their
volumes, so a new file alone would lock the services out of their own data.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from cuevision.errors import CuevisionError
from cuevision.files import create_once


def _password() -> str:
    return secrets.token_urlsafe(24)  # URL-safe: it sits inside the database and broker URLs


# name -> maker; docker-compose.yml requires exactly these (tests/test_compose.py checks)
SECRETS = {
    "POSTGRES_PASSWORD": _password,
    "REDIS_PASSWORD": _password,
    "LABEL_STUDIO_PASSWORD": _password,
    # Label Studio's legacy API token: at most 40 characters (its token table's key)
    "LABEL_STUDIO_USER_TOKEN": lambda: secrets.token_hex(20),
}

HEADER = """\
# The lab server's secrets (docker-compose.yml), made by `cuevision admin init-env`.
# Never commit or share this file. To rotate a value, see "A lab server" in README.md.
"""


def env_text() -> str:
    """A new ``.env``: a fresh random value for every secret."""
    return HEADER + "".join(f"{name}={make()}\n" for name, make in SECRETS.items())


def init_env(
    path: Annotated[
        Path, typer.Option("--path", help="Where to write it: beside docker-compose.yml.")
    ] = Path(".env"),
) -> None:
    """Write the docker-compose stack's .env with fresh random secrets (0600); never overwrite."""
    refusal = (
        f"{path} exists and keeps its secrets (the databases in the volumes were set up with "
        "them); to rotate them, follow 'A lab server' in README.md"
    )
    if path.exists():
        raise CuevisionError(refusal)
    if not path.parent.is_dir():
        raise CuevisionError(f"{path.parent}: no such folder; give --path inside an existing one")
    text = env_text()
    if create_once(path, text.encode()) != text.encode():
        raise CuevisionError(refusal)  # another process wrote it first
    typer.echo(f"wrote {path} (owner-only): {', '.join(SECRETS)}; the values are only there")
