"""``cuevision train``: reproducible from a seed; bad arguments; manifests and the held-out rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from cuevision.features import FEATURE_NAMES, write_features
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.train.data import DataSetError, assert_not_held_out, load_dataset
from tests.conftest import ROOT, RunCli

TINY = ("--sim-dyads", "2", "--sim-duration", "20", "--epochs", "1", "--steps", "2")


def test_same_seed_same_weights(tmp_path: Path, run_cli: RunCli) -> None:
    """Two runs of the tiny config (2 dyads, 1 epoch) give identical weights and thresholds."""
    for run in ("a", "b"):
        run_cli("train", "--name", "tiny", "--version", run, "--models-dir", tmp_path, *TINY)
    a = torch.load(tmp_path / "tiny" / "a" / "weights.pt", weights_only=True)
    b = torch.load(tmp_path / "tiny" / "b" / "weights.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    config_a = (tmp_path / "tiny" / "a" / "config.json").read_text()
    config_b = (tmp_path / "tiny" / "b" / "config.json").read_text()
    assert config_a.replace('"version": "a"', "") == config_b.replace('"version": "b"', "")
    again = run_cli(
        "train", "--name", "tiny", "--version", "a", "--models-dir", tmp_path, *TINY, check=False
    )
    assert again.returncode == 2 and "--force" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sim-dyads", "1"), "at least 2"),
        (("--epochs", "0"), "--epochs"),
        (("--extract",), "--real-cache"),
        (("--real-cache", "/nonexistent/cache"), "does not exist"),
        (("--data", "/nonexistent/manifest.yaml"), "manifest /nonexistent/manifest.yaml not found"),
    ],
)
def test_bad_arguments_exit_2(
    tmp_path: Path, run_cli: RunCli, args: tuple[str, ...], message: str
) -> None:
    result = run_cli("train", "--models-dir", tmp_path, *TINY[:2], *args, check=False)
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split())


def _output_folder(folder: Path, seed: int) -> Path:
    """A `cuevision process`-style output folder whose features.parquet is a simulated dyad's."""
    series, _ = simulate_dyad(
        seed, duration_s=20.0, fps=15.0, scheme=load_scheme(), feature_names=FEATURE_NAMES
    )
    write_features(folder / "features.parquet", series, meta={"source": "simulated"})
    return folder


def _manifest(folder: Path, sessions: list[dict[str, str]], held_out: list[str]) -> Path:
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "held_out_dyads": held_out, "sessions": sessions}))
    return path


def test_manifest_rules(tmp_path: Path) -> None:
    """Splits are by dyad, held-out dyads only as held_out (their files never checked), and a
    missing file names its session and path."""
    (tmp_path / "a.mp4").write_bytes(b"")
    ok = [
        {"id": "a1", "dyad": "A", "split": "train", "video": "a.mp4"},
        {"id": "h1", "dyad": "H", "split": "held_out", "video": "nowhere/h1.mp4"},
    ]
    dataset = load_dataset(_manifest(tmp_path, ok, ["H"]))
    assert [s.id for s in dataset.sessions("train")] == ["a1"]
    assert dataset.video_only() == {"a1": tmp_path / "a.mp4"}
    bad = [
        ([{**ok[0], "dyad": "H"}, ok[1]], r"a1: split train, but dyad H is in held_out_dyads"),
        ([ok[0], {**ok[0], "id": "a2", "split": "validation"}], "splits are by dyad"),
        ([ok[0], {**ok[0], "video": "missing.mp4", "id": "a2"}], r"session a2: video missing"),
        ([{"id": "a1", "dyad": "A", "split": "train"}], "needs a video or an output folder"),
    ]
    for sessions, message in bad:
        with pytest.raises(DataSetError, match=message):
            load_dataset(_manifest(tmp_path, sessions, ["H"]))
    with pytest.raises(DataSetError, match="held-out"):
        assert_not_held_out([("a1", "A"), ("h1", "H")], ["H"])


def test_train_from_manifest(tmp_path: Path, run_cli: RunCli) -> None:
    """`--data` trains on the manifest's sessions; its snapshot hash, which follows the label
    files' content, is on the model's config, card and splits."""
    for name, seed in (("s1", 11), ("s2", 12)):
        _output_folder(tmp_path / name, seed)
    (tmp_path / "s1.csv").write_text("actor,type,onset_s,offset_s\nchild,child_smiles,2.0,3.0\n")
    sessions = [
        {"id": "s1", "dyad": "D1", "split": "train", "output": "s1", "events": "s1.csv"},
        {"id": "s2", "dyad": "D2", "split": "validation", "output": "s2"},
        {"id": "h", "dyad": "H", "split": "held_out", "video": "never/opened.mp4"},
    ]
    manifest = _manifest(tmp_path, sessions, ["H"])
    models = tmp_path / "models"
    run_cli(
        "train",
        "--name",
        "tiny",
        "--version",
        "d",
        "--models-dir",
        models,
        "--data",
        manifest,
        *TINY,
    )
    folder = models / "tiny" / "d"
    snapshot = load_dataset(manifest).snapshot
    config = json.loads((folder / "config.json").read_text())
    assert config["data"] == {"name": "t", "snapshot": snapshot}
    splits = json.loads((folder / "splits.json").read_text())
    assert splits["data"]["sessions"] == {"train": ["s1"], "validation": ["s2"], "test": []}
    assert splits["data"]["held_out_dyads"] == ["H"]
    assert snapshot in (folder / "card.md").read_text()
    (tmp_path / "s1.csv").write_text("actor,type,onset_s,offset_s\nchild,child_smiles,2.0,3.5\n")
    assert load_dataset(manifest).snapshot != snapshot


def test_committed_lookit_manifest(shared_data: Path) -> None:
    """The 26 clips of the two training dyads, split by dyad; the held-out dyads only named."""
    dataset = load_dataset(ROOT / "annotation" / "datasets" / "lookit" / "manifest.yaml")
    sessions = dataset.manifest.sessions
    assert len(sessions) == 26 and {s.dyad for s in sessions} == {"2UWdXP", "6c6MZQ"}
    assert dataset.held_out_dyads == ("3dC3SQ", "4JDccE")
    assert all(
        p.resolve().parent == (shared_data / "lookit").resolve()
        for p in dataset.video_only().values()
    )
