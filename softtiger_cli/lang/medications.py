"""The words of drug mentions (lang/<code>/medications.toml): strength units, dose forms, routes and
frequencies, supplements. Read once and checked at load, naming the file and line of a bad entry;
clinical/medications.py builds its patterns from them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from softtiger_cli.lang.pack import read_file
from softtiger_cli.lang.words import ListSpec, Vocabulary, read_vocabulary

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path

_W, _P, _C = ListSpec(), ListSpec(patterns=True), ListSpec(case=True)
SPEC: dict[str, dict[str, ListSpec]] = {
    "strength": {"units": _W, "links": _W, "per": _W},
    "form": {"qualifiers": _W, "qualified": _W, "forms": _W},
    "sig": {"words": _P, "doses": _W, "dose_units": _W, "joiners": _W},
    "supplements": {"names": _P, "words": _W},
    "administered": {"units": _C, "links": _C},
}


@functools.lru_cache(maxsize=None)
def load_medications(code: str = "en", folder: Traversable | Path | None = None) -> Vocabulary:
    """medications.toml of lang/<code>/ (or of `folder`, for tests), read and checked once."""
    data, src = read_file(code, "medications.toml", folder)
    return read_vocabulary(data, src, SPEC)
