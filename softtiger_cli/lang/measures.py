"""Read the measure packs (vital signs, dates, abbreviations) and refuse a broken one at load, naming the file
and line of the bad entry.

lang/common/vitals.toml holds what is the same in every language (LOINC codes, UCUM units, plausible ranges);
lang/<code>/vitals.toml, dates.toml and abbreviations.toml hold the words. clinical/vitals.py, dates.py and
abbreviations.py build their patterns from these records.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

from softtiger_cli.lang.pack import Source, compile_pattern, read_file

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

Read = Literal["number", "components", "feet_inches"]
Impossible = Literal["next", "none"]
READS: tuple[str, ...] = get_args(Read)
Range = tuple[float, float] | None  # None: not checked


@dataclass(frozen=True)
class VitalKind:
    """One LOINC vital-sign observation, as lang/common/vitals.toml states it."""

    name: str
    loinc: str
    display: str
    ucum: str  # "" for a panel, whose values are its components
    unit_display: str
    plausible: Range
    components: tuple[str, ...]  # a panel's kinds, in the order a note writes them
    other: Mapping[str, Range]  # other UCUM units -> their plausible range
    unitless_above: str  # the unit of a unit-less value above the plausible range ("": none)


@dataclass(frozen=True)
class VitalEntry:
    """One way a language writes a kind: its labels, and the value pattern after them (units filled in)."""

    kind: str
    read: Read
    labels: tuple[str, ...]
    not_labels: tuple[str, ...]
    value: str  # a regular expression, already checked
    units: Mapping[str, str]  # captured unit as written (lower case) -> UCUM; empty when not captured
    example: str
    expect: str


@dataclass(frozen=True)
class Vitals:
    kinds: Mapping[str, VitalKind]
    entries: tuple[VitalEntry, ...]
    names: tuple[str, ...]  # words that name a vital sign
    not_after: tuple[str, ...] = ()  # words right before a label that make it no reading of this visit ("最高")


@dataclass(frozen=True)
class TimeUnit:
    """A unit of time: its spellings, its length in days (relative dates) and its FHIR Duration unit."""

    name: str
    words: tuple[str, ...]
    relative_only: tuple[str, ...]
    length: int | None
    ucum: str
    display: str


@dataclass(frozen=True)
class DateShape:
    name: str
    pattern: re.Pattern[str]
    order: str  # "ymd", "mdy", ...: which group is the year, month and day
    first_lines: bool
    impossible: Impossible
    example: str
    expect: str


@dataclass(frozen=True)
class Dates:
    year: str  # a pattern
    year_leads: tuple[str, ...]
    since: tuple[str, ...]
    ago: tuple[str, ...]
    repeat: tuple[str, ...]
    last: tuple[str, ...]
    postop: tuple[str, ...]
    months: Mapping[str, int]  # every spelling -> month number; names first, then short forms
    days_before: Mapping[str, int]
    years_before: Mapping[str, int]
    numbers: Mapping[str, int]
    labels: tuple[str, ...]
    shapes: tuple[DateShape, ...]
    units: tuple[TimeUnit, ...]


@dataclass(frozen=True)
class Reading:
    reading: str
    cues: tuple[str, ...]
    example: str


@dataclass(frozen=True)
class Abbreviations:
    expansions: Mapping[str, str]  # certain ones, in file order
    ambiguous: Mapping[str, tuple[Reading, ...]]
    lower_case: frozenset[str]
    roman_leads: tuple[str, ...]


@dataclass(frozen=True)
class Measures:
    vitals: Vitals
    dates: Dates
    abbreviations: Abbreviations


@functools.lru_cache(maxsize=None)
def load_measures(code: str = "en") -> Measures:
    """The measure packs shipped in softtiger_cli/lang/, read and checked once per process."""
    return read_measures(code)


def read_measures(code: str, folder: Traversable | Path | None = None,
                  common: Traversable | Path | None = None) -> Measures:
    """Read and check lang/<code>/ and lang/common/ (or the folders given, for tests)."""
    kinds = _kinds(*read_file("common", "vitals.toml", common))
    return Measures(_vitals(*read_file(code, "vitals.toml", folder), kinds),
                    _dates(*read_file(code, "dates.toml", folder)),
                    _abbreviations(*read_file(code, "abbreviations.toml", folder)))


def _headers(src: Source, name: str) -> list[int]:
    return [n for n, line in enumerate(src.lines, 1) if re.match(r"\s*\[\[\s*" + re.escape(name) + r"\s*\]\]", line)]


def _keys(table: Any, required: set[str], optional: set[str], src: Source, start: int, end: int | None,
          what: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise src.error(start, f"{what} must be a table")
    for key in table:
        if key not in required | optional:
            raise src.error(src.key_line(key, start, end), f"unknown key '{key}' in {what}")
    for key in sorted(required - set(table)):
        raise src.error(start, f"missing '{key}' in {what}")
    return table


def _text(table: dict[str, Any], key: str, src: Source, start: int, end: int | None = None,
          empty: bool = False) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or not (empty or value):
        raise src.error(src.key_line(key, start, end), f"'{key}' must be a non-empty string")
    return value


def _list(table: dict[str, Any], key: str, src: Source, start: int = 1, end: int | None = None,
          lower: bool = True, optional: bool = False) -> tuple[str, ...]:
    """A list of words or phrases: no blanks at their ends, none twice, in lower case when `lower`."""
    value = table.get(key, [] if optional else None)
    line = src.key_line(key, start, end)
    if not isinstance(value, list) or not (value or optional) or not all(isinstance(w, str) and w and w.strip() == w
                                                                        for w in value):
        raise src.error(line, f"'{key}' must be a non-empty list of words or phrases")
    for i, word in enumerate(value):
        if lower and word != word.lower():
            raise src.error(line, f"'{word}' in '{key}' must be written in lower case")
        if word in value[:i]:
            raise src.error(line, f"'{key}' lists '{word}' twice")
    return tuple(value)


def _range(value: Any, src: Source, line: int, key: str) -> Range:
    if value == []:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
            and value[0] < value[1]):
        raise src.error(line, f"'{key}' must be [lowest, highest] (or [] for not checked)")
    return value[0], value[1]


def _kinds(data: dict[str, Any], src: Source) -> Mapping[str, VitalKind]:
    raw = data.get("kind")
    if not isinstance(raw, dict) or not raw or set(data) != {"kind"}:
        raise src.error(1, "the file holds [kind.NAME] tables only")
    kinds: dict[str, VitalKind] = {}
    for name, table in raw.items():
        start = src.table_line(f"kind.{name}")
        t = _keys(table, {"loinc", "display", "ucum", "unit_display"},
                  {"plausible", "components", "other", "unitless_above"}, src, start, None, f"[kind.{name}]")
        texts = [_text(t, k, src, start, empty=k in ("ucum", "unit_display"))
                 for k in ("loinc", "display", "ucum", "unit_display")]
        components = _list(t, "components", src, start, optional=True)
        if not components and "plausible" not in t:
            raise src.error(start, f"[kind.{name}] needs 'plausible' (or components)")
        plausible = _range(t["plausible"], src, src.key_line("plausible", start), "plausible") if "plausible" in t \
            else None
        other = t.get("other", {})
        if not isinstance(other, dict):
            raise src.error(src.key_line("other", start), "'other' is a table UCUM unit -> range")
        ranges = {u: _range(r, src, src.key_line("other", start), f"other.{u}") for u, r in other.items()}
        above = t.get("unitless_above", "")
        if above and above not in ranges:
            raise src.error(src.key_line("unitless_above", start), f"unitless_above '{above}' is not in 'other'")
        kinds[name] = VitalKind(name, *texts, plausible, components, MappingProxyType(ranges), above)
    for kind in kinds.values():
        for c in kind.components:
            if c not in kinds:
                raise src.error(src.table_line(f"kind.{kind.name}"), f"component '{c}' is no kind")
    return MappingProxyType(kinds)


def _units_alt(units: tuple[str, ...]) -> str:
    """Units as one group; a blank inside a unit is any blanks or none ("mm hg" is "mmHg")."""
    return "(?:" + "|".join(r"\s*".join(map(re.escape, u.split())) for u in units) + ")"


def _vitals(data: dict[str, Any], src: Source, kinds: Mapping[str, VitalKind]) -> Vitals:
    for key in data:
        if key not in ("names", "vital", "not_after"):
            raise src.error(src.key_line(key), f"unknown key '{key}'")
    raw, lines, entries = data.get("vital"), _headers(src, "vital"), []
    if not isinstance(raw, list) or not raw:
        raise src.error(1, "no [[vital]] tables")
    for i, table in enumerate(raw):
        start, end = lines[i], lines[i + 1] if i + 1 < len(lines) else None
        t = _keys(table, {"kind", "labels", "value", "example", "expect"}, {"read", "not_labels", "units"}, src,
                  start, end, "[[vital]]")
        kind, read = _text(t, "kind", src, start, end), t.get("read", "number")
        if kind not in kinds:
            raise src.error(src.key_line("kind", start, end), f"unknown kind '{kind}' (not in lang/common/vitals.toml)")
        if read not in READS:
            raise src.error(src.key_line("read", start, end), f"unknown read '{read}' (one of {', '.join(READS)})")
        labels = _list(t, "labels", src, start, end)
        not_labels = _list(t, "not_labels", src, start, end, optional=True)
        for word in not_labels:
            if not any(word.startswith(label) and word != label for label in labels):
                raise src.error(src.key_line("not_labels", start, end), f"not_label '{word}' begins with no label")
        value, units = _text(t, "value", src, start, end), t.get("units", [])
        captured = isinstance(units, dict)
        spellings = tuple(units) if captured else _list(t, "units", src, start, end, optional=True)
        if bool(spellings) != ("{units}" in value) or captured != ("({units})" in value):
            raise src.error(src.key_line("value", start, end), "the value pattern writes {units} where there are "
                                                               "units, and ({units}) where they are a table")
        allowed = {kinds[kind].ucum, *kinds[kind].other}
        for spelling, ucum in (units.items() if captured else ()):
            if spelling != spelling.lower() or ucum not in allowed:
                raise src.error(src.key_line("units", start, end), f"unit '{spelling}' must be lower case, "
                                                                   f"its UCUM code one of {sorted(allowed)}")
        value = value.replace("{units}", _units_alt(spellings) if spellings else "")
        groups = compile_pattern(value, src, src.key_line("value", start, end)).groups
        want = {"components": len(kinds[kind].components), "feet_inches": 2}.get(read, 1 + captured)
        if groups != want:
            raise src.error(src.key_line("value", start, end), f"the value pattern has {groups} groups, not {want}")
        entries.append(VitalEntry(kind, read, labels, not_labels, value, MappingProxyType(dict(units) if captured
                                                                                          else {}),
                                  _text(t, "example", src, start, end), _text(t, "expect", src, start, end)))
    return Vitals(kinds, tuple(entries), _list(data, "names", src), _list(data, "not_after", src, optional=True))


_DATE_KEYS = {"year", "year_leads", "since", "ago", "repeat", "last", "postop", "months", "days_before",
              "years_before", "numbers", "note_date", "shape", "unit"}
_LISTS = ("year_leads", "since", "ago", "repeat", "last", "postop")


def _counts(data: dict[str, Any], key: str, src: Source, least: int) -> Mapping[str, int]:
    table, line = data.get(key), src.table_line(key)
    if not isinstance(table, dict) or not table:
        raise src.error(line, f"missing the [{key}] table")
    for word, n in table.items():
        if word != word.lower().strip() or not word or not isinstance(n, int) or isinstance(n, bool) or n < least:
            raise src.error(src.key_line(word, line), f"'{word}' must be lower case, its number at least {least}")
    return MappingProxyType(dict(table))


def _dates(data: dict[str, Any], src: Source) -> Dates:
    _keys(data, _DATE_KEYS, set(), src, 1, None, "dates.toml")
    year = _text(data, "year", src, 1)
    compile_pattern(year, src, src.key_line("year"), 0)
    months, raw = {}, data["months"]
    if not isinstance(raw, list) or len(raw) != 12:
        raise src.error(src.key_line("months"), "'months' lists the twelve months, each a list of its spellings")
    forms = [_list({"months": m}, "months", src) for m in raw]
    for rank in range(max(map(len, forms))):  # names first, then the first short forms, ...
        for number, spellings in enumerate(forms, 1):
            if rank < len(spellings):
                if spellings[rank] in months:
                    raise src.error(src.key_line("months"), f"month '{spellings[rank]}' is listed twice")
                months[spellings[rank]] = number
    line = src.table_line("note_date")
    note_date = _keys(data["note_date"], {"labels"}, set(), src, line, None, "[note_date]")
    labels = _list(note_date, "labels", src, line)
    for i, label in enumerate(labels):
        if any(label.startswith(earlier) for earlier in labels[:i]):
            raise src.error(src.key_line("labels", line), f"label '{label}' follows a label it begins with: "
                                                          "it could never be read whole")
    return Dates(year, *(_list(data, key, src) for key in _LISTS), MappingProxyType(months),
                 _counts(data, "days_before", src, 0), _counts(data, "years_before", src, 0),
                 _counts(data, "numbers", src, 1), labels, _shapes(data["shape"], src), _units(data["unit"], src))


def _shapes(raw: Any, src: Source) -> tuple[DateShape, ...]:
    lines, shapes = _headers(src, "shape"), []
    for i, table in enumerate(raw if isinstance(raw, list) else [None]):
        start, end = lines[i] if lines else 1, lines[i + 1] if i + 1 < len(lines) else None
        t = _keys(table, {"name", "pattern", "order", "impossible", "example", "expect"}, {"first_lines"}, src,
                  start, end, "[[shape]]")
        pattern = compile_pattern(_text(t, "pattern", src, start, end), src, src.key_line("pattern", start, end), 0)
        order, impossible = t["order"], t["impossible"]
        if not isinstance(order, str) or sorted(order) != ["d", "m", "y"] or pattern.groups != 3:
            raise src.error(src.key_line("order", start, end), "a shape has three groups; order names them (ymd, ...)")
        if impossible not in get_args(Impossible):
            raise src.error(src.key_line("impossible", start, end), "impossible is \"next\" or \"none\"")
        first = t.get("first_lines", False)
        if not isinstance(first, bool):
            raise src.error(src.key_line("first_lines", start, end), "first_lines is true or false")
        shapes.append(DateShape(_text(t, "name", src, start, end), pattern, order, first, impossible,
                                _text(t, "example", src, start, end), _text(t, "expect", src, start, end)))
    return tuple(shapes)


def _units(raw: Any, src: Source) -> tuple[TimeUnit, ...]:
    lines, units, seen = _headers(src, "unit"), [], set()
    for i, table in enumerate(raw if isinstance(raw, list) else [None]):
        start, end = lines[i] if lines else 1, lines[i + 1] if i + 1 < len(lines) else None
        t = _keys(table, {"name", "words"}, {"relative_only", "length", "ucum", "display"}, src, start, end,
                  "[[unit]]")
        words = _list(t, "words", src, start, end)
        relative_only = _list(t, "relative_only", src, start, end, optional=True)
        for key, word in [("words", w) for w in words] + [("relative_only", w) for w in relative_only]:
            if word in seen:
                raise src.error(src.key_line(key, start, end), f"unit word '{word}' is listed twice")
            seen.add(word)
        length = t.get("length")
        if length is not None and (not isinstance(length, int) or length < 1):
            raise src.error(src.key_line("length", start, end), "length is a positive number of days")
        ucum, display = t.get("ucum", ""), t.get("display", "")
        if bool(ucum) != bool(display) or not all(isinstance(v, str) for v in (ucum, display)):
            raise src.error(src.key_line("ucum", start, end), "a duration unit has both ucum and display")
        if length is None and not ucum:
            raise src.error(start, "a unit needs a length (relative dates) or ucum and display (durations)")
        units.append(TimeUnit(_text(t, "name", src, start, end), words, relative_only, length, ucum, display))
    return tuple(units)


def _abbreviations(data: dict[str, Any], src: Source) -> Abbreviations:
    _keys(data, {"abbreviations", "ambiguous", "lower_case", "roman_leads"}, set(), src, 1, None,
          "abbreviations.toml")
    table, line = data["abbreviations"], src.table_line("abbreviations")
    for abbrev, expansion in table.items():
        if abbrev != abbrev.lower().strip() or not isinstance(expansion, str) or not expansion.strip():
            raise src.error(src.key_line(abbrev, line), f"abbreviation '{abbrev}' must be lower case, "
                                                        "with what it stands for")
    lines, ambiguous = _headers(src, "ambiguous"), {}
    for i, t in enumerate(data["ambiguous"] if isinstance(data["ambiguous"], list) else [None]):
        start, end = lines[i] if lines else 1, lines[i + 1] if i + 1 < len(lines) else None
        t = _keys(t, {"abbreviation", "reading", "cues", "example"}, set(), src, start, end, "[[ambiguous]]")
        abbrev, reading = _text(t, "abbreviation", src, start, end), _text(t, "reading", src, start, end)
        example = _text(t, "example", src, start, end)
        if abbrev != abbrev.lower() or abbrev in table:
            raise src.error(src.key_line("abbreviation", start, end),
                            f"ambiguous '{abbrev}' must be lower case, and not also in [abbreviations]")
        if not re.search(r"(?<![A-Za-z0-9])" + re.escape(abbrev.upper()) + r"(?![A-Za-z0-9])", example):
            raise src.error(src.key_line("example", start, end), f"the example does not write '{abbrev.upper()}'")
        if any(r.reading == reading for r in ambiguous.get(abbrev, ())):
            raise src.error(src.key_line("reading", start, end), f"'{abbrev}' lists reading '{reading}' twice")
        ambiguous[abbrev] = ambiguous.get(abbrev, ()) + (Reading(reading, _list(t, "cues", src, start, end), example),)
    return Abbreviations(MappingProxyType(dict(table)), MappingProxyType(ambiguous),
                         frozenset(_list(data, "lower_case", src)), _list(data, "roman_leads", src))
