"""A throw-away PostgreSQL cluster (Debian's ``postgresql``) and a fresh database per test, so the
store tests run on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cuevision.api import ApiSettings, ServiceSettings, create_app
from cuevision.api.deps import Service
from cuevision.store.db import make_engine, sessions, sqlite_url, upgrade

from . import pg

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """``postgresql+psycopg://...`` of a cluster started in a temp folder on a free port."""
    if pg.initdb() is None:
        pytest.skip("PostgreSQL is not installed: `apt-get install -y postgresql` (.ci/run does)")
    with pg.cluster() as url:
        yield url


def fresh_postgres(server: str) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return fresh_postgres(request.getfixturevalue("postgres_server"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A database at the head migration."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


_video = importlib.util.spec_from_file_location(
    "video_media", Path(__file__).parents[1] / "video" / "conftest.py"
)
assert _video is not None and _video.loader is not None
_media_module = importlib.util.module_from_spec(_video)
_video.loader.exec_module(_media_module)
media = _media_module.media  # the bad and good files that the probe tests use


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s synthetic dyad (two faces), short enough for job tests."""
    from cuevision.synth.video import make_dyad_video

    folder = tmp_path_factory.mktemp("clip")
    make_dyad_video(folder / "dyad.mp4", folder / "truth.csv", duration_s=2.0)
    return folder / "dyad.mp4"


def routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, from its own route list."""
    from fastapi.routing import iter_route_contexts

    found = set()
    for context in iter_route_contexts(app.routes):
        for method in context.methods or ():
            if method != "HEAD":
                found.add((method, context.path))
    return sorted(found)


@dataclass
class World:
    """A service with two studies and a member of each role; a token per person."""

    client: TestClient
    app: Any
    service: Service
    settings: ServiceSettings
    study_a: int
    study_b: int
    tokens: dict[str, str]  # clinician, annotator, researcher, admin (study A), foreign (B), site

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}


PEOPLE = ("clinician", "annotator", "researcher", "admin")


def populate(url: str) -> dict[str, str]:
    """Studies A and B, a member of each role in A, a clinician of B, a site admin; tokens."""
    from cuevision.store.models import Role
    from cuevision.store.people import add_member, create_study, create_token, create_user

    engine = make_engine(url)
    upgrade(engine)
    tokens = {}
    with sessions(engine)() as db:
        a, b = create_study(db, "Study A"), create_study(db, "Study B")
        for role in Role:
            user = create_user(db, f"{role.value}@a.org", "password-of-" + role.value)
            add_member(db, a, user, role)
            tokens[role.value] = create_token(db, user)
        foreign = create_user(db, "clinician@b.org", "password-of-foreign")
        add_member(db, b, foreign, Role.CLINICIAN)
        tokens["foreign"] = create_token(db, foreign)
        site = create_user(db, "site@cv.org", "password-of-site", admin=True)
        tokens["site"] = create_token(db, site)
        db.commit()
    engine.dispose()
    return tokens


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Populated databases made once (argon2 is slow on purpose); each test gets a copy."""
    return {"folder": tmp_path_factory.mktemp("templates"), "made": {}}


def world_url(
    kind: str, templates: dict[str, Any], request: pytest.FixtureRequest, data_dir: Path
) -> tuple[str, dict[str, str]]:
    made = templates["made"]
    if kind not in made:
        if kind == "sqlite":
            url = sqlite_url(templates["folder"])
        else:
            url = fresh_postgres(request.getfixturevalue("postgres_server"))
        made[kind] = (url, populate(url))
        if kind == "sqlite":  # one file, no WAL beside it, so a copy is whole
            engine = make_engine(url)
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
    url, tokens = made[kind]
    if kind == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(templates["folder"] / "cuevision.sqlite3", data_dir / "cuevision.sqlite3")
        return sqlite_url(data_dir), tokens
    server = request.getfixturevalue("postgres_server")
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {url.rsplit('/', 1)[1]}"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}", tokens


def make_world(
    url: str, tokens: dict[str, str], data_dir: Path, **settings: Any
) -> Iterator[World]:
    settings = {"runners": 0, **settings}  # no embedded runners unless asked for
    chosen = ServiceSettings(data_dir=data_dir, database_url=url, **settings)
    app = create_app(ApiSettings(data_dir=data_dir), chosen)
    with TestClient(app) as client:
        yield World(client, app, app.state.service, chosen, 1, 2, tokens)
    app.state.service.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, templates: dict[str, Any], tmp_path: Path
) -> Iterator[World]:
    url, tokens = world_url(request.param, templates, request, tmp_path / "data")
    yield from make_world(url, tokens, tmp_path / "data", max_upload_bytes=5_000_000)


@pytest.fixture
def sqlite_world(
    request: pytest.FixtureRequest, templates: dict[str, Any], tmp_path: Path
) -> Iterator[World]:
    """For what does not depend on the database (the probe, the pages): SQLite only."""
    url, tokens = world_url("sqlite", templates, request, tmp_path / "data")
    yield from make_world(url, tokens, tmp_path / "data", max_upload_bytes=5_000_000)
