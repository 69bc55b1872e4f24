"""Real data: a real ELAN file (ChildProject's example.eaf) through import, latency, contingency
and the metrics command, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cuevision.events import write_events
from cuevision.interop.elan import ElanError, read_eaf
from cuevision.metrics.contingency import contingency_table
from cuevision.metrics.latency import response_latency
from cuevision.scheme import load_scheme
from cuevision.types import Event

SCHEME = Path(__file__).with_name("vocal_scheme.yaml")
MAPPING = {
    "CHI": {"actor": "child", "type": "child_vocalises"},
    "FA1": {"actor": "caregiver", "type": "caregiver_vocalises"},
}


@pytest.fixture(scope="module")
def eaf(shared_data: Path) -> Path:
    path = shared_data / "elan" / "example.eaf"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def vocal_events(eaf: Path) -> list[Event]:
    return read_eaf(eaf, MAPPING, load_scheme(SCHEME))


def test_tiers_become_events_in_seconds(vocal_events: list[Event]) -> None:
    chi = [e for e in vocal_events if e.type == "child_vocalises"]
    fa1 = [e for e in vocal_events if e.type == "caregiver_vocalises"]
    assert (len(chi), len(fa1)) == (134, 91)  # the annotations on those two tiers
    assert (chi[0].onset_s, chi[0].offset_s) == (3.15, 3.332)  # TIME_VALUE 3150..3332 ms
    assert (fa1[0].onset_s, fa1[0].offset_s, fa1[0].source) == (9.243, 10.504, "elan:FA1")
    assert all(e.actor == "child" for e in chi) and all(e.actor == "caregiver" for e in fa1)


def test_vocal_latency_and_contingency_agree_with_brute_force(vocal_events: list[Event]) -> None:
    chi = [e for e in vocal_events if e.type == "child_vocalises"]
    fa1 = [e for e in vocal_events if e.type == "caregiver_vocalises"]
    latency = response_latency(chi, fa1, window_s=2.0)
    for cue, wait in zip(chi, latency.latencies_s, strict=True):
        waits = [r.onset_s - cue.onset_s for r in fa1 if 0 <= r.onset_s - cue.onset_s <= 2.0]
        assert wait == (pytest.approx(min(waits)) if waits else None)
    assert 0 < latency.n_responded < latency.n_cues

    duration = max(e.offset_s for e in vocal_events)
    table = contingency_table(chi, fa1, window_s=2.0, duration_s=duration, time_unit_s=0.1)
    n = int(np.ceil(duration / 0.1 - 1e-9))
    given = {
        u for c in chi for u in range(int(c.onset_s * 10 + 1e-9), int(c.onset_s * 10 + 1e-9) + 20)
    }
    target = {int(r.onset_s * 10 + 1e-9) for r in fa1}
    given &= set(range(n))
    assert table.a == len(given & target) and table.b == len(given - target)
    assert table.c == len(target - given) and table.a + table.b + table.c + table.d == n
    assert table.yules_q is not None and table.p_value is not None


def test_metrics_command_on_the_elan_session(
    vocal_events: list[Event], run_cli, tmp_path: Path
) -> None:
    events = tmp_path / "elan_session.csv"
    write_events(events, vocal_events)
    out = tmp_path / "out"
    run_cli("metrics", events, "-o", out, "--scheme", SCHEME, "--basis", "confirmed")
    metrics = json.loads((out / "metrics.json").read_text())
    chi = [e for e in vocal_events if e.type == "child_vocalises"]
    fa1 = [e for e in vocal_events if e.type == "caregiver_vocalises"]
    expected = response_latency(chi, fa1, window_s=2.0)
    latency = metrics["latency"]["child_vocalises"]
    assert latency["n_cues"] == 134 and latency["n_responded"] == expected.n_responded
    assert latency["median_latency_s"] == expected.median_latency_s
    assert metrics["duration_s"] == pytest.approx(max(e.offset_s for e in vocal_events))
    pair = metrics["contingency"]["child_vocalises->caregiver_vocalises"]
    assert pair["a"] == metrics["contingency"]["child_vocalises"]["a"]
    assert metrics["repair"] is None and metrics["synchrony"] == {}
    html = (out / "report.html").read_text()
    assert "child vocalises" in html and "Computed from events confirmed" in html


def test_bad_eaf_and_mapping(tmp_path: Path, eaf: Path) -> None:
    broken = tmp_path / "broken.eaf"
    broken.write_text("<ANNOTATION_DOCUMENT>")
    with pytest.raises(ElanError, match="not a readable ELAN"):
        read_eaf(broken, MAPPING)
    with pytest.raises(ElanError, match="no tier.*XYZ.*the file has"):
        read_eaf(eaf, {"XYZ": {"actor": "child", "type": "child_vocalises"}})
    with pytest.raises(ElanError, match="actor 'baby'"):
        read_eaf(eaf, {"CHI": {"actor": "baby", "type": "child_vocalises"}})
    with pytest.raises(ElanError, match="no child event type 'child_sings'"):
        read_eaf(eaf, {"CHI": {"actor": "child", "type": "child_sings"}}, load_scheme(SCHEME))
