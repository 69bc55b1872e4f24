"""Shared fixtures: where the real clips live, the CLI as users run it, and the synthetic dyad."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real test material; tests skip with a reason where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test material not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def lookit(shared_data: Path) -> Callable[[str], Path]:
    """Path of a named Lookit clip."""

    def clip(name: str) -> Path:
        path = shared_data / "lookit" / name
        if not path.is_file():
            pytest.skip(f"clip {name} not found in {path.parent}")
        return path

    return clip


def _run_cli(
    *args: str | Path, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess, exactly as a user would, and return its output."""
    result = subprocess.run(
        [sys.executable, "-m", "cuevision", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"cuevision {' '.join(map(str, args))} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def run_cli() -> RunCli:
    return _run_cli


@pytest.fixture(scope="session")
def synthetic_dyad(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The seeded synthetic dyad video and its ground-truth events CSV, made once per test run."""
    folder = tmp_path_factory.mktemp("synthetic")
    video, truth = folder / "sample.mp4", folder / "truth.csv"
    _run_cli("synth", "-o", video, "--truth", truth)
    return video, truth


@pytest.fixture(scope="session")
def processed_synthetic(
    synthetic_dyad: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """OUTDIR of `cuevision process` on the synthetic dyad, made once per test run."""
    outdir = tmp_path_factory.mktemp("processed") / "out"
    _run_cli("process", synthetic_dyad[0], "-o", outdir)
    return outdir
