"""Tests and procedures named in prose: imaging, cardiac and endoscopic studies, laboratory panels, therapies
and operations, found by pattern with exact spans ("X-rays of the right elbow", "hemoglobin A1c",
"rotator cuff repair", "a colonoscopy").

A pattern names the kind of act (an imaging study, a panel, an -ectomy), never a dev note's wording; the
body part and side that follow or precede it are part of the name. A single laboratory analyte
("creatinine", "potassium") is a test only where the note gives its level or value next to it. The words
are data (lang/<code>/findings.toml); this module is the skeleton that joins them.
"""

from __future__ import annotations

import re
from functools import partial

from softtiger_cli.lang.findings import load_findings

_V = load_findings("en")
_P = partial(_V.alt, "procedures")

_SIDE = r"(?:(?:" + _P("sides") + r")\s+)?"
_BODY = r"(?:(?:" + _P("body_regions") + r")?\s*(?:" + _P("body_parts") + r"))"
_OF_BODY = (r"(?:\s+(?:(?:" + _P("image_words") + r")\s+)?(?:" + _P("body_links") + r")\s+(?:(?:" + _P("determiners") +
            r")\s+)?" + _SIDE + r"(?:\w+\s+){0,2}?" + _BODY + r")?")
_IMAGING = r"(?:(?:" + _P("imaging_regions") + r")\s+)?(?:" + _P("imaging") + r")"
_STUDIES = r"(?:" + _P("studies") + r"|\w+(?:" + _P("operation_suffixes") + r"))"
PROCEDURE = re.compile(
    rf"(?<![\w-])(?:{_SIDE}(?:{_IMAGING}){_OF_BODY}|{_SIDE}(?:(?:{_BODY})\s+)?(?:{_STUDIES})|(?:{_P('labs')}))(?![\w-])",
    re.I)
ANALYTE_WITH_VALUE = re.compile(
    rf"(?<![\w-])(?:{_P('analytes')})(?=\s*(?:(?:{_P('level_words')})\b|(?:{_P('value_links')})?\s*(?:\d|"
    rf"{_P('values')})))", re.I)
_NOT_PROCEDURE = re.compile(r"^(?:" + _P("needs_context") + r")$", re.I)
_NEVER_ALONE = re.compile(r"^(?:" + _P("never_alone") + r")$", re.I)  # "her labs": which tests, the note does not say
_PROCEDURE_CONTEXT = re.compile(r"\b(?:" + _P("context_words") + r")\b", re.I)
_SHORT_OPERATION = re.compile(r"\w+(?:" + _P("short_operation_suffixes") + r")", re.I)
_OPERATION_MIN_LENGTH = _V.count("procedures", "operation_min_length")


def find_procedures(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of tests and procedures named in text[start:end], longest first, without overlaps."""
    end = len(text) if end is None else end
    found: list[tuple[int, int]] = []
    for pattern in (PROCEDURE, ANALYTE_WITH_VALUE):
        for m in pattern.finditer(text, start, end):
            lo, hi = m.start(), m.end()
            word = m.group(0).strip()
            if _NEVER_ALONE.match(word):
                continue
            if _NOT_PROCEDURE.match(word):
                before = text[max(0, lo - 20):lo]
                if not _PROCEDURE_CONTEXT.search(before):  # a bare "echo", "labs": only as an object of a verb
                    continue
            if _SHORT_OPERATION.fullmatch(word) and len(word) < _OPERATION_MIN_LENGTH:
                continue  # too short to be an operation's name
            if not any(lo < b and hi > a for a, b in found):
                found.append((lo, hi))
    return sorted(found)
