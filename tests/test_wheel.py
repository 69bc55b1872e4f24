"""A wheel built from the project runs `cuevision process` in a fresh venv, away from the checkout.

Offline: the wheel is built without build isolation, and the fresh venv sees the dependencies
already installed here through a ``.pth`` file (a path, so no ``.pth`` of theirs runs, and in
particular not the editable finder that maps ``cuevision`` to the checkout). The wheel itself is
installed with ``--no-deps`` before that file exists, so pip sees an empty venv and cannot touch
this one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from cuevision.detect.registry import default_model
from cuevision.events import read_events
from cuevision.scheme import load_scheme
from tests.conftest import ROOT

# What the build reads: everything else in the checkout is left behind.
SOURCES = ("cuevision", "annotation", "models", "pyproject.toml", "README.md")


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources so the checkout gets no build/ folder."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    _run(
        *pip,
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        root,
        src,
        cwd=root,
    )
    (found,) = root.glob("cuevision-*.whl")
    return found


def test_wheel_carries_every_module_and_the_shipped_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cuevision").rglob("*.py")}
    assert not modules - names, "add the missing packages to [tool.setuptools] packages"
    bundled = "cuevision/_bundled/"
    model = default_model().replace("@", "/")
    for name in (
        "annotation/schemes/default.yaml",
        "annotation/labelstudio/default.xml",
        "models/registry.json",
        *(f"models/{model}/{f}" for f in ("config.json", "weights.pt", "card.md")),
    ):
        assert bundled + name in names, name


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_processes_the_synthetic_dyad(wheel: Path, tmp_path: Path) -> None:
    venv, work = tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python)
    _run(*pip, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work
        ).strip()
    )
    (site / "installed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = json.loads(
        _run(
            python,
            "-c",
            "import json, cuevision, cuevision.resources as r; print(json.dumps({"
            "'package': cuevision.__file__, 'scheme': str(r.DEFAULT_SCHEME), "
            "'models': str(r.SHIPPED_MODELS), 'writable': str(r.writable_models_dir())}))",
            cwd=work,
            env=env,
        )
    )
    for key in ("package", "scheme", "models"):
        assert Path(where[key]).is_relative_to(site), (key, where[key])
        assert not Path(where[key]).is_relative_to(ROOT), (key, where[key])
    assert not Path(where["writable"]).is_relative_to(site)  # new versions go to the user's folder

    cli = venv / "bin" / "cuevision"
    _run(cli, "synth", "-o", "sample.mp4", "--truth", "truth.csv", cwd=work, env=env)
    _run(cli, "process", "sample.mp4", "-o", "out", cwd=work, env=env)
    out = work / "out"
    assert (out / "report.html").is_file()
    candidates = read_events(out / "candidates.csv", load_scheme())
    assert candidates and {c.model_version for c in candidates} == {default_model()}
