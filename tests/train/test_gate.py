"""The promotion gate on real model folders: refused with both figures, passed, forced with a
reason, and the registry's history; the cross-dyad evaluation that it compares on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from cuevision.detect.registry import default_model, read_registry
from cuevision.events import write_events
from cuevision.features import FEATURE_NAMES, write_features
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.train.fit import FitSettings
from cuevision.train.gate import GateRefused, judge, promote
from cuevision.train.run import TrainSettings, train_model
from cuevision.types import Event
from tests.conftest import RunCli

SCHEME = load_scheme()
TINY = FitSettings(epochs=1, steps_per_epoch=2, batch=4, threads=1)


def _dataset(root: Path) -> Path:
    """Four simulated sessions of two dyads, 'coded' by two coders and a consensus."""
    sessions = []
    for number, seed in enumerate((21, 22, 23, 24)):
        series, truth = simulate_dyad(
            seed, duration_s=20.0, fps=15.0, scheme=SCHEME, feature_names=FEATURE_NAMES
        )
        sid = f"s{number}"
        write_features(root / sid / "features.parquet", series, meta={"source": "test"})
        plain = [Event(e.actor, e.type, e.onset_s, e.offset_s) for e in truth]
        write_events(root / f"{sid}.csv", plain)
        write_events(root / f"{sid}-c1.csv", plain)
        write_events(root / f"{sid}-c2.csv", [e.shifted(0.3) for e in plain[::2]])
        sessions.append(
            {
                "id": sid,
                "dyad": f"D{number % 2}",
                "split": "train",
                "output": sid,
                "events": f"{sid}.csv",
                "references": {"c1": f"{sid}-c1.csv", "c2": f"{sid}-c2.csv"},
            }
        )
    manifest = root / "manifest.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "held_out_dyads": [],
                "coding": "two simulated coders",
                "sessions": sessions,
            }
        )
    )
    return manifest


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two versions trained with --cross-dyad: a (then made the default), then b."""
    root = tmp_path_factory.mktemp("gate")
    manifest = _dataset(root)
    models = root / "models"
    for version in ("a", "b"):
        settings = TrainSettings(
            name="tiny",
            version=version,
            sim_dyads=0,
            data=manifest,
            cross_dyad=True,
            channels=8,
            levels=2,
            fit=TINY,
            models_dir=models,
        )
        train_model(settings, SCHEME)
        if version == "a":
            (models / "registry.json").write_text('{"default": "tiny@a"}')
    return models, manifest


def _set_model(models: Path, version: str, key: str, value: object) -> None:
    """Replace the stored predictions of one version on every evaluation session."""
    path = models / "tiny" / version / "evaluation.json"
    data = json.loads(path.read_text())
    for s in data["sessions"].values():
        s[key] = s["reference"] if value == "perfect" else value
    path.write_text(json.dumps(data))


def test_cross_dyad_evaluation_and_card(registry: tuple[Path, Path]) -> None:
    """Each session was scored by a fold trained without its dyad; the card judges the model as
    a third coder beside the coders' agreement, with the data set's coding phrase."""
    models, _ = registry
    folder = models / "tiny" / "b"
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert evaluation["protocol"] == "leave-one-dyad-out"
    assert [f["test_dyad"] for f in evaluation["folds"]] == ["D0", "D1"]
    assert sorted(evaluation["sessions"]) == ["s0", "s1", "s2", "s3"]
    assert evaluation["baseline"] == "tiny@a"  # the default when b was trained
    metrics = json.loads((folder / "metrics.json").read_text())
    table = metrics["confirmed"]["agreement"]
    assert table["c1"]["reference"]["overall"]["f1"] == 1.0  # c1 is the consensus here
    assert 0 < table["c2"]["c1"]["overall"]["f1"] < 1
    a = torch.load(models / "tiny" / "a" / "weights.pt", weights_only=True)
    b = torch.load(folder / "weights.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)  # same seed and data, same model
    card = (folder / "card.md").read_text()
    assert "Judged as a third coder" in card and "two simulated coders" in card
    assert "c2 vs c1" in card  # the coders against each other


def test_gate_refuses_passes_and_records(registry: tuple[Path, Path]) -> None:
    models, _ = registry
    _set_model(models, "a", "model", "perfect")  # the default's own out-of-sample predictions
    _set_model(models, "b", "model", [])
    with pytest.raises(GateRefused, match=r"(?s)0\.000 < 1\.000.*child_smiles.*--force"):
        promote("tiny@b", scheme=SCHEME, models_dir=models)
    assert default_model(models) == "tiny@a"
    with pytest.raises(Exception, match="--force needs --reason"):
        promote("tiny@b", scheme=SCHEME, models_dir=models, force=True)
    _set_model(models, "b", "model", "perfect")
    verdict = judge("tiny@b", scheme=SCHEME, models_dir=models)
    assert verdict.passed and "tiny@a's own leave-one-dyad-out" in verdict.default_basis
    _, entry = promote("tiny@b", scheme=SCHEME, models_dir=models)
    assert (entry["from"], entry["to"]) == ("tiny@a", "tiny@b")
    history = read_registry(models)["history"]
    assert default_model(models) == "tiny@b"
    assert history[-1]["from"] == "tiny@a" and history[-1]["gate"] == "passed"
    assert history[-1]["compared_on"]["sessions"] == ["s0", "s1", "s2", "s3"]
    assert history[-1]["event_f1"]["candidate"]["overall"] == 1.0
    promote("tiny@a", scheme=SCHEME, models_dir=models, force=True, reason="a test")
    assert read_registry(models)["history"][-1]["reason"] == "a test"


def test_default_without_predictions_is_run_on_the_data(registry: tuple[Path, Path]) -> None:
    """A default with no recorded predictions on the sessions is run on them (--data)."""
    models, manifest = registry
    (models / "registry.json").write_text('{"default": "tiny@b"}')
    (models / "tiny" / "b" / "evaluation.json").rename(models / "tiny" / "b" / "hidden.json")
    _set_model(models, "a", "baseline", None)
    data = json.loads((models / "tiny" / "a" / "evaluation.json").read_text())
    data["baseline"] = None
    (models / "tiny" / "a" / "evaluation.json").write_text(json.dumps(data))
    with pytest.raises(Exception, match="pass --data MANIFEST"):
        judge("tiny@a", scheme=SCHEME, models_dir=models)
    verdict = judge("tiny@a", scheme=SCHEME, models_dir=models, data=manifest)
    assert "run now" in verdict.default_basis


def test_models_cli(registry: tuple[Path, Path], run_cli: RunCli) -> None:
    models, _ = registry
    listed = run_cli("models", "list", "--models-dir", models).stdout
    assert "tiny@a" in listed and "tiny@b" in listed and "*" in listed
    refused = run_cli("models", "promote", "tiny@b", "--models-dir", models, check=False)
    assert refused.returncode == 2 and "already the default" in refused.stderr
