"""Signals for synchrony: features.parquet read by the one features reader, masks known by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cuevision.errors import CuevisionError
from cuevision.features import FEATURE_NAMES, PERSON_FEATURES, write_features
from cuevision.features.names import MASK_FEATURES
from cuevision.metrics.signals import SignalsError, read_signals
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad


def test_features_parquet_pairs_every_person_feature_but_the_masks(tmp_path: Path) -> None:
    series, _ = simulate_dyad(
        2, duration_s=20.0, fps=15.0, scheme=load_scheme(), feature_names=FEATURE_NAMES
    )
    path = tmp_path / "features.parquet"
    write_features(path, series, meta={})
    signals = read_signals(path)
    assert list(signals.pairs) == [n for n in PERSON_FEATURES if n not in MASK_FEATURES]
    assert signals.fps == 15.0 and np.array_equal(signals.t_s, series.t_s)
    child, caregiver = signals.pairs["smile"]
    assert child.dtype == np.float64
    assert np.array_equal(child, series.column("child.smile"), equal_nan=True)
    assert np.array_equal(caregiver, series.column("caregiver.smile"), equal_nan=True)


def test_a_zero_one_signal_is_a_signal_and_a_mask_is_known_by_name(tmp_path: Path) -> None:
    """Which columns are masks comes from the feature names, not from their values."""
    t = np.arange(0, 10, 0.1)
    talking = (np.sin(t) > 0).astype(float)
    path = tmp_path / "signals.csv"
    pd.DataFrame(
        {
            "t_s": t,
            "child.talking": talking,
            "caregiver.talking": np.roll(talking, 3),
            "child.face_visible": np.linspace(0, 1, t.size),
            "caregiver.face_visible": np.linspace(1, 0, t.size),
        }
    ).to_csv(path, index=False)
    signals = read_signals(path)
    assert list(signals.pairs) == ["talking"] and signals.fps == 10.0


def test_unusable_tables_name_the_fix(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.parquet"
    pd.DataFrame({"t_s": [0.0, 0.1], "child.x": [1.0, 2.0], "caregiver.x": [1.0, 2.0]}).to_parquet(
        foreign
    )
    with pytest.raises(CuevisionError, match="no cuevision metadata.*cuevision process"):
        read_signals(foreign)
    uneven = tmp_path / "uneven.csv"
    uneven.write_text("t_s,child.x,caregiver.x\n0,1,2\n0.1,1,2\n0.5,1,2\n")
    with pytest.raises(SignalsError, match="not a uniform grid"):
        read_signals(uneven)
    with pytest.raises(SignalsError, match="no such signals file"):
        read_signals(tmp_path / "missing.csv")
