"""A long video's landmarks in time chunks, so that workers can extract them in parallel.

``plan_chunks`` cuts the video's timeline into chunks of ``chunk_s`` seconds, each decoding
``overlap_s`` more before its start, where ``stitch`` matches the people of the two chunks.
``extract_chunk`` runs the one per-frame loop of ``extract`` on a chunk's time range and writes
one chunk file; ``stitch`` (in ``stitch``) joins the files into ``landmarks.parquet``.

**Exact chunks.** The face meshes and the pose carry state from frame to frame, so a chunk
started cold would find other landmarks than the whole video's run ever after (on a looped
real clip only 55% of the candidates stayed within 0.1 s). Both runs therefore restart those
trackers on one grid of video time (``LandmarkSettings.restart_s``, ``tracking.Restarts``), and
a chunk length must be a multiple of it: every seam is a restart, where the chunk and the whole
video's run start afresh alike, and the frames kept from a chunk are the whole video's. The
overlap before a seam keeps the person tracker's short memory (which face is whose) and shows
the stitch who is who.

A chunk file is a Parquet file of ``io.SCHEMA`` whose ``role`` column still holds the track slot
(``track0``, ``track1``: roles are decided once for the whole video, after the stitch), with the
schema metadata key ``cuevision_chunk`` (not ``cuevision``, so it can never pass for a landmarks
file) holding JSON: the chunk, the video's name, the settings' hash, the versions, and per
analysed frame its index, time and role evidence (``extract.Tracked``) as base64 little-endian
float64. Nothing in it depends on the time or the machine, so re-running a chunk (the task
queue delivers at least once) writes the same bytes.
"""

from __future__ import annotations

import base64
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cuevision import __version__
from cuevision.errors import CuevisionError
from cuevision.files import atomic_path
from cuevision.landmarks.extract import (
    EVIDENCE_COLUMNS,
    LANDMARKS_VERSION,
    LandmarkSettings,
    Tracked,
    track_frames,
)
from cuevision.landmarks.io import SCHEMA, RowWriter
from cuevision.types import RESTART_S, VideoInfo

CHUNK_KEY = b"cuevision_chunk"
DEFAULT_CHUNK_S = RESTART_S  # 5 minutes: a worker's unit of work and of loss when it dies
# 10 s of overlap: the stitch needs both chunks to see the same people there, and a new chunk's
# trackers take time to find them (the pose of a half-visible parent above all).
# benchmarks/chunks.py, over the 5 seams of a looped real clip: the later chunk found the same
# faces and bodies as the earlier one in 63-77% of the frames in its first 5 s, 92% in the 6th,
# 100% from the 7th on (the synthetic dyad: 100% from the start). 10 s settles with margin and
# costs 3% more work on 300 s chunks.
DEFAULT_OVERLAP_S = 10.0
MIN_OVERLAP_S = 1.0  # fewer shared frames cannot show who is who across a seam


class ChunkPlanError(CuevisionError):
    """Chunk settings that cannot cut a video into chunks."""


class ChunkFileError(CuevisionError):
    """A chunk file that is missing, damaged, or of another video, plan or settings."""


@dataclass(frozen=True)
class Chunk:
    """One time chunk of a video; times are PTS seconds from the first frame."""

    index: int
    start_s: float  # decode from here (includes the overlap with the previous chunk)
    end_s: float  # decode up to here (includes the overlap with the next chunk)


def plan_chunks(
    info: VideoInfo,
    *,
    chunk_s: float = DEFAULT_CHUNK_S,
    overlap_s: float = DEFAULT_OVERLAP_S,
    restart_s: float = RESTART_S,
) -> tuple[Chunk, ...]:
    """The chunks of a video: chunk k covers ``[k * chunk_s, (k + 1) * chunk_s)`` and decodes
    from ``overlap_s`` before its start; the last one runs to the end of the video.

    ``chunk_s`` must be a multiple of the trackers' restart period ``restart_s`` (the landmark
    settings'), so that every seam is a restart. A video no longer than ``chunk_s`` is one
    chunk. A last piece shorter than ``overlap_s`` joins the chunk before it (its work would be
    mostly overlap), so a chunk is at most ``chunk_s + 2 * overlap_s`` long.
    """
    if not (math.isfinite(chunk_s) and chunk_s > 0):
        raise ChunkPlanError(f"chunk length {chunk_s} s: give a chunk length > 0, e.g. 300")
    if not _on_grid(chunk_s, restart_s):
        raise ChunkPlanError(
            f"chunk length {chunk_s:g} s is not a multiple of the trackers' restart period "
            f"{restart_s:g} s, so chunks would not give what the whole video gives: give a "
            f"multiple of {restart_s:g} s, or landmark settings that restart every {chunk_s:g} s"
        )
    if not (math.isfinite(overlap_s) and MIN_OVERLAP_S <= overlap_s <= chunk_s / 2):
        raise ChunkPlanError(
            f"overlap {overlap_s} s with {chunk_s} s chunks: give an overlap of at least "
            f"{MIN_OVERLAP_S} s and at most half the chunk length, e.g. {DEFAULT_OVERLAP_S}"
        )
    duration = info.duration_s
    n = max(1, math.ceil(duration / chunk_s))
    if n > 1 and duration - (n - 1) * chunk_s < overlap_s:
        n -= 1
    return tuple(
        Chunk(
            index=k,
            start_s=max(0.0, k * chunk_s - overlap_s),
            end_s=duration if k == n - 1 else (k + 1) * chunk_s,
        )
        for k in range(n)
    )


