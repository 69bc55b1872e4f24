"""Session metrics from a scheme: which events count, how rules pool, what coverage says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cuevision.errors import CuevisionError
from cuevision.metrics.session import links_of, session_metrics
from cuevision.report import write_session_outputs
from cuevision.scheme import load_scheme
from cuevision.types import Event

SCHEME = load_scheme()


def test_rules_pool_per_cue_and_split_per_pair() -> None:
    links = links_of(SCHEME)
    rule = SCHEME.contingency[0]
    assert links[rule.cue].responses == rule.responses
    for response in rule.responses:
        assert links[f"{rule.cue}->{response}"].responses == (response,)
    assert set(links) >= {r.cue for r in SCHEME.contingency}


def test_rejected_events_are_left_out_and_counted() -> None:
    """time (s)   0    1    2    3    4    5
    cue             S
    response            s(2.0, rejected)   s(3.5, accepted)
    The rejected smile does not answer the cue; the accepted one does, 2.5 s after it.
    """
    cue, response = "child_smiles", "caregiver_smiles"
    events = [
        Event("child", cue, 1.0, 2.0, status="accepted"),
        Event("caregiver", response, 2.0, 2.5, status="rejected"),
        Event("caregiver", response, 3.5, 4.0, status="accepted"),
    ]
    metrics = session_metrics(events, scheme=SCHEME, duration_s=10.0, basis="confirmed")
    assert metrics.latency[cue].latencies_s == (2.5,)
    assert metrics.latency[f"{cue}->{response}"].latencies_s == (2.5,)
    coverage = metrics.coverage["events"]
    assert (coverage["n_events"], coverage["n_used"], coverage["n_excluded"]) == (3, 2, 1)
    assert coverage["by_status"] == {"accepted": 2, "rejected": 1}
    assert coverage["confirmed_fraction"] == 1.0 and metrics.coverage["signals"] is None


def test_write_session_outputs_and_its_errors(tmp_path: Path) -> None:
    events = [Event("child", "child_distress", 1.0, 2.0), Event("child", "child_smiles", 4.0, 5.0)]
    data = write_session_outputs(
        tmp_path,
        events,
        scheme=SCHEME,
        duration_s=20.0,
        basis="candidates",
        provenance={"pipeline_version": "test", "model_version": "m@1"},
    )
    assert json.loads((tmp_path / "metrics.json").read_text()) == data
    assert data["provenance"]["model_version"] == "m@1"
    assert data["repair"]["repair_latencies_s"] == [3.0]
    assert data["settings"]["scheme"]["hash"] == SCHEME.hash
    assert data["settings"]["permutations"] == SCHEME.analysis.permutations
    assert "m@1" in (tmp_path / "report.html").read_text()
    with pytest.raises(CuevisionError, match="child_waves.*not in the scheme"):
        session_metrics(
            [Event("child", "child_waves", 1.0, 2.0)],
            scheme=SCHEME,
            duration_s=5,
            basis="confirmed",
        )
    with pytest.raises(CuevisionError, match="duration must be > 0"):
        session_metrics([], scheme=SCHEME, duration_s=0.0, basis="confirmed")
    with pytest.raises(CuevisionError, match="basis must be"):
        session_metrics([], scheme=SCHEME, duration_s=5.0, basis="maybe")  # type: ignore[arg-type]
