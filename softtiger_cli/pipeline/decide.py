"""The assertion step: the one place that decides what each item means. Assembly only maps the result.

The model proposes; where the note allows a check, code checks the item's own sentence (ConText-style
cues, the section it stands in, dates written near it), the check wins and the override is counted.
"""

from __future__ import annotations

import datetime as dt
import re

from softtiger_cli.clinical.assertions import assert_span
from softtiger_cli.clinical.dates import resolve
from softtiger_cli.core.data import Assertion, Extraction, Item
from softtiger_cli.pipeline.analyse import NoteAnalysis

_MODEL_CERTAINTY = {"refuted": "negated", "provisional": "possible", "differential": "possible",
                    "unconfirmed": "possible", "confirmed": "affirmed"}
_ONSET_NEAR = re.compile(
    r"(?:since|in|from|x|for|began|started|diagnosed)\s*[^.;,]{0,25}?"
    r"((?:19|20)\d{2}|\d+\s*(?:days?|d|weeks?|wks?|months?|mos?|years?|yrs?)(?:\s+ago)?|"
    r"last\s+\w+|yesterday|today)", re.I)
_DATE_FIELDS = {"problems": "onsetString", "procedures": "performedString", "immunizations": "occurrenceString"}


def decide(item: Item, result: Extraction, analysis: NoteAnalysis) -> bool:
    """Check a grounded item against its sentence: negation, family, time, dates. False drops it.

    Negated items are left out (a problem the patient denies is not one of theirs; README documents it).
    """
    if not item.spans:
        return True
    note = analysis.text
    main = item.spans[0]
    sec = analysis.section_at(main.start)
    assertion, _cues = assert_span(note, main.start, main.end, sec, analysis.sentences_at(main.start),
                                   analysis.list_names)
    if item.group == "problems":
        claimed = Assertion(
            certainty=_MODEL_CERTAINTY.get(str(item.values.get("verificationStatus", "")), "affirmed"),
            subject=str(item.values.get("subject") or "patient"),
            relationship=str(item.values.get("relationship") or ""),
            time=str(item.values.get("time") or "current"),
        )
        for attr in ("certainty", "subject", "time"):
            if getattr(claimed, attr) != getattr(assertion, attr):
                result.count(attr)
        item.assertion = assertion
    elif assertion.certainty == "negated":
        result.count("certainty")
    if assertion.certainty == "negated":
        result.negated_dropped += 1
        return False
    field_name = _DATE_FIELDS.get(item.group)
    if field_name is not None:
        text = str(item.values.get(field_name) or "")
        if not text:
            end = sec.end if sec else len(note)
            stop = note.find(".", main.end, end)
            near = _ONSET_NEAR.search(note[max(0, main.start - 20) : stop if stop > 0 else min(end, main.end + 60)])
            if near:
                text = near.group(0).strip()
                result.count("date read from the sentence")
        if text:
            item.onset = resolve(text, _parse_iso(result.note_date))
            item.values[field_name] = text
    return True


def _parse_iso(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
