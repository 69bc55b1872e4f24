"""A video extracted in time chunks and stitched reads like one extracted whole.

Real MediaPipe on a real Lookit clip of a training dyad (17 s), cut in 8 s chunks with 2 s of
overlap (one seam at 8 s), against the whole extraction that ``test_real_clips`` shares.
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
# After a seam the later chunk's face meshes and poses track from another start, so their
# points differ a little from the whole run's (the same decoded frames, bit for bit): at most
# this much, normalised to the frame, in 99% of the frames (measured 0.063 at most here; p99
# 0.046 after the seams of this clip looped to 6 minutes, benchmarks/chunks.py).
FACE_TOLERANCE = 0.08
FOUND_AGREE = 0.9  # frames that find the same faces and bodies after the seam (measured 0.95)


@dataclass(frozen=True)
class Chunked:
    video: Path
    info: VideoInfo
    chunks: tuple[Chunk, ...]
    files: tuple[Path, ...]
    stitched: Path
    whole: Extraction


@pytest.fixture(scope="module")
def chunked(
    lookit: Callable[[str], Path],
    extract: Callable[[Path], Extraction],
    tmp_path_factory: pytest.TempPathFactory,
) -> Chunked:
    video = lookit(CLIP)
    info = probe(video)
    settings = LandmarkSettings()
    chunks = plan_chunks(info, chunk_s=CHUNK_S, overlap_s=OVERLAP_S)
    folder = tmp_path_factory.mktemp("chunks")
    files = tuple(folder / f"chunk{c.index}.parquet" for c in chunks)
    for chunk, path in zip(chunks, files, strict=True):
        extract_chunk(video, chunk, path, settings=settings, info=info)
    stitched = folder / "landmarks.parquet"
    stitch(files, stitched, settings=settings, info=info, video=video, chunks=chunks)
    return Chunked(video, info, chunks, files, stitched, extract(video))


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
    chunks = plan_chunks(info, chunk_s=60.0, overlap_s=5.0)
    assert [c.start_s for c in chunks] == [0.0, 55.0, 115.0, 175.0, 235.0, 295.0]
    assert [c.end_s for c in chunks] == [60.0, 120.0, 180.0, 240.0, 300.0, 362.5]  # 2.5 s joins
    assert plan_chunks(replace(info, duration_s=200.0)) == (Chunk(0, 0.0, 200.0),)


@pytest.mark.parametrize(
    ("chunk_s", "overlap_s"), [(0.0, 5.0), (float("nan"), 5.0), (60.0, 0.5), (60.0, 31.0)]
)
def test_bad_plan_says_what_to_give(
    lookit: Callable[[str], Path], chunk_s: float, overlap_s: float
) -> None:
    with pytest.raises(ChunkPlanError, match="give"):
        plan_chunks(probe(lookit(CLIP)), chunk_s=chunk_s, overlap_s=overlap_s)


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


def test_landmarks_equal_before_the_seam_and_close_after(chunked: Chunked) -> None:
    whole, stitched = chunked.whole.tracks, read_landmarks(chunked.stitched)
    before = whole.t_s < chunked.chunks[0].end_s
    assert before.sum() > 100 and (~before).sum() > 100
    for role in ROLES:
        p, q = whole.roles[role], stitched.roles[role]
        np.testing.assert_array_equal(p.face[before], q.face[before])  # NaN equal to NaN
        np.testing.assert_array_equal(p.pose[before], q.pose[before])
        np.testing.assert_array_equal(p.face_score[before], q.face_score[before])
        after = ~before
        found = (p.face_score[after] > 0) == (q.face_score[after] > 0)
        found &= (p.pose_score[after] > 0) == (q.pose_score[after] > 0)
        assert found.mean() >= FOUND_AGREE, role
        both = np.isfinite(p.face[after, 0, 0]) & np.isfinite(q.face[after, 0, 0])
        gap = np.abs(p.face[after][both] - q.face[after][both])[:, :, :2].max(axis=(1, 2))
        assert np.percentile(gap, 99) <= FACE_TOLERANCE, role


def test_a_chunk_run_twice_writes_the_same_bytes(chunked: Chunked, tmp_path: Path) -> None:
    """At-least-once delivery: a chunk extracted again replaces its file with the same bytes;
    its frames are those of the whole run for its times (a seek, not a decode from 0)."""
    chunk, settings = Chunk(1, 10.0, 11.5), LandmarkSettings()
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for path in (first, second):
        extract_chunk(chunked.video, chunk, path, settings=settings, info=chunked.info)
    assert first.read_bytes() == second.read_bytes()
    part = read_chunk(first, chunk, settings=settings, video=chunked.video, info=chunked.info)
    times = chunked.whole.tracks.t_s
    inside = (times >= 10.0) & (times < 11.5)
    assert np.array_equal(part.tracked.frame, chunked.whole.tracks.frame[inside])
    assert np.array_equal(part.tracked.t_s, times[inside])


def test_poses_in_the_workers_own_process_change_nothing(chunked: Chunked, tmp_path: Path) -> None:
    """``worker --one-core`` finds the poses in its own process: the same file, byte for byte,
    as with the pose process (so the setting stays out of the settings' hash)."""
    chunk = Chunk(1, 10.0, 11.5)
    stream, inline = tmp_path / "stream.parquet", tmp_path / "inline.parquet"
    for path, settings in (
        (stream, LandmarkSettings()),
        (inline, LandmarkSettings(pose_process=False)),
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
        settings=LandmarkSettings(),
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
