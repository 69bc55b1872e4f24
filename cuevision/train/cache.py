"""Real clips' landmarks, extracted once into a cache outside the repository.

Landmark extraction runs at about real time, so it is done once per session of a data set that
gives only a video, and kept as ``<cache>/<session id>.landmarks.parquet``. Features are cheap and
are recomputed from the cached landmarks at every training run, so they always match the current
feature definitions. Nothing
derived from a real clip is ever written into the repository.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from cuevision.errors import CuevisionError
from cuevision.files import make_private_dir
from cuevision.types import FeatureSeries

SUFFIX = ".landmarks.parquet"


def landmarks_path(cache_dir: Path, clip: str) -> Path:
    return Path(cache_dir) / f"{clip}{SUFFIX}"


def require_cache(cache_dir: Path) -> Path:
    """The cache folder, or an error that says how to fill it."""
    root = Path(cache_dir)
    if not root.is_dir():
        raise CuevisionError(
            f"real-clip cache {root} {'is not a folder' if root.exists() else 'does not exist'}; "
            "fill it with `cuevision train --data MANIFEST --real-cache DIR --extract` "
            "(slow: about real time per clip)"
        )
    return root


def extract_missing(
    videos: Mapping[str, Path],
    cache_dir: Path,
    *,
    fps: float,
    progress: Callable[[str, int, int], None] = lambda clip, done, total: None,
) -> list[str]:
    """Extract the landmarks of every session (id -> video) not yet in ``cache_dir``.

    Returns the ids extracted now. Each file is written atomically (by ``extract_landmarks``,
    through :mod:`cuevision.files`), so a run killed midway leaves whole files or none.
    """
    from cuevision.landmarks import LandmarkSettings, extract_landmarks

    settings = LandmarkSettings(analysis_fps=fps)
    make_private_dir(Path(cache_dir))  # face meshes of children
    new = []
    for number, (clip, video) in enumerate(sorted(videos.items())):
        progress(clip, number, len(videos))
        target = landmarks_path(cache_dir, clip)
        if target.is_file():
            continue
        extract_landmarks(Path(video), target, settings=settings)
        new.append(clip)
    progress("", len(videos), len(videos))
    return new


def clip_features(cache_dir: Path, clip: str, fps: float) -> FeatureSeries:
    """The clip's features, computed now from its cached landmarks."""
    from cuevision.features import compute_features
    from cuevision.landmarks import read_landmarks

    path = landmarks_path(cache_dir, clip)
    if not path.is_file():
        raise CuevisionError(
            f"session {clip}: no cached landmarks in {cache_dir}; add --extract to extract them"
        )
    return compute_features(read_landmarks(path), fps=fps)
