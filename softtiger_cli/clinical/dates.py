"""Dates in notes: find the note's own date, and resolve relative or partial dates against it.

Resolved values are FHIR date/dateTime strings with the precision the note gives ("2015" stays a year,
"last March" a month). What cannot be resolved (no note date for "3 days ago", or words that are not a
date) returns None, and the caller keeps the text as written (onsetString) rather than inventing a date.
Durations ("for 10 days") are read with the same units, for FHIR Duration values.

The words and date shapes are data in lang/<code>/dates.toml; this module is the algorithm that reads them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from softtiger_cli.lang.measures import DateShape, Dates, load_measures

Precision = Literal["year", "month", "day"]
_DAY_PRECISION_BELOW, _MONTH_PRECISION_BELOW = 60, 730  # days back: "3 days ago" is a day, "2 years ago" a year


def _alt(words: tuple[str, ...] | list[str]) -> str:
    return "|".join(map(re.escape, words))


_DATES: Dates = load_measures("en").dates
MONTHS: dict[str, int] = dict(_DATES.months)
_UNITS = {w: u.length for u in _DATES.units if u.length for w in u.words + u.relative_only}
_DURATIONS = {w: (u.ucum, u.display) for u in _DATES.units if u.ucum for w in u.words}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_RELATIVE = r"\s*(" + _alt(sorted(_UNITS, key=len, reverse=True)) + r")"
_SHAPES = _DATES.shapes
_DATE_LABEL = re.compile(r"(" + _alt(_DATES.labels) + r")\s*[:\-]?\s*", re.I)
_MONTH_YEAR = re.compile(r"\b(" + _MONTH + r")\.?\s+(" + _DATES.year + r")\b")
_YEAR_ONLY = re.compile(r"(?:" + "|".join(re.escape(w) + (" " if w[-1].isalnum() else " ?") for w in _DATES.year_leads)
                        + r")?(" + _DATES.year + r")s?")
_SINCE_YEAR = re.compile(r"\b(?:" + _alt(_DATES.since) + r")\s+(" + _DATES.year + r")\b")
_AGO = re.compile(r"\b(\d+|" + _alt(list(_DATES.numbers)) + r")" + _RELATIVE + r"\s+(?:" + _alt(_DATES.ago) + r")\b")
_REPEAT = re.compile(r"\b(?:" + _alt(_DATES.repeat) + r")\s*(\d+)" + _RELATIVE + r"\b")
_POSTOP = re.compile(r"\b(?:" + _alt(_DATES.postop) + r")\s*#?\s*(\d+)\b")
_LAST_MONTH = re.compile(r"\b(?:" + _alt(_DATES.last) + r")\s+(" + _MONTH + r")\b")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(" + _alt(sorted(_DURATIONS, key=len, reverse=True)) + r")\b", re.I)


def _valid(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _date(shape: DateShape, m: re.Match[str]) -> dt.date | None:
    """The date a shape's match states (its groups in the shape's order), or None when impossible."""
    parts = {part: int(m.group(i)) for i, part in enumerate(shape.order, 1)}
    return _valid(parts["y"], parts["m"], parts["d"])


def find_note_date(text: str) -> dt.date | None:
    """The note's date: a labelled date ("Date of visit: ..."), else the first full date in its first lines."""
    head = text[:600]
    for m in _DATE_LABEL.finditer(head):
        rest = head[m.end() : m.end() + 20]
        for shape in _SHAPES:
            if found := shape.pattern.match(rest):
                return _date(shape, found)
    first_lines = "\n".join(text.strip().splitlines()[:3])
    for shape in _SHAPES:
        if shape.first_lines and (found := shape.pattern.search(first_lines)):
            return _date(shape, found)
    return None


def _fmt(d: dt.date, precision: Precision) -> str:
    return {"year": f"{d.year:04d}", "month": f"{d.year:04d}-{d.month:02d}", "day": d.isoformat()}[precision]


def resolve(text: str, note_date: dt.date | None) -> str | None:
    """A FHIR date for a date expression, or None. Relative forms need the note's date."""
    t = text.strip().lower()
    if not t:
        return None
    for shape in _SHAPES:
        if m := shape.pattern.search(t):
            if d := _date(shape, m):  # year-month-day is returned as written, as before the pack
                return m.group(0) if shape.order == "ymd" else d.isoformat()
            if shape.impossible == "none":
                return None
    if m := _MONTH_YEAR.search(t):
        return f"{int(m.group(2)):04d}-{MONTHS[m.group(1)]:02d}"
    if m := _YEAR_ONLY.fullmatch(t) or _SINCE_YEAR.search(t):
        return m.group(1)
    if note_date is None:
        return None
    if t in _DATES.days_before:
        return (note_date - dt.timedelta(days=_DATES.days_before[t])).isoformat()
    if m := _AGO.search(t) or _REPEAT.search(t):
        n = int(m.group(1)) if m.group(1).isdigit() else _DATES.numbers[m.group(1)]
        days = n * _UNITS[m.group(2)]
        when = note_date - dt.timedelta(days=days)
        precision: Precision = "day" if days < _DAY_PRECISION_BELOW else (
            "month" if days < _MONTH_PRECISION_BELOW else "year")
        return _fmt(when, precision)
    if m := _POSTOP.search(t):  # "POD 2" is two days after surgery: the surgery date
        return (note_date - dt.timedelta(days=int(m.group(1)))).isoformat()
    if m := _LAST_MONTH.search(t):
        month = MONTHS[m.group(1)]
        year = note_date.year if month < note_date.month else note_date.year - 1
        return f"{year:04d}-{month:02d}"
    if t in _DATES.years_before:
        return f"{note_date.year - _DATES.years_before[t]:04d}"
    return None


def read_duration(text: str) -> tuple[int | float, str, str] | None:
    """A duration the text begins with ("10 days", "2.5 hrs"): its value, UCUM code and unit display."""
    m = _DURATION.match(text)
    if not m:
        return None
    code, display = _DURATIONS[m.group(2).lower()] if m.group(2).lower() in _DURATIONS else next(
        v for w, v in _DURATIONS.items() if re.fullmatch(re.escape(w), m.group(2), re.I))
    return (float(m.group(1)) if "." in m.group(1) else int(m.group(1))), code, display
