"""The store on SQLite and PostgreSQL: migrations equal the models, cascades, constraints, audit."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from cuevision.errors import CuevisionError
from cuevision.files import default_data_dir
from cuevision.store.blobs import BlobStore, TooLarge
from cuevision.store.db import alembic_config, make_engine, require_current, sessions, sqlite_url
from cuevision.store.models import (
    ApiToken,
    Artifact,
    AuditEntry,
    Consent,
    Role,
    Session,
    StageRun,
)
from cuevision.store.people import (
    add_member,
    check_password,
    create_study,
    create_token,
    create_user,
    revoke_token,
    role_in,
    user_for_token,
)


def test_migrations_produce_exactly_the_models(engine: Engine) -> None:
    command.check(alembic_config(engine))  # raises when autogenerate would find a difference
    require_current(engine)


def test_an_empty_database_is_refused_naming_the_upgrade(database_url: str) -> None:
    with pytest.raises(CuevisionError, match="cuevision db upgrade"):
        require_current(make_engine(database_url))


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000


def _session(study_id: int, sha: str = "a" * 64) -> Session:
    return Session(
        id=sha[:32],
        study_id=study_id,
        filename="clip.mp4",
        sha256=sha,
        size_bytes=10,
        dyad_id="d1",
        consent=Consent.PRIVATE,
        video_info={},
    )


def test_people_tokens_roles_and_cascading_deletes(engine: Engine) -> None:
    with sessions(engine)() as db:
        user = create_user(db, "Ana@Clinic.org", "correct horse battery")
        study = create_study(db, "Dyads 2026")
        add_member(db, study, user, Role.CLINICIAN)
        token = create_token(db, user)
        db.add(_session(study.id))
        db.flush()  # no ORM relationships: the database orders and cascades
        db.add(StageRun(session_id="a" * 32, stage="probe", position=0))
        db.add(
            Artifact(
                session_id="a" * 32, stage="probe", name="video.json", sha256="b" * 64, size_bytes=1
            )
        )
        db.commit()
        assert user.email == "ana@clinic.org" and check_password(user, "correct horse battery")
        assert not check_password(user, "wrong password!") and not check_password(None, "x")
        assert user.password_hash.startswith("$argon2id$")
        stored = db.scalars(select(ApiToken.token_hash)).all()
        assert token not in str(stored) and user_for_token(db, token) == user
        assert role_in(db, user, study.id) is Role.CLINICIAN
        with pytest.raises(CuevisionError, match="exists already"):
            create_study(db, "Dyads 2026")
        db.rollback()
        revoke_token(db, db.scalars(select(ApiToken.id)).one())
        db.commit()
        assert user_for_token(db, token) is None and user_for_token(db, "cv_\u202e\x00") is None

        db.delete(db.get(Session, "a" * 32))
        db.commit()
        assert db.scalars(select(StageRun)).all() == [] and db.scalars(select(Artifact)).all() == []


def test_one_video_once_per_study(engine: Engine) -> None:
    with sessions(engine)() as db:
        study = create_study(db, "s")
        db.add(_session(study.id))
        db.commit()
        duplicate = _session(study.id)
        duplicate.id = "c" * 32
        db.add(duplicate)
        with pytest.raises(IntegrityError):
            db.commit()


def test_the_audit_log_is_append_only_in_the_database(engine: Engine) -> None:
    with sessions(engine)() as db:
        create_study(db, "audited")
        db.commit()
        assert db.scalars(select(AuditEntry.action)).all() == ["study.create"]
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert "audit_log" in inspect(engine).get_table_names()


def test_blobs_are_owner_only_named_by_hash_and_capped(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with store.ingest(cap=100) as upload:
        upload.write(b"x" * 60)
    path = store.video(upload.sha256)
    assert path.read_bytes() == b"x" * 60 and path.name == upload.sha256
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with pytest.raises(TooLarge), store.ingest(cap=100) as upload:
        upload.write(b"y" * 60)
        upload.write(b"y" * 60)
    assert store.listing() == [f"videos/{path.name}"]  # the refused upload left nothing
    with pytest.raises(CuevisionError):
        store.session_dir("../etc")


def test_data_dir_is_the_environment_or_per_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUEVISION_DATA_DIR", "/srv/cv")
    assert default_data_dir() == Path("/srv/cv")
    monkeypatch.delenv("CUEVISION_DATA_DIR")
    assert default_data_dir() != Path.cwd() and "cuevision" in str(default_data_dir())
