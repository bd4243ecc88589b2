"""The words that turn an item's assertion into its status (lang/<code>/status.toml and visit.toml), read once
and checked at load, naming the file and line of a bad entry.

status.toml holds what clinical/status.py and the assertion step (pipeline/decide.py) read: the chronic and
episodic disease lists, each section kind's authority and defaults, how many words around an item are read,
and the cue categories for drugs (not-taken, stopped, ..., active), tests (ordered, done, result-before),
allergy severity and onset dates. visit.toml holds the encounter's words (visit time, inpatient, emergency,
and the labels that are no reason for a visit). The order in which categories decide stays in code.

A cue is one `literal` (matched as written, case-insensitively), a `stem` (a word beginning: "discontinu"
is discontinue, discontinued; with `bare = false` the stem alone is no word) or a `pattern` (a regular
expression, for the few cues no word list can say). Every cue carries an `example` sentence, its `target`
item and the value it must `expect` (the category's own when the category gives one); tests/test_lang_status.py
runs each through the real function and checks that the cue decides it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from softtiger_cli.lang.pack import PackError, Source, compile_pattern, read_file

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path

Applies = Literal["medication", "procedure", "allergy", "dated", "encounter"]
Kind = Literal["literal", "stem", "pattern"]
FILES = ("status.toml", "visit.toml")
# category -> (the items it is read for, its cue lists, the number it takes: "gap" words or "reach" characters)
CATEGORIES: Mapping[str, tuple[Applies, tuple[str, ...], str]] = MappingProxyType({
    "not-taken": ("medication", ("cues",), ""),
    "stopped": ("medication", ("cues",), ""),
    "switched-from": ("medication", ("verbs", "links"), "gap"),
    "future-stop": ("medication", ("modals", "verbs"), "gap"),
    "replaced": ("medication", ("verbs", "links"), "gap"),
    "started-today": ("medication", ("verbs", "times"), "reach"),
    "dose-change": ("medication", ("verbs", "objects", "number_links", "direct_verbs", "determiners"), "gap"),
    "intended": ("medication", ("cues",), ""),
    "active": ("medication", ("cues",), ""),
    "clause-end": ("medication", ("after_comma", "between"), ""),
    "strength": ("medication", ("units",), "gap"),
    # optional: a word between two drugs that ends the one before it and starts the one after it ("A改为B"),
    # within `reach` characters of either drug
    "switch": ("medication", ("cues",), "reach"),
    "ordered": ("procedure", ("cues",), ""),
    "done": ("procedure", ("cues",), ""),
    "result-before": ("procedure", ("cues",), ""),
    # optional: watching a value is no test ordered or done ("监测血糖", "monitor her blood pressure")
    "monitoring": ("procedure", ("cues",), ""),
    "severe": ("allergy", ("cues",), ""),
    "mild": ("allergy", ("cues",), ""),
    "onset": ("dated", ("leads", "markers", "units", "ago", "last", "days"), "reach"),
    "visit-time": ("encounter", ("cues",), ""),
    "inpatient": ("encounter", ("cues",), ""),
    "emergency": ("encounter", ("cues",), ""),
    "label": ("encounter", ("cues",), "letters"),
})
OPTIONAL = frozenset({"switch", "monitoring"})  # categories a language may leave out (English says it with switched-from/replaced)
MEDICATION_STATUSES = ("not-taken", "stopped", "active", "active-dose", "intended")
# What an example may expect, by the items its category is read for ("dated": the onset phrase read).
EXPECT: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "medication": MEDICATION_STATUSES, "procedure": ("planned", "completed", "dropped"), "allergy": ("high", "low"),
    "encounter": ("IMP", "EMER", "kept", "dropped")})
WINDOW_KEYS = ("medication_before", "medication_after", "procedure_before", "procedure_after", "allergy_chars")
_CATEGORY_KEYS = {"applies_to", "expect", "section", "gap", "reach", "letters"}
_CUE_KEYS = {"literal", "stem", "pattern", "bare", "example", "target", "expect", "section", "unreachable"}
_SECTION_KEYS = {"weight", "unmarked_drug", "shows_taken", "unmarked_test", "given_in_stay"}


@dataclass(frozen=True)
class Cue:
    """One cue of a category's list, and an example that shows it deciding."""

    category: str
    role: str  # which of the category's lists: "cues", or a part of its phrase ("verbs", "links", ...)
    kind: Kind
    text: str
    bare: bool  # stems: the stem alone counts as the word
    example: str
    target: str
    expect: str
    section: str  # the section kind the example stands in
    unreachable: str = ""  # why no example can show the cue deciding (the test skips it, visibly)

    @property
    def regex(self) -> str:
        """The cue as one alternative of a regular expression."""
        if self.kind == "literal":
            return re.escape(self.text)
        if self.kind == "stem":
            return re.escape(self.text) + (r"\w*" if self.bare else r"\w+")
        return "(?:" + self.text + ")"


