"""Where the files that ship with cuevision are found, installed from a wheel or from a checkout.

The default coding scheme, the Label Studio config and the default model live in the repository's
top-level ``annotation/`` and ``models/`` folders. A wheel carries copies of them inside the package
as ``cuevision/_bundled/`` (the ``package-dir`` mapping in ``pyproject.toml``); an editable install
(``pip install -e .``) has no ``_bundled`` folder and reads the checkout's own folders. Nothing
else in cuevision builds a path from its own source location.

New model versions need a folder the user can write, chosen by :func:`writable_models_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_bundled"
INSTALLED_FROM_WHEEL = _BUNDLED.is_dir()
_ROOT = _BUNDLED if INSTALLED_FROM_WHEEL else _PACKAGE.parent

ANNOTATION_DIR = _ROOT / "annotation"
DEFAULT_SCHEME = ANNOTATION_DIR / "schemes" / "default.yaml"
LABEL_STUDIO_CONFIG = ANNOTATION_DIR / "labelstudio" / "default.xml"
SHIPPED_MODELS = _ROOT / "models"  # the registry that model names are looked up in


def writable_models_dir() -> Path:
    """The registry folder that ``cuevision train`` writes to, unless given ``--models-dir``.

    In a checkout it is the checkout's ``models/``, as the committed versions are. Installed from
    a wheel, the shipped registry sits inside site-packages and is not the user's to change, so it
    is a per-user data folder: ``$XDG_DATA_HOME/cuevision/models`` (``~/.local/share/...``).
    """
    if not INSTALLED_FROM_WHEEL:
        return SHIPPED_MODELS
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "cuevision" / "models"
