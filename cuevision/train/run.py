"""``cuevision train``: one command, one seed, one model version folder in the registry.

Steps: simulate dyads (split by dyad; optional), load the real sessions of the data set (``--data
MANIFEST``, split by dyad there) with their confirmed events or weak labels, fit the normalisation
and the network (or fine-tune ``--base``), tune the post-processing against event F1, evaluate
the model and the labelling-function baseline on the test sessions and, with ``--cross-dyad``,
the whole recipe dyad by dyad, then write weights, config, metrics, card, splits (and the
cross-dyad evaluation) into ``<models dir>/<name>/<version>/`` (see
:func:`cuevision.resources.writable_models_dir`).
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cuevision.detect.infer import Detector, load_detector
from cuevision.detect.inputs import Normaliser
from cuevision.detect.model import Architecture, CueTCN, n_parameters
from cuevision.detect.postprocess import FrameScores
from cuevision.detect.registry import EVALUATION_FILE, ModelError, default_model, version_folder
from cuevision.detect.tune import Tuned, tune
from cuevision.errors import CuevisionError
from cuevision.features import FEATURE_NAMES, read_features
from cuevision.features.weak import describe, label_events, label_frames
from cuevision.files import atomic_path, make_private_dir, write_json
from cuevision.resources import writable_models_dir
from cuevision.scheme import Scheme
from cuevision.train.cache import clip_features
from cuevision.train.card import evaluate_all, write_card
from cuevision.train.crossval import cross_dyad, summarise, test_split
from cuevision.train.data import (
    PURPOSES,
    DataSet,
    DataSetError,
    Purpose,
    Session,
    SessionEntry,
    assert_not_held_out,
    load_dataset,
    real_sessions,
    simulated_sessions,
    split_seeds,
)
from cuevision.train.fit import FitSettings, fit
from cuevision.types import FeatureSeries


@dataclass(frozen=True)
class TrainSettings:
    name: str = "cue-tcn"
    version: str = "0.1"
    seed: int = 0
    sim_dyads: int = 400  # 0: no simulation (needs a data set)
    sim_duration_s: float = 60.0
    data: Path | None = None  # the data-set manifest of real sessions; None: simulation only
    real_cache: Path | None = None  # cached landmarks of the data set's video-only sessions
    base: str | None = None  # NAME@VERSION to fine-tune: its architecture, normaliser, weights
    cross_dyad: bool = False  # also evaluate the recipe dyad by dyad (leave one dyad out)
    tune_folds: int = 0  # cross-fitting folds when tuning on the training sessions; < 2: none
    channels: int = 32
    levels: int = 4
    kernel: int = 5
    fit: FitSettings = field(default_factory=FitSettings)
    tolerance_s: float = 1.0
    models_dir: Path = field(default_factory=writable_models_dir)
    force: bool = False  # replace an existing version folder

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("models_dir")
        data.pop("force")
        # a local path says nothing; the data set is recorded by its snapshot hash
        data["data"] = "given" if self.data else None
        data["real_cache"] = "given" if self.real_cache else None
        return data


Log = Callable[[str], None]


@dataclass(frozen=True)
class Fitted:
    """A trained and tuned detector, with what tuning and fitting recorded."""

    detector: Detector
    tuned: dict[str, Tuned]
    tuned_on: str
    history: list[dict[str, float]]


def tuning_sessions(
    train: Sequence[Session], val: Sequence[Session]
) -> tuple[list[Session], str, bool]:
    """Where post-processing is tuned, how to say so, and whether those are training sessions.

    With confirmed sessions in the data: the confirmed validation sessions, else (no validation
    dyad) the confirmed training sessions themselves. Without: every validation session, as
    before there were human codes.
    """
    confirmed_val = [s for s in val if s.source == "confirmed"]
    if confirmed_val:
        return confirmed_val, f"{len(confirmed_val)} confirmed validation sessions", False
    confirmed_train = [s for s in train if s.source == "confirmed"]
    if confirmed_train:
        how = f"the {len(confirmed_train)} confirmed training sessions (no validation dyad)"
        return confirmed_train, how, True
    return list(val), f"{len(val)} validation sessions", False


def training_features(sessions: Sequence[Session]) -> list[str]:
    """The inputs of a new model: this version's features that every real training session
    has and measures somewhere (all of them when there is none). Features written by another
    cuevision version are thus usable, and columns a data set never measured (NaN throughout)
    are not learned from simulation alone."""
    real = [s.series for s in sessions if s.source != "simulated"]
    return [
        name
        for name in FEATURE_NAMES
        if all(name in series.names for series in real)
        and (not real or any(np.isfinite(series.column(name)).any() for series in real))
    ]


def _columns(series: FeatureSeries, names: Sequence[str]) -> np.ndarray:
    return np.asarray(series.values[:, [series.names.index(n) for n in names]])


def widened(
    base: Detector, names: Sequence[str], train: Sequence[Session]
) -> tuple[Normaliser, Architecture, dict[str, torch.Tensor]]:
    """The base's normaliser, architecture and weights with the inputs of ``names`` it lacks
    appended, so that fine-tuning can learn columns newer than the base.

    The new columns' statistics come from the real training sessions (the simulator has no
    model of columns newer than it: it fills them with masked noise), from all of ``train``
    without any; their input weights start at zero, so fine-tuning starts from the base's
    function."""
    old = base.normaliser
    init = base.network.state_dict()
    extra = [n for n in names if n not in old.names]
    if not extra:
        return old, base.network.arch, init
    real = [s for s in train if s.source != "simulated"] or list(train)
    new = Normaliser.fit(extra, [_columns(s.series, extra) for s in real])
    normaliser = Normaliser(old.names + new.names, old.mean + new.mean, old.std + new.std)
    n_old, n_all = len(old.names), len(normaliser.names)
    weight = init["inp.weight"]  # (channels, 3 * n_old, 1): value, centred value, mask blocks
    wide = weight.new_zeros(weight.shape[0], 3 * n_all, weight.shape[2])
    for block in range(3):
        wide[:, block * n_all : block * n_all + n_old] = weight[
            :, block * n_old : (block + 1) * n_old
        ]
    arch = replace(base.network.arch, n_inputs=normaliser.n_inputs)
    return normaliser, arch, {**init, "inp.weight": wide}


def fit_detector(
    train: Sequence[Session],
    val: Sequence[Session],
    *,
    spec: str,
    scheme: Scheme,
    settings: TrainSettings,
    base: Detector | None = None,
    features: Sequence[str] | None = None,
    log: Log = lambda line: None,
) -> Fitted:
    """Fit the network on ``features`` (default :func:`training_features`; from ``base``'s
    weights, if given, on its inputs plus those of ``features`` it lacks, see :func:`widened`)
    and tune its post-processing."""
    init: dict[str, torch.Tensor] | None
    if base is not None:
        normaliser, arch, init = widened(base, features or base.normaliser.names, train)
    else:
        names = list(features) if features is not None else training_features(train)
        normaliser = Normaliser.fit(names, [_columns(s.series, names) for s in train])
        arch = Architecture(
            n_inputs=normaliser.n_inputs,
            n_outputs=len(scheme.type_names),
            channels=settings.channels,
            levels=settings.levels,
            kernel=settings.kernel,
        )
        init = None
    history: list[dict[str, float]] = []

    def record(row: dict[str, float]) -> None:
        history.append(row)
        val_loss = f", val {row['val_loss']:.4f}" if "val_loss" in row else ""
        log(f"epoch {row['epoch']:.0f}: train {row['train_loss']:.4f}{val_loss}")

    def train_on(sessions: Sequence[Session], record: Callable[[dict[str, float]], None]) -> CueTCN:
        return fit(
            sessions,
            val,
            normaliser=normaliser,
            arch=arch,
            settings=settings.fit,
            seed=settings.seed,
            init=init,
            log=record,
        )

    network = train_on(train, record)
    actors = {t.name: t.actor for t in scheme.event_types}
    fps = scheme.analysis.fps

    def detector_of(net: CueTCN) -> Detector:
        return Detector(spec, net, normaliser, fps, scheme.type_names, actors, {})

    tune_on, how, in_sample = tuning_sessions(train, val)
    if not tune_on:
        raise DataSetError("nothing to tune the post-processing on: give a validation split")
    folds = settings.tune_folds
    if in_sample and folds >= 2 and len(tune_on) >= folds:
        # Scores of a network that fitted the very sessions it is tuned on are too sure of
        # themselves; cross-fit: each session is scored by a network that did not see it.
        order = np.random.default_rng(settings.seed).permutation(len(tune_on))
        scored: dict[str, FrameScores] = {}
        for k in range(folds):
            held = {tune_on[int(i)].name for i in order[k::folds]}
            other = detector_of(train_on([s for s in train if s.name not in held], lambda r: None))
            scored.update({s.name: other.predict(s.series) for s in tune_on if s.name in held})
        scores = [scored[s.name] for s in tune_on]
        how = (
            f"the {len(tune_on)} confirmed training sessions, each scored by a network fitted "
            f"without it ({folds}-fold cross-fitting by session; no validation dyad)"
        )
    else:
        scores = [detector_of(network).predict(s.series) for s in tune_on]
    tuned = tune(scores, [s.truth for s in tune_on], tolerance_s=settings.tolerance_s)
    thresholds = {name: t.thresholds for name, t in tuned.items()}
    detector = Detector(spec, network, normaliser, fps, scheme.type_names, actors, thresholds)
    log(f"tuned post-processing on {how}")
    return Fitted(detector, tuned, how, history)


def train_model(settings: TrainSettings, scheme: Scheme, log: Log = lambda line: None) -> Path:
    """Train, tune, evaluate and register one model version; return its folder."""
    started = time.perf_counter()
    target = version_folder(settings.name, settings.version, settings.models_dir)
    if target.exists() and not settings.force:
        raise ModelError(f"{target} exists; choose another --version or pass --force")
    fps = scheme.analysis.fps
    dataset = load_dataset(settings.data) if settings.data else None
    if settings.sim_dyads == 0 and dataset is None:
        raise DataSetError("training without simulated dyads needs a data set: pass --data")
    seeds = split_seeds(settings.sim_dyads, settings.seed)
    sim = {
        purpose: simulated_sessions(
            s,
            scheme=scheme,
            feature_names=FEATURE_NAMES,
            fps=fps,
            duration_s=settings.sim_duration_s,
        )
        for purpose, s in seeds.items()
    }
    log(f"simulated {settings.sim_dyads} dyads of {settings.sim_duration_s:g} s")
    real: dict[Purpose, list[Session]] = {}
    if dataset is not None:
        real = load_real(dataset, scheme, settings.real_cache)
        log(
            f"data set {dataset.manifest.name} ({dataset.snapshot}): "
            + ", ".join(
                f"{p} {len(v)} ({sum(s.source == 'confirmed' for s in v)} confirmed)"
                for p, v in real.items()
            )
        )
    train = [*sim["train"], *real.get("train", [])]
    val = [*sim["validation"], *real.get("validation", [])]
    if not train:
        raise DataSetError("no training session: the data set's train split is empty")
    if dataset is not None:
        assert_not_held_out(
            ((s.name, s.dyad) for s in (*train, *val) if s.source != "simulated"),
            dataset.held_out_dyads,
        )
    base = (
        load_detector(settings.base, scheme=scheme, models_dir=settings.models_dir)
        if (settings.base)
        else None
    )
    spec = f"{settings.name}@{settings.version}"
    # one input set for the model and every fold: what all the data set's sessions have
    features = training_features([*train, *val, *real.get("test", [])])
    fitted = fit_detector(
        train,
        val,
        spec=spec,
        scheme=scheme,
        settings=settings,
        base=base,
        features=features,
        log=log,
    )
    detector = fitted.detector
    baseline = _current_default(settings.models_dir, scheme, log)
    metrics = evaluate_all(
        detector,
        sim_test=sim["test"],
        real_test=real.get("test", []),
        scheme=scheme,
        tolerance_s=settings.tolerance_s,
        label_events=label_events,
    )
    evaluation = None
    if settings.cross_dyad and dataset is not None:
        sessions = [s for p in PURPOSES for s in real.get(p, [])]
        evaluation = cross_dyad(
            sessions,
            sim_train=sim["train"],
            sim_val=sim["validation"],
            spec=spec,
            scheme=scheme,
            fit_fold=lambda tr, va, sp: (
                fit_detector(
                    tr, va, spec=sp, scheme=scheme, settings=settings, base=base, features=features
                ).detector
            ),
            snapshot=dataset.snapshot,
            baseline=baseline,
            log=log,
        )
    elif dataset is not None:
        evaluation = test_split(
            real.get("test", []),
            detector,
            scheme=scheme,
            snapshot=dataset.snapshot,
            baseline=baseline,
        )
    if evaluation is not None:
        metrics["confirmed"] = summarise(
            evaluation, scheme=scheme, tolerance_s=settings.tolerance_s
        )
    metrics["tuning"] = {
        "sessions": fitted.tuned_on,
        **{
            name: {"thresholds": t.thresholds.to_dict(), "val_f1": t.f1, "val_n": t.n_reference}
            for name, t in fitted.tuned.items()
        },
    }
    metrics["labelling_functions"] = describe(scheme)
    metrics["training"] = {
        "wall_s": round(time.perf_counter() - started, 1),
        "history": fitted.history,
    }
    config = {
        "name": settings.name,
        "version": settings.version,
        "architecture": detector.network.arch.to_dict(),
        "n_parameters": n_parameters(detector.network),
        "receptive_field_s": round(detector.network.arch.receptive_field / fps, 2),
        "fps": fps,
        "type_names": list(scheme.type_names),
        "actors": detector.actors,
        "scheme": {"name": scheme.name, "version": scheme.version, "hash": scheme.hash},
        "normaliser": detector.normaliser.to_dict(),
        "thresholds": {name: t.to_dict() for name, t in detector.thresholds.items()},
        "seed": settings.seed,
        "base": settings.base,
        "training": settings.to_dict(),
        "data": (
            {"name": dataset.manifest.name, "snapshot": dataset.snapshot} if dataset else None
        ),
        "libraries": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    splits = {
        "simulated_seeds": seeds,
        "data": dataset.describe() if dataset else None,
        "confirmed": {
            p: [s.name for s in real.get(p, []) if s.source == "confirmed"] for p in PURPOSES
        },
        "rule": "splits are by dyad, as the data set's manifest gives them; sessions of its "
        "held-out dyads never enter training, tuning or testing, and their files are not opened "
        "(enforced by cuevision.train.data)",
    }
    _write_folder(target, detector.network, config, metrics, splits, evaluation, settings)
    log(f"wrote {target} in {time.perf_counter() - started:.0f} s")
    return target


def load_real(
    dataset: DataSet, scheme: Scheme, real_cache: Path | None = None
) -> dict[Purpose, list[Session]]:
    """Every usable session of the data set, by split, with its labels."""
    read = session_reader(dataset, real_cache, scheme.analysis.fps)
    return {
        purpose: real_sessions(
            dataset,
            purpose,
            read=read,
            scheme=scheme,
            label_frames=label_frames,
            label_events=label_events,
        )
        for purpose in PURPOSES
    }


def _current_default(models_dir: Path, scheme: Scheme, log: Log) -> Detector | None:
    """The registry's default model, to judge the new one against on the same sessions."""
    try:
        return load_detector(default_model(models_dir), scheme=scheme, models_dir=models_dir)
    except ModelError as error:
        log(f"no default model to compare with ({error})")
        return None


