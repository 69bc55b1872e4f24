"""Join a video's chunk files into the ``landmarks.parquet`` a whole-video extraction writes.

Every time has one source: chunk k's frames up to its end, then chunk k+1's from there. The
seam is a restart of the trackers in every run (``chunks``), so from it on chunk k+1's frames
are the whole video's; its frames of the overlap before it came from a cold start and are not
kept, but on them both chunks saw the same people, so they say who is who across the seam.

**Identity across a seam.** Each chunk numbers its own tracklets from 0 and may give a person
the other track slot. On the overlap's frames, each tracklet of chunk k is compared with each of
chunk k+1 by the distance between their faces (else their bodies' heads), in face sizes; the
Hungarian assignment (scipy) pairs them where the median distance is under ``SAME_PERSON`` over
at least ``MIN_SHARED`` frames. A paired tracklet of chunk k+1 continues its partner's number,
and so does another one near that partner that never shares a frame with it (the new chunk's
tracker split one person); the others get new numbers, unique over the video. Where most pairs
cross slots, chunk k+1's slots are swapped, so the joined evidence reads as one run of the
tracker. Roles are then decided once, on the whole video's evidence (``extract.write_roles``):
a person keeps one role across the seams, since a paired tracklet is one tracklet.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.optimize import linear_sum_assignment

from cuevision.landmarks.chunks import Chunk, ChunkFile, ChunkFileError, ChunkPlanError, read_chunk
from cuevision.landmarks.extract import (
    TRACKS,
    LandmarkSettings,
    LandmarkSummary,
    Tracked,
    summarise,
    write_roles,
)
from cuevision.landmarks.io import POSE_SIZE, SCHEMA, RowWriter
from cuevision.types import VideoInfo

SAME_PERSON = 0.5  # face sizes apart, at most (median over the overlap): one person
MIN_SHARED = 3  # frames of the overlap in which both tracklets are seen, at least
NEVER = 1e6  # cost of a pairing refused
SWAPPED = [1, 0, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10]  # evidence columns, slots exchanged


@dataclass(frozen=True)
class _Seam:
    """How a chunk's tracks join the video's: slots exchanged or not, tracklet renumbering."""

    swap: bool
    ids: dict[int, int]  # the chunk's tracklet number -> the video's


def stitch(
    chunk_files: Sequence[Path],
    out_parquet: Path,
    *,
    settings: LandmarkSettings,
    info: VideoInfo,
    video: Path,
    chunks: Sequence[Chunk],
) -> LandmarkSummary:
    """Join the chunk files of ``chunks`` (in order) into ``out_parquet``, atomically: the
    schema and metadata of :func:`~cuevision.landmarks.extract_landmarks`. ``wall_s`` of the
    summary is the stitch's own time. Raises ``ChunkFileError`` for a chunk file that is
    damaged or not of this video, plan and settings."""
    started = time.perf_counter()
    if not chunks or [c.index for c in chunks] != list(range(len(chunks))):
        raise ChunkPlanError("the chunks are not a plan in order; pass plan_chunks(info)")
    if len(chunk_files) != len(chunks):
        raise ChunkPlanError(
            f"{len(chunk_files)} chunk files for {len(chunks)} chunks; pass one file per chunk"
        )
    parts = [
        read_chunk(path, chunk, settings=settings, video=video, info=info)
        for path, chunk in zip(chunk_files, chunks, strict=True)
    ]
    seams = [_Seam(False, _numbering(parts[0].tracked, {}, 0))]
    for before, after in zip(parts, parts[1:], strict=False):
        first = 1 + max(max(seam.ids.values(), default=-1) for seam in seams)
        seams.append(_join(before, seams[-1], after, first, info))
    out_parquet = Path(out_parquet)
    joined = _joined(parts, seams)
    with tempfile.TemporaryDirectory(dir=out_parquet.parent, prefix=".landmarks-") as scratch:
        partial = Path(scratch) / "tracks.parquet"
        with RowWriter(partial) as writer:
            for part, seam, cut in zip(parts, seams, _cuts(parts), strict=True):
                _copy_rows(part, seam.swap, cut, writer)
        assignment = write_roles(
            partial, out_parquet, joined, settings=settings, info=info, video=video
        )
    return summarise(out_parquet, len(joined.t_s), info, started, assignment)


def _cuts(parts: Sequence[ChunkFile]) -> list[float]:
    """Each chunk's frames are kept from this time on: the end of the chunk before it."""
    return [-np.inf, *(part.chunk.end_s for part in parts[:-1])]


