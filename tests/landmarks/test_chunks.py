"""A video extracted in time chunks and stitched reads like one extracted whole.

Real MediaPipe on a real Lookit clip of a training dyad (17 s), cut in 8 s chunks with 2 s of
overlap (one seam at 8 s), against the whole extraction with the same settings: trackers that
restart every 8 s (``LandmarkSettings.restart_s``), so the two must be equal, bit for bit.
``benchmarks/chunks.py`` measures the same on 6-minute videos.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from cuevision.landmarks import (
    Chunk,
    ChunkFileError,
    ChunkPlanError,
    LandmarkSettings,
    extract_chunk,
    extract_landmarks,
    plan_chunks,
    read_landmarks,
    read_metadata,
    stitch,
)
from cuevision.landmarks.chunks import read_chunk
from cuevision.types import ROLES, LandmarkTracks, VideoInfo
from cuevision.video import decode, probe
from cuevision.video.decode import raw_frames

from .conftest import Extraction

CLIP = "6c6MZQ.joke1.rep1.take1.ThatsNotAHat.mp4"  # mother left, child right, 30 fps VFR
CHUNK_S, OVERLAP_S = 8.0, 2.0
SETTINGS = LandmarkSettings(restart_s=CHUNK_S)  # every seam a restart


@dataclass(frozen=True)
class Chunked:
    video: Path
    info: VideoInfo
    chunks: tuple[Chunk, ...]
    files: tuple[Path, ...]
    stitched: Path
    whole: Extraction


@pytest.fixture(scope="module")
def chunked(lookit: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Chunked:
    video = lookit(CLIP)
    info = probe(video)
    chunks = plan_chunks(info, chunk_s=CHUNK_S, overlap_s=OVERLAP_S, restart_s=CHUNK_S)
    folder = tmp_path_factory.mktemp("chunks")
    files = tuple(folder / f"chunk{c.index}.parquet" for c in chunks)
    for chunk, path in zip(chunks, files, strict=True):
        extract_chunk(video, chunk, path, settings=SETTINGS, info=info)
    stitched = folder / "landmarks.parquet"
    stitch(files, stitched, settings=SETTINGS, info=info, video=video, chunks=chunks)
    whole = folder / "whole.parquet"
    summary = extract_landmarks(video, whole, settings=SETTINGS, info=info)
    return Chunked(
        video, info, chunks, files, stitched, Extraction(whole, summary, read_landmarks(whole))
    )


def _places(tracks: LandmarkTracks) -> dict[str, np.ndarray]:
    """(N, 2) place of each role: face centre, else the pose's face points (NaN: unseen)."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of no points: NaN
        for role in ROLES:
            face = np.nanmean(tracks.roles[role].face[:, :, :2], axis=1)
            head = np.nanmean(tracks.roles[role].pose[:, :11, :2], axis=1)
            out[role] = np.where(np.isfinite(face), face, head)
    return out


@pytest.mark.parametrize(("start_s", "end_s"), [(3.3, 7.9), (9.0, None), (0.0, 2.0)])
@pytest.mark.parametrize("target_fps", [15.0, None])
def test_seeked_decode_gives_the_frames_of_a_whole_decode(
    lookit: Callable[[str], Path], start_s: float, end_s: float | None, target_fps: float | None
) -> None:
    video = lookit(CLIP)
    whole = [
        f
        for f in decode(video, target_fps=target_fps)
        if f.t_s >= start_s and (end_s is None or f.t_s < end_s)
    ]
    part = list(decode(video, target_fps=target_fps, start_s=start_s, end_s=end_s))
    assert [(f.index, f.t_s) for f in part] == [(f.index, f.t_s) for f in whole]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(part, whole, strict=True))


def test_a_seek_skips_the_start(lookit: Callable[[str], Path]) -> None:
    """The range decode seeks (a keyframe near the start), not decodes from the first frame."""
    first_index, first_t, _ = next(raw_frames(lookit(CLIP), start_s=9.0))
    assert 0 < first_t < 9.0 and first_index > 0


