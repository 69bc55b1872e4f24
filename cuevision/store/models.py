"""The service's tables: people, studies and roles, sessions, stage runs, artifacts, the audit log.

Names are the domain's: a *session* is one recorded play session (not a database or web session).
Every child row of a session cascades on delete, so deleting a session leaves no orphan; the audit
log keeps plain ids (no foreign keys), so it outlives what it records and is never edited.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names, so Alembic migrations match the models on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(StrEnum):
    """What a member may do in one study (see cuevision.api.deps for the rules)."""

    CLINICIAN = "clinician"
    ANNOTATOR = "annotator"
    RESEARCHER = "researcher"
    ADMIN = "admin"


class Consent(StrEnum):
    """Databrary's release levels: who beyond the uploader's study may see what."""

    PRIVATE = "private"  # the study's members only, and the video to clinicians and admins
    SHARED = "shared"  # the study's members, video included
    EXCERPTS = "excerpts"  # as shared, and excerpts may be shown outside (teaching, papers)


class StageState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # poison: attempts used up; ``error`` says why


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)  # site admin: users, studies
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token: only its SHA-256 is stored, so a copy of the database grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))


class Session(Base):
    """One uploaded play session; its video is the blob named by ``sha256``."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("study_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random hex, never guessable
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))  # cleaned display name; never a path
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    dyad_id: Mapped[str] = mapped_column(String(64), index=True)
    child_age_months: Mapped[float | None] = mapped_column(Float)
    recorded_on: Mapped[dt.date | None] = mapped_column(Date)
    condition: Mapped[str | None] = mapped_column(String(100))
    consent: Mapped[str] = mapped_column(String(20))
    video_info: Mapped[dict[str, Any]] = mapped_column(JSON)
    labelstudio_project_id: Mapped[int | None] = mapped_column(Integer)
    labelstudio_task_id: Mapped[int | None] = mapped_column(Integer)
    # what a pushed OUTDIR keeps in labelstudio.json (project, task, prediction), for this session
    labelstudio: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StageRun(Base):
    """One stage of one session as a durable task: leased by a runner, retried, or failed."""

    __tablename__ = "stage_runs"
    __table_args__ = (UniqueConstraint("session_id", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)  # order within the pipeline
    key: Mapped[str | None] = mapped_column(String(16))  # the pipeline's stage key once done
    state: Mapped[str] = mapped_column(String(10), default=StageState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    # epoch seconds: compared in SQL the same way on SQLite and PostgreSQL
    lease_expires_at: Mapped[float | None] = mapped_column(Float)
    not_before: Mapped[float] = mapped_column(Float, default=0.0)  # retry backoff
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Artifact(Base):
    """A stage output of a session, kept in the session's blob folder under ``name``."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("session_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class EventRow(Base):
    """A candidate or confirmed event; ``seq`` is its place in the stage's output, so a stage
    recorded twice (a crash between writing and recording) cannot duplicate a row."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("session_id", "basis", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    basis: Mapped[str] = mapped_column(String(20))  # candidates | confirmed
    seq: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(64))
    onset_s: Mapped[float] = mapped_column(Float)
    offset_s: Mapped[float] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))


class Secret(Base):
    """Keys the service signs with (cookies, video links), made once; never a loose file."""

    __tablename__ = "secrets"

    purpose: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class RegisteredOutdir(Base):
    """A processed OUTDIR outside the blob folder that ``annotate push`` sent to Label Studio
    (the folder mode's ``sessions/*.json``); the service's own sessions need no entry."""

    __tablename__ = "registered_outdirs"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    outdir: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrainingRequest(Base):
    """A training job of a study: asked for by a researcher (``POST /v1/models/train``) or by
    Label Studio's START_TRAINING for a project; leased by a runner like a stage run, and done
    once the new version (``model``, NAME@VERSION) is in the service's models folder."""

    __tablename__ = "training_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    project_id: Mapped[int | None] = mapped_column(Integer)  # Label Studio's, when it asked
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    base: Mapped[str | None] = mapped_column(String(100))  # NAME@VERSION; None: the default
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # epochs, seed, ...
    state: Mapped[str] = mapped_column(String(10), default=StageState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[float | None] = mapped_column(Float)  # epoch seconds
    not_before: Mapped[float] = mapped_column(Float, default=0.0)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)  # epochs of the main fit
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(100))  # the version it trained
    snapshot: Mapped[str | None] = mapped_column(String(64))  # the data set's hash
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Who did what to which session, when. Triggers refuse UPDATE and DELETE (the migration)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(50), index=True)
    study_id: Mapped[int | None] = mapped_column(Integer)
    session_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChunkRun(Base):
    """One time chunk of a session's landmark stage (Celery runner): leased like a stage run;
    ``key`` is the chunk plan's (length, overlap), so a changed plan never reuses a chunk."""

    __tablename__ = "chunk_runs"
    __table_args__ = (UniqueConstraint("session_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    key: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(10), default=StageState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[float | None] = mapped_column(Float)  # epoch seconds
    not_before: Mapped[float] = mapped_column(Float, default=0.0)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