def _numbering(tracked: Tracked, ids: dict[int, int], first: int) -> dict[int, int]:
    """``ids`` extended with new video-wide numbers from ``first`` for a chunk's other tracklets."""
    numbers = dict(ids)
    for local in sorted(set(tracked.evidence[:, 0:2].ravel().astype(np.int64).tolist()) - {-1}):
        if local not in numbers:
            numbers[local] = first
            first += 1
    return numbers


def _join(before: ChunkFile, seam: _Seam, after: ChunkFile, first: int, info: VideoInfo) -> _Seam:
    """How chunk ``after`` joins, from the overlap with ``before`` (joined as ``seam``); its
    new tracklets are numbered from ``first``."""
    early = before.tracked.t_s >= after.chunk.start_s
    late = after.tracked.t_s < before.chunk.end_s
    if not np.array_equal(before.tracked.frame[early], after.tracked.frame[late]):
        raise ChunkFileError(
            f"{after.path}: chunks {before.chunk.index} and {after.chunk.index} analysed "
            "different frames in their overlap (another video or decoder?); extract both again"
        )
    a_ids, b_ids = before.tracked.evidence[early, 0:2], after.tracked.evidence[late, 0:2]
    a_at, b_at = _positions(before, early, info), _positions(after, late, info)
    a_size = before.tracked.evidence[early][:, [2, 5]]
    b_size = after.tracked.evidence[late][:, [2, 5]]
    pairs: list[tuple[int, int, int, int]] = []  # (a, slot, b, slot)
    for sa in (0, 1):
        for sb in (0, 1):
            for a in np.unique(a_ids[:, sa][a_ids[:, sa] >= 0]):
                for b in np.unique(b_ids[:, sb][b_ids[:, sb] >= 0]):
                    pairs.append((int(a), sa, int(b), sb))
    a_list = sorted({(a, sa) for a, sa, _, _ in pairs})
    b_list = sorted({(b, sb) for _, _, b, sb in pairs})
    cost = np.full((len(a_list), len(b_list)), NEVER)
    shared = np.zeros(cost.shape, np.int64)
    for a, sa, b, sb in pairs:
        both = (a_ids[:, sa] == a) & (b_ids[:, sb] == b)
        size = np.fmax(a_size[both, sa], b_size[both, sb])  # face size px, NaN: bodies only
        size = np.where(np.isfinite(size), size, 0.1 * info.height)  # as the tracker assumes
        apart = np.hypot(*(a_at[both, sa] - b_at[both, sb]).T) / size
        apart = apart[np.isfinite(apart)]
        i, j = a_list.index((a, sa)), b_list.index((b, sb))
        shared[i, j] = len(apart)
        if len(apart) >= MIN_SHARED and np.median(apart) <= SAME_PERSON:
            cost[i, j] = float(np.median(apart))
    rows, cols = linear_sum_assignment(cost) if cost.size else ([], [])
    ids: dict[int, int] = {}
    same = crossed = 0
    for i, j in zip(rows, cols, strict=True):
        if cost[i, j] >= NEVER:
            continue
        (a, sa), (b, sb) = a_list[i], b_list[j]
        ids[b] = seam.ids[a]
        if (sa != sb) != seam.swap:  # slots of the video, not of the chunk
            crossed += int(shared[i, j])
        else:
            same += int(shared[i, j])
    for j, (b, _) in enumerate(b_list):  # a person the new chunk split into tracklets
        i = int(np.argmin(cost[:, j])) if len(a_list) else 0
        if b in ids or not len(a_list) or cost[i, j] >= NEVER:
            continue
        number = seam.ids[a_list[i][0]]
        if not any(_together(after.tracked, b, o) for o, n in ids.items() if n == number):
            ids[b] = number
    return _Seam(crossed > same, _numbering(after.tracked, ids, first))


