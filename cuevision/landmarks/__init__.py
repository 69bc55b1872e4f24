"""Face and pose landmarks of the caregiver and the child, per analysed frame.

``extract_landmarks`` writes ``landmarks.parquet`` (schema in ``io``); ``read_landmarks`` reads it
back as ``LandmarkTracks``. Only ``backend`` imports MediaPipe, and only when extracting. A long
video can instead be cut by ``plan_chunks``, its chunks extracted apart (``extract_chunk``, e.g. by
parallel workers) and joined by ``stitch`` into the same file.
"""

from cuevision.landmarks.chunks import (
    Chunk,
    ChunkFileError,
    ChunkPlanError,
    extract_chunk,
    plan_chunks,
)
from cuevision.landmarks.extract import (
    LANDMARKS_VERSION,
    LandmarkSettings,
    LandmarkSummary,
    extract_landmarks,
)
from cuevision.landmarks.io import LandmarksFileError, read_landmarks, read_metadata
from cuevision.landmarks.stitch import stitch

__all__ = [
    "LANDMARKS_VERSION",
    "Chunk",
    "ChunkFileError",
    "ChunkPlanError",
    "LandmarkSettings",
    "LandmarkSummary",
    "LandmarksFileError",
    "extract_chunk",
    "extract_landmarks",
    "plan_chunks",
    "read_landmarks",
    "read_metadata",
    "stitch",
]
