"""features.parquet: a round trip keeps every value, NaN and the metadata; bad files say why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cuevision.features import (
    FEATURE_NAMES,
    FEATURE_VERSION,
    FeaturesError,
    read_feature_meta,
    read_features,
    write_features,
)
from cuevision.types import FeatureSeries


def series(n: int = 40) -> FeatureSeries:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    values[5:9, 3] = np.nan
    return FeatureSeries(t_s=np.arange(n) / 15.0, fps=15.0, names=FEATURE_NAMES, values=values)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "features.parquet"
    original = series()
    write_features(path, original, meta={"landmarks_hash": "abc", "pipeline_version": "0.1"})
    back = read_features(path)
    assert back.names == original.names and back.fps == 15.0
    np.testing.assert_array_equal(back.t_s, original.t_s)
    np.testing.assert_array_equal(back.values, original.values)  # NaN compare equal here
    meta = read_feature_meta(path)
    assert meta["fps"] == 15.0 and meta["feature_version"] == FEATURE_VERSION
    assert meta["landmarks_hash"] == "abc" and len(meta["config_hash"]) == 16
    table = pq.read_table(path)
    assert table.column_names == ["t_s", *FEATURE_NAMES]
    assert table.schema.field("child.yaw").type == pa.float32()
    assert table.schema.field("t_s").type == pa.float64()


def test_config_hash_follows_rate_and_names(tmp_path: Path) -> None:
    a, b = series(), series()
    write_features(tmp_path / "a.parquet", a, meta={})
    slower = FeatureSeries(t_s=a.t_s * 1.5, fps=10.0, names=a.names, values=a.values)
    write_features(tmp_path / "b.parquet", b, meta={})
    write_features(tmp_path / "c.parquet", slower, meta={})
    hashes = [read_feature_meta(tmp_path / f"{k}.parquet")["config_hash"] for k in "abc"]
    assert hashes[0] == hashes[1] != hashes[2]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FeaturesError, match="not found"):
        read_features(tmp_path / "nope.parquet")


def test_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "features.parquet"
    path.write_text("t_s,child.yaw\n0,1\n")
    with pytest.raises(FeaturesError, match="not a readable Parquet"):
        read_features(path)


def test_truncated(tmp_path: Path) -> None:
    path = tmp_path / "features.parquet"
    write_features(path, series(), meta={})
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(FeaturesError, match="not a readable Parquet"):
        read_features(path)


def test_foreign_parquet(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0]}), path)
    with pytest.raises(FeaturesError, match="no cuevision metadata"):
        read_features(path)


def test_without_time_column(tmp_path: Path) -> None:
    path = tmp_path / "features.parquet"
    table = pa.table({"child.yaw": [1.0]}).replace_schema_metadata({b"cuevision": b'{"fps": 15}'})
    pq.write_table(table, path)
    with pytest.raises(FeaturesError, match="no t_s column"):
        read_features(path)