def _together(tracked: Tracked, a: int, b: int) -> bool:
    """Whether tracklets ``a`` and ``b`` are ever seen in one frame: then two people."""
    ids = tracked.evidence[:, 0:2]
    return bool(((ids == a).any(axis=1) & (ids == b).any(axis=1)).any())


def _positions(part: ChunkFile, frames: np.ndarray, info: VideoInfo) -> np.ndarray:
    """(n, 2 slots, 2) pixel positions of each slot's face centre, else of its pose's head
    (mean of the face points 0..10), in the frames ``frames`` selects; NaN where unseen."""
    t_s = part.tracked.t_s[frames]
    n = len(t_s)
    at = np.full((n, 2, 2), np.nan)
    if not n:
        return at
    columns = ["frame", "role", "face_cx", "face_cy", "pose"]
    bounds = [("t_s", ">=", float(t_s[0])), ("t_s", "<=", float(t_s[-1]))]
    try:
        table = pq.read_table(str(part.path), columns=columns, filters=bounds)
    except (pa.ArrowException, OSError) as error:
        raise _damaged(part, error) from None
    table = table.sort_by([("frame", "ascending"), ("role", "ascending")])
    if table.num_rows != 2 * n:
        raise _damaged(part, ValueError("rows missing in the overlap"))
    face = np.column_stack([table.column(c).to_numpy(zero_copy_only=False) for c in columns[2:4]])
    pose = _floats(table.column("pose")).reshape(-1, POSE_SIZE // 4, 4)[:, :11, :2]
    seen = np.isfinite(pose).all(axis=2).sum(axis=1)[:, None]
    with np.errstate(invalid="ignore"):  # 0 / 0: no body
        head = np.nansum(pose, axis=1) / seen
    place = np.where(np.isfinite(face).all(axis=1, keepdims=True), face, head)
    return (place * (info.width, info.height)).reshape(n, 2, 2)


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pa.concat_arrays([c.flatten() for c in column.chunks]), np.float64)


def _joined(parts: Sequence[ChunkFile], seams: Sequence[_Seam]) -> Tracked:
    """The kept frames of all chunks as one run: slots exchanged, tracklets renumbered."""
    frames, times, tables = [], [], []
    for part, seam, cut in zip(parts, seams, _cuts(parts), strict=True):
        keep = part.tracked.t_s >= cut
        table = part.tracked.evidence[keep]
        if seam.swap:
            table = table[:, SWAPPED]
        local = table[:, 0:2].astype(np.int64)
        renamed = [seam.ids[int(i)] if i >= 0 else -1 for i in local.ravel()]
        table[:, 0:2] = np.asarray(renamed, np.float64).reshape(local.shape)
        frames.append(part.tracked.frame[keep])
        times.append(part.tracked.t_s[keep])
        tables.append(table)
    joined = Tracked(np.concatenate(frames), np.concatenate(times), np.concatenate(tables))
    if (np.diff(joined.frame) <= 0).any():
        raise ChunkFileError("the chunks' frames overlap or run backwards; extract them again")
    return joined


def _copy_rows(part: ChunkFile, swap: bool, cut: float, writer: RowWriter) -> None:
    """The rows of ``part`` from ``cut`` on into ``writer``, with slot labels exchanged if
    ``swap``; a row group at a time, so memory stays flat."""
    role_at = SCHEMA.names.index("role")
    try:
        parquet = pq.ParquetFile(str(part.path))
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group)
            table = table.filter(pc.greater_equal(table.column("t_s"), cut))
            if not table.num_rows:
                continue
            if swap:
                role = table.column(role_at)
                exchanged = pc.if_else(pc.equal(role, TRACKS[0]), TRACKS[1], TRACKS[0])
                table = table.set_column(role_at, "role", exchanged)
            for batch in table.combine_chunks().to_batches():
                writer.write_batch(batch)
    except (pa.ArrowException, OSError) as error:
        raise _damaged(part, error) from None


def _damaged(part: ChunkFile, error: Exception) -> ChunkFileError:
    return ChunkFileError(
        f"{part.path}: the chunk file is damaged ({type(error).__name__}: {error}); "
        f"extract chunk {part.chunk.index} again"
    )