@dataclass(frozen=True)
class Category:
    """A category's cue lists (in file order), the items it is read for, and its one number, if any."""

    name: str
    applies_to: Applies
    lists: Mapping[str, tuple[Cue, ...]]
    number: int  # gap (words), reach (characters) or letters; 0 where the category takes none

    def alternation(self, role: str = "cues") -> str:
        """One list as a regular-expression alternation (none: a pattern that never matches)."""
        return "|".join(c.regex for c in self.lists[role]) or "(?!)"

    @property
    def cues(self) -> tuple[Cue, ...]:
        return tuple(c for role in self.lists.values() for c in role)


@dataclass(frozen=True)
class Diseases:
    """A disease list: whole words and phrases, word beginnings, and patterns (each with an example)."""

    words: tuple[str, ...]
    stems: tuple[str, ...]
    patterns: tuple[tuple[str, str], ...]  # (pattern, a disease name it matches)

    @property
    def alternation(self) -> str:
        return "|".join([re.escape(w) for w in self.words] + [re.escape(s) + r"\w*" for s in self.stems] +
                        ["(?:" + p + ")" for p, _ in self.patterns])


@dataclass(frozen=True)
class SectionKind:
    """What standing in a section means for an item's status."""

    weight: int  # its authority when an item is named in several places
    unmarked_drug: Literal["active", "intended"]  # a drug named here with no cue (and not taken elsewhere)
    shows_taken: bool  # naming a drug here says the patient takes it
    unmarked_test: Literal["completed", "planned"]  # a test named here with no cue
    # a drug named here was given during the stay (a discharge summary's hospital course): its course is
    # over by the note's end unless a cue here or a later mention (the discharge orders) says it goes on
    given_in_stay: bool = False


@dataclass(frozen=True)
class StatusPack:
    """One language's status vocabulary."""

    code: str
    chronic: Diseases
    episodic: Diseases
    sections: Mapping[str, SectionKind]  # "other" holds for a kind not listed
    window: Mapping[str, int]
    categories: Mapping[str, Category]
    # a denial written after the patient's affirmed mentions, in a section of the same weight, holds: a
    # narrative that tells the course and then says what is absent now ("…间断便血…现无便血")
    later_denial_holds: bool = False

    def section(self, kind: str) -> SectionKind:
        return self.sections.get(kind, self.sections["other"])

    def __getitem__(self, category: str) -> Category:
        return self.categories[category]


def load_status(code: str = "en") -> StatusPack:
    """The status vocabulary shipped in softtiger_cli/lang/<code>/, read and checked once per process."""
    return _load(code)


@functools.lru_cache(maxsize=None)
def _load(code: str) -> StatusPack:
    return read_status(code)


def read_status(code: str, folder: Traversable | Path | None = None) -> StatusPack:
    """Read and check lang/<code>/status.toml and visit.toml (or those in `folder`, for tests)."""
    status, src = read_file(code, "status.toml", folder)
    visit, vsrc = read_file(code, "visit.toml", folder)
    headings, _ = read_file(code, "sections.toml", folder)
    kinds = set(headings.get("headings", {})) | {"other"}
    for data, source, allowed in ((status, src, {"chronic", "episodic", "section", "window", "cue",
                                                                "later_denial_holds"}),
                                  (visit, vsrc, {"cue"})):
        for key in data:
            if key not in allowed:
                raise source.error(source.key_line(key) if not isinstance(data[key], dict) else
                                   source.table_line(key), f"unknown table or key '{key}'")
    sections = _sections(status.get("section"), src, kinds)
    categories: dict[str, Category] = {}
    for data, source in ((status, src), (visit, vsrc)):
        for name, table in (data.get("cue") or {}).items():
            if name in categories:
                raise source.error(source.table_line(f"cue.{name}"), f"category '{name}' is given twice")
            categories[name] = _category(name, table, source, kinds)
    missing = [name for name in CATEGORIES if name not in categories and name not in OPTIONAL]
    if missing:
        raise src.error(1, f"missing the cue categories {', '.join(missing)}")
    return StatusPack(code, _diseases(status, "chronic", src), _diseases(status, "episodic", src),
                      sections, _window(status.get("window"), src), MappingProxyType(categories),
                      _flag(status, "later_denial_holds", src))


def _flag(data: dict[str, Any], key: str, src: Source) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise src.error(src.key_line(key), f"'{key}' must be true or false")
    return value


