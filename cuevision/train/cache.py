"""Real clips' landmarks, extracted once into a cache outside the repository.

Landmark extraction runs at about real time, so it is done once per clip and kept as
``<cache>/<clip>.landmarks.parquet``. Features are cheap and are recomputed from the cached
landmarks at every training run, so they always match the current feature definitions. Nothing
derived from a real clip is ever written into the repository.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from cuevision.errors import CuevisionError
from cuevision.types import FeatureSeries

SUFFIX = ".landmarks.parquet"


def landmarks_path(cache_dir: Path, clip: str) -> Path:
    return Path(cache_dir) / f"{clip}{SUFFIX}"


def cached_clips(cache_dir: Path) -> list[str]:
    """Clip stems (``2UWdXP.joke1.rep2.take1.Peekaboo``) whose landmarks are in the cache."""
    root = Path(cache_dir)
    if not root.is_dir():
        raise CuevisionError(
            f"real-clip cache {root} {'is not a folder' if root.exists() else 'does not exist'}; "
            "fill it with "
            "`cuevision train --real-cache DIR --extract` (slow: about real time per clip)"
        )
    return sorted(p.name.removesuffix(SUFFIX) for p in root.glob(f"*{SUFFIX}"))


def extract_missing(
    videos: Sequence[Path],
    cache_dir: Path,
    *,
    fps: float,
    progress: Callable[[str, int, int], None] = lambda clip, done, total: None,
) -> list[str]:
    """Extract the landmarks of every video not yet in ``cache_dir``; return the new clips."""
    from cuevision.landmarks import LandmarkSettings, extract_landmarks

    settings = LandmarkSettings(analysis_fps=fps)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    new = []
    for number, video in enumerate(videos):
        clip = Path(video).name.removesuffix(".mp4")
        progress(clip, number, len(videos))
        target = landmarks_path(cache_dir, clip)
        if target.is_file():
            continue
        partial = target.with_name(f"{clip}.partial.parquet")
        extract_landmarks(Path(video), partial, settings=settings)
        partial.replace(target)
        new.append(clip)
    progress("", len(videos), len(videos))
    return new


def clip_features(cache_dir: Path, clip: str, fps: float) -> FeatureSeries:
    """The clip's features, computed now from its cached landmarks."""
    from cuevision.features import compute_features
    from cuevision.landmarks import read_landmarks

    return compute_features(read_landmarks(landmarks_path(cache_dir, clip)), fps=fps)
