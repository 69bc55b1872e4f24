"""landmarks.parquet: the documented schema, streaming row groups, and damaged files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cuevision.landmarks import LandmarksFileError, read_landmarks, read_metadata
from cuevision.landmarks.io import ROWS_PER_GROUP, SCHEMA, RowWriter, relabel

Outdir = tuple[Path, subprocess.CompletedProcess[str]]


def test_schema_of_a_real_output(synthetic_landmarks: Outdir) -> None:
    path = synthetic_landmarks[0] / "landmarks.parquet"
    schema = pq.read_schema(path)
    stable = {
        "frame": pa.int64(),
        "t_s": pa.float64(),
        "role": pa.string(),
        "face_score": pa.float32(),
        "pose_score": pa.float32(),
        "face_cx": pa.float32(),
        "face_cy": pa.float32(),
    }
    for name, kind in stable.items():
        assert schema.field(name).type == kind, name
    assert schema.field("face").type == pa.list_(pa.float32(), 478 * 3)
    assert schema.field("pose").type == pa.list_(pa.float32(), 33 * 4)
    meta = read_metadata(path)
    assert (meta["width"], meta["height"]) == (640, 360)
    assert 0.0 <= meta["role_confidence"] <= 1.0
    assert len(meta["settings_hash"]) == 12 and meta["settings"]["analysis_fps"] == 15.0

    table = pq.read_table(path).to_pandas()
    roles = table.groupby("frame")["role"].apply(lambda r: sorted(r) == ["caregiver", "child"])
    assert roles.all() and len(roles) == 300
    missing = table["face_score"] == 0
    assert table.loc[missing, ["face_cx", "face_cy"]].isna().all().all()
    found = table.loc[~missing]
    assert found["face_cx"].between(0, 1).all() and found["face_cy"].between(0, 1).all()
    assert (table.loc[table["pose_score"] == 0, "pose"].apply(lambda p: np.isnan(p).all())).all()


def test_rows_stream_in_row_groups_and_relabel_per_frame(tmp_path: Path) -> None:
    """Three frames more than a row group; the child is slot 1, then slot 0 from frame 600::

    frame     0 ............ 599 | 600 ........ 602+ROWS/2
    track0    caregiver          | child
    track1    child              | caregiver
    """
    n = ROWS_PER_GROUP // 2 + 3 + 600
    source, target = tmp_path / "tracks.parquet", tmp_path / "roles.parquet"
    face = np.random.default_rng(0).random((478, 3), dtype=np.float32)
    with RowWriter(source) as writer:
        for k in range(n):
            writer.add(k, k / 15, "track0", face, 0.9, None, 0.0)
            writer.add(k, k / 15, "track1", None, 0.0, np.ones((33, 4)), 0.7)
            writer.end_frame()
    assert pq.ParquetFile(source).num_row_groups > 1
    child_slot = np.where(np.arange(n) < 600, 1, 0).astype(np.int8)
    keep_pose = np.ones((n, 2), bool)
    keep_pose[600:, 1] = False
    meta = {"width": 64, "height": 48, "role_confidence": 0.5}
    relabel(source, target, ("track0", "track1"), child_slot, keep_pose, meta)
    tracks = read_landmarks(target)
    assert len(tracks.frame) == n and tracks.frame[-1] == n - 1
    care, child = tracks.roles["caregiver"], tracks.roles["child"]
    assert (care.face_score[:600] == np.float32(0.9)).all() and (care.face_score[600:] == 0).all()
    assert (child.pose_score[:600] == np.float32(0.7)).all() and (child.face_score[600:] > 0).all()
    np.testing.assert_array_equal(care.face[0], face)
    assert np.isnan(child.face[0]).all() and np.isnan(care.pose[0]).all()
    assert (care.pose_score == 0).all() and np.isnan(care.pose[600:]).all()


@pytest.mark.parametrize(
    "content",
    [b"", b"not parquet at all", b"PAR1" + b"\0" * 40],
    ids=["empty", "text", "truncated"],
)
def test_damaged_files_raise_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "landmarks.parquet"
    path.write_bytes(content)
    with pytest.raises(LandmarksFileError, match="run `cuevision landmarks"):
        read_landmarks(path)


def test_other_parquet_and_missing_file(tmp_path: Path) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"frame": [1, 2]}), other)
    with pytest.raises(LandmarksFileError, match="not a cuevision landmarks file"):
        read_landmarks(other)
    with pytest.raises(LandmarksFileError, match="no such file"):
        read_landmarks(tmp_path / "absent.parquet")
    assert SCHEMA.names[:3] == ["frame", "t_s", "role"]
