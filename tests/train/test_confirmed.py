"""Confirmed labels: positives, confirmed negatives, and "not coded" left unlabelled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cuevision.features import FEATURE_NAMES, read_features, write_features
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.train.data import DataSetError, confirmed_targets, load_dataset, real_sessions
from cuevision.types import Event

SCHEME = load_scheme()
T_S = np.arange(60) / 10.0  # 6 s at 10 Hz


def test_statuses_and_coded_types() -> None:
    """accepted/edited/added are 1; a rejected candidate is 0 even for a type nobody coded; time
    outside every event is 0 only for the coded types and NaN (no label) for the others."""
    events = [
        Event("child", "child_smiles", 1.0, 2.0, status="accepted"),
        Event("child", "child_smiles", 3.0, 3.5, status="edited"),
        Event("caregiver", "caregiver_smiles", 0.5, 1.0, status="added"),
        Event("child", "child_reaches", 4.0, 5.0, status="rejected"),
        Event("child", "child_looks_at_caregiver", 2.0, 2.5),  # a coding without statuses
    ]
    coded = {"child_smiles", "caregiver_smiles", "child_looks_at_caregiver"}
    y = confirmed_targets(events, SCHEME.type_names, T_S, coded)
    col = {name: y[:, k] for k, name in enumerate(SCHEME.type_names)}
    assert col["child_smiles"][10:20].tolist() == [1.0] * 10
    assert col["child_smiles"][30:35].tolist() == [1.0] * 5
    assert col["child_smiles"][20:30].tolist() == [0.0] * 10
    assert col["caregiver_smiles"][5:10].tolist() == [1.0] * 5
    assert col["child_looks_at_caregiver"][20:25].tolist() == [1.0] * 5
    reaches = col["child_reaches"]  # not coded: only the rejected candidate is labelled
    assert reaches[40:50].tolist() == [0.0] * 10
    assert np.isnan(reaches[:40]).all() and np.isnan(reaches[50:]).all()
    assert np.isnan(col["child_distress"]).all()
    with pytest.raises(DataSetError, match="not 'candidate'"):
        confirmed_targets(
            [Event("child", "child_smiles", 1.0, 2.0, status="candidate")],
            SCHEME.type_names,
            T_S,
            coded,
        )


def test_manifest_sessions_learn_from_their_confirmed_files(tmp_path: Path) -> None:
    """A session with events is 'confirmed' (its rejected.csv adds negatives, its coded_types
    overrides the manifest's); one without gets weak labels; references ride along."""
    series, _ = simulate_dyad(
        3, duration_s=10.0, fps=15.0, scheme=SCHEME, feature_names=FEATURE_NAMES
    )
    for name in ("a", "b"):
        write_features(tmp_path / name / "features.parquet", series, meta={"source": "test"})
    header = "actor,type,onset_s,offset_s,status\n"
    (tmp_path / "a.csv").write_text(header + "child,child_smiles,1.0,2.0,accepted\n")
    (tmp_path / "a-rej.csv").write_text(header + "child,child_reaches,4.0,5.0,rejected\n")
    (tmp_path / "a-c2.csv").write_text("actor,type,onset_s,offset_s\nchild,child_smiles,1.2,2\n")
    manifest = tmp_path / "m.yaml"
    sessions: list[dict[str, object]] = [
        {
            "id": "a",
            "dyad": "A",
            "split": "train",
            "output": "a",
            "events": "a.csv",
            "rejected": "a-rej.csv",
            "coded_types": ["child_smiles"],
            "references": {"c2": "a-c2.csv"},
        },
        {"id": "b", "dyad": "B", "split": "train", "output": "b"},
    ]
    manifest.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "held_out_dyads": [],
                "coded_types": ["child_smiles", "caregiver_smiles"],
                "sessions": sessions,
            }
        )
    )
    dataset = load_dataset(manifest)
    a, b = real_sessions(
        dataset,
        "train",
        scheme=SCHEME,
        read=lambda e: read_features(dataset.resolve(e.output or Path()) / "features.parquet"),
        label_frames=lambda s, sc: np.zeros((len(s.t_s), len(sc.type_names)), np.float32),
        label_events=lambda s, sc: [],
    )
    assert (a.source, b.source) == ("confirmed", "weak")
    k = {name: i for i, name in enumerate(SCHEME.type_names)}
    assert np.nansum(a.targets[:, k["child_smiles"]]) == 15
    assert np.isnan(a.targets[:, k["caregiver_smiles"]]).all()  # the session's own list wins
    assert (a.targets[60:75, k["child_reaches"]] == 0).all()
    assert [e.type for e in a.truth] == ["child_smiles"]
    assert [(c, len(ev)) for c, ev in a.references] == [("c2", 1)]
    snapshot = dataset.snapshot
    (tmp_path / "a-rej.csv").write_text(header + "child,child_reaches,4.0,5.5,rejected\n")
    assert load_dataset(manifest).snapshot != snapshot  # every label file is in the hash
    bad = {**sessions[0], "coded_types": ["child_sneezes"]}
    manifest.write_text(yaml.safe_dump({"name": "t", "held_out_dyads": [], "sessions": [bad]}))
    with pytest.raises(DataSetError, match="child_sneezes are not types of the scheme"):
        real_sessions(
            load_dataset(manifest),
            "train",
            scheme=SCHEME,
            read=lambda e: series,
            label_frames=lambda s, sc: np.zeros((0, 0)),
            label_events=lambda s, sc: [],
        )


def test_inputs_are_what_every_real_session_measures() -> None:
    """Features written by another version (a column fewer) and columns never measured (NaN
    throughout) are not model inputs; simulated sessions do not widen the set."""
    from dataclasses import replace

    from cuevision.train.data import Session
    from cuevision.train.run import training_features

    series, truth = simulate_dyad(
        4, duration_s=5.0, fps=15.0, scheme=SCHEME, feature_names=FEATURE_NAMES
    )
    blank = series.values.copy()
    blank[:, series.names.index("child.smile")] = np.nan
    older = replace(series, names=series.names[1:], values=series.values[:, 1:])
    y = np.zeros((len(series.t_s), len(SCHEME.type_names)), np.float32)
    sessions = [
        Session("sim", "sim", series, y, tuple(truth), "simulated"),
        Session("a", "A", replace(series, values=blank), y, (), "confirmed"),
        Session("b", "B", older, y, (), "weak"),
    ]
    names = training_features(sessions)
    assert FEATURE_NAMES[0] not in names and "child.smile" in names  # b measures it
    assert names == [n for n in FEATURE_NAMES[1:] if np.isfinite(older.column(n)).any()]
    sessions[2] = Session("b", "B", replace(older, values=older.values * np.nan), y, (), "weak")
    assert "child.smile" not in training_features(sessions)
    assert training_features(sessions[:1]) == list(FEATURE_NAMES)
