"""Dates in notes: find the note's own date, and resolve relative or partial dates against it.

Resolved values are FHIR date/dateTime strings with the precision the note gives ("2015" stays a year,
"last March" a month). What cannot be resolved (no note date for "3 days ago", or words that are not a
date) returns None, and the caller keeps the text as written (onsetString) rather than inventing a date.
Durations ("for 10 days") are read with the same units, for FHIR Duration values.

The words and date shapes are data in lang/<code>/dates.toml; this module is the algorithm that reads them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Literal

from softtiger_cli.core.text import Language
from softtiger_cli.lang.measures import DateShape, Dates, load_measures

Precision = Literal["year", "month", "day"]
_DAY_PRECISION_BELOW, _MONTH_PRECISION_BELOW = 60, 730  # days back: "3 days ago" is a day, "2 years ago" a year


def _alt(words: tuple[str, ...] | list[str]) -> str:
    return "|".join(map(re.escape, words))


@dataclass(frozen=True)
class _Reader:
    """A language's date and duration words (lang/<code>/dates.toml) as patterns, built once."""

    dates: Dates
    months: dict[str, int]
    units: dict[str, int]  # relative unit word -> days
    durations: dict[str, tuple[str, str]]  # duration unit word -> (UCUM, display)
    label: re.Pattern[str]
    month_year: re.Pattern[str]
    year_only: re.Pattern[str]
    since_year: re.Pattern[str]
    ago: re.Pattern[str]
    repeat: re.Pattern[str]
    postop: re.Pattern[str]
    last_month: re.Pattern[str]
    duration: re.Pattern[str]


@functools.lru_cache(maxsize=None)
def _reader(lang: Language) -> _Reader:
    d = load_measures(lang).dates
    months = dict(d.months)
    units = {w: u.length for u in d.units if u.length for w in u.words + u.relative_only}
    durations = {w: (u.ucum, u.display) for u in d.units if u.ucum for w in u.words}
    month = "|".join(sorted(months, key=len, reverse=True))
    relative = r"\s*(" + _alt(sorted(units, key=len, reverse=True)) + r")"
    return _Reader(
        dates=d, months=months, units=units, durations=durations,
        label=re.compile(r"(" + _alt(d.labels) + r")\s*[:\-]?\s*", re.I),
        month_year=re.compile(r"\b(" + month + r")\.?\s+(" + d.year + r")\b"),
        year_only=re.compile(r"(?:" + "|".join(re.escape(w) + (" " if w[-1].isalnum() else " ?") for w in d.year_leads)
                             + r")?(" + d.year + r")s?"),
        since_year=re.compile(r"\b(?:" + _alt(d.since) + r")\s+(" + d.year + r")\b"),
        ago=re.compile(r"\b(\d+|" + _alt(list(d.numbers)) + r")" + relative + r"\s+(?:" + _alt(d.ago) + r")\b"),
        repeat=re.compile(r"\b(?:" + _alt(d.repeat) + r")\s*(\d+)" + relative + r"\b"),
        postop=re.compile(r"\b(?:" + _alt(d.postop) + r")\s*#?\s*(\d+)\b"),
        last_month=re.compile(r"\b(?:" + _alt(d.last) + r")\s+(" + month + r")\b"),
        duration=re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(" + _alt(sorted(durations, key=len, reverse=True)) + r")\b", re.I),
    )


MONTHS: dict[str, int] = _reader("en").months


def _valid(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _date(shape: DateShape, m: re.Match[str]) -> dt.date | None:
    """The date a shape's match states (its groups in the shape's order), or None when impossible."""
    parts = {part: int(m.group(i)) for i, part in enumerate(shape.order, 1)}
    return _valid(parts["y"], parts["m"], parts["d"])


def find_note_date(text: str, lang: Language = "en") -> dt.date | None:
    """The note's date: a labelled date ("Date of visit: ..."), else the first full date in its first lines."""
    head, r = text[:600], _reader(lang)
    for m in r.label.finditer(head):
        rest = head[m.end() : m.end() + 20]
        for shape in r.dates.shapes:
            if found := shape.pattern.match(rest):
                return _date(shape, found)
    first_lines = "\n".join(text.strip().splitlines()[:3])
    for shape in r.dates.shapes:
        if shape.first_lines and (found := shape.pattern.search(first_lines)):
            return _date(shape, found)
    return None


def _fmt(d: dt.date, precision: Precision) -> str:
    return {"year": f"{d.year:04d}", "month": f"{d.year:04d}-{d.month:02d}", "day": d.isoformat()}[precision]


def resolve(text: str, note_date: dt.date | None, lang: Language = "en") -> str | None:
    """A FHIR date for a date expression, or None. Relative forms need the note's date."""
    t, r = text.strip().lower(), _reader(lang)
    if not t:
        return None
    for shape in r.dates.shapes:
        if m := shape.pattern.search(t):
            if d := _date(shape, m):  # year-month-day is returned as written, as before the pack
                return m.group(0) if shape.order == "ymd" else d.isoformat()
            if shape.impossible == "none":
                return None
    if m := r.month_year.search(t):
        return f"{int(m.group(2)):04d}-{r.months[m.group(1)]:02d}"
    if m := r.year_only.fullmatch(t) or r.since_year.search(t):
        return m.group(1)
    if note_date is None:
        return None
    if t in r.dates.days_before:
        return (note_date - dt.timedelta(days=r.dates.days_before[t])).isoformat()
    if m := r.ago.search(t) or r.repeat.search(t):
        n = int(m.group(1)) if m.group(1).isdigit() else r.dates.numbers[m.group(1)]
        days = n * r.units[m.group(2)]
        when = note_date - dt.timedelta(days=days)
        precision: Precision = "day" if days < _DAY_PRECISION_BELOW else (
            "month" if days < _MONTH_PRECISION_BELOW else "year")
        return _fmt(when, precision)
    if m := r.postop.search(t):  # "POD 2" is two days after surgery: the surgery date
        return (note_date - dt.timedelta(days=int(m.group(1)))).isoformat()
    if m := r.last_month.search(t):
        month = r.months[m.group(1)]
        year = note_date.year if month < note_date.month else note_date.year - 1
        return f"{year:04d}-{month:02d}"
    if t in r.dates.years_before:
        return f"{note_date.year - r.dates.years_before[t]:04d}"
    return None


def read_duration(text: str, lang: Language = "en") -> tuple[int | float, str, str] | None:
    """A duration the text begins with ("10 days", "2.5 hrs"): its value, UCUM code and unit display."""
    r = _reader(lang)
    durations, m = r.durations, r.duration.match(text)
    if not m:
        return None
    code, display = durations[m.group(2).lower()] if m.group(2).lower() in durations else next(
        v for w, v in durations.items() if re.fullmatch(re.escape(w), m.group(2), re.I))
    return (float(m.group(1)) if "." in m.group(1) else int(m.group(1))), code, display
