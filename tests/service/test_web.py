"""The web pages in Debian's Chromium, as a clinician uses them: sign in, upload a real Lookit clip
(dyad 6c6MZQ) through the form, watch the stages finish, read the report's timeline; a clinician of
another study is refused that session's page, report and video. Runs the real ``cuevision serve``
(its embedded job runner does the processing)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser import ARGS, CHROMIUM

from .conftest import populate

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
CLIP = "6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    populate(f"sqlite:///{data_dir / 'cuevision.sqlite3'}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CUEVISION_DATA_DIR": str(data_dir), "CUEVISION_HEARTBEAT_S": "0.5"}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "cuevision", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        server.kill()  # a throw-away data folder: no graceful shutdown to wait for
        server.wait(20)
        log.close()


def _sign_in(page: object, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/")  # type: ignore[attr-defined]
    page.fill("input[name=email]", email)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/studies")  # type: ignore[attr-defined]


def test_a_clinician_uploads_watches_and_reads_the_report(
    served: str, lookit: Callable[[str], Path]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is missing: run `make browser`"
    clip = lookit(CLIP)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{served}/studies")
        assert page.url.endswith("/signin")
        page.screenshot(path=ARTIFACTS / "1-signin.png")
        _sign_in(page, served, "clinician@a.org", "password-of-clinician")
        page.screenshot(path=ARTIFACTS / "2-studies.png")
        page.click("text=Study A")
        page.set_input_files("input[name=video]", clip)
        page.fill("input[name=dyad_id]", "6c6MZQ")
        page.fill("input[name=child_age_months]", "18")
        page.fill("input[name=condition]", "jokes")
        page.screenshot(path=ARTIFACTS / "3-upload.png")
        page.click("#upload button[type=submit]")
        page.wait_for_url("**/sessions/*", timeout=60_000)
        expect(page.locator("#stages li")).to_have_count(5, timeout=30_000)
        page.screenshot(path=ARTIFACTS / "4-progress.png")
        expect(page.locator("#status")).to_have_text("done", timeout=600_000)
        frame = page.frame_locator("#report-frame")
        expect(frame.locator("img[alt='timeline of events']")).to_be_visible(timeout=30_000)
        expect(page.locator("#downloads a", has_text="Events (CSV)")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "5-report.png", full_page=True)
        session_url = page.url
        session_id = session_url.rsplit("/", 1)[1]
        csv = page.request.get(f"{served}/v1/sessions/{session_id}/exports/events.csv")
        assert csv.ok and csv.text().startswith("actor,type,onset_s,offset_s")

        other = browser.new_context().new_page()
        _sign_in(other, served, "clinician@b.org", "password-of-foreign")
        for path in (
            f"/sessions/{session_id}",
            f"/v1/sessions/{session_id}/report",
            f"/v1/sessions/{session_id}/video",
        ):
            answer = other.goto(f"{served}{path}")
            assert answer is not None and answer.status == 404, path
            assert "6c6MZQ" not in other.content()
        other.goto(f"{served}/studies")
        assert "Study A" not in other.content()
        browser.close()
