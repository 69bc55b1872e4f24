"""Annotator accounts on the local Label Studio: one user per person who codes.

The admin makes each user through the REST API (``POST /api/users/``) as a member of its own
organisation, set as the user's active one (a user made through the API has none until it first
logs in to the web page, and sees no projects before that). Label Studio has no API through which
an admin reads another user's token; its documented way is ``label-studio user --username EMAIL``
in Label Studio's venv, run here against the same data folder. So this is for a server that
``cuevision labelstudio up`` runs on this machine.
"""

from __future__ import annotations

import ast
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from cuevision.annotate.server import OFFLINE_ENV, LabelStudioError, LabelStudioSettings, connection


@dataclass(frozen=True)
class Annotator:
    """A Label Studio user who annotates: the email that ``annotate pull --annotator`` takes."""

    email: str
    user_id: int
    token: str


def ensure_annotators(settings: LabelStudioSettings, emails: Sequence[str]) -> list[Annotator]:
    """The users with these emails, made if missing, with their API tokens (looked up at once)."""
    conn = connection(settings)
    with httpx.Client(
        base_url=conn.url, headers={"Authorization": f"Token {conn.token}"}, timeout=60
    ) as admin:
        try:
            org = admin.get("/api/current-user/whoami").raise_for_status().json()
            users = {u["email"]: u for u in admin.get("/api/users/").raise_for_status().json()}
            for email in emails:
                user = users.get(email)
                if user is None:
                    made = {
                        "email": email,
                        "username": email.split("@")[0],
                        "active_organization": org["active_organization"],
                    }
                    admin.post("/api/users/", json=made).raise_for_status()
                elif user["active_organization"] != org["active_organization"]:
                    admin.patch(
                        f"/api/users/{user['id']}/",
                        json={"active_organization": org["active_organization"]},
                    ).raise_for_status()
        except httpx.HTTPError as error:
            raise LabelStudioError(
                f"Label Studio at {conn.url} did not make the annotators ({error}); is it up? "
                "`cuevision labelstudio status` says"
            ) from None
    lookups = [_token_lookup(settings, email) for email in emails]
    return [_annotator(email, lookup) for email, lookup in zip(emails, lookups, strict=True)]


def _token_lookup(settings: LabelStudioSettings, email: str) -> subprocess.Popen[str]:
    data = settings.data_dir.resolve()
    return subprocess.Popen(
        [str(settings.venv.resolve() / "bin" / "label-studio"), "user", "--username", email]
        + ["--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=data,
        env={**OFFLINE_ENV, "PATH": "/usr/bin:/bin", "HOME": str(data)},
    )


def _annotator(email: str, lookup: subprocess.Popen[str]) -> Annotator:
    out, err = lookup.communicate(timeout=300)
    found = [line for line in out.splitlines() if line.startswith("{")]
    info = ast.literal_eval(found[-1]) if lookup.returncode == 0 and found else {}
    if not isinstance(info, dict) or info.get("status") != "ok":
        raise LabelStudioError(
            f"`label-studio user --username {email}` gave no user info "
            f"({(err or out).strip()[-300:]}); check --labelstudio-data and --venv"
        )
    return Annotator(email=email, user_id=int(info["id"]), token=str(info["token"]))