def test_plan_cuts_at_multiples_with_overlap_before(lookit: Callable[[str], Path]) -> None:
    info = replace(probe(lookit(CLIP)), duration_s=362.5)
    chunks = plan_chunks(info, chunk_s=60.0, overlap_s=5.0, restart_s=30.0)
    assert [c.start_s for c in chunks] == [0.0, 55.0, 115.0, 175.0, 235.0, 295.0]
    assert [c.end_s for c in chunks] == [60.0, 120.0, 180.0, 240.0, 300.0, 362.5]  # 2.5 s joins
    assert plan_chunks(replace(info, duration_s=200.0)) == (Chunk(0, 0.0, 200.0),)


@pytest.mark.parametrize(
    ("chunk_s", "overlap_s"),
    [(0.0, 5.0), (float("nan"), 5.0), (60.0, 0.5), (60.0, 31.0), (90.0, 5.0)],
)
def test_bad_plan_says_what_to_give(
    lookit: Callable[[str], Path], chunk_s: float, overlap_s: float
) -> None:
    with pytest.raises(ChunkPlanError, match="give"):
        plan_chunks(probe(lookit(CLIP)), chunk_s=chunk_s, overlap_s=overlap_s, restart_s=60.0)


def test_a_chunk_ending_off_the_restart_grid_is_refused(
    lookit: Callable[[str], Path], tmp_path: Path
) -> None:
    """Its seam would not be a restart, so the next chunk would not give the whole run's frames."""
    video = lookit(CLIP)
    with pytest.raises(ChunkPlanError, match="restart grid"):
        extract_chunk(
            video, Chunk(0, 0.0, 5.0), tmp_path / "c.parquet", settings=SETTINGS, info=probe(video)
        )
    assert not list(tmp_path.iterdir())


def test_stitched_file_reads_like_the_whole_one(chunked: Chunked) -> None:
    whole = chunked.whole.parquet
    assert (
        pq.read_schema(str(chunked.stitched)).remove_metadata()
        == pq.read_schema(str(whole)).remove_metadata()
    )
    meta, reference = read_metadata(chunked.stitched), read_metadata(whole)
    assert meta.keys() == reference.keys()
    assert {k: meta[k] for k in meta if not k.startswith("role_")} == {
        k: reference[k] for k in reference if not k.startswith("role_")
    }
    tracks = read_landmarks(chunked.stitched)
    assert np.array_equal(tracks.frame, chunked.whole.tracks.frame)
    assert np.array_equal(tracks.t_s, chunked.whole.tracks.t_s)


def test_every_frame_keeps_its_roles_across_the_seam(chunked: Chunked) -> None:
    """Each role is the same person as in the whole run, in every frame where both see it."""
    a, b = _places(chunked.whole.tracks), _places(read_landmarks(chunked.stitched))
    compared = 0
    for role, other in (("child", "caregiver"), ("caregiver", "child")):
        seen = np.isfinite(a[role]).all(axis=1) & np.isfinite(b[role]).all(axis=1)
        seen &= np.isfinite(a[other]).all(axis=1)
        own = np.hypot(*(b[role] - a[role])[seen].T)
        theirs = np.hypot(*(b[role] - a[other])[seen].T)
        assert (own < theirs).all(), (
            f"{role} swapped at {chunked.whole.tracks.t_s[seen][own >= theirs]}"
        )
        compared += int(seen.sum())
    assert compared > 400  # both roles in nearly all 257 frames


def test_the_stitched_rows_are_the_whole_runs_bit_for_bit(chunked: Chunked) -> None:
    """Every row (faces, poses, scores, roles) of the stitched file equals the whole run's."""
    stitched, whole = pq.read_table(chunked.stitched), pq.read_table(chunked.whole.parquet)
    assert stitched.num_rows == whole.num_rows > 500
    assert stitched.drop(["face", "pose"]).equals(whole.drop(["face", "pose"]))
    a, b = read_landmarks(chunked.stitched), chunked.whole.tracks
    for role in ROLES:
        np.testing.assert_array_equal(a.roles[role].face, b.roles[role].face)  # NaN equals NaN
        np.testing.assert_array_equal(a.roles[role].pose, b.roles[role].pose)
    assert (a.roles["caregiver"].pose_score > 0).mean() > 0.5  # people were found