def session_reader(
    dataset: DataSet, cache: Path | None, fps: float
) -> Callable[[SessionEntry], FeatureSeries]:
    """A session's features: its output folder's ``features.parquet``, else cached landmarks'."""

    def read(entry: SessionEntry) -> FeatureSeries:
        if entry.output is not None:
            path = dataset.resolve(entry.output) / "features.parquet"
            series = read_features(path)
        elif cache is None:
            raise DataSetError(
                f"session {entry.id} of {dataset.path} gives only a video; pass --real-cache DIR "
                "--extract to extract its landmarks, or give its `cuevision process` output folder"
            )
        else:
            path = cache
            series = clip_features(cache, entry.id, fps)
        if series.fps != fps or not set(series.names) & set(FEATURE_NAMES):
            raise DataSetError(
                f"session {entry.id}: the features in {path} are not this version's "
                f"({series.fps:g} Hz, {len(series.names)} columns; want {fps:g} Hz and "
                f"{len(FEATURE_NAMES)} known columns); re-run `cuevision process` on it"
            )
        return series

    return read


def _write_folder(
    target: Path,
    network: torch.nn.Module,
    config: dict[str, Any],
    metrics: dict[str, Any],
    splits: dict[str, Any],
    evaluation: dict[str, Any] | None,
    settings: TrainSettings,
) -> None:
    """Write every file into a temporary folder beside the target, then rename it into place.

    So a version folder is whole or absent: a crash leaves only a hidden ``.partial-*`` folder.
    """
    make_private_dir(target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".partial-") as tmp:
        folder = Path(tmp) / "version"
        make_private_dir(folder)
        with atomic_path(folder / "weights.pt") as weights:
            torch.save(network.state_dict(), weights)
        for name, data in (("config", config), ("metrics", metrics), ("splits", splits)):
            write_json(folder / f"{name}.json", data)
        if evaluation is not None:
            write_json(folder / EVALUATION_FILE, evaluation)
        write_card(folder / "card.md", config, metrics, splits)
        if target.exists():
            if not settings.force:
                raise CuevisionError(f"{target} appeared while training; not overwriting it")
            target.rename(Path(tmp) / "replaced")  # removed with the temporary folder
        folder.rename(target)
