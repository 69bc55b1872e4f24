"""The service's settings, from ``CUEVISION_*`` environment variables (pydantic-settings).

``ApiSettings`` (settings.py) stays the Label Studio side; this is the store, upload and job side.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cuevision.files import default_data_dir
from cuevision.store.db import sqlite_url


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
    labelstudio: bool = False  # push processed sessions to Label Studio and delete their tasks
    secure_cookies: bool = False  # set behind HTTPS
    session_max_age_s: int = 12 * 3600

    @property
    def url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"
