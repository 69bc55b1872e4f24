"""``landmarks.parquet``: one row per analysed frame x role, written streaming in row groups.

Schema (stable; downstream tools rely on the first seven columns):

===============  =====================================  ============================================
column           type                                   meaning
===============  =====================================  ============================================
``frame``        int64                                  index of the frame in decode order
                                                        (0-based)
``t_s``          float64                                true PTS seconds from the first frame
``role``         string                                 ``caregiver`` or ``child``
``face_score``   float32                                face detection confidence, 0.5 for a
                                                        face found by its mesh alone (followed
                                                        from the last frame or near its body); 0
                                                        where none
``pose_score``   float32                                mean visibility of pose landmarks 0..12
                                                        (head and shoulders); 0 where no pose, or
                                                        where that body never showed a face
``face_cx``      float32                                face centre (middle of the landmarks' box,
``face_cy``      float32                                else of the detection's box), normalised
                                                        0..1 on the upright frame; NaN where no
                                                        face
``face``         fixed_size_list<float32>[1434]         478 face-mesh points (with iris) x, y, z,
                                                        point-major: ``reshape(478, 3)``; NaN where
                                                        no face
``pose``         fixed_size_list<float32>[132]          33 pose points x, y, z, visibility:
                                                        ``reshape(33, 4)``; NaN where no pose
``face_source``  int8                                   what found the face: 2 the mesh, 1 a face
                                                        detection alone (a profile or a face cut
                                                        by the edge, where the mesh fails:
                                                        face_cx, face_cy from the box, ``face``
                                                        NaN), 0 none
===============  =====================================  ============================================

``face_source`` came with landmarks version 2; files without it read as before (a face is a mesh).

Coordinates are MediaPipe's normalised image coordinates of the upright (rotated) frame: x across
the width, y down the height, z on the scale of x. Every analysed frame has exactly one row per
role, rows sorted by (frame, role). The schema metadata key ``cuevision`` holds JSON with
``width``, ``height``, ``role_confidence``, ``role_method``, ``settings`` and ``settings_hash``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cuevision.errors import CuevisionError
from cuevision.types import ROLES, LandmarkTracks, PersonTrack, Role

N_FACE, N_POSE = 478, 33
FACE_SIZE, POSE_SIZE = N_FACE * 3, N_POSE * 4
METADATA_KEY = b"cuevision"
ROWS_PER_GROUP = 1024  # ~7 MB of landmarks: memory stays flat whatever the video's length

SCHEMA = pa.schema(
    [
        ("frame", pa.int64()),
        ("t_s", pa.float64()),
        ("role", pa.string()),
        ("face_score", pa.float32()),
        ("pose_score", pa.float32()),
        ("face_cx", pa.float32()),
        ("face_cy", pa.float32()),
        ("face", pa.list_(pa.float32(), FACE_SIZE)),
        ("pose", pa.list_(pa.float32(), POSE_SIZE)),
        ("face_source", pa.int8()),
    ]
)
REQUIRED = SCHEMA.names[:9]  # every version's columns; face_source is newer
FROM_MESH, FROM_BOX = 2, 1  # face_source values (0: no face)


class LandmarksFileError(CuevisionError):
    """A landmarks file that is missing, damaged or of another schema."""


class RowWriter:
    """Streams rows into a Parquet file, a row group at a time (a context manager).

    ``label`` is the role column's value; while tracking, it is a track name that ``relabel``
    later turns into a role.
    """

    def __init__(self, path: Path, metadata: dict[str, Any] | None = None) -> None:
        schema = SCHEMA
        if metadata is not None:
            schema = SCHEMA.with_metadata({METADATA_KEY: json.dumps(metadata).encode()})
        self._writer = pq.ParquetWriter(str(path), schema, compression="zstd")
        self._schema = schema
        self._rows: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}

    def add(
        self,
        frame: int,
        t_s: float,
        label: str,
        face: np.ndarray | None,
        face_score: float,
        pose: np.ndarray | None,
        pose_score: float,
        box: tuple[float, float] | None = None,
    ) -> None:
        """One row; without a mesh (``face`` None), ``box`` is the centre of a face detection."""
        rows = self._rows
        rows["frame"].append(frame)
        rows["t_s"].append(t_s)
        rows["role"].append(label)
        if face is None:
            rows["face_score"].append(0.0 if box is None else face_score)
            rows["face_cx"].append(np.nan if box is None else min(max(box[0], 0.0), 1.0))
            rows["face_cy"].append(np.nan if box is None else min(max(box[1], 0.0), 1.0))
            rows["face"].append(np.full(FACE_SIZE, np.nan, np.float32))
            rows["face_source"].append(0 if box is None else FROM_BOX)
        else:
            rows["face_source"].append(FROM_MESH)
            rows["face_score"].append(face_score)
            low, high = face[:, :2].min(axis=0), face[:, :2].max(axis=0)
            centre = np.clip((low + high) / 2, 0.0, 1.0)
            rows["face_cx"].append(float(centre[0]))
            rows["face_cy"].append(float(centre[1]))
            rows["face"].append(np.asarray(face, np.float32).reshape(-1))
        rows["pose_score"].append(0.0 if pose is None else pose_score)
        rows["pose"].append(
            np.full(POSE_SIZE, np.nan, np.float32)
            if pose is None
            else np.asarray(pose, np.float32).reshape(-1)
        )

    def end_frame(self) -> None:
        """Flush a row group once enough whole frames are buffered (groups never split a frame)."""
        if len(self._rows["frame"]) >= ROWS_PER_GROUP:
            self.flush()

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch.replace_schema_metadata(self._schema.metadata))

    def flush(self) -> None:
        if not self._rows["frame"]:
            return
        arrays = [
            pa.array(self._rows[name], type=field.type)
            if field.name not in ("face", "pose")
            else pa.FixedSizeListArray.from_arrays(
                pa.array(np.concatenate(self._rows[name]), pa.float32()), field.type.list_size
            )
            for name, field in zip(SCHEMA.names, SCHEMA, strict=True)
        ]
        self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self._schema))
        self._rows = {name: [] for name in SCHEMA.names}

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def relabel(
    source: Path,
    target: Path,
    tracks: tuple[str, str],
    child_slot: np.ndarray,
    keep_pose: np.ndarray,
    metadata: dict[str, Any],
) -> None:
    """Copy ``source`` (rows labelled ``tracks[slot]``) to ``target`` with roles, a row group at
    a time: the row of slot ``child_slot[k]`` of the k-th analysed frame becomes the child's,
    and its pose, and a face found by a detection alone (``face_source`` 1), are blanked (NaN,
    score 0) where ``keep_pose[k, slot]`` is False."""
    start = 0
    pose_at, score_at = SCHEMA.names.index("pose"), SCHEMA.names.index("pose_score")
    with RowWriter(target, metadata) as writer:
        for batch in _batches(source):
            n = batch.num_rows
            slot = (np.asarray(batch.column("role").to_pylist()) == tracks[1]).astype(np.int8)
            frame_number = start + np.arange(n) // 2  # two rows per frame, groups never split one
            child = slot == child_slot[frame_number]
            role = pa.array(np.where(child, "child", "caregiver"), pa.string())
            batch = batch.set_column(SCHEMA.names.index("role"), "role", role)
            drop = ~keep_pose[frame_number, slot]
            if drop.any():
                pose = _flat(pa.chunked_array([batch.column(pose_at)])).reshape(n, POSE_SIZE).copy()
                pose[drop] = np.nan
                score = batch.column(score_at).to_numpy(zero_copy_only=False).copy()
                score[drop] = 0.0
                flat = pa.array(pose.reshape(-1), pa.float32())
                batch = batch.set_column(
                    pose_at, "pose", pa.FixedSizeListArray.from_arrays(flat, POSE_SIZE)
                )
                batch = batch.set_column(score_at, "pose_score", pa.array(score, pa.float32()))
                batch = _drop_boxes(batch, drop)
            order = pc.sort_indices(batch, [("frame", "ascending"), ("role", "ascending")])
            writer.write_batch(batch.take(order))
            start += n // 2


def _drop_boxes(batch: pa.RecordBatch, drop: np.ndarray) -> pa.RecordBatch:
    """``batch`` without the faces found by a detection alone in the rows ``drop`` marks."""
    source_at = SCHEMA.names.index("face_source")
    source = batch.column(source_at).to_numpy(zero_copy_only=False).copy()
    boxes = drop & (source == FROM_BOX)
    if not boxes.any():
        return batch
    source[boxes] = 0
    batch = batch.set_column(source_at, "face_source", pa.array(source, pa.int8()))
    for name, blank in (("face_score", 0.0), ("face_cx", np.nan), ("face_cy", np.nan)):
        at = SCHEMA.names.index(name)
        values = batch.column(at).to_numpy(zero_copy_only=False).copy()
        values[boxes] = blank
        batch = batch.set_column(at, name, pa.array(values, pa.float32()))
    return batch


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    parquet = pq.ParquetFile(str(path))
    for group in range(parquet.num_row_groups):  # one batch per group: frames stay whole
        yield from parquet.read_row_group(group).combine_chunks().to_batches()


def read_metadata(path: Path) -> dict[str, Any]:
    """The ``cuevision`` JSON of a landmarks file's schema metadata."""
    schema = _schema(path)
    return dict(json.loads((schema.metadata or {})[METADATA_KEY]))


