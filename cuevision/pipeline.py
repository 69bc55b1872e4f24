"""The embedded pipeline behind ``cuevision process``: probe, landmarks, features, detect, metrics.

Each stage writes its files into OUTDIR and records a key in ``OUTDIR/pipeline.json``: the hash of
its inputs, its settings and the versions of the code that made it. A re-run skips every stage
whose key and files are unchanged, so changing only the model re-runs detection and metrics, not
the slow landmark extraction; an upgrade that changes what a stage computes re-runs that stage.

Crash safety: a stage is struck from the manifest before it writes anything and recorded only
after all its outputs are in place, and every file is replaced atomically
(:mod:`cuevision.files`). A run killed at any moment therefore leaves each stage either recorded
with whole, right outputs or not recorded at all, and the re-run recomputes exactly the latter.
The metrics and report written here rest on the candidates; ``annotate pull`` writes the
confirmed ones into ``OUTDIR/confirmed/``, so neither path overwrites the other's files.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuevision import __version__
from cuevision.detect.registry import default_model
from cuevision.errors import CuevisionError
from cuevision.events import write_events
from cuevision.files import make_private_dir, write_json
from cuevision.scheme import Scheme
from cuevision.types import RESTART_S, Event, VideoInfo
from cuevision.video import Limits, probe

if TYPE_CHECKING:
    from cuevision.detect import Detector
    from cuevision.landmarks import LandmarkSettings
    from cuevision.landmarks.roles import Side

MANIFEST = "pipeline.json"
STAGES = ("probe", "landmarks", "features", "detect", "metrics")
# Bump when the wiring of the stages changes what they write; it is part of every stage key.
PIPELINE_VERSION = 2

# (stage, done, total): total is 0 while a stage cannot say how long it will take.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ProcessSettings:
    """Everything that changes what ``process`` writes; hashed into the stage keys."""

    model: str = field(default_factory=default_model)  # the registry's default
    analysis_fps: float | None = None  # None: the scheme's analysis.fps
    child_side: Side | None = None  # overrides the automatic role assignment
    limits: Limits = field(default_factory=Limits)
    pose_process: bool = True  # poses on a second core; False: one core (changes no output)
    restart_s: float = RESTART_S  # the landmark trackers' restart period (LandmarkSettings)


@dataclass(frozen=True)
class ProcessResult:
    outdir: Path
    info: VideoInfo
    candidates: tuple[Event, ...]
    ran: tuple[str, ...]  # stages computed this time
    reused: tuple[str, ...]  # stages whose outputs were still valid
    metrics: dict[str, Any]


def make_outdir(outdir: Path) -> None:
    """Create the output folder; a file already in its place is a user error, not a traceback."""
    try:
        make_private_dir(outdir)
    except (FileExistsError, NotADirectoryError):
        raise CuevisionError(
            f"{outdir}: a file is in the way of the output folder; choose another folder"
        ) from None


def file_digest(path: Path, chunk: int = 1 << 20) -> str:
    """Content hash of a file: a renamed or touched video is still recognised as the same input."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _sweep(outdir: Path) -> None:
    """Remove the scratch files of a run that was killed (a finished run leaves none).

    Runs on one OUTDIR are one at a time: a ``process`` and an ``annotate pull`` must not write
    the same session at the same moment.
    """
    for path in outdir.glob(".*"):
        if path.is_dir() and path.name.startswith(".landmarks-"):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and ".partial" in path.name:
            path.unlink(missing_ok=True)


def model_digest(spec: str) -> str:
    """The model's name, version and the content of its config and weights: a version folder
    retrained in place (``train --force``) is a different model."""
    from cuevision.detect.registry import resolve

    ref = resolve(spec)
    files = sorted(p for p in ref.folder.iterdir() if p.name in ("config.json", "weights.pt"))
    return stage_key(f"{ref.name}@{ref.version}", *(file_digest(p) for p in files))


