"""`cuevision metrics` and `cuevision agreement` as users run them: outputs, cohort, bad input."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cuevision.files import write_json
from cuevision.types import VideoInfo

HEADER = "actor,type,onset_s,offset_s,status\n"
SESSION = HEADER + (
    "child,child_smiles,2.0,3.0,candidate\n"
    "caregiver,caregiver_smiles,3.2,4.0,candidate\n"
    "child,child_smiles,10.0,11.0,candidate\n"
    "child,child_distress,14.0,15.0,candidate\n"
    "caregiver,caregiver_touches_child,15.5,16.0,candidate\n"
    "child,child_looks_at_caregiver,17.0,17.5,candidate\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_session_outputs_with_video_json_and_signals(run_cli, tmp_path: Path) -> None:
    """Duration comes from video.json beside the events; the report is one offline file."""
    session = tmp_path / "session"
    session.mkdir()
    events = write(session / "candidates.csv", SESSION)
    info = VideoInfo("x.mp4", "mp4", "h264", 640, 480, 0, 40.0, 15.0, 600, False, False, 1)
    write_json(session / "video.json", info.to_dict())
    t = np.arange(0, 40, 1 / 15)
    noise = np.random.default_rng(0).normal(size=t.size + 40)
    movement = np.convolve(noise, np.hanning(17) / np.hanning(17).sum(), mode="same")
    signals = session / "signals.csv"
    pd.DataFrame(  # the caregiver's head follows the child's 8 samples (0.53 s) later
        {"t_s": t, "child.head_yaw": movement[20:-20], "caregiver.head_yaw": movement[12:-28]}
    ).to_csv(signals, index=False)
    out = tmp_path / "out"
    result = run_cli("metrics", events, "-o", out, "--signals", signals)
    assert "child_smiles" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics)[:9] == [
        "basis",
        "duration_s",
        "coverage",
        "latency",
        "contingency",
        "synchrony",
        "repair",
        "voices",  # null here: a CSV signals table carries no voice columns
        "settings",
    ]
    assert metrics["basis"] == "candidates" and metrics["duration_s"] == 40.0
    smiles = metrics["latency"]["child_smiles"]
    assert smiles["latencies_s"] == [1.2, None] and smiles["response_rate"] == 0.5
    assert metrics["latency"]["child_distress"]["latencies_s"] == [1.5]
    assert "child_smiles->caregiver_smiles" in metrics["contingency"]
    assert metrics["coverage"]["events"]["by_status"] == {"candidate": 6}
    sync = metrics["synchrony"]["head_yaw"]
    assert sync["leader"] == "child" and sync["median_peak_lag_s"] == pytest.approx(
        8 / 15, abs=0.07
    )
    assert metrics["repair"]["n_ruptures"] == 1 and metrics["repair"]["n_repaired"] == 1
    assert metrics["repair"]["repair_latencies_s"] == [3.0]
    for table in ("latency", "contingency", "synchrony", "synchrony_windows", "repair"):
        assert (out / f"{table}.csv").is_file()
    html = (out / "report.html").read_text()
    assert "computed from unconfirmed model candidates" in html
    assert html.count("data:image/png;base64,") >= 3  # timeline, latency, one heatmap
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)  # nothing fetched online


def test_cohort_writes_one_row_per_session_per_metric(run_cli, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        write(folder / "events.csv", SESSION)
    out = tmp_path / "cohort"
    run_cli("metrics", first / "events.csv", second / "events.csv", "-o", out, "--duration", "30")
    rows = list(csv.DictReader((out / "cohort.csv").open()))
    assert {r["session"] for r in rows} == {"a_events", "b_events"}
    assert (out / "a_events" / "report.html").is_file() and (
        out / "b_events" / "metrics.json"
    ).is_file()
    rate = [
        r
        for r in rows
        if r["section"] == "latency"
        and r["key"] == "child_smiles"
        and r["metric"] == "response_rate"
    ]
    assert [r["value"] for r in rate] == ["0.5", "0.5"]
    keys = [(r["session"], r["section"], r["key"], r["metric"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_agreement_json(run_cli, tmp_path: Path) -> None:
    reference = write(tmp_path / "ref.csv", SESSION)
    other = write(
        tmp_path / "other.csv",
        HEADER + "child,child_smiles,2.4,3.0,\nchild,child_smiles,20.0,21.0,\n"
        "caregiver,caregiver_smiles,3.0,4.0,\n",
    )
    result = run_cli("agreement", reference, other, "--tolerance", "1.0", "--json")
    data = json.loads(result.stdout)
    assert set(data) >= {"overall", "per_type", "kappa", "alpha"}
    assert data["per_type"]["child_smiles"]["n_matched"] == 1
    assert data["overall"]["n_reference"] == 6 and data["overall"]["n_matched"] == 2
    assert data["overall"]["precision"] == pytest.approx(2 / 3)
    table = run_cli("agreement", reference, other)
    assert "child_smiles" in table.stdout and "overall" in table.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("actor,type,onset\nchild,child_smiles,1\n", "missing column"),
        (
            HEADER + "child,child_smiles,1.0,2.0,\nchild,child_waves,3.0,4.0,\n",
            r"row 2 .*unknown event type 'child_waves'",
        ),
        (HEADER + "child,child_smiles,-1.0,2.0,\n", r"row 1 .*negative"),
        (
            HEADER + "child,child_smiles,1.0,2.0,\nchild,child_smiles,5.0,4.0,\n",
            r"row 2 .*before onset_s",
        ),
        (HEADER + "child,child_smiles,abc,2.0,\n", r"row 1 .*not a number"),
        (HEADER + "child,child_smiles,1.0,2.0,,extra\n", r"row 1 .*more fields"),
        (HEADER, "cannot tell how long the session is"),
    ],
)
def test_bad_events_give_exit_2_and_name_the_row(
    run_cli, tmp_path: Path, content: str, message: str
) -> None:
    events = write(tmp_path / "events.csv", content)
    result = run_cli("metrics", events, "-o", tmp_path / "out", check=False)
    assert result.returncode == 2, result.stderr
    assert re.search(message, " ".join(result.stderr.split())), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_bad_signals_duration_and_agreement_input(run_cli, tmp_path: Path) -> None:
    events = write(tmp_path / "events.csv", SESSION)
    signals = write(tmp_path / "signals.csv", "t_s,child.head_yaw\n0,1\n0.1,2\n")

    def error(*args: object) -> str:
        result = run_cli(*args, check=False)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        return " ".join(result.stderr.split())  # rich wraps long lines

    message = error("metrics", events, "-o", tmp_path / "o", "--signals", signals)
    assert "no child.<name>/caregiver.<name> column pairs" in message
    late = write(tmp_path / "late.csv", HEADER + "child,child_smiles,50.0,51.0,\n")
    message = error("metrics", late, "-o", tmp_path / "o", "--duration", "30")
    assert "row 1" in message and "after the end" in message
    assert "no such events file" in error("agreement", events, tmp_path / "missing.csv")
    assert "not a folder" in error("metrics", events, "-o", signals / "out")
    assert "--tolerance" in error("agreement", events, events, "--tolerance", "nan")
