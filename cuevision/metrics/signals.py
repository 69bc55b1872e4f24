"""Continuous signals for synchrony: a table with ``t_s`` and ``child.<name>``/``caregiver.<name>``.

The ``features.parquet`` that ``cuevision process`` writes is such a table, read by
:func:`cuevision.features.read_features`; a CSV with the same columns works too. Every name that
exists for both roles becomes one pair, except the visibility masks that
:data:`cuevision.features.names.MASK_FEATURES` lists (``child.face_visible``, ...): they say where
a person was seen, not how they moved, and the features are already NaN where nobody was seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cuevision.errors import CuevisionError
from cuevision.features.io import read_features
from cuevision.features.names import MASK_FEATURES
from cuevision.types import FeatureSeries


class SignalsError(CuevisionError):
    """A signals table that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Signals:
    t_s: np.ndarray  # (T,) uniform
    fps: float
    pairs: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (child, caregiver)

    def valid_fraction(self, name: str) -> float:
        child, caregiver = self.pairs[name]
        return float((np.isfinite(child) & np.isfinite(caregiver)).mean()) if child.size else 0.0


def read_signals(path: Path) -> Signals:
    """Read features.parquet (or a CSV signals table) and pair up its child/caregiver columns."""
    path = Path(path)
    if not path.is_file():
        raise SignalsError(f"{path}: no such signals file")
    if path.suffix.lower() == ".parquet":
        series = read_features(path)
        _grid_step(path, series.t_s)
    else:
        series = _read_csv(path)
    pairs = {}
    for name in series.names:
        role, _, base = name.partition(".")
        if role == "child" and base not in MASK_FEATURES and f"caregiver.{base}" in series.names:
            pairs[base] = (
                series.column(name).astype(np.float64),
                series.column(f"caregiver.{base}").astype(np.float64),
            )
    if not pairs:
        raise SignalsError(
            f"{path}: no child.<name>/caregiver.<name> column pairs found "
            f"(columns: {', '.join(series.names[:12])})"
        )
    return Signals(np.asarray(series.t_s, dtype=np.float64), series.fps, pairs)


def _read_csv(path: Path) -> FeatureSeries:
    """A CSV signals table as a FeatureSeries on its own grid (values that are not numbers: NaN)."""
    import pandas as pd

    try:
        table = pd.read_csv(path)
    except Exception as error:  # pandas raises many types for a broken file
        raise SignalsError(
            f"{path}: cannot read it as CSV ({type(error).__name__}: {error}); "
            "pass features.parquet from `cuevision process`"
        ) from None
    if "t_s" not in table.columns:
        raise SignalsError(
            f"{path}: no t_s column; a signals table needs t_s and child.*/caregiver.*"
        )
    t = pd.to_numeric(table["t_s"], errors="coerce").to_numpy(dtype=float)
    step = _grid_step(path, t)
    names = tuple(str(c) for c in table.columns if c != "t_s")
    values = (
        np.stack(
            [pd.to_numeric(table[n], errors="coerce").to_numpy(dtype=float) for n in names], axis=1
        )
        if names
        else np.zeros((t.size, 0))
    )
    return FeatureSeries(t, round(1.0 / step, 6), names, values)


def _grid_step(path: Path, t: np.ndarray) -> float:
    """The step of a uniform time grid; anything else is refused."""
    if t.size < 2 or not np.isfinite(t).all() or (np.diff(t) <= 0).any():
        raise SignalsError(f"{path}: t_s must hold at least two finite, strictly increasing times")
    step = float(np.median(np.diff(t)))
    if np.abs(np.diff(t) - step).max() > 0.1 * step:
        raise SignalsError(
            f"{path}: t_s is not a uniform grid (median step {step:.4f} s); resample the signals "
            f"onto a uniform grid, as features.parquet is"
        )
    return step
