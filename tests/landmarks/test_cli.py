"""`cuevision landmarks` and `cuevision overlay` as a user runs them, good input and bad."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from cuevision.landmarks import read_landmarks

RunCli = Callable[..., subprocess.CompletedProcess[str]]
Outdir = tuple[Path, subprocess.CompletedProcess[str]]


def test_landmarks_writes_outputs_and_a_summary(synthetic_landmarks: Outdir) -> None:
    outdir, result = synthetic_landmarks
    info = json.loads((outdir / "video.json").read_text())
    assert (info["width"], info["height"]) == (640, 360)
    assert (outdir / "landmarks.parquet").is_file()
    summary = " ".join(result.stdout.split())  # rich wraps long lines wherever the numbers end
    for word in ("300 frames", "caregiver", "child", "face", "pose", "x real time", "roles:"):
        assert word in summary, word


def test_overlay_writes_h264_and_a_sheet(
    synthetic_dyad: tuple[Path, Path], synthetic_landmarks: Outdir, run_cli: RunCli, tmp_path: Path
) -> None:
    out, sheet = tmp_path / "overlay.mp4", tmp_path / "sheet.png"
    run_cli("overlay", synthetic_dyad[0], synthetic_landmarks[0], "-o", out, "--sheet", sheet)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = sum(1 for _ in container.decode(stream))
    assert frames == len(read_landmarks(synthetic_landmarks[0] / "landmarks.parquet").frame)
    assert sheet.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())  # rich wraps long lines
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ("empty",)),
        (b"this is a text file, not a video\n", ("not a readable video",)),
    ],
    ids=["empty", "text"],
)
def test_landmarks_rejects_bad_video(
    run_cli: RunCli, tmp_path: Path, content: bytes, words: tuple[str, ...]
) -> None:
    video = tmp_path / "session.mp4"
    video.write_bytes(content)
    result = run_cli("landmarks", video, "-o", tmp_path / "out", check=False)
    _assert_clean_failure(result, *words)
    assert not (tmp_path / "out").exists(), "nothing is written for a rejected video"


def test_landmarks_rejects_truncated_video(
    synthetic_dyad: tuple[Path, Path], run_cli: RunCli, tmp_path: Path
) -> None:
    data = synthetic_dyad[0].read_bytes()
    video = tmp_path / "cut.mp4"
    video.write_bytes(data[: len(data) // 2])
    _assert_clean_failure(run_cli("landmarks", video, "-o", tmp_path / "out", check=False))


def test_landmarks_rejects_bad_options(
    synthetic_dyad: tuple[Path, Path], run_cli: RunCli, tmp_path: Path
) -> None:
    video = synthetic_dyad[0]
    for rate in ("-1", "nan"):
        result = run_cli("landmarks", video, "-o", tmp_path, "--analysis-fps", rate, check=False)
        _assert_clean_failure(result, "--analysis-fps")
    result = run_cli("landmarks", video, "-o", tmp_path, "--child-side", "up", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (tmp_path / "taken").write_text("a file where the output folder should go\n")
    result = run_cli("landmarks", video, "-o", tmp_path / "taken", check=False)
    _assert_clean_failure(result, "a file is in the way")


def test_overlay_without_or_with_damaged_landmarks(
    synthetic_dyad: tuple[Path, Path], run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "overlay.mp4"
    result = run_cli("overlay", synthetic_dyad[0], tmp_path, "-o", out, check=False)
    _assert_clean_failure(result, "cuevision landmarks")
    (tmp_path / "landmarks.parquet").write_text("garbage")
    result = run_cli("overlay", synthetic_dyad[0], tmp_path, "-o", out, check=False)
    _assert_clean_failure(result, "not a readable Parquet file")
    assert not out.exists()


def test_overlay_refuses_a_sheet_that_is_not_a_png_file(
    synthetic_dyad: tuple[Path, Path], synthetic_landmarks: Outdir, run_cli: RunCli, tmp_path: Path
) -> None:
    out = tmp_path / "overlay.mp4"
    for sheet in (tmp_path, tmp_path / "sheet.txt"):
        result = run_cli(
            "overlay", synthetic_dyad[0], synthetic_landmarks[0], "-o", out, "--sheet", sheet,
            check=False,
        )  # fmt: skip
        _assert_clean_failure(result, "a PNG file")
    assert not out.exists(), "refused before drawing anything"


def test_overlay_refuses_landmarks_of_another_video(
    lookit: Callable[[str], Path], synthetic_landmarks: Outdir, run_cli: RunCli, tmp_path: Path
) -> None:
    other = lookit("2UWdXP.joke2.rep2.take1.NomNomNom.mp4")  # 640x480; the landmarks: 640x360
    out = tmp_path / "overlay.mp4"
    result = run_cli("overlay", other, synthetic_landmarks[0], "-o", out, check=False)
    _assert_clean_failure(result, "640x480 px but the landmarks are of a 640x360 video")
    assert not out.exists()
