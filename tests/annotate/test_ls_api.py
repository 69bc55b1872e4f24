"""Our API without Label Studio: signed proxy links, Range, CORS, secrets, the ML backend."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cuevision.annotate import links
from cuevision.annotate.server import LabelStudioSettings
from cuevision.annotate.sync import ML_USER, proxy_clock, session_id_of
from cuevision.api import ApiSettings, create_app
from cuevision.types import VideoInfo

LS_ORIGIN = "http://127.0.0.1:18999"


@pytest.fixture
def app(fresh_outdir: Path, tmp_path: Path) -> tuple[TestClient, ApiSettings, str]:
    """An app whose data folder knows one session (with its proxy made)."""
    settings = ApiSettings(data_dir=tmp_path / "data", labelstudio=LabelStudioSettings(port=18999))
    proxy_clock(fresh_outdir, VideoInfo.load(fresh_outdir / "video.json"))
    links.register(settings.data_dir, "feed0123", fresh_outdir)
    return TestClient(create_app(settings)), settings, "feed0123"


def _token(settings: ApiSettings, session: str, expires: float) -> str:
    return links.sign(links.load_secret(settings.data_dir), session, expires)


def test_video_with_range_and_cors(app: tuple[TestClient, ApiSettings, str]) -> None:
    client, settings, session = app
    url = f"/video/{_token(settings, session, time.time() + 60)}"
    proxy = links.lookup(settings.data_dir, session) / "proxy.mp4"  # type: ignore[operator]
    whole = client.get(url, headers={"Origin": LS_ORIGIN})
    assert whole.status_code == 200 and whole.content == proxy.read_bytes()
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["access-control-allow-origin"] == LS_ORIGIN
    part = client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == proxy.read_bytes()[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{proxy.stat().st_size}"
    past = client.get(url, headers={"Range": f"bytes={proxy.stat().st_size + 5}-"})
    assert past.status_code == 416
    elsewhere = client.get(url, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in elsewhere.headers


def test_bad_expired_forged_and_unknown_links(app: tuple[TestClient, ApiSettings, str]) -> None:
    client, settings, session = app
    expired = client.get(f"/video/{_token(settings, session, time.time() - 1)}")
    assert expired.status_code == 403 and "expired" in expired.json()["detail"]
    good = _token(settings, session, time.time() + 60)
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    assert client.get(f"/video/{forged}").status_code == 403
    assert client.get("/video/not-a-token").status_code == 403
    assert client.get("/video/").status_code == 404
    unknown = client.get(f"/video/{_token(settings, 'abcdef99', time.time() + 60)}")
    assert unknown.status_code == 404


def test_webhook_and_admin_calls_need_their_secret(
    app: tuple[TestClient, ApiSettings, str],
) -> None:
    client, settings, _ = app
    body = {"action": "ANNOTATION_CREATED", "project": {"id": 1}}
    assert client.post("/labelstudio/webhook", json=body).status_code == 401
    wrong = {links.WEBHOOK_HEADER: "x" * 64}
    assert client.post("/labelstudio/webhook", json=body, headers=wrong).status_code == 401
    right = {
        links.WEBHOOK_HEADER: links.derived_key(links.load_secret(settings.data_dir), "webhook")
    }
    ignored = client.post("/labelstudio/webhook", json={"action": "PROJECT_CREATED"}, headers=right)
    assert ignored.status_code == 202 and ignored.json()["sessions"] == 0
    assert (
        client.post("/labelstudio/webhook", content=b"{not json", headers=right).status_code == 422
    )
    push = client.post("/annotate/push", json={"outdir": "/nowhere"})
    assert push.status_code == 401


def _ml_auth(settings: ApiSettings) -> tuple[str, str]:
    """The basic-auth credential push gives Label Studio for our ML backend."""
    return ML_USER, links.derived_key(links.load_secret(settings.data_dir), "ml")


def test_ml_backend_needs_its_credential(app: tuple[TestClient, ApiSettings, str]) -> None:
    client, settings, _ = app
    user, password = _ml_auth(settings)
    for auth in (None, (user, "x" * 64), ("admin", password), ("é", "ü" * 3)):
        answer = client.get("/ml/health", auth=auth)
        assert answer.status_code == 401, auth
        assert answer.headers["www-authenticate"].startswith("Basic")
    assert "annotate push" in client.post("/ml/setup", json={}).json()["detail"]
    garbled = client.post("/ml/predict", json={"tasks": []}, headers={"Authorization": "Basic %%"})
    assert garbled.status_code == 401
    bearer = client.get("/ml/versions", headers={"Authorization": f"Bearer {password}"})
    assert bearer.status_code == 401
    assert client.get("/ml/health", auth=(user, password)).status_code == 200


def test_ml_backend_protocol(app: tuple[TestClient, ApiSettings, str], fresh_outdir: Path) -> None:
    client, settings, session = app
    client.auth = _ml_auth(settings)
    assert client.get("/ml/health").json()["status"] == "UP"
    assert client.post("/ml/setup", json={"project": "1.0", "schema": "<View/>"}).json() == {
        "model_version": settings.model.partition("@")[2]  # the registry's default model
    }
    tasks = [{"id": 7, "data": {"session": "nobody"}}, {"id": 8, "data": {"session": session}}]
    results = client.post("/ml/predict", json={"tasks": tasks}).json()["results"]
    assert len(results) == 2
    assert results[0]["result"] == []
    assert [r["id"] for r in results[1]["result"]] == ["c0001", "c0002", "c0003"]
    assert results[1]["model_version"] == "cue-tcn@0.1-test"
    client.post("/ml/webhook", json={"action": "START_TRAINING", "project": {"id": 3}})
    client.post("/ml/webhook", json={"action": "PROJECT_UPDATED"})
    lines = (settings.data_dir / "training-requests.jsonl").read_text().splitlines()
    assert [json.loads(line)["project"] for line in lines] == [{"id": 3}]
    assert "cue-tcn@0.1-test" in client.get("/ml/versions").json()["versions"]
    with pytest.raises(Exception, match="never pushed"):
        session_id_of(fresh_outdir)
