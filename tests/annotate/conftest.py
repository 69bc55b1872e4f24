"""Fixtures of the Label Studio loop: a real Label Studio, our real API, and small sessions.

The session OUTDIR is made by hand: a short H.264 clip whose frames show their own index as grey
level, its ``video.json`` from the real probe, and hand-drawn candidates (see ``CANDIDATES``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import uvicorn

from cuevision.annotate.server import LabelStudioSettings, connection
from cuevision.api import ApiSettings, create_app
from cuevision.events import write_events
from cuevision.files import write_json
from cuevision.types import Event
from cuevision.video import probe

ROOT = Path(__file__).resolve().parents[2]
RunCli = Callable[..., subprocess.CompletedProcess[str]]
MODEL = "cue-tcn@0.1-test"
#   time (s)  0    1    2    3    4    5    6    7    8    9    10
#   c0001          [====)                                           child_smiles      0.9
#   c0002                 [====)                                    caregiver_smiles  0.8
#   c0003                          [====)                           child_looks_away  0.3
CANDIDATES = (
    Event("child", "child_smiles", 1.0, 2.0, 0.9, "candidate", "model", None, MODEL, "c0001"),
    Event(
        "caregiver", "caregiver_smiles", 2.5, 3.5, 0.8, "candidate", "model", None, MODEL, "c0002"
    ),
    Event("child", "child_looks_away", 5.0, 6.0, 0.3, "candidate", "model", None, MODEL, "c0003"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_clip(path: Path, pts_s: list[float], size: tuple[int, int] = (64, 48)) -> None:
    """An H.264 clip whose frame j is uniformly grey level (10 + 5 j) mod 250, at these PTS."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(25))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 1000)
        for j, t in enumerate(pts_s):
            grey = np.full((size[1], size[0], 3), (10 + 5 * j) % 250, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(grey, format="rgb24")
            frame.pts = round(t * 1000)
            frame.time_base = Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def make_outdir(folder: Path, candidates: tuple[Event, ...] = CANDIDATES) -> Path:
    """A processed-session OUTDIR: 10 s at 25 fps, video.json, candidates.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / "source.mp4"
    _write_clip(clip, [k / 25 for k in range(250)], size=(320, 180))
    outdir = folder / "out"
    outdir.mkdir()
    write_json(outdir / "video.json", probe(clip).to_dict())
    write_events(outdir / "candidates.csv", candidates)
    return outdir


@pytest.fixture(scope="session")
def write_clip() -> Callable[[Path, list[float]], None]:
    """Write a clip whose frame j is grey level 10 + 5 j at the given PTS times."""
    return _write_clip


@pytest.fixture(scope="session")
def outdir_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_outdir(tmp_path_factory.mktemp("session"))


@pytest.fixture
def fresh_outdir(outdir_template: Path, tmp_path: Path) -> Path:
    """A copy of the template OUTDIR (its video.json still names the template's source)."""
    target = tmp_path / "out"
    shutil.copytree(outdir_template, target)
    return target


@pytest.fixture(scope="session")
def labelstudio(
    run_cli: RunCli, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabelStudioSettings]:
    """A real Label Studio started by `cuevision labelstudio up` with its own data folder."""
    data = tmp_path_factory.mktemp("labelstudio")
    settings = LabelStudioSettings(
        venv=ROOT / ".labelstudio" / "venv", data_dir=data, port=free_port()
    )
    args = ("--venv", settings.venv, "--data-dir", data, "--port", settings.port)
    started = time.monotonic()
    run_cli("labelstudio", "up", *args, timeout=900)
    print(f"\nLabel Studio up in {time.monotonic() - started:.1f} s")
    try:
        yield settings
    finally:
        run_cli("labelstudio", "down", *args, check=False)


@dataclass(frozen=True)
class RunningApi:
    settings: ApiSettings
    server: uvicorn.Server


@pytest.fixture(scope="session")
def api(
    labelstudio: LabelStudioSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiSettings]:
    """Our real API, served by uvicorn on 127.0.0.1 in a background thread."""
    settings = ApiSettings(
        data_dir=tmp_path_factory.mktemp("cuevision-data"),
        port=free_port(),
        labelstudio=labelstudio,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "our API did not start"
        time.sleep(0.1)
    try:
        yield settings
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def cli_args(api: ApiSettings) -> tuple[str | Path | int, ...]:
    """The options that point `cuevision annotate` at the test's API and Label Studio."""
    ls = api.labelstudio
    return (
        "--data-dir",
        api.data_dir,
        "--api-url",
        api.url,
        "--labelstudio-data",
        ls.data_dir,
        "--venv",
        ls.venv,
        "--labelstudio-port",
        ls.port,
    )


@pytest.fixture(scope="session")
def client(labelstudio: LabelStudioSettings) -> httpx.Client:
    """A plain HTTP client on Label Studio's REST API, playing the annotator."""
    conn = connection(labelstudio)
    return httpx.Client(
        base_url=conn.url, headers={"Authorization": f"Token {conn.token}"}, timeout=60
    )
