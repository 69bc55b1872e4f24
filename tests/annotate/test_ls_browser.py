"""One real browser: Debian's Chromium through Playwright logs in, opens a pushed task, checks
that the proxy video plays from our API (readyState >= 2) and that the candidates are listed.

The screenshot is kept as a test artifact in test-artifacts/ (git-ignored, never committed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cuevision.annotate.server import CREDENTIALS, LabelStudioSettings
from cuevision.api import ApiSettings
from tests.browser import ARGS, CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.labelstudio]
RunCli = Callable[..., subprocess.CompletedProcess[str]]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_task_plays_and_lists_the_candidates(
    api: ApiSettings,
    labelstudio: LabelStudioSettings,
    run_cli: RunCli,
    outdir_template: Path,
    cli_args: tuple[str | Path | int, ...],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is missing: run `make browser`"
    outdir = tmp_path / "out"
    shutil.copytree(outdir_template, outdir)
    run_cli("annotate", "push", outdir, *cli_args)
    state = json.loads((outdir / "labelstudio.json").read_text())
    creds = json.loads((labelstudio.data_dir / CREDENTIALS).read_text())
    base = state["labelstudio_url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            page.goto(f"{base}/user/login/")
            page.fill("input[name=email]", creds["username"])
            page.fill("input[name=password]", creds["password"])
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)
            page.goto(f"{base}/projects/{state['project_id']}/data?task={state['task_id']}")
            # Label Studio draws the frames on a canvas from a hidden <video> element.
            page.wait_for_selector("video", state="attached", timeout=90_000)
            deadline = time.monotonic() + 60
            while True:
                video = page.evaluate(
                    "() => { const v = document.querySelector('video');"
                    " return {ready: v.readyState, src: v.currentSrc,"
                    " error: v.error && v.error.code}; }"
                )
                if video["ready"] >= 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            for label in ("child_smiles", "caregiver_smiles", "child_looks_away"):
                page.get_by_text(label, exact=True).first.wait_for(timeout=30_000)
            # the frame counter appears once the player knows the video's length
            page.wait_for_function(
                "() => document.body.innerText.includes('of 250')", timeout=30_000
            )
            text = page.inner_text("body")
        finally:
            ARTIFACTS.mkdir(exist_ok=True)  # kept on failure too: it shows what went wrong
            page.screenshot(path=str(ARTIFACTS / "labelstudio-task.png"))
            browser.close()
    assert video["src"].startswith(f"{api.url}/video/"), video
    assert video["error"] is None and video["ready"] >= 2, video
    assert "of 250" in text  # the proxy's 250 frames at its real 25 fps
    for score in ("0.90", "0.80", "0.30"):  # each region shows its own score
        assert score in text
