"""Dates in notes: find the note's own date, and resolve relative or partial dates against it.

Resolved values are FHIR date/dateTime strings with the precision the note gives ("2015" stays a year,
"last March" a month). What cannot be resolved (no note date for "3 days ago", or words that are not a
date) returns None, and the caller keeps the text as written (onsetString) rather than inventing a date.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({k[:3]: v for k, v in list(MONTHS.items())})
MONTHS["sept"] = 9
_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7,
          "mo": 30, "mos": 30, "month": 30, "months": 30, "y": 365, "yr": 365, "yrs": 365, "year": 365, "years": 365}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "a": 1, "an": 1, "several": None}
_ISO = re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b")
_US = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b")
_DATE_LABEL = re.compile(r"(date of (?:visit|service|admission|encounter)|visit date|dos|date)\s*[:\-]?\s*", re.I)


def _valid(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def find_note_date(text: str) -> dt.date | None:
    """The note's date: a labelled date ("Date of visit: ..."), else the first full date in its first lines."""
    head = text[:600]
    for m in _DATE_LABEL.finditer(head):
        rest = head[m.end() : m.end() + 20]
        iso = _ISO.match(rest)
        if iso:
            return _valid(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        us = _US.match(rest)
        if us:
            return _valid(int(us.group(3)), int(us.group(1)), int(us.group(2)))
    first_lines = "\n".join(text.strip().splitlines()[:3])
    iso = _ISO.search(first_lines)
    if iso:
        return _valid(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    return None


def _fmt(d: dt.date, precision: str) -> str:
    return {"year": f"{d.year:04d}", "month": f"{d.year:04d}-{d.month:02d}", "day": d.isoformat()}[precision]


def resolve(text: str, note_date: dt.date | None) -> str | None:
    """A FHIR date for a date expression, or None. Relative forms need the note's date."""
    t = text.strip().lower()
    if not t:
        return None
    iso = _ISO.search(t)
    if iso and _valid(int(iso.group(1)), int(iso.group(2)), int(iso.group(3))):
        return iso.group(0)
    us = _US.search(t)
    if us:
        d = _valid(int(us.group(3)), int(us.group(1)), int(us.group(2)))
        return d.isoformat() if d else None
    m = re.search(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+((?:19|20)\d{2})\b", t)
    if m:
        return f"{int(m.group(2)):04d}-{MONTHS[m.group(1)]:02d}"
    m = re.fullmatch(r"(?:in |since |from |circa |c\. ?)?((?:19|20)\d{2})s?", t) or re.search(
        r"\b(?:in|since|from)\s+((?:19|20)\d{2})\b", t)
    if m:
        return m.group(1)
    if note_date is None:
        return None
    if t in ("today", "this morning", "tonight", "now"):
        return note_date.isoformat()
    if t == "yesterday":
        return (note_date - dt.timedelta(days=1)).isoformat()
    m = re.search(r"\b(\d+|" + "|".join(k for k, v in _NUMBER_WORDS.items() if v) + r")\s*(days?|d|weeks?|wks?|w|months?|mos?|years?|yrs?|y)\s+ago\b", t)
    m = m or re.search(r"\bx\s*(\d+)\s*(d|days?|w|wks?|weeks?|mos?|months?|y|yrs?|years?)\b", t)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBER_WORDS[m.group(1)]
        unit = m.group(2)
        days = n * _UNITS.get(unit, _UNITS.get(unit.rstrip("s"), 1))
        when = note_date - dt.timedelta(days=days)
        precision = "day" if days < 60 else ("month" if days < 730 else "year")
        return _fmt(when, precision)
    m = re.search(r"\b(?:pod|post-?op(?:erative)? day)\s*#?\s*(\d+)\b", t)
    if m:  # "POD 2" is two days after surgery: the surgery date
        return (note_date - dt.timedelta(days=int(m.group(1)))).isoformat()
    m = re.search(r"\blast\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b", t)
    if m:
        month = MONTHS[m.group(1)]
        year = note_date.year if month < note_date.month else note_date.year - 1
        return f"{year:04d}-{month:02d}"
    if t in ("last year",):
        return f"{note_date.year - 1:04d}"
    return None
