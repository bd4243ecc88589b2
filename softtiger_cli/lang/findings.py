"""The words of findings, tests and procedures (lang/<code>/findings.toml), read once and checked at load.

clinical/findings.py and clinical/procedures.py build their patterns from these lists (the skeleton, how a
side, a site and a symptom combine, is code). Every table and key below must be there, and no other; a
phrase listed twice, a bad optional part or a bad pattern is refused with the file and line.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from softtiger_cli.lang.pack import read_file
from softtiger_cli.lang.words import ListSpec, Vocabulary, read_vocabulary

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path

_W, _P, _N = ListSpec(), ListSpec(patterns=True), ListSpec(count=True)
SPEC: dict[str, dict[str, ListSpec]] = {
    "findings": {key: _P if key == "qualifiers" else _W for key in (
        "sides", "sites", "symptoms", "qualifiers", "palpation", "places", "determiners", "with", "activities",
        "vague", "specific")},
    "exam": {key: _W for key in ("tender_qualifiers", "tender", "pain", "palpation", "palpation_links", "places",
                                 "determiners", "joiners")},
    "function": {key: _W for key in ("changes", "kinds", "functions", "places", "determiners")},
    "signs": {key: _W for key in ("positive", "signs", "words")},
    "phrases": {"phrases": _W},
    "procedures": {key: _P if key in ("imaging", "studies") else _N if key == "operation_min_length" else _W
                   for key in ("sides", "body_regions", "body_parts", "image_words", "body_links", "determiners",
                               "imaging_regions", "imaging", "studies", "operation_suffixes",
                               "short_operation_suffixes", "operation_min_length", "labs", "analytes", "level_words",
                               "value_links", "values", "needs_context", "context_words", "never_alone")},
}


@functools.lru_cache(maxsize=None)
def load_findings(code: str = "en", folder: Traversable | Path | None = None) -> Vocabulary:
    """findings.toml of lang/<code>/ (or of `folder`, for tests), read and checked once."""
    data, src = read_file(code, "findings.toml", folder)
    return read_vocabulary(data, src, SPEC)
