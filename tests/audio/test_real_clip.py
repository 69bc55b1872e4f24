"""The voices end to end: a real Lookit clip of the dyad 6c6MZQ through `cuevision process`, and
a video without audio, whose report says the audio is absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cuevision.audio import measure_voice, voice_grid
from cuevision.events import read_events
from cuevision.features import read_features
from cuevision.metrics.session import session_metrics
from cuevision.scheme import load_scheme
from tests.conftest import ROOT, RunCli


def test_voice_measures_of_the_real_clip(clip_6c6: Path) -> None:
    measures = measure_voice(clip_6c6)
    assert measures is not None
    assert measures.t0_s == pytest.approx(0.037, abs=1e-6)
    assert measures.vad_p.max() > 0.9  # the mother speaks
    t = np.arange(int(measures.end_s * 15)) / 15
    grid = voice_grid(measures, t, 15.0)
    f0 = grid.f0_hz[(grid.vocal > 0.5) & np.isfinite(grid.f0_hz)]
    assert (f0 < 300).sum() >= 5 and (f0 > 500).sum() >= 5  # an adult's and an infant's voice


@pytest.fixture(scope="module")
def processed_real(
    clip_6c6: Path, run_cli: RunCli, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    outdir = tmp_path_factory.mktemp("real") / "out"
    run_cli("process", clip_6c6, "-o", outdir)
    return outdir


def test_process_measures_the_voices_of_a_real_clip(processed_real: Path) -> None:
    series = read_features(processed_real / "features.parquet")
    assert series.column("voice.present").mean() > 0.99  # audio from 0.037 s to the end
    # the grid point at 0 s covers +-1/30 s, before the audio's first sample at 0.037 s
    assert list(series.column("voice.present")[:2]) == [0, 1]
    voices = json.loads((processed_real / "metrics.json").read_text())["voices"]
    assert voices["audio"] == "present"
    assert voices["n_vocalisations"]["child"] >= 1 and voices["n_vocalisations"]["caregiver"] >= 1
    assert voices["turns"]["n_turns"] >= 1
    assert voices["coverage"]["who_from"]["both_faces"] > 0.5  # both faces seen in this clip
    html = (processed_real / "report.html").read_text()
    assert "conversational turns" in html and "Audio absent" not in html


def test_the_vocalisations_are_events_of_the_vocal_scheme(processed_real: Path) -> None:
    """voices.csv reads back under the vocal scheme, and its metrics time the caregiver's
    vocal replies as metrics.json's voices do."""
    scheme = load_scheme(ROOT / "annotation" / "schemes" / "vocal.yaml")
    events = read_events(processed_real / "voices.csv", scheme)
    voices = json.loads((processed_real / "metrics.json").read_text())["voices"]
    assert len(events) == len(voices["vocalisations"])
    metrics = session_metrics(events, scheme=scheme, duration_s=17.16, basis="candidates")
    replies = metrics.latency["child_vocalises"].to_dict()
    expected = voices["caregiver_replies"]["latencies_s"]
    assert [w is None for w in replies["latencies_s"]] == [w is None for w in expected]
    for got, want in zip(replies["latencies_s"], expected, strict=True):
        if want is not None:  # voices.csv keeps 4 decimals of each time
            assert got == pytest.approx(want, abs=2e-4)


def test_a_video_without_audio_works_and_the_report_says_so(processed_synthetic: Path) -> None:
    assert json.loads((processed_synthetic / "video.json").read_text())["has_audio"] is False
    assert json.loads((processed_synthetic / "metrics.json").read_text())["voices"] == {
        "audio": "absent"
    }
    series = read_features(processed_synthetic / "features.parquet")
    assert (series.column("voice.present") == 0).all()
    assert np.isnan(series.column("voice.child_vocalising")).all()
    assert "Audio absent" in (processed_synthetic / "report.html").read_text()
    assert (processed_synthetic / "voices.csv").read_text().count("\n") == 1  # header only
