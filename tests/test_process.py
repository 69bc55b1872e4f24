"""`cuevision process` end to end: real MediaPipe, the committed model, real files."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from cuevision.cli.pipeline import STAGE_LABELS
from cuevision.events import read_events
from cuevision.scheme import load_scheme
from cuevision.video import VideoWriter

RunCli = Callable[..., subprocess.CompletedProcess[str]]

OUTPUTS = (
    "video.json",
    "landmarks.parquet",
    "features.parquet",
    "candidates.csv",
    "candidates.json",
    "metrics.json",
    "report.html",
    "pipeline.json",
)


def _check_outputs(outdir: Path) -> None:
    for name in OUTPUTS:
        assert (outdir / name).is_file(), f"process did not write {name}"
    scheme = load_scheme()
    candidates = read_events(outdir / "candidates.csv", scheme)
    assert all(c.model_version and c.score is not None and c.id for c in candidates)
    payload = json.loads((outdir / "candidates.json").read_text())
    assert payload["scheme_hash"] == scheme.hash
    assert len(payload["candidates"]) == len(candidates)
    landmarks = pq.read_schema(outdir / "landmarks.parquet")
    for column in ("frame", "t_s", "role", "face_score", "pose_score", "face_cx", "face_cy"):
        assert column in landmarks.names
    features = pq.read_schema(outdir / "features.parquet")
    assert "t_s" in features.names
    assert any(n.startswith("child.") for n in features.names)
    metrics = json.loads((outdir / "metrics.json").read_text())
    assert metrics["basis"] == "candidates"
    assert "unconfirmed" in (outdir / "report.html").read_text()


def test_synthetic_dyad_scripted_look_is_flagged(
    processed_synthetic: Path, synthetic_dyad: tuple[Path, Path]
) -> None:
    """The child's scripted turns toward the caregiver are flagged within 1 s of their onsets."""
    _check_outputs(processed_synthetic)
    scheme = load_scheme()
    truth = read_events(synthetic_dyad[1], scheme)
    looks = [e for e in truth if e.type == "child_looks_at_caregiver"]
    assert looks, "the synthetic script has no child look at the caregiver"
    flagged = [
        c.onset_s
        for c in read_events(processed_synthetic / "candidates.csv", scheme)
        if c.type == "child_looks_at_caregiver"
    ]
    hits = [e for e in looks if any(abs(t - e.onset_s) <= 1.0 for t in flagged)]
    assert len(hits) >= max(1, len(looks) // 2), (looks, flagged)


def test_rerun_reuses_every_stage(
    processed_synthetic: Path, synthetic_dyad: tuple[Path, Path], run_cli: RunCli
) -> None:
    before = (processed_synthetic / "candidates.csv").read_text()
    result = run_cli("process", synthetic_dyad[0], "-o", processed_synthetic)
    stages = json.loads((processed_synthetic / "pipeline.json").read_text())["stages"]
    assert set(stages) == {"probe", "landmarks", "features", "detect", "metrics"}
    for label in STAGE_LABELS.values():  # one progress line per stage, each marked reused
        line = next((t for t in result.stderr.splitlines() if t.startswith(label)), "")
        assert "reused" in line, (label, result.stderr)
    assert (processed_synthetic / "candidates.csv").read_text() == before


@pytest.mark.slow
def test_real_clip_writes_every_file(
    lookit: Callable[[str], Path], tmp_path: Path, run_cli: RunCli
) -> None:
    outdir = tmp_path / "out"
    run_cli("process", lookit("6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4"), "-o", outdir)
    _check_outputs(outdir)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"just some text\n", "not a readable video"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "not a video"),
    ],
)
def test_bad_video_is_refused_before_any_output(
    tmp_path: Path, run_cli: RunCli, content: bytes, message: str
) -> None:
    video = tmp_path / "broken.mp4"
    video.write_bytes(content)
    result = run_cli("process", video, "-o", tmp_path / "out", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in " ".join(result.stderr.split()).lower()  # rich wraps at any word
    assert not (tmp_path / "out").exists()


def test_unknown_model_names_the_fix(
    synthetic_dyad: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    result = run_cli(
        "process", synthetic_dyad[0], "-o", tmp_path / "out", "--model", "cue-tcn@9.9", check=False
    )
    assert result.returncode == 2
    assert "cue-tcn@9.9" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_file_in_place_of_the_outdir_is_named(
    synthetic_dyad: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    outdir = tmp_path / "out"
    outdir.write_text("not a folder\n")
    result = run_cli("process", synthetic_dyad[0], "-o", outdir, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "a file is in the way" in " ".join(result.stderr.split())


def test_child_side_takes_left_or_right_only(
    synthetic_dyad: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    result = run_cli(
        "process", synthetic_dyad[0], "-o", tmp_path / "out", "--child-side", "up", check=False
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--child-side" in result.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("rate", ["-1", "0", "nan"])
def test_analysis_rate_must_be_positive(
    synthetic_dyad: tuple[Path, Path], tmp_path: Path, run_cli: RunCli, rate: str
) -> None:
    out = tmp_path / "out"
    result = run_cli("process", synthetic_dyad[0], "-o", out, "--analysis-fps", rate, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--analysis-fps" in result.stderr and not out.exists()


def test_raised_limits_reach_the_landmark_stage(tmp_path: Path, run_cli: RunCli) -> None:
    """A video wider than the default 4096 px limit, accepted with --max-side, gets landmarks:
    the stage uses the pipeline's probe, not a second one under the default limits."""
    video = tmp_path / "wide.mp4"
    with VideoWriter(video, 5, 4200, 64) as writer:
        for k in range(5):
            writer.write(np.full((64, 4200, 3), 40 * k, np.uint8))
    outdir = tmp_path / "out"
    result = run_cli("process", video, "-o", outdir, "--max-side", "5000", check=False)
    assert "larger than the limit" not in result.stderr
    assert (outdir / "landmarks.parquet").is_file(), result.stderr


def test_video_without_people_gives_no_candidates(
    shared_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """Nothing false is flagged where nobody is visible, and the metrics still finish."""
    outdir = tmp_path / "out"
    run_cli("process", shared_data / "pyfeat" / "no_face.mp4", "-o", outdir)
    assert read_events(outdir / "candidates.csv") == []
    metrics = json.loads((outdir / "metrics.json").read_text())
    assert metrics["coverage"]["events"]["n_events"] == 0
