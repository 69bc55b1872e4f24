"""Each clip is extracted once per test session (real MediaPipe, real clips) and shared."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cuevision.landmarks import LandmarkSettings, LandmarkSummary, extract_landmarks
from cuevision.landmarks import read_landmarks as read_tracks
from cuevision.types import LandmarkTracks


@dataclass(frozen=True)
class Extraction:
    parquet: Path
    summary: LandmarkSummary
    tracks: LandmarkTracks


@pytest.fixture(scope="session")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Extraction]:
    """Extract a video with the default settings, once per session."""
    done: dict[Path, Extraction] = {}

    def run(video: Path) -> Extraction:
        if video not in done:
            out = tmp_path_factory.mktemp("landmarks") / "landmarks.parquet"
            summary = extract_landmarks(video, out, settings=LandmarkSettings())
            done[video] = Extraction(out, summary, read_tracks(out))
        return done[video]

    return run


@pytest.fixture(scope="session")
def synthetic_landmarks(
    synthetic_dyad: tuple[Path, Path],
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """OUTDIR of `cuevision landmarks` on the synthetic dyad, and the command's output."""
    outdir = tmp_path_factory.mktemp("synthetic_landmarks") / "out"
    result = run_cli("landmarks", synthetic_dyad[0], "-o", outdir)
    return outdir, result