def extract_chunk(
    video: Path,
    chunk: Chunk,
    out_path: Path,
    *,
    settings: LandmarkSettings,
    info: VideoInfo,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Extract the landmarks of the frames of ``chunk`` into the chunk file ``out_path``
    (atomically; the same bytes on every run). A chunk reaching the end of the video
    (``end_s >= info.duration_s``) runs to its last frame."""
    if not (0 <= chunk.start_s < chunk.end_s and chunk.start_s < info.duration_s):
        raise ChunkPlanError(
            f"chunk {chunk.index} ({chunk.start_s}..{chunk.end_s} s) is not within the "
            f"{info.duration_s:.2f} s video; plan the chunks with plan_chunks(info)"
        )
    end_s = None if chunk.end_s >= info.duration_s else chunk.end_s
    if end_s is not None and not _on_grid(end_s, settings.restart_s):
        raise ChunkPlanError(
            f"chunk {chunk.index} ends at {end_s:g} s, off the trackers' restart grid of "
            f"{settings.restart_s:g} s; plan the chunks with plan_chunks(info, "
            f"restart_s={settings.restart_s:g})"
        )
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".landmarks-") as scratch:
        partial = Path(scratch) / "tracks.parquet"
        with RowWriter(partial) as writer:
            tracked = track_frames(
                video,
                writer,
                settings=settings,
                info=info,
                progress=progress,
                start_s=chunk.start_s,
                end_s=end_s,
            )
        table = np.column_stack([tracked.frame, tracked.t_s, tracked.evidence]).astype("<f8")
        metadata = {
            **_identity(chunk, video, info, settings),
            "cuevision_version": __version__,
            "frames": len(tracked.t_s),
            "evidence": base64.b64encode(table.tobytes()).decode("ascii"),
        }
        schema = SCHEMA.with_metadata({CHUNK_KEY: json.dumps(metadata).encode()})
        source = pq.ParquetFile(str(partial))
        with atomic_path(out_path) as target:
            writer_out = pq.ParquetWriter(str(target), schema, compression="zstd")
            try:
                for group in range(source.num_row_groups):
                    writer_out.write_table(source.read_row_group(group))
            finally:
                writer_out.close()


def _on_grid(t_s: float, every_s: float) -> bool:
    """Whether ``t_s`` is a whole multiple of ``every_s`` (within float error)."""
    return every_s > 0 and abs(t_s / every_s - round(t_s / every_s)) < 1e-9


def _identity(
    chunk: Chunk, video: Path, info: VideoInfo, settings: LandmarkSettings
) -> dict[str, Any]:
    """What a chunk file must say of itself to be stitched: its chunk, video, code and settings."""
    return {
        "chunk": asdict(chunk),
        "video": Path(video).name,
        "width": info.width,
        "height": info.height,
        "settings_hash": settings.hash,
        "landmarks_version": LANDMARKS_VERSION,
    }


@dataclass(frozen=True)
class ChunkFile:
    """A chunk file's analysed frames (``tracked``) and where its rows are."""

    path: Path
    chunk: Chunk
    tracked: Tracked


def read_chunk(
    path: Path, chunk: Chunk, *, settings: LandmarkSettings, video: Path, info: VideoInfo
) -> ChunkFile:
    """The frames of a chunk file, checked to be whole and of this chunk, video and settings."""
    path = Path(path)
    again = f"extract chunk {chunk.index} again"
    if not path.is_file():
        raise ChunkFileError(f"{path}: no such chunk file; {again}")
    try:
        parquet = pq.ParquetFile(str(path))
        meta: dict[str, Any] = json.loads((parquet.schema_arrow.metadata or {})[CHUNK_KEY])
        table = np.frombuffer(base64.b64decode(meta["evidence"], validate=True), "<f8")
        rows = parquet.metadata.num_rows
    except (pa.ArrowException, OSError, KeyError, ValueError, TypeError) as error:
        raise ChunkFileError(
            f"{path}: not a whole chunk file ({type(error).__name__}: {error}); {again}"
        ) from None
    expected = _identity(chunk, video, info, settings)
    wrong = [key for key, value in expected.items() if meta.get(key) != value]
    frames = int(meta.get("frames", -1))
    if wrong or table.size != frames * (EVIDENCE_COLUMNS + 2) or rows != 2 * frames:
        found = ", ".join(f"{key} {meta.get(key)!r} (not {expected[key]!r})" for key in wrong)
        raise ChunkFileError(
            f"{path}: not the chunk file of this chunk ({found or 'rows and frames disagree'}); "
            f"{again}"
        )
    table = table.reshape(frames, EVIDENCE_COLUMNS + 2)
    tracked = Tracked(table[:, 0].astype(np.int64), table[:, 1].copy(), table[:, 2:].copy())
    return ChunkFile(path, chunk, tracked)
