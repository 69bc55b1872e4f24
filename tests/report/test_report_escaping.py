"""No text a user typed becomes markup in report.html, checked in a real browser.

The same session is rendered twice: once with benign names, once with hostile text in every field
a user controls (signal names, the scheme's name, type descriptions and manual, the title,
annotators and provenance). Debian's Chromium then opens both: the hostile page must have exactly
the benign page's elements, run none of the payloads (each would set ``window.cvpwned``), fetch
nothing, and show every payload as text.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cuevision.report import write_session_outputs
from cuevision.scheme import DEFAULT_SCHEME, load_scheme
from cuevision.types import Event
from tests.browser import ARGS, CHROMIUM

PAYLOADS = (
    "<img src=x onerror=window.cvpwned='img'>",
    "</script><script>window.cvpwned='script'</script>",
    "\"'><svg onload=window.cvpwned='svg'>",
    "</title></style><script>window.cvpwned='head'</script>",
    "</pre></details><iframe srcdoc='<script>parent.cvpwned=1</script>'></iframe>",
    "--><a href=javascript:window.cvpwned='a' id=x>",
)


def _session(folder: Path, text: str, signal: str) -> Path:
    """Render one report whose every user-controlled text carries ``text``."""
    folder.mkdir()
    data = yaml.safe_load(DEFAULT_SCHEME.read_text())
    data["name"] = f"lab {text}"
    for kind in data["event_types"]:
        kind["description"] += f" {text}"
    manual = data["manual"]
    manual["general"].append(f"Rule {text}")
    for entry in manual["types"].values():
        for field in ("code_when", "onset", "offset"):
            entry[field] += f" {text}"
        entry["not_this"].append(f"Not {text}")
    scheme_file = folder / "scheme.yaml"
    scheme_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    scheme = load_scheme(scheme_file)

    t = np.arange(0, 40, 1 / 15)
    noise = np.random.default_rng(0).normal(size=t.size + 40)
    movement = np.convolve(noise, np.hanning(17) / np.hanning(17).sum(), mode="same")
    signals = folder / "signals.csv"
    pd.DataFrame(
        {"t_s": t, f"child.{signal}": movement[20:-20], f"caregiver.{signal}": movement[12:-28]}
    ).to_csv(signals, index=False)

    who = f"coder {text}@lab.org"
    events = [
        Event("child", "child_smiles", 2.0, 3.0, status="accepted", annotator=who, id=text),
        Event("caregiver", "caregiver_smiles", 3.2, 4.0, status="edited", annotator=who),
        Event("child", "child_distress", 14.0, 15.0, status="added", annotator=who),
        Event("caregiver", "caregiver_touches_child", 15.5, 16.0, status="accepted"),
        Event("child", "child_looks_at_caregiver", 17.0, 17.5, status="accepted"),
    ]
    write_session_outputs(
        folder,
        events,
        scheme=scheme,
        duration_s=40.0,
        basis="confirmed",
        signals=signals,
        provenance={"annotators": who, "model_version": f"m {text}", text: "key"},
        title=f"Session {text}",
    )
    return folder / "report.html"


@pytest.mark.browser
def test_hostile_text_adds_no_element_and_runs_no_script(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is missing: run `make browser`"
    hostile = " ".join(PAYLOADS)
    benign = _session(tmp_path / "benign", "plain words", "head_yaw")
    bad = _session(tmp_path / "hostile", hostile, f"head_yaw {hostile}")
    assert "<script>" not in bad.read_text()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            seen = {}
            for name, report in (("benign", benign), ("hostile", bad)):
                page = browser.new_page()
                fetched: list[str] = []
                page.on("request", lambda request, log=fetched: log.append(request.url))
                page.goto(report.as_uri())
                page.wait_for_load_state("load")
                page.wait_for_timeout(300)  # let any onerror/onload handler fire
                tags = page.evaluate(
                    "() => Array.from(document.getElementsByTagName('*'), e => e.tagName)"
                )
                handlers = page.evaluate(
                    "() => Array.from(document.querySelectorAll('*')).flatMap("
                    "e => e.getAttributeNames().filter(a => a.startsWith('on')))"
                )
                seen[name] = {
                    "tags": Counter(tags),
                    "pwned": page.evaluate("() => window.cvpwned === undefined ? null : 1"),
                    "handlers": handlers,
                    "fetched": [u for u in fetched if not u.startswith("data:")],
                    "title": page.title(),
                    "text": page.inner_text("body"),
                }
                page.close()
        finally:
            browser.close()

    clean, attacked = seen["benign"], seen["hostile"]
    assert attacked["tags"] == clean["tags"]
    assert attacked["pwned"] is None and attacked["handlers"] == []
    assert attacked["fetched"] == [bad.as_uri()]
    assert attacked["title"] == f"Session {hostile}"
    # every payload reaches the reader as the text it was
    text = attacked["text"]
    assert text.count(hostile) >= 5 * len(load_scheme().event_types)  # descriptions, manual
    for shown in (f"head yaw {hostile}", f"lab {hostile}", f"Rule {hostile}", f"coder {hostile}"):
        assert shown in text
