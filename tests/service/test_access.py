"""The access matrix: every route of the app (from its own route list) × every role × own study,
another study, no credentials. It asserts the status and that nothing of the other study appears
in any body. A new route fails here until it is given its rule below."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from cuevision.api.deps import POLICY, may_see_video
from cuevision.jobs.tasks import enqueue
from cuevision.store.models import Role, Session, TrainingRequest

from .conftest import PEOPLE, World, routes

S, SS = "/v1/studies/{study_id}", "/v1/sessions/{session_id}"
# (method, path) -> the POLICY action (or "site": site admins only, "any": any signed-in caller),
# the statuses an allowed caller may get, and what the request sends.
V1: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/v1/studies"): {"action": "any", "ok": {200}},
    ("POST", "/v1/studies"): {"action": "site", "ok": {201}, "json": {"name": "new"}},
    ("GET", "/v1/audit"): {"action": "site", "ok": {200}},
    ("GET", f"{S}/members"): {"action": "read", "ok": {200}},
    ("PUT", f"{S}/members"): {
        "action": "members",
        "ok": {200},
        "json": {"email": "annotator@a.org", "role": "annotator"},
    },
    ("GET", f"{S}/cohort.csv"): {"action": "cohort", "ok": {200}},
    ("POST", f"{S}/sessions"): {"action": "upload", "ok": {201, 409}, "upload": True},
    ("GET", f"{S}/sessions"): {"action": "read", "ok": {200}},
    ("GET", SS): {"action": "read", "ok": {200}},
    ("DELETE", SS): {"action": "delete", "ok": {204}, "fresh": True},
    ("GET", f"{SS}/candidates"): {"action": "read", "ok": {200}},
    ("GET", f"{SS}/confirmed"): {"action": "read", "ok": {200}},
    ("GET", f"{SS}/metrics"): {"action": "report", "ok": {409}},  # not processed: no file yet
    ("GET", f"{SS}/report"): {"action": "report", "ok": {409}},
    ("GET", f"{SS}/exports/events.csv"): {"action": "export", "ok": {200}},
    ("GET", f"{SS}/exports/events.eaf"): {"action": "export", "ok": {200}},
    ("GET", f"{SS}/video"): {"action": "video", "ok": {200}},
    # not processed yet: 409 (the push and pull themselves: tests/annotate/test_ls_service.py)
    ("POST", f"{SS}/labelstudio/push"): {"action": "annotate", "ok": {409}},
    ("POST", f"{SS}/labelstudio/pull"): {"action": "annotate", "ok": {409}},
    # no confirmed sessions: 409 (training itself: test_training); job 1 made the default
    ("POST", "/v1/models/train"): {"action": "train", "ok": {409}, "json": {"study": 1}},
    ("GET", "/v1/models/train"): {"action": "train", "ok": {200}, "params": {"study": 1}},
    ("GET", "/v1/models/train/{job_id}"): {"action": "train", "ok": {200}},
    ("POST", "/v1/models/{name}/{version}/promote"): {"action": "train", "ok": {409}},
}
# the web pages, with the sign-in cookie instead of a token
PAGES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/studies"): {"action": "any", "ok": {200}},
    ("GET", "/studies/{study_id}"): {"action": "read", "ok": {200}},
    ("GET", "/studies/{study_id}/cohort"): {"action": "cohort", "ok": {200}},
    ("GET", "/sessions/{session_id}"): {"action": "read", "ok": {200}},
}
# routes with their own credentials or none by design, each tested where it is named
EXEMPT = {
    ("GET", "/"): "redirects to sign-in; test_web",
    ("GET", "/signin"): "the sign-in form; test_web",
    ("POST", "/signin"): "test_web",
    ("POST", "/signout"): "test_web (CSRF)",
    ("GET", "/health"): "public liveness",
    ("GET", "/openapi.json"): "public schema",
    ("GET", "/docs"): "public schema",
    ("GET", "/docs/oauth2-redirect"): "public schema",
    ("GET", "/redoc"): "public schema",
    ("GET", "/video/{token}"): "signed link; tests/annotate and test_review",
    ("POST", "/labelstudio/webhook"): "webhook secret; test_review",
    ("POST", "/annotate/push"): "admin header; tests/annotate",
    ("POST", "/annotate/pull"): "admin header; tests/annotate",
    ("GET", "/ml/health"): "ML backend key; test_review",
    ("POST", "/ml/setup"): "ML backend key; test_review",
    ("POST", "/ml/predict"): "ML backend key; test_review",
    ("POST", "/ml/webhook"): "ML backend key; test_review",
    ("GET", "/ml/versions"): "ML backend key; test_review",
}
SECRET_DYAD, SECRET_NAME = "dyadSECRETa1", "secret-name-of-a.mp4"


def _session(world: World, study: int, consent: str = "private") -> Session:
    """A session row of ``study`` with its video blob (processing is not needed to test access)."""
    data = secrets.token_bytes(64)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    world.service.blobs.video(sha).write_bytes(data)
    row = Session(
        id=secrets.token_hex(16),
        study_id=study,
        filename=SECRET_NAME,
        sha256=sha,
        size_bytes=len(data),
        dyad_id=SECRET_DYAD,
        consent=consent,
        video_info={},
    )
    with world.service.db() as db:
        db.add(row)
        db.flush()
        enqueue(db, row.id)
        db.commit()
    return row


def _expected(rule: dict[str, Any], who: str) -> set[int]:
    action = rule["action"]
    if who == "none":
        return {401}
    if action == "site":
        return rule["ok"] if who == "site" else {403}
    if action == "any":
        return rule["ok"]
    if who == "site" and action == "members":
        return rule["ok"]  # site admins manage every study's members (not its sessions)
    if who in ("foreign", "site"):
        return {404}  # another study's things are not found, as unknown ones
    role = Role(who)
    if action == "video":
        return rule["ok"] if may_see_video(role, "private") else {403}
    return rule["ok"] if role in POLICY[action] else {403}


def _call(
    world: World,
    method: str,
    path: str,
    rule: dict[str, Any],
    headers: dict[str, str],
    main: Session,
    clip: Path,
) -> Any:
    session_id = _session(world, world.study_a).id if rule.get("fresh") else main.id
    url = path.format(
        study_id=world.study_a, session_id=session_id, job_id=1, name="cue-tcn", version="0.3"
    )
    kwargs: dict[str, Any] = {"headers": headers, "params": rule.get("params")}
    if "json" in rule:
        kwargs["json"] = rule["json"]
    if rule.get("upload"):
        kwargs["params"] = {"dyad_id": "d1"}
        kwargs["content"] = clip.read_bytes()
    return world.client.request(method, url, **kwargs)


def _cookies(world: World, who: str) -> dict[str, str]:
    """Sign ``who`` in through the form; the cookie jar then carries their session."""
    world.client.cookies.clear()
    if who == "none":
        return {}
    email = {"foreign": "clinician@b.org", "site": "site@cv.org"}.get(who, f"{who}@a.org")
    password = {"foreign": "password-of-foreign", "site": "password-of-site"}.get(
        who, f"password-of-{who}"
    )
    form = world.client.get("/signin")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    done = world.client.post(
        "/signin",
        data={"email": email, "password": password, "csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return dict(world.client.cookies)


def test_every_route_every_role_own_foreign_and_anonymous(
    sqlite_world: World, clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = sqlite_world
    found = set(routes(world.app))
    unruled = found - set(V1) - set(PAGES) - set(EXEMPT)
    assert not unruled, f"routes without an access rule: {sorted(unruled)}"
    assert set(V1) | set(PAGES) <= found, "rules for routes that no longer exist"
    main = _session(world, world.study_a)
    with world.service.db() as db:  # job 1 of study A, which made the default model
        db.add(
            TrainingRequest(study_id=world.study_a, options={}, state="done", model="cue-tcn@0.3")
        )
        db.commit()
    private = {SECRET_DYAD, SECRET_NAME, main.id, main.sha256, "Study A"}
    callers = [*PEOPLE, "foreign", "site", "none"]
    failures, cells = [], 0
    for (method, path), rule in sorted(V1.items()):
        for who in callers:
            answer = _call(world, method, path, rule, world.auth(who), main, clip)
            cells += 1
            expected = _expected(rule, who)
            if answer.status_code not in expected:
                failures.append(f"{method} {path} as {who}: {answer.status_code}, not {expected}")
            if who in ("foreign", "none") and any(p in answer.text for p in private):
                failures.append(f"{method} {path} as {who}: study A's data in the body")
    for who in callers:
        _cookies(world, who)
        for (method, path), rule in sorted(PAGES.items()):
            url = path.format(study_id=world.study_a, session_id=main.id)
            answer = world.client.request(method, url, follow_redirects=False)
            cells += 1
            expected = {303} if who == "none" else _expected(rule, who)
            if answer.status_code not in expected:
                failures.append(f"page {path} as {who}: {answer.status_code}, not {expected}")
            if who in ("foreign", "none", "site") and any(p in answer.text for p in private):
                failures.append(f"page {path} as {who}: study A's data in the page")
    world.client.cookies.clear()
    with capsys.disabled():
        print(
            f"\naccess matrix: {len(V1) + len(PAGES)} routes x {len(callers)} callers = "
            f"{cells} requests, {len(EXEMPT)} routes with their own credentials, "
            f"{len(failures)} failures"
        )
    assert not failures, "\n".join(failures)
