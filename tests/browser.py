"""Debian's Chromium for the browser tests (Playwright's own download cannot work offline), with
the flags this machine needs: no sandbox (tests run as root), no GPU, and nothing fetched in the
background (the network is closed, and each refused connection would slow the page)."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
