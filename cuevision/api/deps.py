"""Who is asking and what they may do: the service, a database session, the caller, their role.

A caller is a bearer token (``Authorization: Bearer cv_...``) or the web pages' signed, HttpOnly,
SameSite cookie; a cookie caller must also send the page's CSRF token on every unsafe request.
Another study's session answers 404, as an unknown one does, so its existence does not leak; a
member whose role does not allow an action gets 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from cuevision.api.config import ServiceSettings
from cuevision.store.blobs import BlobStore
from cuevision.store.models import Consent, Role, Session, Study, User
from cuevision.store.people import role_in, user_for_token

COOKIE = "cuevision_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# Path parameters within what every database column holds (a 2**63 id is a 422, not a 500).
StudyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SessionId = Annotated[str, Path(min_length=1, max_length=32, pattern="^[0-9a-f]+$")]

ALL = frozenset(Role)
# action -> the study roles allowed it
POLICY: dict[str, frozenset[Role]] = {
    "read": ALL,  # the session list, a session's status, its candidate and confirmed events
    "report": frozenset({Role.CLINICIAN, Role.RESEARCHER, Role.ADMIN}),  # metrics, report
    "export": frozenset({Role.CLINICIAN, Role.RESEARCHER, Role.ADMIN}),  # CSV, ELAN
    "upload": frozenset({Role.CLINICIAN, Role.ADMIN}),
    "delete": frozenset({Role.CLINICIAN, Role.ADMIN}),
    "members": frozenset({Role.ADMIN}),
    "cohort": frozenset({Role.RESEARCHER, Role.ADMIN}),
    "annotate": frozenset({Role.ANNOTATOR, Role.RESEARCHER, Role.ADMIN}),  # Label Studio push, pull
    "train": frozenset({Role.RESEARCHER, Role.ADMIN}),  # training jobs, promoting what they made
}


def may_see_video(role: Role, consent: str) -> bool:
    """Databrary's levels: a private video is for the study's clinicians and admins; shared or
    excerpt-level videos also for its researchers. Nobody outside the study, ever."""
    if role in (Role.CLINICIAN, Role.ADMIN):
        return True
    return role is Role.RESEARCHER and consent != Consent.PRIVATE


@dataclass(frozen=True)
class Service:
    """The app's long-lived parts, made once by ``create_app``."""

    settings: ServiceSettings
    engine: Engine
    db: sessionmaker[Db]
    blobs: BlobStore
    signer: URLSafeTimedSerializer


@dataclass(frozen=True)
class Caller:
    user: User
    by_cookie: bool
    csrf: str  # the cookie's CSRF token ('' for bearer tokens)


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that never raises: non-ASCII input is just unequal."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_db(service: ServiceDep) -> Iterator[Db]:
    with service.db() as db:
        yield db


DbDep = Annotated[Db, Depends(get_db)]


def read_cookie(service: Service, value: str) -> dict[str, Any] | None:
    try:
        data = service.signer.loads(value, max_age=service.settings.session_max_age_s)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def optional_caller(request: Request, service: ServiceDep, db: DbDep) -> Caller | None:
    """The caller by bearer token, else by cookie; None when neither is valid."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if header:
        if scheme.lower() != "bearer" or not token.strip():
            return None
        user = user_for_token(db, token.strip())
        return Caller(user, False, "") if user else None
    data = read_cookie(service, request.cookies.get(COOKIE, ""))
    if data is None:
        return None
    user = db.get(User, data.get("uid"))
    return Caller(user, True, str(data.get("csrf", ""))) if user else None


def caller(request: Request, found: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    """The authenticated caller; 401 without one, 403 for a cookie request without its CSRF."""
    if found is None:
        raise HTTPException(401, "sign in, or send a bearer token", {"WWW-Authenticate": "Bearer"})
    if found.by_cookie and request.method not in SAFE_METHODS:
        if not same(request.headers.get(CSRF_HEADER, ""), found.csrf):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header; reload the page")
    return found


CallerDep = Annotated[Caller, Depends(caller)]


def study_role(db: Db, who: Caller, study_id: int, action: str) -> tuple[Study, Role]:
    """The caller's role in the study, if it allows ``action``; 404 for non-members."""
    study = db.get(Study, study_id)
    role = role_in(db, who.user, study_id) if study else None
    if study is None or role is None:
        raise HTTPException(404, "no such study of yours")
    if role not in POLICY[action]:
        raise HTTPException(403, f"a {role.value} may not do this ({action}) in this study")
    return study, role


def session_role(db: Db, who: Caller, session_id: str, action: str) -> tuple[Session, Role]:
    """The session and the caller's role in its study; 404 for unknown or foreign sessions."""
    session = db.get(Session, session_id) if len(session_id) <= 32 else None
    role = role_in(db, who.user, session.study_id) if session else None
    if session is None or role is None:
        raise HTTPException(404, "no such session in your studies")
    if role not in POLICY[action]:
        raise HTTPException(403, f"a {role.value} may not do this ({action}) in this study")
    return session, role


def site_admin(who: CallerDep) -> Caller:
    if not who.user.is_admin:
        raise HTTPException(403, "only a site admin may do this")
    return who


AdminDep = Annotated[Caller, Depends(site_admin)]
