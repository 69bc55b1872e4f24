"""``/v1`` studies, their members, the cohort table, and the audit log (read-only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from cuevision.api.deps import (
    AdminDep,
    CallerDep,
    DbDep,
    ServiceDep,
    StudyId,
    study_role,
)
from cuevision.errors import CuevisionError
from cuevision.events import spreadsheet_text
from cuevision.report.tables import COHORT_COLUMNS, long_rows
from cuevision.store.models import AuditEntry, Membership, Role, Session, Study, User
from cuevision.store.people import add_member, create_study, user_by_email

router = APIRouter(prefix="/v1", tags=["studies"])


class StudyOut(BaseModel):
    id: int
    name: str
    role: Role | None  # the caller's role; None for a site admin who is not a member


class StudyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class MemberIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    role: Role


class MemberOut(BaseModel):
    user_id: int
    email: str
    role: Role


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    user_id: int | None
    action: str
    study_id: int | None
    session_id: str | None
    detail: dict[str, Any]


@router.get("/studies")
def my_studies(who: CallerDep, db: DbDep) -> list[StudyOut]:
    rows = db.execute(
        select(Study, Membership.role)
        .join(Membership, Membership.study_id == Study.id)
        .where(Membership.user_id == who.user.id)
        .order_by(Study.name)
    ).all()
    return [StudyOut(id=s.id, name=s.name, role=Role(r)) for s, r in rows]


@router.post("/studies", status_code=201)
def new_study(body: StudyIn, who: AdminDep, db: DbDep) -> StudyOut:
    try:
        study = create_study(db, body.name)
    except CuevisionError as error:
        raise HTTPException(409, str(error)) from None
    db.commit()
    return StudyOut(id=study.id, name=study.name, role=None)


@router.get("/studies/{study_id}/members")
def members(study_id: StudyId, who: CallerDep, db: DbDep) -> list[MemberOut]:
    study_role(db, who, study_id, "read")
    rows = db.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.study_id == study_id)
        .order_by(User.email)
    ).all()
    return [MemberOut(user_id=u.id, email=u.email, role=Role(r)) for u, r in rows]


@router.put("/studies/{study_id}/members")
def set_member(study_id: StudyId, body: MemberIn, who: CallerDep, db: DbDep) -> MemberOut:
    """A study admin (or a site admin) gives a user a role in the study."""
    if who.user.is_admin:
        study = db.get(Study, study_id)
        if study is None:
            raise HTTPException(404, f"no study {study_id}")
    else:
        study, _ = study_role(db, who, study_id, "members")
    try:
        user = user_by_email(db, body.email)
    except CuevisionError as error:
        raise HTTPException(404, str(error)) from None
    add_member(db, study, user, body.role, by=who.user.id)
    db.commit()
    return MemberOut(user_id=user.id, email=user.email, role=body.role)


def _cell(value: object) -> object:
    """Empty for None; formula-looking text quoted, as every CSV we write (OWASP)."""
    if value is None:
        return ""
    return spreadsheet_text(value) if isinstance(value, str) else value


def cohort_csv(db: DbDep, service: ServiceDep, study_id: int) -> str:
    """The long-format cohort table (``cuevision metrics`` cohort output) of a study's sessions."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COHORT_COLUMNS)
    sessions = db.scalars(
        select(Session).where(Session.study_id == study_id).order_by(Session.created_at)
    )
    for session in sessions:
        path = service.blobs.root / "sessions" / session.id / "metrics.json"
        if path.is_file():
            for row in long_rows(session.id, json.loads(path.read_text())):
                writer.writerow([_cell(v) for v in row])
    return out.getvalue()


@router.get("/studies/{study_id}/cohort.csv", response_class=Response)
def cohort(study_id: StudyId, who: CallerDep, db: DbDep, service: ServiceDep) -> Response:
    study_role(db, who, study_id, "cohort")
    return Response(cohort_csv(db, service, study_id), media_type="text/csv")


@router.get("/audit")
def audit(
    who: AdminDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[AuditOut]:
    """The newest audit rows first; there is no route that edits or deletes them."""
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return [
        AuditOut(
            id=r.id,
            at=r.at,
            user_id=r.user_id,
            action=r.action,
            study_id=r.study_id,
            session_id=r.session_id,
            detail=r.detail,
        )
        for r in rows
    ]