def _sections(table: Any, src: Source, kinds: set[str]) -> Mapping[str, SectionKind]:
    if not isinstance(table, dict) or "other" not in table:
        raise src.error(src.table_line("section"), "missing the [section.*] tables (with [section.other])")
    out: dict[str, SectionKind] = {}
    for kind, attrs in table.items():
        line = src.table_line(f"section.{kind}")
        if kind not in kinds:
            raise src.error(line, f"unknown section kind '{kind}' (the kinds of sections.toml, or other)")
        for key in attrs:
            if key not in _SECTION_KEYS:
                raise src.error(src.key_line(key, line), f"unknown key '{key}' in [section.{kind}]")
        weight = attrs.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            raise src.error(src.key_line("weight", line), f"[section.{kind}] needs 'weight', a whole number")
        drug, test = attrs.get("unmarked_drug", "active"), attrs.get("unmarked_test", "completed")
        if drug not in ("active", "intended"):
            raise src.error(src.key_line("unmarked_drug", line), "unmarked_drug is 'active' or 'intended'")
        if test not in ("completed", "planned"):
            raise src.error(src.key_line("unmarked_test", line), "unmarked_test is 'completed' or 'planned'")
        taken, stay = attrs.get("shows_taken", True), attrs.get("given_in_stay", False)
        if not isinstance(taken, bool):
            raise src.error(src.key_line("shows_taken", line), "shows_taken is true or false")
        if not isinstance(stay, bool):
            raise src.error(src.key_line("given_in_stay", line), "given_in_stay is true or false")
        out[kind] = SectionKind(weight, drug, taken, test, stay)
    return MappingProxyType(out)


def _window(table: Any, src: Source) -> Mapping[str, int]:
    line = src.table_line("window")
    if not isinstance(table, dict):
        raise src.error(line, "missing the [window] table")
    for key, value in table.items():
        if key not in WINDOW_KEYS:
            raise src.error(src.key_line(key, line), f"unknown key '{key}' in [window]")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise src.error(src.key_line(key, line), f"'{key}' is a positive number")
    if missing := [k for k in WINDOW_KEYS if k not in table]:
        raise src.error(line, f"[window] needs {', '.join(missing)}")
    return MappingProxyType(dict(table))


def _word_list(table: dict[str, Any], key: str, src: Source, line: int) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(w, str) and w and w.strip() == w for w in value):
        raise src.error(src.key_line(key, line), f"'{key}' is a list of words or phrases")
    return tuple(value)


def _diseases(data: dict[str, Any], name: str, src: Source) -> Diseases:
    line = src.table_line(name)
    table = data.get(name)
    if not isinstance(table, dict):
        raise src.error(line, f"missing the [{name}] table")
    for key in table:
        if key not in ("words", "stems", "patterns"):
            raise src.error(src.key_line(key, line), f"unknown key '{key}' in [{name}]")
    words, stems = _word_list(table, "words", src, line), _word_list(table, "stems", src, line)
    seen: set[str] = set()
    for key, entries in (("words", words), ("stems", stems)):
        for w in entries:
            if w.lower() in seen:
                raise src.error(_line_with(src, w, line), f"'{w}' is listed twice in [{name}]")
            seen.add(w.lower())
    patterns = []
    for entry in table.get("patterns", []):
        if not isinstance(entry, dict) or set(entry) != {"pattern", "example"}:
            raise src.error(src.key_line("patterns", line), f"[{name}] patterns are {{ pattern, example }} tables")
        at = _line_with(src, entry["pattern"], line, "pattern")
        compiled = compile_pattern(r"\b(?:" + entry["pattern"] + r")\b", src, at)
        if not compiled.search(entry["example"]):
            raise src.error(at, f"pattern {entry['pattern']!r} does not match its example {entry['example']!r}")
        patterns.append((entry["pattern"], entry["example"]))
    return Diseases(words, stems, tuple(patterns))


def _line_with(src: Source, text: str, start: int, key: str = "") -> int:
    """The first line from `start` on that quotes `text` (as TOML writes it, after `key = ` when given);
    start when there is none."""
    quoted = ['"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"', "'" + text + "'"]
    pattern = re.compile((re.escape(key) + r"\s*=\s*" if key else "") + "(?:" + "|".join(map(re.escape, quoted)) + ")")
    return next((n for n in range(start, len(src.lines) + 1) if pattern.search(src.lines[n - 1])), start)


