"""The database: an engine for a URL (SQLite by default, PostgreSQL by URL) and its migrations.

SQLite gets WAL (readers never block the one writer), foreign keys on (so deletes cascade) and a
busy timeout (a second writer waits instead of failing). Migrations ship inside the package and
run through Alembic's API, so ``cuevision db upgrade`` works from a wheel, not only a checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

from cuevision.errors import CuevisionError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 10_000
DB_FILE = "cuevision.sqlite3"  # the default SQLite database in the data folder


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DB_FILE}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):  # the driver we ship is psycopg 3
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def sessions(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> str:
    """Apply every migration; return the head revision."""
    command.upgrade(alembic_config(engine), "head")
    return head()


def head() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    return str(script.get_current_head())


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: Engine) -> None:
    """Refuse a database that is behind (or ahead of) this code, naming the fix."""
    found, wanted = current(engine), head()
    if found != wanted:
        raise CuevisionError(
            f"the database is at revision {found or 'none (empty)'}, this cuevision needs "
            f"{wanted}; run `cuevision db upgrade` first"
        )
