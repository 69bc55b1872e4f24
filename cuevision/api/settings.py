"""The API's settings: one frozen object made by the caller (CLI, tests) and passed to the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cuevision.annotate.server import LabelStudioSettings
from cuevision.annotate.sync import SyncSettings
from cuevision.detect.registry import default_model
from cuevision.files import default_data_dir


@dataclass(frozen=True)
class ApiSettings:
    """Where the API listens, its data folder, and the Label Studio it serves.

    ``public_url`` is how Label Studio and the annotators' browsers reach us (default: the bind
    address); ``callback_url`` is how Label Studio's server reaches us, when that differs (docker).
    ``labelstudio_origins`` are the only origins given CORS access to the videos
    (default: the Label Studio URL as 127.0.0.1 and as localhost).
    """

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    labelstudio: LabelStudioSettings = field(default_factory=LabelStudioSettings)
    labelstudio_origins: tuple[str, ...] = ()
    link_ttl_s: float = SyncSettings.link_ttl_s
    callback_url: str | None = None
    model: str = field(default_factory=default_model)  # NAME@VERSION the ML backend reports

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sync(self) -> SyncSettings:
        return SyncSettings(
            data_dir=self.data_dir,
            api_url=self.url,
            labelstudio=self.labelstudio,
            link_ttl_s=self.link_ttl_s,
            callback_url=self.callback_url,
        )

    @property
    def origins(self) -> tuple[str, ...]:
        if self.labelstudio_origins:
            return self.labelstudio_origins
        ls = self.labelstudio
        parts = urlsplit(ls.url or f"http://{ls.host}:{ls.port}")
        port = f":{parts.port}" if parts.port else ""
        hosts = {parts.hostname or ls.host, "127.0.0.1", "localhost"}
        return tuple(sorted(f"{parts.scheme}://{h}{port}" for h in hosts))