def _category(name: str, table: Any, src: Source, kinds: set[str]) -> Category:
    line = src.table_line(f"cue.{name}")
    if name not in CATEGORIES:
        raise src.error(line, f"unknown cue category '{name}' (one of {', '.join(CATEGORIES)})")
    applies, roles, number_key = CATEGORIES[name]
    if not isinstance(table, dict):
        raise src.error(line, f"[cue.{name}] must be a table")
    for key in table:
        if key not in _CATEGORY_KEYS | set(roles):
            raise src.error(src.key_line(key, line), f"unknown key '{key}' in [cue.{name}]")
    if table.get("applies_to") != applies:
        raise src.error(src.key_line("applies_to", line), f"[cue.{name}] applies_to = \"{applies}\"")
    number = table.get(number_key, 0) if number_key else 0
    if number_key and (not isinstance(number, int) or isinstance(number, bool) or number < 1):
        raise src.error(src.key_line(number_key, line), f"[cue.{name}] needs '{number_key}', a positive number")
    for key in {"gap", "reach", "letters"} - {number_key}:
        if key in table:
            raise src.error(src.key_line(key, line), f"[cue.{name}] takes no '{key}'")
    lists: dict[str, tuple[Cue, ...]] = {}
    for role in roles:
        entries = table.get(role)
        at = src.key_line(role, line)
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise src.error(at, f"[cue.{name}] needs '{role}', a list of {{ literal|stem|pattern = ..., "
                                f"example = ... }} tables")
        cues: list[Cue] = []
        seen: dict[tuple[str, str], int] = {}
        lines = _entry_lines(src, at)
        for i, entry in enumerate(entries):
            cue, at = _cue(name, role, entry, table, src, lines[i] if i < len(lines) else at, kinds)
            key = (cue.kind, cue.text.lower())
            if key in seen:
                raise src.error(at, f"duplicate cue '{cue.text}' in [cue.{name}] {role}, first at line {seen[key]}")
            seen[key] = at
            cues.append(cue)
        lists[role] = tuple(cues)
    return Category(name, applies, MappingProxyType(lists), number)


def _entry_lines(src: Source, start: int) -> list[int]:
    """The lines that open the inline tables of the list whose key is at line `start` (a cue a line)."""
    out = []
    for n in range(start, len(src.lines) + 1):
        body = (src.lines[n - 1] if n > start else src.lines[n - 1].split("=", 1)[-1]).strip()
        if n > start and (body.startswith("[") or re.match(r"[\w\"'-]+\s*=", body)):
            break  # the next key or table
        if body.lstrip("[").lstrip().startswith("{"):
            out.append(n)
    return out


def _cue(name: str, role: str, entry: dict[str, Any], table: dict[str, Any], src: Source, line: int,
         kinds: set[str]) -> tuple[Cue, int]:
    """One cue table (standing at `line`), checked; returns it and its line."""
    kinds_given = [k for k in ("literal", "stem", "pattern") if k in entry]
    text = entry[kinds_given[0]] if kinds_given else ""

    def fail(problem: str) -> PackError:
        return src.error(line, f"[cue.{name}] {role}: {problem}")

    for key in entry:
        if key not in _CUE_KEYS:
            raise fail(f"unknown key '{key}'")
    if len(kinds_given) != 1 or not isinstance(text, str) or not text:
        raise fail("each cue gives one of literal, stem or pattern (a non-empty string)")
    kind: Kind = kinds_given[0]  # type: ignore[assignment]
    if text != text.strip() or "\n" in text:
        raise fail(f"'{text}' has spaces at its ends or a line break, so it can never match")
    if name == "label" and kind != "literal":
        raise fail("labels are whole words (literal)")
    if kind == "pattern" and compile_pattern(text, src, line).groups:
        raise fail(f"pattern {text!r} has a capturing group: write (?:...)")
    if "bare" in entry and (kind != "stem" or not isinstance(entry["bare"], bool)):
        raise fail("bare (true or false) is for stems")
    fields = {}
    for key in ("example", "target", "expect", "section", "unreachable"):
        value = entry.get(key, table.get(key, "") if key in ("expect", "section") else "")
        if not isinstance(value, str):
            raise fail(f"'{key}' is a string")
        fields[key] = value
    if not fields["example"].strip():
        raise fail(f"missing 'example' for '{text}'")
    applies = CATEGORIES[name][0]
    target, expect = fields["target"], fields["expect"]
    if applies != "encounter" and (not target or target not in fields["example"]):
        raise fail(f"target '{target}' is not in the example")
    allowed = EXPECT.get(applies)
    if name == "strength":
        ok = bool(expect) and all(part in MEDICATION_STATUSES for part in expect.split("+"))
    elif allowed is None:  # an onset phrase: what the example reads
        ok = bool(expect) and expect in fields["example"]
    else:
        ok = expect in allowed
    if not ok:
        raise fail(f"expect '{expect}' is not what a {name} cue can give")
    if fields["section"] and fields["section"] not in kinds:
        raise fail(f"unknown section kind '{fields['section']}'")
    return Cue(name, role, kind, text, entry.get("bare", True), fields["example"], target, expect,
               fields["section"] or "hpi", fields["unreachable"]), line


__all__ = ["Applies", "CATEGORIES", "Category", "Cue", "Diseases", "SectionKind", "StatusPack", "load_status",
           "read_status"]
