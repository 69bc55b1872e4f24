"""``cuevision train``: reproducible from a seed; bad arguments and the held-out rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cuevision.errors import CuevisionError
from cuevision.train.data import assert_not_held_out, split_clips
from tests.conftest import RunCli

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
    ],
)
def test_bad_arguments_exit_2(
    tmp_path: Path, run_cli: RunCli, args: tuple[str, ...], message: str
) -> None:
    result = run_cli("train", "--models-dir", tmp_path, *TINY[:2], *args, check=False)
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split())


def test_held_out_dyads_never_reach_training() -> None:
    clips = [
        "2UWdXP.joke1.rep2.take1.Peekaboo",
        "6c6MZQ.joke1.rep1.take1.ThatsNotAHat",
        "3dC3SQ.joke1.rep2.take1.TearingPaper",
        "4JDccE.joke1.rep1.take1.NomNomNom",
    ]
    split = split_clips(clips, every=2)
    assert sorted(split["test"]) == sorted(clips[2:])
    assert sorted(split["train"] + split["val"]) == sorted(clips[:2])
    with pytest.raises(CuevisionError, match="held-out"):
        assert_not_held_out(clips)
