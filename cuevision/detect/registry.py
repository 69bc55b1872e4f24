"""The model registry: one folder per model version, ``models/<name>/<version>/``.

A version folder holds everything needed to use, judge and reproduce the model:

- ``weights.pt``: the network's state dict (tens of kilobytes);
- ``config.json``: architecture, feature list and normalisation, post-processing thresholds,
  scheme name and hash, seed, training settings and library versions;
- ``metrics.json``: event F1 on held-out data, model and labelling-function baseline;
- ``card.md``: what it was trained on, evaluated on, and NOT validated against;
- ``splits.json``: the exact dyads and clips used for training, tuning and testing;
- ``evaluation.json`` (trained on confirmed sessions): its predictions on every confirmed
  session of its evaluation (cross-dyad folds or the test split), what the promotion gate
  compares on.

``registry.json`` beside the model folders names the default model (``{"default": NAME@VERSION}``):
the one model that ``process``, the API and :func:`cuevision.detect.load_detector` use when none is
given. Its ``history`` records every promotion: when, from what, the figures the gate compared
and, for a forced one, the reason (:func:`set_default`). Its optional ``schemes`` maps a coding
scheme's name to the default for that scheme (``{"vocal": "cue-vocal@0.1"}``): a model's outputs
are one scheme's types, so ``process --scheme`` of another scheme needs its own model.

This module reads configs only and never imports torch, so the API and training can list models
without loading them; :mod:`cuevision.detect.infer` loads the weights.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuevision.errors import CuevisionError
from cuevision.resources import SHIPPED_MODELS

if TYPE_CHECKING:
    from cuevision.scheme import Scheme

MODELS_DIR = SHIPPED_MODELS  # the models that ship with cuevision (see cuevision.resources)
REGISTRY_FILE = "registry.json"
EVALUATION_FILE = "evaluation.json"
_SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_.-]*)@(?P<version>[0-9A-Za-z][0-9A-Za-z_.-]*)$")
SPEC_PATTERN = _SPEC.pattern  # NAME@VERSION, for request models


class ModelError(CuevisionError):
    """A model that cannot be found or used; the message says which and how to fix it."""


@dataclass(frozen=True)
class ModelRef:
    """Where one model version lives, and its config as read once from there."""

    name: str
    version: str
    folder: Path
    config: dict[str, Any] = field(compare=False, repr=False)


def default_model(models_dir: Path = MODELS_DIR, scheme: str | None = None) -> str:
    """The default model, ``NAME@VERSION``, that ``registry.json`` in ``models_dir`` names: for
    the scheme named ``scheme`` where its ``schemes`` names one, else its ``default``."""
    path = Path(models_dir) / REGISTRY_FILE
    try:
        data = json.loads(path.read_text())
        spec = data.get("schemes", {}).get(scheme) or data["default"]
    except (
        OSError,
        UnicodeDecodeError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        AttributeError,
    ) as error:
        raise ModelError(
            f"{path}: no default model ({type(error).__name__}: {error}); write "
            '{"default": "NAME@VERSION"} there, or pass the model explicitly'
        ) from None
    if not isinstance(spec, str) or not _SPEC.match(spec):
        raise ModelError(f"{path}: default {spec!r} is not NAME@VERSION; correct the file")
    return spec


def read_registry(models_dir: Path = MODELS_DIR) -> dict[str, Any]:
    """The whole ``registry.json``: ``default`` (checked) and ``history`` (a list, maybe empty)."""
    spec = default_model(models_dir)
    data = json.loads((Path(models_dir) / REGISTRY_FILE).read_text())
    history = data.get("history", [])
    if not isinstance(history, list):
        raise ModelError(f"{Path(models_dir) / REGISTRY_FILE}: history must be a list")
    return {"default": spec, "history": history}


def set_default(spec: str, record: dict[str, Any], models_dir: Path = MODELS_DIR) -> dict[str, Any]:
    """Point the registry at ``spec`` and append ``record`` (with ``to`` and ``from``) to its
    history, in one atomic write; return that history entry."""
    from cuevision.files import write_json

    ref = resolve(spec, models_dir)
    current = read_registry(models_dir)
    kept = json.loads((Path(models_dir) / REGISTRY_FILE).read_text())  # e.g. ``schemes``
    scheme = scheme_of(ref)
    schemes = dict(kept.get("schemes") or {})
    to = f"{ref.name}@{ref.version}"
    if scheme in schemes:  # a model of a scheme with a default of its own replaces that one
        entry = {"from": schemes[scheme], "to": to, "scheme": scheme, **record}
        kept["schemes"] = {**schemes, scheme: to}
    else:
        entry = {"from": current["default"], "to": to, **record}
        kept["default"] = to
    write_json(Path(models_dir) / REGISTRY_FILE, {**kept, "history": [*current["history"], entry]})
    return entry


def scheme_of(ref: ModelRef) -> str | None:
    """The name of the scheme a model version was trained for."""
    scheme = ref.config.get("scheme")
    return scheme.get("name") if isinstance(scheme, dict) else None


def seed_registry(models_dir: Path, source: Path = MODELS_DIR) -> Path:
    """``models_dir`` as a registry of its own that starts from ``source`` (the shipped one): each
    version of ``source`` it lacks is copied in whole, never over one of its own, and a
    ``registry.json`` naming ``source``'s default is written once, so that fine-tuning, the
    default and the promotion gate all live in one writable folder (the service's)."""
    import tempfile

    from cuevision.files import create_once, make_private_dir, write_bytes

    root = Path(models_dir)
    make_private_dir(root)
    for spec in list_models(source):
        name, version = spec.split("@")
        target = version_folder(name, version, root)
        if target.exists():
            continue
        make_private_dir(target.parent)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".partial-") as tmp:
            copy = Path(tmp) / "version"
            make_private_dir(copy)
            for file in version_folder(name, version, source).iterdir():
                if file.is_file():
                    write_bytes(copy / file.name, file.read_bytes())
            try:
                copy.rename(target)  # whole or absent, as a trained version
            except OSError:  # another worker copied it first
                if not (target / "config.json").is_file():
                    raise
    create_once(root / REGISTRY_FILE, (Path(source) / REGISTRY_FILE).read_bytes())
    return root


