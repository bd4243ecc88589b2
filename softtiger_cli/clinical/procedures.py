"""Tests and procedures named in prose: imaging, cardiac and endoscopic studies, laboratory panels, therapies
and operations, found by pattern with exact spans ("X-rays of the right elbow", "hemoglobin A1c",
"rotator cuff repair", "a colonoscopy").

A pattern names the kind of act (an imaging study, a panel, an -ectomy), never a dev note's wording; the
body part and side that follow or precede it are part of the name. A single laboratory analyte
("creatinine", "potassium") is a test only where the note gives its level or value next to it. The words
are data (lang/<code>/findings.toml); this module is the skeleton that joins them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import partial

from softtiger_cli.core.text import Language
from softtiger_cli.lang.findings import load_findings
from softtiger_cli.lang.text import text_model


@dataclass(frozen=True)
class _Readers:
    """A language's test and procedure words (lang/<code>/findings.toml [procedures]) as patterns."""

    procedure: re.Pattern[str]
    analyte: re.Pattern[str]
    not_procedure: re.Pattern[str]
    never_alone: re.Pattern[str]  # "her labs": which tests, the note does not say
    context: re.Pattern[str]
    short_operation: re.Pattern[str]
    operation_min_length: int


@functools.lru_cache(maxsize=None)
def _readers(lang: Language) -> _Readers:
    """The skeleton around the words: English words sit between blanks; Chinese writes none, so its patterns
    start and end anywhere but inside a Latin word, and its operations are anchored in its pack's patterns
    (a suffix alone, "术", would take a whole Han run)."""
    v, tm = load_findings(lang), text_model(lang)
    P = partial(v.alt, "procedures")  # noqa: N806
    gap = tm.gap
    side = r"(?:(?:" + P("sides") + r")" + gap + r")?"
    body = r"(?:(?:" + P("body_regions") + r")?\s*(?:" + P("body_parts") + r"))"
    of_body = (r"(?:" + gap + r"(?:(?:" + P("image_words") + r")" + gap + r")?(?:" + P("body_links") + r")" + gap +
               r"(?:(?:" + P("determiners") + r")" + gap + r")?" + side + r"(?:\w+\s+){0,2}?" + body + r")?")
    imaging = r"(?:(?:" + P("imaging_regions") + r")" + gap + r")?(?:" + P("imaging") + r")"
    suffixed = "" if tm.han_boundaries else r"|\w+(?:" + P("operation_suffixes") + r")"
    studies = r"(?:" + P("studies") + suffixed + r")"
    lead, tail = (r"(?<![A-Za-z0-9_-])", r"(?![A-Za-z0-9_-])") if tm.han_boundaries else (r"(?<![\w-])", r"(?![\w-])")
    return _Readers(
        procedure=re.compile(rf"{lead}(?:{side}(?:{imaging}){of_body}|{side}(?:(?:{body}){gap})?(?:{studies})|"
                             rf"(?:{P('labs')})){tail}", re.I),
        analyte=re.compile(rf"{lead}(?:{P('analytes')})(?=\s*(?:(?:{P('level_words')}){tm.edge}|"
                           rf"(?:{P('value_links')})?\s*(?:\d|{P('values')})))", re.I),
        not_procedure=re.compile(r"^(?:" + P("needs_context") + r")$", re.I),
        never_alone=re.compile(r"^(?:" + P("never_alone") + r")$", re.I),
        context=re.compile(tm.bounded(P("context_words")), re.I),
        short_operation=re.compile(r"\w+(?:" + P("short_operation_suffixes") + r")", re.I),
        operation_min_length=v.count("procedures", "operation_min_length"),
    )


_EN = _readers("en")
PROCEDURE = _EN.procedure
ANALYTE_WITH_VALUE = _EN.analyte


def find_procedures(text: str, start: int = 0, end: int | None = None, lang: Language = "en") -> list[tuple[int, int]]:
    """Spans of tests and procedures named in text[start:end], longest first, without overlaps."""
    end = len(text) if end is None else end
    r = _readers(lang)
    found: list[tuple[int, int]] = []
    for pattern in (r.procedure, r.analyte):
        for m in pattern.finditer(text, start, end):
            lo, hi = m.start(), m.end()
            word = m.group(0).strip()
            if r.never_alone.match(word):
                continue
            if r.not_procedure.match(word):
                before = text[max(0, lo - 20):lo]
                if not r.context.search(before):  # a bare "echo", "labs": only as an object of a verb
                    continue
            if r.short_operation.fullmatch(word) and len(word) < r.operation_min_length:
                continue  # too short to be an operation's name
            if not any(lo < b and hi > a for a, b in found):
                found.append((lo, hi))
    return sorted(found)
