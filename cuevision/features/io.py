"""features.parquet: ``t_s`` (float64) plus one float32 column per feature, metadata in the schema.

The schema metadata key ``cuevision`` holds JSON: ``fps``, ``feature_version``, ``config_hash``
(of the version, rate and column names) and whatever provenance the caller adds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cuevision.features.names import FEATURE_VERSION
from cuevision.features.timegrid import FeaturesError
from cuevision.files import atomic_path, make_private_dir
from cuevision.types import FeatureSeries

META_KEY = b"cuevision"


def config_hash(series: FeatureSeries) -> str:
    """Short hash of what the numbers mean: feature version, analysis rate and column names."""
    spec = {"feature_version": FEATURE_VERSION, "fps": series.fps, "names": list(series.names)}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def write_features(path: Path, series: FeatureSeries, *, meta: dict[str, Any]) -> None:
    """Write ``series`` to ``path`` (Parquet), with ``meta`` beside fps, version and config hash."""
    columns = {"t_s": pa.array(np.asarray(series.t_s, dtype=np.float64))}
    values = np.asarray(series.values, dtype=np.float32)
    columns.update({name: pa.array(values[:, k]) for k, name in enumerate(series.names)})
    header = {
        **meta,
        "fps": series.fps,
        "feature_version": FEATURE_VERSION,
        "config_hash": config_hash(series),
    }
    table = pa.table(columns).replace_schema_metadata({META_KEY: json.dumps(header).encode()})
    make_private_dir(Path(path).parent)
    with atomic_path(Path(path)) as partial:
        pq.write_table(table, partial)


def read_feature_meta(path: Path) -> dict[str, Any]:
    """The JSON metadata written with a features file (fps, feature_version, config_hash, ...)."""
    return _meta(_open(path), path)


def _meta(parquet: pq.ParquetFile, path: Path) -> dict[str, Any]:
    raw = (parquet.schema_arrow.metadata or {}).get(META_KEY)
    if raw is None:
        raise FeaturesError(
            f"{path} has no cuevision metadata; re-run `cuevision process` on the video"
        )
    meta: dict[str, Any] = json.loads(raw)
    return meta


def read_features(path: Path) -> FeatureSeries:
    """Read a features file written by :func:`write_features`; a bad file raises FeaturesError."""
    parquet = _open(path)
    meta = _meta(parquet, path)
    table = parquet.read()
    if "t_s" not in table.column_names:
        raise FeaturesError(f"{path} has no t_s column; it is not a cuevision features file")
    names = tuple(n for n in table.column_names if n != "t_s")
    try:
        t_s = table.column("t_s").to_numpy().astype(np.float64)
        values = (
            np.stack(
                [table.column(n).to_numpy(zero_copy_only=False).astype(np.float32) for n in names],
                axis=1,
            )
            if names
            else np.zeros((len(t_s), 0), dtype=np.float32)
        )
        fps = float(meta["fps"])
    except (KeyError, TypeError, ValueError, pa.ArrowException) as err:
        raise FeaturesError(
            f"{path} has unreadable feature columns ({err}); re-run `process`"
        ) from err
    return FeatureSeries(t_s=t_s, fps=fps, names=names, values=values)


def _open(path: Path) -> pq.ParquetFile:
    if not Path(path).is_file():
        raise FeaturesError(f"features file {path} not found; run `cuevision process` first")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise FeaturesError(
            f"{path} is not a readable Parquet file ({err}); re-run `cuevision process`"
        ) from err
