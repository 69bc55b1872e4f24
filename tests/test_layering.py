"""The layering the README's layout table states, checked on every import of every module.

Imports are read with ``ast`` (top-level ones and those inside functions, relative ones resolved),
so a lazy ``import torch`` in a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cuevision"


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name, e.g. cuevision.detect.infer
    imported: str  # dotted name as written, resolved if relative
    where: str  # path:line


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every name ``path`` imports; ``from a import b`` gives both ``a`` and ``a.b``."""
    importer = module_name(path, root)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [Import(importer, alias.name, where) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append(Import(importer, base, where))
            found += [Import(importer, f"{base}.{alias.name}", where) for alias in node.names]
    return found


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(i for path in sorted(PACKAGE.rglob("*.py")) for i in imports_of(path))


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# (what is imported, the only packages that may import it, the reason)
RULES = [
    ("mediapipe", ("cuevision.landmarks",), "MediaPipe is wrapped by the landmarks stage"),
    ("torch", ("cuevision.detect", "cuevision.train"), "only the detector and training run torch"),
    ("label_studio_sdk", ("cuevision.annotate",), "only annotate talks to Label Studio"),
    # the audio stage runs silero-vad's ONNX model file (its package imports torch): the torch
    # rule above keeps cuevision.audio torch-free
    ("onnxruntime", ("cuevision.audio",), "only the audio stage runs the voice-activity model"),
    ("parselmouth", ("cuevision.audio",), "only the audio stage measures pitch"),
    (
        "cuevision.api",
        ("cuevision.api", "cuevision.cli"),
        "api and cli are thin top layers: nothing below imports them",
    ),
    (
        "cuevision.cli",
        ("cuevision.api", "cuevision.cli", "cuevision.__main__"),
        "api and cli are thin top layers: nothing below imports them",
    ),
]


def violations(imports: tuple[Import, ...], target: str, allowed: tuple[str, ...]) -> list[str]:
    return sorted(
        {
            f"{i.where}: {i.importer} imports {i.imported}"
            for i in imports
            if within(i.imported, (target,)) and not within(i.importer, allowed)
        }
    )


@pytest.mark.parametrize(("target", "allowed", "why"), RULES, ids=[r[0] for r in RULES])
def test_imports_keep_the_layering(target: str, allowed: tuple[str, ...], why: str) -> None:
    imports = all_imports()
    users = [i for i in imports if within(i.imported, (target,))]
    assert users, f"no module imports {target}: the scan is broken"  # the rule is not vacuous
    bad = violations(imports, target, allowed)
    assert not bad, f"only {', '.join(allowed)} may import {target} ({why}):\n" + "\n".join(bad)


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    """The scan sees imports inside functions and relative ones."""
    metrics = tmp_path / "cuevision" / "metrics"
    metrics.mkdir(parents=True)
    module = metrics / "leaky.py"
    module.write_text(
        "from ..cli import console\n\ndef fit():\n    import torch.nn\n    return torch.nn\n"
    )
    found = tuple(imports_of(module, tmp_path))
    assert violations(found, "torch", ("cuevision.detect",)) == [
        "cuevision/metrics/leaky.py:4: cuevision.metrics.leaky imports torch.nn"
    ]
    assert len(violations(found, "cuevision.cli", ("cuevision.cli",))) == 2


# Imported by cuevision but deliberately not a declared dependency, and why.
UNDECLARED = {
    # installed by `make venv` with --no-deps: it declares opencv-python, a second cv2 that would
    # overwrite mediapipe's opencv-contrib-python
    "label_studio_sdk",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        canonical(re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0]) for r in project["dependencies"]
    }
    distributions = importlib.metadata.packages_distributions()
    # a wheel whose module is one extension file: Python 3.11 does not map it to its distribution
    distributions.setdefault("parselmouth", ["praat-parselmouth"])
    third_party = {
        i.imported.split(".")[0]
        for i in all_imports()
        if i.imported.split(".")[0] not in (*sys.stdlib_module_names, "cuevision", "")
    }
    assert "cv2" in third_party and "numpy" in third_party
    missing = {
        top: distributions.get(top, ["not installed"])
        for top in sorted(third_party - UNDECLARED)
        if not {canonical(d) for d in distributions.get(top, [])} & declared
    }
    assert not missing, f"imported by cuevision but not in [project] dependencies: {missing}"
