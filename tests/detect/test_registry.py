"""The model registry and inference: clear errors for missing or mismatched models; any length."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cuevision.detect import MODELS_DIR, ModelError, default_model, list_models, load_detector
from cuevision.detect.inputs import FeatureMismatchError
from cuevision.features import FEATURE_NAMES
from cuevision.scheme import DEFAULT_SCHEME, load_scheme
from cuevision.synth.dyad import simulate_dyad
from cuevision.types import FeatureSeries

SCHEME = load_scheme()
COMMITTED = MODELS_DIR / "cue-tcn" / "0.1"


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the committed model's folder, to break."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(COMMITTED, root / "cue-tcn" / "0.1")
    return root


def test_committed_model_folder_is_complete() -> None:
    for name in ("weights.pt", "config.json", "metrics.json", "card.md", "splits.json"):
        assert (COMMITTED / name).is_file(), name
    assert (COMMITTED / "weights.pt").stat().st_size < 2_000_000
    splits = json.loads((COMMITTED / "splits.json").read_text())
    used = [*splits["real_clips"].get("train", []), *splits["real_clips"].get("val", [])]
    assert not [c for c in used if c.split(".")[0] in splits["held_out_dyads"]]
    assert "NOT validated" in (COMMITTED / "card.md").read_text()


def test_listing_models_loads_no_torch() -> None:
    """The registry (and the API's settings, which read its default) stay free of torch, so the
    API and training list models without loading them; only loading a detector imports torch."""
    code = (
        "import sys\n"
        "from cuevision.detect import default_model, list_models\n"
        "from cuevision.api.settings import ApiSettings\n"
        "assert list_models() and ApiSettings().model == default_model()\n"
        "print('torch' in sys.modules)\n"
        "from cuevision.detect import load_detector\n"
        "load_detector()\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert result.stdout.split() == ["False", "True"]


def test_default_model_is_the_registry_pointer(tmp_path: Path) -> None:
    """models/registry.json names the default; load_detector() without a spec loads it."""
    pointer = json.loads((MODELS_DIR / "registry.json").read_text())["default"]
    assert default_model() == pointer and pointer in list_models()
    assert load_detector().version == pointer
    shutil.copytree(COMMITTED, tmp_path / "other" / "0.3")
    config = json.loads((tmp_path / "other" / "0.3" / "config.json").read_text())
    config.update(name="other", version="0.3")
    (tmp_path / "other" / "0.3" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match=r"no default model.*registry\.json"):
        default_model(tmp_path)
    (tmp_path / "registry.json").write_text('{"default": "other@0.3"}')
    assert load_detector(models_dir=tmp_path).version == "other@0.3"
    (tmp_path / "registry.json").write_text('{"default": "other"}')
    with pytest.raises(ModelError, match="not NAME@VERSION"):
        default_model(tmp_path)


def test_missing_version_names_the_fix() -> None:
    with pytest.raises(ModelError, match=r"not found.*cue-tcn@0\.1.*cuevision train"):
        load_detector("cue-tcn@9.9")
    with pytest.raises(ModelError, match="NAME@VERSION"):
        load_detector("cue tcn")


def test_mismatched_scheme_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_SCHEME.read_text().replace("name: default", "name: other", 1)
    (tmp_path / "other.yaml").write_text(text)
    other = load_scheme(tmp_path / "other.yaml")
    with pytest.raises(ModelError, match=r"trained for scheme 'default'.*--scheme"):
        load_detector("cue-tcn@0.1", scheme=other)
    assert load_detector("cue-tcn@0.1", scheme=SCHEME).version == "cue-tcn@0.1"


def test_broken_folders_give_clear_errors(copy: Path) -> None:
    folder = copy / "cue-tcn" / "0.1"
    assert load_detector(str(folder)).version == "cue-tcn@0.1"  # a folder path works too
    (folder / "weights.pt").write_bytes(b"not torch")
    with pytest.raises(ModelError, match="unusable weights"):
        load_detector("cue-tcn@0.1", models_dir=copy)
    (folder / "config.json").write_text("{ truncated")
    with pytest.raises(ModelError, match="unreadable model config"):
        load_detector("cue-tcn@0.1", models_dir=copy)


@pytest.mark.parametrize("frames", [0, 1, 7, 4000])
def test_inference_on_any_length(frames: int) -> None:
    detector = load_detector()
    series, _ = simulate_dyad(
        5, duration_s=300, fps=15.0, scheme=SCHEME, feature_names=FEATURE_NAMES
    )
    short = FeatureSeries(series.t_s[:frames], 15.0, series.names, series.values[:frames])
    scores = detector.predict(short)
    assert scores.probs.shape == (frames, len(SCHEME.type_names))
    assert scores.type_names == SCHEME.type_names
    assert np.all((scores.probs >= 0) & (scores.probs <= 1))
    for event in detector.candidates(short):
        assert event.model_version == default_model() and event.status == "candidate"
        assert 0 <= event.onset_s < event.offset_s <= frames / 15.0 + 1e-4  # 4 decimals


def test_other_rates_are_resampled_and_missing_columns_refused() -> None:
    detector = load_detector()
    series, _ = simulate_dyad(
        6, duration_s=20, fps=30.0, scheme=SCHEME, feature_names=FEATURE_NAMES
    )
    assert detector.predict(series).probs.shape == (300, len(SCHEME.type_names))
    used = detector.normaliser.names[-1]  # a column the model reads
    keep = [i for i, name in enumerate(series.names) if name != used]
    partial = FeatureSeries(
        series.t_s, 30.0, tuple(series.names[i] for i in keep), series.values[:, keep]
    )
    with pytest.raises(FeatureMismatchError, match=used.replace(".", r"\.")):
        detector.predict(partial)