def _schema(path: Path) -> pa.Schema:
    path = Path(path)
    if not path.is_file():
        raise LandmarksFileError(f"{path}: no such file; run `cuevision landmarks VIDEO -o DIR`")
    try:
        schema = pq.read_schema(str(path))
    except (pa.ArrowInvalid, OSError) as error:
        raise LandmarksFileError(
            f"{path}: not a readable Parquet file ({error}); run `cuevision landmarks` again"
        ) from None
    missing = [name for name in REQUIRED if name not in schema.names]
    if missing or METADATA_KEY not in (schema.metadata or {}):
        raise LandmarksFileError(
            f"{path}: not a cuevision landmarks file (missing {missing or 'metadata'}); "
            "run `cuevision landmarks` again"
        )
    return schema


def read_landmarks(path: Path) -> LandmarkTracks:
    """Both roles' landmarks, aligned over the analysed frames."""
    meta = read_metadata(path)
    table = pq.read_table(str(path), columns=list(REQUIRED))
    roles: dict[Role, PersonTrack] = {}
    frames: np.ndarray | None = None
    times: np.ndarray | None = None
    for role in ROLES:
        part = table.filter(pc.equal(table.column("role"), role))
        part = part.sort_by("frame")
        frame = part.column("frame").to_numpy().astype(np.int64)
        if frames is None:
            frames, times = frame, part.column("t_s").to_numpy().astype(np.float64)
        elif not np.array_equal(frame, frames):
            raise LandmarksFileError(f"{path}: roles cover different frames; the file is damaged")
        n = len(frame)
        roles[role] = PersonTrack(
            face=_flat(part.column("face")).reshape(n, N_FACE, 3),
            face_score=part.column("face_score").to_numpy().astype(np.float32),
            pose=_flat(part.column("pose")).reshape(n, N_POSE, 4),
            pose_score=part.column("pose_score").to_numpy().astype(np.float32),
        )
    assert frames is not None and times is not None
    return LandmarkTracks(
        frame=frames,
        t_s=times,
        width=int(meta["width"]),
        height=int(meta["height"]),
        roles=roles,
        role_confidence=float(meta["role_confidence"]),
    )


def _flat(column: pa.ChunkedArray) -> np.ndarray:
    if column.num_chunks == 0:
        return np.zeros(0, np.float32)
    values = pa.concat_arrays([chunk.flatten() for chunk in column.chunks])
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float32)
