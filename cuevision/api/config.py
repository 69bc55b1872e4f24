"""The service's settings, from ``CUEVISION_*`` environment variables (pydantic-settings).

``ApiSettings`` (settings.py) stays the Label Studio side; this is the store, upload and job side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cuevision.files import default_data_dir
from cuevision.landmarks.chunks import DEFAULT_CHUNK_S, DEFAULT_OVERLAP_S
from cuevision.store.db import sqlite_url

# A loaded 2-core worker's seconds of work per second of video in a landmark chunk, about 3x
# what benchmarks/landmarks.py measures on an idle machine: the visibility timeout is checked by it.
SLOWEST_S_PER_VIDEO_S = 3.0


class ServiceSettings(BaseSettings):
    """Where the data lives, how big an upload may be, and how jobs are leased."""

    model_config = SettingsConfigDict(env_prefix="CUEVISION_", frozen=True, extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: SQLite in data_dir
    max_upload_bytes: int = Field(default=8 << 30, gt=0)
    probe_timeout_s: float = Field(default=60.0, gt=0)
    runners: int = Field(default=1, ge=0)  # embedded job runner threads; 0: none (tests, workers)
    lease_s: float = Field(default=60.0, gt=0)
    heartbeat_s: float = Field(default=10.0, gt=0)
    backoff_s: float = Field(default=5.0, ge=0)
    # embedded: runner threads in `serve`; celery: `cuevision worker` processes, through Redis
    runner: Literal["embedded", "celery"] = "embedded"
    broker_url: str = "redis://127.0.0.1:6379/0"
    chunk_s: float = Field(default=DEFAULT_CHUNK_S, ge=0)  # the Celery runner's chunks; 0: whole
    chunk_overlap_s: float = Field(default=DEFAULT_OVERLAP_S, ge=0)  # measured: see chunks.py
    sweep_s: float = Field(default=30.0, gt=0)  # how often lost or retried work is sent again
    visibility_timeout_s: float = Field(default=3600.0, gt=0)  # see cuevision/jobs/queue.py
    labelstudio: bool = False  # push processed sessions to Label Studio and delete their tasks
    secure_cookies: bool = False  # set behind HTTPS
    session_max_age_s: int = 12 * 3600

    @model_validator(mode="after")
    def _chunks_fit_the_visibility_timeout(self) -> Self:
        longest = SLOWEST_S_PER_VIDEO_S * (self.chunk_s + 2 * self.chunk_overlap_s)
        if self.chunk_s and self.visibility_timeout_s <= 3 * longest:
            raise ValueError(
                f"CUEVISION_VISIBILITY_TIMEOUT_S={self.visibility_timeout_s:g} must exceed 3x the "
                f"longest chunk's work ({longest:g} s): raise it or shorten CUEVISION_CHUNK_S"
            )
        return self

    @property
    def url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"
