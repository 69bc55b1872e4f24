"""Face and pose landmarks of the caregiver and the child, per analysed frame.

``extract_landmarks`` writes ``landmarks.parquet`` (schema in ``io``); ``read_landmarks`` reads it
back as ``LandmarkTracks``. Only ``backend`` imports MediaPipe, and only when extracting.
"""

from cuevision.landmarks.extract import (
    LANDMARKS_VERSION,
    LandmarkSettings,
    LandmarkSummary,
    extract_landmarks,
)
from cuevision.landmarks.io import LandmarksFileError, read_landmarks, read_metadata

__all__ = [
    "LANDMARKS_VERSION",
    "LandmarkSettings",
    "LandmarkSummary",
    "LandmarksFileError",
    "extract_landmarks",
    "read_landmarks",
    "read_metadata",
]
