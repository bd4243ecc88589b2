"""Where packaged data lives, for an installed wheel and for a source checkout alike."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # softtiger_cli/


def _data_path(name: str) -> Path:
    """An installed wheel carries data under softtiger_cli/_data; a checkout has it at the top level."""
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.exists():
        return packaged
    return _PACKAGE_DIR.parent / name


def grammars_dir() -> Path:
    override = os.environ.get("SOFTTIGER_GRAMMARS_DIR")
    return Path(override) if override else _data_path("grammars")


def models_toml() -> Path:
    override = os.environ.get("SOFTTIGER_MODELS_TOML")
    return Path(override) if override else _data_path("models.toml")
