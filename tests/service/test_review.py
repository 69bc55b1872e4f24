"""The fixes a review of the first API asked for, one test each."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cuevision.annotate import links
from cuevision.annotate.sync import ML_USER
from cuevision.api import ApiSettings, create_app
from cuevision.api.service import RedactTokens
from cuevision.errors import CuevisionError


@pytest.fixture
def legacy(tmp_path: Path) -> tuple[TestClient, ApiSettings]:
    settings = ApiSettings(data_dir=tmp_path / "data")
    return TestClient(create_app(settings), raise_server_exceptions=False), settings


def test_a_session_id_from_a_copied_folder_cannot_name_a_file(tmp_path: Path) -> None:
    for hostile in ("../cuevision-credentials", "a/b", "x\x00", "é1"):
        with pytest.raises(CuevisionError, match="not alphanumeric"):
            links.register(tmp_path, hostile, tmp_path)
    assert links.lookup(tmp_path, "../secret") is None


def test_an_empty_secret_is_refused_not_used(legacy: tuple[TestClient, ApiSettings]) -> None:
    client, settings = legacy
    settings.data_dir.mkdir()
    (settings.data_dir / links.SECRET_FILE).write_bytes(b"")
    with pytest.raises(CuevisionError, match="no usable secret"):
        links.load_secret(settings.data_dir)
    forged = links.sign(b"", "abc", 2e9)  # what an empty key would have accepted
    answer = client.get(f"/video/{forged}")
    assert answer.status_code == 400 and "delete it" in answer.json()["detail"]


def test_non_ascii_secrets_and_tokens_are_4xx_not_500(
    legacy: tuple[TestClient, ApiSettings],
) -> None:
    client, _ = legacy
    header = {links.WEBHOOK_HEADER: "é".encode()}
    assert client.post("/labelstudio/webhook", json={}, headers=header).status_code == 401
    assert (
        client.post(
            "/annotate/push", json={"outdir": "/x"}, headers={links.ADMIN_HEADER: "ü".encode()}
        ).status_code
        == 401
    )
    assert client.get("/video/é.ü").status_code == 403


def test_the_webhook_checks_its_secret_before_the_body_and_caps_it(
    legacy: tuple[TestClient, ApiSettings],
) -> None:
    client, settings = legacy
    assert client.post("/labelstudio/webhook", content=b"{not json" * 10).status_code == 401
    right = {
        links.WEBHOOK_HEADER: links.derived_key(links.load_secret(settings.data_dir), "webhook")
    }
    huge = b'{"action": "' + b"x" * (2 << 20) + b'"}'
    assert client.post("/labelstudio/webhook", content=huge, headers=right).status_code == 413
    assert client.post("/labelstudio/webhook", content=b"[1]", headers=right).status_code == 422


def test_ml_predict_and_webhook_refuse_what_is_not_label_studio(
    legacy: tuple[TestClient, ApiSettings],
) -> None:
    client, settings = legacy
    assert client.post("/ml/predict", json={"tasks": []}).status_code == 401
    client.auth = (ML_USER, links.derived_key(links.load_secret(settings.data_dir), "ml"))
    assert client.post("/ml/predict", json={"tasks": [1]}).status_code == 422
    assert client.post("/ml/predict", json={"tasks": "x"}).status_code == 422
    assert client.post("/ml/webhook", content=b"x" * (100 << 10)).status_code == 413
    for _ in range(3):
        sent = client.post("/ml/webhook", json={"action": "START_TRAINING", "project": "p" * 50})
        assert sent.json() == {"status": "recorded"}
    log = settings.data_dir / "training-requests.jsonl"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 and len(log.read_text().splitlines()) == 3


def test_video_links_never_reach_the_access_log(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("uvicorn.access.test")
    logger.addFilter(RedactTokens())
    token = links.sign(b"k" * 64, "abc", 2e9)
    with caplog.at_level(logging.INFO, logger="uvicorn.access.test"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/video/{token}", "1.1", 200)
    assert token not in caplog.text and "/video/<redacted>" in caplog.text


def test_serve_prints_no_secret() -> None:
    source = (Path(__file__).parents[2] / "cuevision" / "cli" / "service.py").read_text()
    serve = source[source.index("def serve(") :]
    assert "derived_key" not in serve and "token" not in serve.split("typer.echo", 1)[1][:200]
