"""Continuous signals for synchrony: a table with ``t_s`` and ``child.<name>``/``caregiver.<name>``.

The ``features.parquet`` that ``cuevision process`` writes is such a table; a CSV with the same
columns works too. Every name that exists for both roles becomes one pair, except visibility
masks (columns holding only 0 and 1 for both roles, like ``child.face_visible``): they say where
a person was seen, not how they moved, and the features are already NaN where nobody was seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cuevision.errors import CuevisionError


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


def is_mask(values: np.ndarray) -> bool:
    """True for a 0/1 indicator column (NaN allowed); an all-NaN column is a signal with no data."""
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.isin(finite, (0.0, 1.0)).all())


def read_signals(path: Path) -> Signals:
    """Read a Parquet or CSV signals table and pair up its child/caregiver columns."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise SignalsError(f"{path}: no such signals file")
    parquet = path.suffix.lower() == ".parquet"
    try:
        table = pd.read_parquet(path) if parquet else pd.read_csv(path)
    except Exception as error:  # pyarrow and pandas raise many types for a broken file
        raise SignalsError(
            f"{path}: cannot read it as {'Parquet' if parquet else 'CSV'} "
            f"({type(error).__name__}: {error}); pass features.parquet from `cuevision process`"
        ) from None
    if "t_s" not in table.columns:
        raise SignalsError(
            f"{path}: no t_s column; a signals table needs t_s and child.*/caregiver.*"
        )
    t = pd.to_numeric(table["t_s"], errors="coerce").to_numpy(dtype=float)
    if t.size < 2 or not np.isfinite(t).all() or (np.diff(t) <= 0).any():
        raise SignalsError(f"{path}: t_s must hold at least two finite, strictly increasing times")
    step = float(np.median(np.diff(t)))
    if np.abs(np.diff(t) - step).max() > 0.1 * step:
        raise SignalsError(
            f"{path}: t_s is not a uniform grid (median step {step:.4f} s); resample the signals "
            f"onto a uniform grid, as features.parquet is"
        )
    names = [
        c.split(".", 1)[1] for c in table.columns if isinstance(c, str) and c.startswith("child.")
    ]
    pairs = {}
    for name in names:
        if f"caregiver.{name}" not in table.columns:
            continue
        child = pd.to_numeric(table[f"child.{name}"], errors="coerce").to_numpy(dtype=float)
        caregiver = pd.to_numeric(table[f"caregiver.{name}"], errors="coerce").to_numpy(dtype=float)
        if not (is_mask(child) and is_mask(caregiver)):
            pairs[name] = (child, caregiver)
    if not pairs:
        raise SignalsError(
            f"{path}: no child.<name>/caregiver.<name> column pairs found "
            f"(columns: {', '.join(map(str, table.columns[:12]))})"
        )
    return Signals(t, round(1.0 / step, 6), pairs)
