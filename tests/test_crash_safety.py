"""Crash safety of ``cuevision process``: real SIGKILLs of the real CLI on the synthetic dyad.

The full campaign (20 kills) is ``benchmarks/kill_process.py``; here it runs short, plus the
model-switch fault of the hardening issue and the upgrade rules of the stage keys.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import cuevision
import cuevision.features
import cuevision.pipeline
from cuevision.pipeline import STAGES, process
from cuevision.scheme import load_scheme

pytestmark = pytest.mark.slow

RunCli = Callable[..., subprocess.CompletedProcess[str]]
ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = ROOT / "benchmarks" / "kill_process.py"
sys.path.insert(0, str(BENCHMARK.parent))
from kill_process import outputs  # noqa: E402


def test_killed_runs_rerun_to_identical_outputs() -> None:
    """SIGKILL at random moments: nothing half-written is left, and re-runs match exactly."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--kills", "3", "--duration", "6", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| 3 | 3 | 0 | 0 |" in result.stdout


# In the child: write half of candidates.csv into its temporary file, then die by SIGKILL.
DIE_WRITING_CANDIDATES = """
import os, signal, sys
import cuevision.pipeline as pipeline
from cuevision.events import format_events
from cuevision.files import atomic_path

def dying_write(path, events):
    with atomic_path(path) as partial:
        text = format_events(events)
        partial.write_text(text[: len(text) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

pipeline.write_events = dying_write
from cuevision.cli import main
sys.argv = ["cuevision", *sys.argv[1:]]
main()
"""


def _model_b(tmp_path: Path) -> Path:
    """A second model: the committed one under another version with stricter thresholds."""
    folder = tmp_path / "cue-tcn-b"
    shutil.copytree(ROOT / "models" / "cue-tcn" / "0.1", folder)
    config = json.loads((folder / "config.json").read_text())
    config["version"] = "0.1-b"
    for thresholds in config["thresholds"].values():
        thresholds["onset"] = min(0.99, thresholds["onset"] + 0.2)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_model_switch_killed_mid_write_is_recomputed(
    synthetic_dyad: tuple[Path, Path], processed_synthetic: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """Run A, run B killed while writing candidates.csv, run A again: A's outputs, whole."""
    outdir = tmp_path / "out"
    shutil.copytree(processed_synthetic, outdir)
    before = outputs(outdir)
    killed = subprocess.run(
        [sys.executable, "-c", DIE_WRITING_CANDIDATES, "process", str(synthetic_dyad[0]),
         "-o", str(outdir), "--model", str(_model_b(tmp_path))],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    stages = json.loads((outdir / "pipeline.json").read_text())["stages"]
    assert "detect" not in stages and "metrics" not in stages  # struck before writing
    assert outputs(outdir)["candidates.csv"] == before["candidates.csv"]  # the half never landed
    run_cli("process", synthetic_dyad[0], "-o", outdir)
    assert list(json.loads((outdir / "pipeline.json").read_text())["stages"]) == list(STAGES)
    after = outputs(outdir)
    # Only video.json names a folder (the video's); the rest is identical wherever it is.
    for name in (
        "landmarks.parquet",
        "features.parquet",
        "candidates.csv",
        "metrics.json",
        "report.html",
    ):
        assert after[name] == before[name], name
    assert not [p for p in outdir.iterdir() if ".partial" in p.name]


def test_upgrades_recompute_only_what_they_change(
    synthetic_dyad: tuple[Path, Path],
    processed_synthetic: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new feature version re-runs features onward; a release that changes nothing reuses all."""
    outdir = tmp_path / "out"
    shutil.copytree(processed_synthetic, outdir)
    scheme = load_scheme()
    for module in (cuevision, cuevision.pipeline):
        monkeypatch.setattr(module, "__version__", "99.0.0")
    same = process(synthetic_dyad[0], outdir, scheme=scheme)
    assert same.ran == () and len(same.reused) == 5
    monkeypatch.setattr(cuevision.features, "FEATURE_VERSION", "999")
    upgraded = process(synthetic_dyad[0], outdir, scheme=scheme)
    assert upgraded.ran == ("features", "detect", "metrics")
    assert upgraded.reused == ("probe", "landmarks")


def test_outputs_are_owner_only_and_find_their_video(
    processed_synthetic: Path, synthetic_dyad: tuple[Path, Path]
) -> None:
    """Outputs are 0600 in a 0700 folder; video.json names the video by its absolute path."""
    assert stat.S_IMODE(processed_synthetic.stat().st_mode) == 0o700
    for path in processed_synthetic.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    source = json.loads((processed_synthetic / "video.json").read_text())["path"]
    assert Path(source).is_absolute() and Path(source).samefile(synthetic_dyad[0])
