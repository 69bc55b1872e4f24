"""The web pages, served by the same app as ``/v1`` and using its rules (cuevision.api.deps).

Sign-in sets an HttpOnly, SameSite=Lax cookie signed with a key kept in the database; it carries
the user id and a CSRF token. Every form (and the upload, which posts through JavaScript) sends
that token back, and a request without it is refused. The sign-in form has its own CSRF token in
a short-lived cookie, so a page elsewhere cannot sign a browser in as someone else.
"""

from __future__ import annotations

import csv
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from cuevision.api.deps import (
    COOKIE,
    POLICY,
    Caller,
    DbDep,
    ServiceDep,
    SessionId,
    StudyId,
    optional_caller,
    read_cookie,
    same,
    session_role,
    study_role,
)
from cuevision.api.routes.sessions import list_sessions
from cuevision.api.routes.studies import cohort_csv, my_studies
from cuevision.store.audit import record
from cuevision.store.models import Consent, Role, User
from cuevision.store.people import check_password

HERE = Path(__file__).parents[2] / "web"  # the templates and static files (cuevision.web)
LOGIN_COOKIE = "cuevision_signin"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(_SignIn)
    def _to_signin(request: Request, error: _SignIn) -> Response:
        return RedirectResponse("/signin", status_code=303)


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _signed_in(request: Request, service: ServiceDep, db: DbDep) -> Caller:
    found = optional_caller(request, service, db)
    if found is None or not found.by_cookie:
        raise _SignIn()
    return found


class _SignIn(Exception):
    """No valid cookie: the page answers with a redirect to the sign-in form."""


@router.get("/")
def home(request: Request, service: ServiceDep, db: DbDep) -> Response:
    found = optional_caller(request, service, db)
    return RedirectResponse("/studies" if found else "/signin", status_code=303)


@router.get("/signin")
def signin_form(request: Request, service: ServiceDep) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _page(request, "signin.html", csrf=token, error=None)
    _set(response, service, LOGIN_COOKIE, service.signer.dumps({"login": token}), 600)
    return response


def _set(response: Response, service: ServiceDep, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=service.settings.secure_cookies,
        path="/",
    )


@router.post("/signin")
def signin(
    request: Request,
    service: ServiceDep,
    db: DbDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    login = read_cookie(service, request.cookies.get(LOGIN_COOKIE, "")) or {}
    if not same(csrf, str(login.get("login", "-"))):
        raise HTTPException(403, "the sign-in form expired; reload the page")
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if not check_password(user, password):
        token = secrets.token_urlsafe(24)
        refused = _page(request, "signin.html", 401, csrf=token, error="Wrong e-mail or password.")
        _set(refused, service, LOGIN_COOKIE, service.signer.dumps({"login": token}), 600)
        return refused
    assert user is not None
    record(db, user.id, "user.signin")
    db.commit()
    response = RedirectResponse("/studies", status_code=303)
    cookie = service.signer.dumps({"uid": user.id, "csrf": secrets.token_urlsafe(24)})
    _set(response, service, COOKIE, cookie, service.settings.session_max_age_s)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(
    request: Request,
    service: ServiceDep,
    db: DbDep,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    who = _signed_in(request, service, db)
    if not same(csrf, who.csrf):
        raise HTTPException(403, "the form expired; reload the page")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/studies")
def studies_page(request: Request, service: ServiceDep, db: DbDep) -> HTMLResponse:
    who = _signed_in(request, service, db)
    return _page(request, "studies.html", who=who, studies=my_studies(who, db))


@router.get("/studies/{study_id}")
def study_page(study_id: StudyId, request: Request, service: ServiceDep, db: DbDep) -> HTMLResponse:
    who = _signed_in(request, service, db)
    study, role = study_role(db, who, study_id, "read")
    found = list_sessions(study_id, who, db, limit=1000)
    return _page(
        request,
        "study.html",
        who=who,
        study=study,
        role=role,
        sessions=found,
        can_upload=role in POLICY["upload"],
        can_cohort=role in POLICY["cohort"],
        consents=list(Consent),
    )


@router.get("/studies/{study_id}/cohort")
def cohort_page(
    study_id: StudyId, request: Request, service: ServiceDep, db: DbDep
) -> HTMLResponse:
    who = _signed_in(request, service, db)
    study, _ = study_role(db, who, study_id, "cohort")
    rows = list(csv.reader(cohort_csv(db, service, study_id).splitlines()))
    return _page(request, "cohort.html", who=who, study=study, header=rows[0], rows=rows[1:])


@router.get("/sessions/{session_id}")
def session_page(
    session_id: SessionId, request: Request, service: ServiceDep, db: DbDep
) -> HTMLResponse:
    who = _signed_in(request, service, db)
    session, role = session_role(db, who, session_id, "read")
    ls = request.app.state.settings.labelstudio
    task_url = (
        f"{(ls.url or f'http://{ls.host}:{ls.port}').rstrip('/')}/projects/"
        f"{session.labelstudio_project_id}/data?task={session.labelstudio_task_id}"
        if session.labelstudio_task_id
        else None
    )
    return _page(
        request,
        "session.html",
        who=who,
        session=session,
        role=role,
        can_report=role in POLICY["report"],
        can_export=role in POLICY["export"],
        task_url=task_url,
        Role=Role,
    )
