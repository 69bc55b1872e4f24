"""The review queue: uncertainty near the thresholds, disagreement between versions, confirmed
sessions last; ``annotate push --next K`` takes the queue's first K."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from cuevision.cli.models import next_sessions
from cuevision.detect import MODELS_DIR, load_detector
from cuevision.detect.postprocess import Thresholds
from cuevision.features import FEATURE_NAMES, write_features
from cuevision.scheme import load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.train.review import rank
from tests.conftest import RunCli

SCHEME = load_scheme()


def _outdir(root: Path, name: str, seed: int, *, blank: bool = False) -> Path:
    series, _ = simulate_dyad(
        seed, duration_s=30.0, fps=15.0, scheme=SCHEME, feature_names=FEATURE_NAMES
    )
    if blank:  # nobody visible: the model is certain there is nothing to code
        series = replace(series, values=np.full_like(series.values, np.nan))
    write_features(root / name / "features.parquet", series, meta={"source": "test"})
    return root / name


def test_rank_orders_by_uncertainty_and_disagreement(tmp_path: Path) -> None:
    busy, blank, done = (
        _outdir(tmp_path, "busy", 1),
        _outdir(tmp_path, "blank", 2, blank=True),
        _outdir(tmp_path, "done", 3),
    )
    (done / "confirmed.csv").write_text("actor,type,onset_s,offset_s\n")
    detector = load_detector()
    entries = rank([blank, done, busy], detector)
    assert [e.outdir.name for e in entries] == ["busy", "blank", "done"]
    assert entries[0].uncertainty > 0 and entries[1].uncertainty == 0.0
    assert entries[-1].confirmed and all(e.disagreement is None for e in entries)
    assert 0 <= entries[0].segment[0] < entries[0].segment[1] <= 30.0
    # a version with other thresholds disagrees with the default on the busy session only
    other = replace(
        detector,
        version="other@1",
        thresholds={n: Thresholds(0.99, 0.99) for n in SCHEME.type_names},
    )
    again = {e.outdir.name: e for e in rank([blank, busy], detector, [other])}
    assert again["busy"].disagreement is not None and again["busy"].disagreement > 0
    assert again["blank"].disagreement == 0.0  # both find nothing: they agree
    assert again["busy"].priority > entries[0].priority - 1e-9


def test_next_k_and_queue_cli(tmp_path: Path, run_cli: RunCli) -> None:
    busy, blank = _outdir(tmp_path, "busy", 1), _outdir(tmp_path, "blank", 2, blank=True)
    assert next_sessions([blank, busy], 1, SCHEME) == [busy]
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR / "cue-tcn" / "0.1", models / "cue-tcn" / "0.1")
    (models / "registry.json").write_text('{"default": "cue-tcn@0.1"}')
    out = run_cli(
        "review",
        "queue",
        blank,
        busy,
        "--against",
        "cue-tcn@0.1",
        "--json",
        "--models-dir",
        models,
    )
    queue = json.loads(out.stdout)
    assert [Path(e["outdir"]).name for e in queue] == ["busy", "blank"]
    assert queue[0]["disagreement"] == 0.0  # the same version twice agrees with itself
    bad = run_cli("annotate", "push", busy, "--next", "0", check=False)
    assert bad.returncode == 2 and "--next must be at least 1" in bad.stderr