def test_the_restart_changes_what_follows(
    chunked: Chunked, extract: Callable[[Path], Extraction]
) -> None:
    """Without the restart at the seam (the default period, 300 s) the frames before it are the
    same, and later ones are not: the restart is what makes chunks exact."""
    default, restarted = extract(chunked.video).tracks, chunked.whole.tracks
    before = default.t_s < CHUNK_S
    assert before.sum() > 100 and (~before).sum() > 100
    differs = np.zeros((~before).sum(), bool)
    for role in ROLES:
        p, q = default.roles[role], restarted.roles[role]
        np.testing.assert_array_equal(p.face[before], q.face[before])
        np.testing.assert_array_equal(p.pose[before], q.pose[before])
        differs |= ~np.all((p.pose[~before] == q.pose[~before]) | np.isnan(p.pose[~before]), (1, 2))
    assert differs.mean() > 0.1


def test_a_chunk_run_twice_writes_the_same_bytes(chunked: Chunked, tmp_path: Path) -> None:
    """At-least-once delivery: a chunk extracted again replaces its file with the same bytes;
    its frames are those of the whole run for its times (a seek, not a decode from 0)."""
    chunk, settings = Chunk(1, 14.5, 16.0), SETTINGS
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for path in (first, second):
        extract_chunk(chunked.video, chunk, path, settings=settings, info=chunked.info)
    assert first.read_bytes() == second.read_bytes()
    part = read_chunk(first, chunk, settings=settings, video=chunked.video, info=chunked.info)
    times = chunked.whole.tracks.t_s
    inside = (times >= 14.5) & (times < 16.0)
    assert np.array_equal(part.tracked.frame, chunked.whole.tracks.frame[inside])
    assert np.array_equal(part.tracked.t_s, times[inside])


def test_poses_in_the_workers_own_process_change_nothing(chunked: Chunked, tmp_path: Path) -> None:
    """``worker --one-core`` finds the poses in its own process: the same file, byte for byte,
    as with the pose process (so the setting stays out of the settings' hash), restarts included
    (one at 11 s)."""
    chunk = Chunk(1, 10.0, 12.0)
    stream, inline = tmp_path / "stream.parquet", tmp_path / "inline.parquet"
    for path, settings in (
        (stream, LandmarkSettings(restart_s=1.0)),
        (inline, LandmarkSettings(restart_s=1.0, pose_process=False)),
    ):
        extract_chunk(chunked.video, chunk, path, settings=settings, info=chunked.info)
    assert LandmarkSettings(pose_process=False).hash == LandmarkSettings().hash
    assert inline.read_bytes() == stream.read_bytes()
    assert pq.read_table(inline).column("pose_score").to_numpy().max() > 0  # poses were found


def test_a_chunk_outside_the_video_is_refused(chunked: Chunked, tmp_path: Path) -> None:
    with pytest.raises(ChunkPlanError, match="plan_chunks"):
        extract_chunk(
            chunked.video,
            Chunk(3, 40.0, 50.0),
            tmp_path / "c.parquet",
            settings=LandmarkSettings(),
            info=chunked.info,
        )
    assert not list(tmp_path.iterdir())


def _stitch(chunked: Chunked, files: tuple[Path, ...], out: Path) -> None:
    stitch(
        files,
        out,
        settings=SETTINGS,
        info=chunked.info,
        video=chunked.video,
        chunks=chunked.chunks,
    )


@pytest.mark.parametrize("damage", ["truncated", "garbled footer", "empty"])
def test_a_damaged_chunk_file_names_the_chunk_to_redo(
    chunked: Chunked, tmp_path: Path, damage: str
) -> None:
    bad = tmp_path / "chunk1.parquet"
    data = chunked.files[1].read_bytes()
    bad.write_bytes(
        {
            "truncated": data[: len(data) // 2],
            "garbled footer": data[:-200] + bytes(192) + data[-8:],
            "empty": b"",
        }[damage]
    )
    out = tmp_path / "landmarks.parquet"
    with pytest.raises(ChunkFileError, match="extract chunk 1 again"):
        _stitch(chunked, (chunked.files[0], bad), out)
    assert not out.exists()


def test_chunk_files_in_the_wrong_order_are_refused(chunked: Chunked, tmp_path: Path) -> None:
    with pytest.raises(ChunkFileError, match="not the chunk file of this chunk"):
        _stitch(chunked, chunked.files[::-1], tmp_path / "landmarks.parquet")
    with pytest.raises(ChunkPlanError, match="one file per chunk"):
        _stitch(chunked, chunked.files[:1], tmp_path / "landmarks.parquet")
