"""The vocal scheme's model: the registry's default for that scheme, and `process --scheme
vocal.yaml` on a short synthetic dyad video with sound gives its vocal candidates."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cuevision.detect import load_detector
from cuevision.detect.registry import MODELS_DIR, default_model, set_default
from cuevision.events import read_events
from cuevision.features import read_features
from cuevision.resources import DEFAULT_SCHEME
from cuevision.scheme import load_scheme
from cuevision.synth.video import make_dyad_video
from tests.audio.sounds import RATE, harmonic, with_audio
from tests.conftest import RunCli

VOCAL = DEFAULT_SCHEME.with_name("vocal.yaml")


def test_the_vocal_scheme_has_its_own_default_model(tmp_path: Path) -> None:
    assert default_model() == "cue-tcn@0.3"  # the default scheme's, as before
    assert default_model(scheme="vocal") == "cue-vocal@0.1"
    assert default_model(scheme="no-such-scheme") == default_model()
    copy = tmp_path / "models"
    shutil.copytree(MODELS_DIR, copy)
    set_default("cue-tcn@0.2", {"forced": True, "reason": "test"}, copy)  # a promotion
    assert default_model(copy) == "cue-tcn@0.2"
    assert default_model(copy, scheme="vocal") == "cue-vocal@0.1"  # kept by the promotion
    assert json.loads((copy / "registry.json").read_text())["history"][-1]["to"] == "cue-tcn@0.2"
    # a vocal model's promotion replaces the vocal scheme's default, not the global one
    shutil.copytree(copy / "cue-vocal" / "0.1", copy / "cue-vocal" / "0.2")
    config = json.loads((copy / "cue-vocal" / "0.2" / "config.json").read_text())
    (copy / "cue-vocal" / "0.2" / "config.json").write_text(
        json.dumps({**config, "version": "0.2"})
    )
    entry = set_default("cue-vocal@0.2", {"forced": True, "reason": "test"}, copy)
    assert (entry["from"], entry["scheme"]) == ("cue-vocal@0.1", "vocal")
    assert default_model(copy) == "cue-tcn@0.2"
    assert default_model(copy, scheme="vocal") == "cue-vocal@0.2"


def laugh_train(f0_hz: float, duration_s: float, per_s: float = 2.5) -> np.ndarray:
    """An infant's laugh: voiced bursts of a steady high voice, ``per_s`` a second."""
    t = np.arange(int(duration_s * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, 6))
    return (0.3 * wave / 2.3 * ((t * per_s) % 1 < 0.5)).astype(np.float32)


@pytest.fixture(scope="module")
def dyad_with_sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s of the synthetic dyad; a high laugh from 2 to 4.5 s, a woman's speech from 5 to 7 s."""
    folder = tmp_path_factory.mktemp("vocal")
    make_dyad_video(folder / "silent.mp4", folder / "truth.csv", duration_s=8.0)
    audio = np.zeros(8 * RATE, np.float32)
    audio[2 * RATE : int(4.5 * RATE)] = laugh_train(600.0, 2.5)
    audio[5 * RATE : 7 * RATE] = harmonic(220.0, 2.0)
    return with_audio(folder / "silent.mp4", audio, folder / "sound.mp4")


def test_process_with_the_vocal_scheme_finds_the_laugh_and_the_speech(
    dyad_with_sound: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    outdir = tmp_path / "out"
    run_cli("process", dyad_with_sound, "-o", outdir, "--scheme", VOCAL)
    found = read_events(outdir / "candidates.csv", load_scheme(VOCAL))
    assert {e.model_version for e in found} == {"cue-vocal@0.1"}
    # within the +-1 s the benchmarks match at: the laugh starts at 2 s, the speech at 5 s
    assert any(e.type == "child_laughs" and abs(e.onset_s - 2.0) <= 1.0 for e in found), found
    assert any(e.type == "caregiver_vocalises" and abs(e.onset_s - 5.0) <= 1.0 for e in found)
    assert not any(e.type == "child_cries" for e in found), found

    # a child heard but out of the picture still laughs; a seen type needs the face
    series = read_features(outdir / "features.parquet")
    unseen = series.values.copy()
    for name in ("child.visible", "caregiver.visible"):
        unseen[:, series.names.index(name)] = 0.0
    hidden = load_detector(scheme=load_scheme(VOCAL)).candidates(replace(series, values=unseen))
    assert any(e.type == "child_laughs" for e in hidden), hidden
    assert not load_detector().candidates(replace(series, values=unseen))  # cue-tcn: all seen