def version_folder(name: str, version: str, models_dir: Path = MODELS_DIR) -> Path:
    return Path(models_dir) / name / version


def resolve(spec: str | Path, models_dir: Path = MODELS_DIR) -> ModelRef:
    """``NAME@VERSION`` (looked up in ``models_dir``) or a version folder -> its reference."""
    text = str(spec)
    match = _SPEC.match(text)
    if match:
        folder = version_folder(match["name"], match["version"], models_dir)
    elif Path(text).is_dir() or "/" in text or text.startswith("."):
        folder = Path(text)
    else:
        known = ", ".join(list_models(models_dir)) or "none"
        raise ModelError(
            f"{text!r} is not a model: give NAME@VERSION (models in {models_dir}: {known}) or "
            "the path of a model version folder"
        )
    config = folder / "config.json"
    if not config.is_file():
        known = ", ".join(list_models(models_dir)) or "none"
        raise ModelError(
            f"model {text!r} not found (no {config}); models in {models_dir}: {known}. "
            "Train one with `cuevision train --name NAME --version VERSION`."
        )
    data = read_config(folder)
    return ModelRef(str(data["name"]), str(data["version"]), folder, data)


def read_config(folder: Path) -> dict[str, Any]:
    path = Path(folder) / "config.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"{path}: unreadable model config ({error}); retrain the model") from None
    needed = ("name", "version", "architecture", "normaliser", "thresholds", "type_names")
    missing = [k for k in needed if not isinstance(data, dict) or k not in data]
    if missing:
        raise ModelError(f"{path}: model config lacks {', '.join(missing)}; retrain the model")
    return dict(data)


def list_models(models_dir: Path = MODELS_DIR) -> list[str]:
    """Every ``NAME@VERSION`` in the registry, sorted."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return sorted(
        f"{c.parent.name}@{c.name}" for c in root.glob("*/*") if (c / "config.json").is_file()
    )


def check_scheme(config: dict[str, Any], scheme: Scheme, where: Path) -> None:
    """The model's output classes must be exactly the scheme's event types."""
    expected = config.get("scheme", {}).get("hash")
    if expected != scheme.hash:
        raise ModelError(
            f"model {where} was trained for scheme {config.get('scheme', {}).get('name')!r} "
            f"(hash {expected}), but the scheme given is {scheme.name!r} (hash {scheme.hash}); "
            "pass the scheme the model was trained with, or retrain with `cuevision train "
            "--scheme FILE`"
        )