def stage_key(*parts: object) -> str:
    """A short content key of ``parts``: what the manifest compares to know a stage is fresh."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Manifest:
    """Stage keys of one OUTDIR: a stage is fresh when its key matches and its files exist."""

    def __init__(self, outdir: Path) -> None:
        self.path = outdir / MANIFEST
        try:
            self.stages: dict[str, dict[str, Any]] = json.loads(self.path.read_text())["stages"]
        except (OSError, ValueError, KeyError, TypeError):
            self.stages = {}

    def fresh(self, stage: str, key: str, outputs: tuple[Path, ...]) -> bool:
        return self.stages.get(stage, {}).get("key") == key and all(p.is_file() for p in outputs)

    def begin(self, stage: str) -> None:
        """Strike ``stage`` and every later one before it writes: its old key must not outlive
        outputs it is about to replace, whatever moment the run is killed."""
        dropped = [s for s in STAGES[STAGES.index(stage) :] if self.stages.pop(s, None)]
        if dropped:
            self.save()

    def record(self, stage: str, key: str, outputs: tuple[Path, ...]) -> None:
        self.stages[stage] = {"key": key, "outputs": [p.name for p in outputs]}
        self.save()

    def save(self) -> None:
        payload = {
            "cuevision_version": __version__,
            "pipeline_version": PIPELINE_VERSION,
            "stages": self.stages,
        }
        write_json(self.path, payload)


@dataclass(frozen=True)
class LandmarkSource:
    """Another way to write ``landmarks.parquet`` than one pass over the whole video (the Celery
    runner's stitch of time chunks); ``key`` names it in the landmark stage's key, so every later
    stage's key follows it."""

    key: str
    write: Callable[[Path, Callable[[int, int], None]], None]  # (landmarks.parquet, progress)


def landmark_settings(scheme: Scheme, settings: ProcessSettings) -> LandmarkSettings:
    """The landmark stage's settings for ``settings`` under ``scheme``."""
    from cuevision.landmarks import LandmarkSettings

    fps = settings.analysis_fps or scheme.analysis.fps
    return LandmarkSettings(
        analysis_fps=fps,
        child_side=settings.child_side,
        pose_process=settings.pose_process,
        restart_s=settings.restart_s,
    )


@dataclass(frozen=True)
class Stage:
    """One stage of one video: its key, the files it writes, and how to write them.

    ``run`` takes the stage's progress callback; it reads its inputs from the earlier stages'
    files in the same OUTDIR, so a stage can run in another process than the one before it
    (the service's job runner) as long as the earlier stages are recorded there.
    """

    name: str
    key: str
    outputs: tuple[Path, ...]
    run: Callable[[Callable[[int, int], None]], None]


def check_settings(settings: ProcessSettings) -> None:
    if settings.analysis_fps is not None and not 0 < settings.analysis_fps < math.inf:
        raise CuevisionError(
            f"--analysis-fps must be a positive rate in Hz, got {settings.analysis_fps}; "
            "leave it out to use the scheme's"
        )


def plan(
    video: Path,
    outdir: Path,
    *,
    scheme: Scheme,
    settings: ProcessSettings,
    info: VideoInfo,
    detector: Detector,
    title: str | None = None,
    landmarks: LandmarkSource | None = None,
) -> tuple[Stage, ...]:
    """The stages of ``process`` for one video, in order; nothing runs until a stage's ``run``.

    ``info`` is the video's probe under ``settings.limits``; ``title`` heads the report (default:
    the video's file name); ``landmarks`` replaces the whole-video landmark pass.
    """
    from cuevision.audio import VOICE_VERSION, measure_voice
    from cuevision.features import FEATURE_VERSION, compute_features, read_features, write_features
    from cuevision.landmarks import LANDMARKS_VERSION, extract_landmarks, read_landmarks
    from cuevision.report import write_session_outputs

    fps = settings.analysis_fps or scheme.analysis.fps
    video_json = outdir / "video.json"
    probe_key = stage_key("probe", PIPELINE_VERSION, file_digest(video), asdict(settings.limits))

    def run_probe(progress: Callable[[int, int], None]) -> None:
        # the absolute path, so a push from another working folder finds the video
        write_json(video_json, replace(info, path=str(video.resolve())).to_dict())

    landmarks_parquet = outdir / "landmarks.parquet"
    chosen = landmark_settings(scheme, settings)
    landmarks_key = stage_key(
        probe_key,
        "landmarks",
        LANDMARKS_VERSION,
        chosen.hash,
        *(() if landmarks is None else (landmarks.key,)),
    )

    def run_landmarks(progress: Callable[[int, int], None]) -> None:
        if landmarks is not None:
            landmarks.write(landmarks_parquet, progress)
            return
        extract_landmarks(
            video,
            landmarks_parquet,
            settings=chosen,
            progress=progress,
            info=info,  # probed under settings.limits, which may exceed the defaults
        )

    features_parquet = outdir / "features.parquet"
    features_key = stage_key(landmarks_key, "features", FEATURE_VERSION, VOICE_VERSION, fps)

    def run_features(progress: Callable[[int, int], None]) -> None:
        voice = measure_voice(video) if info.has_audio else None  # the audio, on the PTS clock
        series = compute_features(read_landmarks(landmarks_parquet), fps=fps, voice=voice)
        write_features(features_parquet, series, meta=_provenance(features_key, None))

    candidates_csv, candidates_json = outdir / "candidates.csv", outdir / "candidates.json"
    detect_key = stage_key(features_key, "detect", model_digest(settings.model), scheme.hash)

    def run_detect(progress: Callable[[int, int], None]) -> None:
        found = detector.candidates(read_features(features_parquet))
        write_events(candidates_csv, found)
        payload = {
            **_provenance(detect_key, detector.version),
            "scheme": scheme.name,
            "scheme_hash": scheme.hash,
            "candidates": [asdict(c) for c in found],
        }
        write_json(candidates_json, payload)

    metrics_json, report_html = outdir / "metrics.json", outdir / "report.html"
    metrics_key = stage_key(detect_key, "metrics")

    def run_metrics(progress: Callable[[int, int], None]) -> None:
        write_session_outputs(
            outdir,
            read_candidates(outdir),
            scheme=scheme,
            duration_s=info.duration_s,
            basis="candidates",
            signals=features_parquet,
            provenance=_provenance(metrics_key, detector.version),
            title=title or video.name,
        )

    return (
        Stage("probe", probe_key, (video_json,), run_probe),
        Stage("landmarks", landmarks_key, (landmarks_parquet,), run_landmarks),
        Stage("features", features_key, (features_parquet,), run_features),
        Stage("detect", detect_key, (candidates_csv, candidates_json), run_detect),
        Stage("metrics", metrics_key, (metrics_json, report_html), run_metrics),
    )


def read_candidates(outdir: Path) -> tuple[Event, ...]:
    """The candidates the detect stage recorded in ``outdir``."""
    payload = json.loads((outdir / "candidates.json").read_text())
    return tuple(Event(**c) for c in payload["candidates"])


def run_stage(outdir: Path, stage: Stage, progress: Progress | None = None) -> bool:
    """Run ``stage`` in ``outdir`` unless its recorded key and files are fresh; True if it ran.

    The crash-safety protocol: struck from the manifest before writing, recorded after.
    """
    report = progress or (lambda stage, done, total: None)
    manifest = _Manifest(outdir)
    if manifest.fresh(stage.name, stage.key, stage.outputs):
        report(stage.name, 1, 1)
        return False
    report(stage.name, 0, 0)
    manifest.begin(stage.name)
    stage.run(lambda done, total: report(stage.name, done, total))
    manifest.record(stage.name, stage.key, stage.outputs)
    report(stage.name, 1, 1)
    return True


def prepare(outdir: Path) -> None:
    """Make ``outdir`` and sweep a killed run's scratch files, before any stage runs in it."""
    make_outdir(outdir)
    _sweep(outdir)


def process(
    video: Path,
    outdir: Path,
    *,
    scheme: Scheme,
    settings: ProcessSettings = ProcessSettings(),
    progress: Progress | None = None,
) -> ProcessResult:
    """Run every stage on one video, reusing the stages whose inputs and settings are unchanged."""
    from cuevision.detect import load_detector

    check_settings(settings)
    info = probe(video, settings.limits)  # validates before any work or any output
    detector = load_detector(settings.model, scheme=scheme)
    prepare(outdir)
    ran: list[str] = []
    reused: list[str] = []
    stages = plan(video, outdir, scheme=scheme, settings=settings, info=info, detector=detector)
    for stage in stages:
        (ran if run_stage(outdir, stage, progress) else reused).append(stage.name)
    metrics = json.loads((outdir / "metrics.json").read_text())
    return ProcessResult(outdir, info, read_candidates(outdir), tuple(ran), tuple(reused), metrics)


def _provenance(config_hash: str, model_version: str | None) -> dict[str, Any]:
    """What every output says about how it was made."""
    return {
        "pipeline_version": __version__,
        "config_hash": config_hash,
        "model_version": model_version,
    }
