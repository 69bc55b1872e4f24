"""The /v1 API on SQLite and PostgreSQL: upload (cap, hash, duplicates, probe refusals, hostile
names, bad metadata), lists with filters, status, and the review fixes."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cuevision.api.routes.sessions import clean_filename

from .conftest import World, routes


def _upload(world: World, data: bytes, who: str = "clinician", **params: object) -> httpx.Response:
    query = {"dyad_id": "dyad1", **params}
    return world.client.post(
        f"/v1/studies/{world.study_a}/sessions",
        params=query,
        content=data,
        headers=world.auth(who),
    )


def test_upload_hashes_refuses_duplicates_and_lists_with_filters(world: World, clip: Path) -> None:
    data = clip.read_bytes()
    made = _upload(
        world,
        data,
        filename="../../etc/passwd\u202e4pm.mp4",
        condition="free play",
        child_age_months=14.5,
        recorded_on="2026-03-02",
        consent="shared",
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size_bytes"] == len(data)
    assert body["filename"] == "passwd4pm.mp4" and body["status"] == "queued"
    assert [s["stage"] for s in body["stages"]] == [
        "probe",
        "landmarks",
        "features",
        "detect",
        "metrics",
    ]
    blobs = world.service.blobs.listing()
    assert blobs == [f"videos/{body['sha256']}"]  # named by hash, never by the client's name

    again = _upload(world, data)
    assert again.status_code == 409 and body["id"] in again.json()["detail"]
    assert world.service.blobs.listing() == blobs

    url = f"/v1/studies/{world.study_a}/sessions"
    listed = world.client.get(url, headers=world.auth("annotator"))
    assert [s["id"] for s in listed.json()] == [body["id"]]
    for query, n in [
        ({"dyad_id": "dyad1"}, 1),
        ({"dyad_id": "other"}, 0),
        ({"condition": "free play"}, 1),
        ({"consent": "private"}, 0),
        ({"status": "queued"}, 1),
        ({"status": "done"}, 0),
    ]:
        found = world.client.get(url, params=query, headers=world.auth("researcher"))
        assert len(found.json()) == n, query
    one = world.client.get(f"/v1/sessions/{body['id']}", headers=world.auth("researcher"))
    assert one.json()["recorded_on"] == "2026-03-02" and one.json()["child_age_months"] == 14.5


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65536):
        yield b"\0" * 65536


def test_over_the_cap_is_413_and_leaves_nothing(world: World) -> None:
    too_big = world.settings.max_upload_bytes + 1
    declared = _upload(world, b"\0" * too_big)
    assert declared.status_code == 413
    streamed = world.client.post(  # chunked: no Content-Length to trust, cut off while streaming
        f"/v1/studies/{world.study_a}/sessions",
        params={"dyad_id": "d"},
        content=_chunks(too_big + 65536),
        headers=world.auth("clinician"),
    )
    assert streamed.status_code == 413, streamed.text
    assert world.service.blobs.listing() == []


BAD = ["empty", "text", "png", "no_moov", "truncated", "audio_only", "no_frames", "too_wide"]


def test_every_video_the_probe_refuses_is_415_naming_why(
    sqlite_world: World, media: dict[str, Path]
) -> None:
    world = sqlite_world
    for name in BAD:
        answer = _upload(world, media[name].read_bytes(), filename=f"{name}.mp4")
        assert answer.status_code == 415, (name, answer.text)
        detail = answer.json()["detail"]
        assert str(world.settings.data_dir) not in detail and "Traceback" not in detail, detail
    assert world.service.blobs.listing() == []


@pytest.mark.parametrize(
    "params",
    [
        {"dyad_id": "../x"},
        {"dyad_id": ""},
        {"dyad_id": "d", "child_age_months": -1},
        {"dyad_id": "d", "child_age_months": "ten"},
        {"dyad_id": "d", "recorded_on": "2026-13-40"},
        {"dyad_id": "d", "consent": "public"},
        {"dyad_id": "d", "condition": "a\x00b"},
        {"dyad_id": "d", "surprise": "1"},
        {},
    ],
)
def test_bad_metadata_is_422(world: World, params: dict[str, object]) -> None:
    answer = world.client.post(
        f"/v1/studies/{world.study_a}/sessions",
        params=params,
        content=b"x",
        headers=world.auth("clinician"),
    )
    assert answer.status_code == 422, answer.text


def test_hostile_file_names_become_plain_labels() -> None:
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\Users\\x\\clip.mp4") == "clip.mp4"
    assert clean_filename("a\x00b\u202e.mp4") == "ab.mp4"
    assert clean_filename("..") == "video" and clean_filename("") == "video"
    long = clean_filename("é" * 300 + ".mp4")
    assert len(long.encode()) <= 200


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Bearer cv_\u00e9\u00e8",
        "Bearer nope",
        "Bearer \u202e",
    ],
)
def test_bad_tokens_are_401_never_500(world: World, header: str) -> None:
    answer = world.client.get("/v1/studies", headers={"Authorization": header.encode("utf-8")})
    assert answer.status_code == 401


def test_a_revoked_token_stops_at_once(world: World) -> None:
    from sqlalchemy import select

    from cuevision.store.models import ApiToken
    from cuevision.store.people import revoke_token, token_hash

    assert world.client.get("/v1/studies", headers=world.auth("researcher")).status_code == 200
    with world.service.db() as db:
        row = db.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_hash(world.tokens["researcher"]))
        )
        assert row is not None
        revoke_token(db, row.id)
        db.commit()
    assert world.client.get("/v1/studies", headers=world.auth("researcher")).status_code == 401


def test_the_audit_log_has_no_write_routes(world: World) -> None:
    found = routes(world.app)
    assert {m for m, p in found if p.startswith("/v1/audit")} == {"GET"}
    assert world.client.get("/v1/audit", headers=world.auth("admin")).status_code == 403
    rows = world.client.get("/v1/audit", headers=world.auth("site")).json()
    assert {"member.set", "token.create", "study.create"} <= {r["action"] for r in rows}


def test_delete_with_label_studio_down_is_a_503_and_deletes_nothing(
    templates: dict[str, object], request: pytest.FixtureRequest, tmp_path: Path, clip: Path
) -> None:
    """Delete means gone everywhere or nowhere: a task that cannot be removed keeps the session."""
    from fastapi.testclient import TestClient

    from cuevision.annotate.server import LabelStudioSettings
    from cuevision.api import ApiSettings, ServiceSettings, create_app
    from cuevision.store.models import Session

    from .conftest import world_url

    data = tmp_path / "data"
    url, tokens = world_url("sqlite", templates, request, data)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = LabelStudioSettings(url=f"http://127.0.0.1:{port}", token="t" * 40)
    settings = ServiceSettings(data_dir=data, database_url=url, runners=0, labelstudio=True)
    app = create_app(ApiSettings(data_dir=data, labelstudio=down), settings)
    clinician = {"Authorization": f"Bearer {tokens['clinician']}"}
    with TestClient(app) as client:
        made = client.post(
            "/v1/studies/1/sessions",
            params={"dyad_id": "d"},
            content=clip.read_bytes(),
            headers=clinician,
        )
        session_id = made.json()["id"]
        with app.state.service.db() as db:
            row = db.get(Session, session_id)
            assert row is not None
            row.labelstudio_task_id = 12
            db.commit()
        gone = client.delete(f"/v1/sessions/{session_id}", headers=clinician)
        assert gone.status_code == 503 and "not reachable" in gone.json()["detail"]
        assert client.get(f"/v1/sessions/{session_id}", headers=clinician).status_code == 200
        assert app.state.service.blobs.listing()  # the video is still there
    app.state.service.engine.dispose()
