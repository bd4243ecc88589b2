"""Word lists in pack files (lists.toml, synthea.toml, findings.toml, medications.toml), checked at load.

A list entry is a phrase, matched as written (case-insensitively unless the list says otherwise; a space is
one space), where a part in parentheses is optional: "x(-)ray(s)" is x-rays, x-ray, xrays or xray, tried
in that order (with each optional part first). Where no phrase can say it, an entry is a table
`{ pattern = "..." }`: a regular expression, compiled at load so that a bad one names its file and line.
The modules that read a list (clinical/*.py) build the rest of the pattern around it: an alternation tries
its entries in list order, so a phrase that begins with another one goes before it where it matters.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from softtiger_cli.lang.pack import PackError, Source, compile_pattern

_OPTIONAL = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Entry:
    """One entry of a word list: a phrase (with optional parts in parentheses) or a regular expression."""

    text: str  # the phrase as written, or the pattern's source
    is_pattern: bool = False

    @property
    def regex(self) -> str:
        """The entry as a regular expression (optional parts greedy, as `s?` is)."""
        if self.is_pattern:
            return self.text
        out, pos = [], 0
        for m in _OPTIONAL.finditer(self.text):
            out += [re.escape(self.text[pos:m.start()]), "(?:" + re.escape(m.group(1)) + ")?"]
            pos = m.end()
        return "".join(out) + re.escape(self.text[pos:])

    def expansions(self) -> tuple[str, ...]:
        """Every text a phrase stands for, in the order the pattern tries them (none for a pattern)."""
        if self.is_pattern:
            return ()
        parts = _OPTIONAL.split(self.text)  # literal, optional, literal, optional, ..., literal
        choices = [[p] if i % 2 == 0 else [p, ""] for i, p in enumerate(parts)]
        return tuple("".join(c) for c in itertools.product(*choices))


Words = tuple[Entry, ...]


def alternation(words: Words) -> str:
    """The entries as one alternation, in list order (none: a pattern that never matches)."""
    return "|".join(e.regex for e in words) or "(?!)"


def texts(words: Words) -> tuple[str, ...]:
    """Every text the phrases of a list stand for (patterns left out), for sets and tests."""
    return tuple(t for e in words for t in e.expansions())


def value_line(src: Source, key: str, value: str, start: int = 1, end: int | None = None) -> int:
    """The line that writes `value` as a string, at or after the line that sets `key`."""
    first = src.key_line(key, start, end)
    for n in range(first, min(end or len(src.lines) + 1, len(src.lines) + 1)):
        line = src.lines[n - 1]
        if f'"{value}"' in line or f"'{value}'" in line or f'"{value.replace(chr(92), chr(92) * 2)}"' in line:
            return n
    return first


def check_keys(table: Any, where: str, allowed: set[str], required: set[str], src: Source, start: int = 1,
               end: int | None = None) -> dict[str, Any]:
    """A table with no unknown and no missing keys; errors name the line of the key (or of the table)."""
    if not isinstance(table, dict):
        raise src.error(start, f"{where} must be a table")
    for key in table:
        if key not in allowed:
            raise src.error(src.key_line(key, start, end), f"unknown key '{key}' in {where}")
    for key in sorted(required - set(table)):
        raise src.error(start, f"missing '{key}' in {where}")
    return table


def read_words(table: dict[str, Any], key: str, src: Source, start: int = 1, end: int | None = None, *,
               patterns: bool = False, case: bool = False, lower: bool = False, flags: int = re.I) -> Words:
    """A non-empty list of phrases (and, where `patterns`, `{ pattern = ... }` tables), checked: no blank,
    no space at an end, balanced optional parts, no entry twice (compared case-insensitively unless
    `case`); `lower`: every phrase written in lower case (the list is compared with lower-cased text)."""
    value = table.get(key)
    line = src.key_line(key, start, end)
    if not isinstance(value, list) or not value:
        raise src.error(line, f"'{key}' must be a non-empty list of words or phrases")
    out: list[Entry] = []
    seen: set[str] = set()
    for item in value:
        if isinstance(item, dict) and patterns:
            if set(item) != {"pattern"} or not isinstance(item["pattern"], str) or not item["pattern"]:
                raise src.error(line, f"an entry of '{key}' is a phrase or {{ pattern = \"...\" }}")
            at = value_line(src, key, item["pattern"], start, end)
            compiled = compile_pattern(item["pattern"], src, at, flags)
            if compiled.groups:
                raise src.error(at, f"pattern {item['pattern']!r} in '{key}' captures: write (?:...) for a group")
            entry = Entry(item["pattern"], True)
        elif isinstance(item, str):
            at = value_line(src, key, item, start, end)
            _check_phrase(item, key, src, at, lower)
            entry = Entry(item)
        else:
            raise src.error(line, f"'{key}' holds {item!r}: an entry is a phrase" +
                            (" or { pattern = \"...\" }" if patterns else ""))
        name = entry.text if case else entry.text.lower()
        if name in seen:
            raise src.error(at, f"'{key}' lists '{entry.text}' twice")
        seen.add(name)
        out.append(entry)
    return tuple(out)


def _check_phrase(phrase: str, key: str, src: Source, line: int, lower: bool) -> None:
    if not phrase or phrase != phrase.strip() or "\n" in phrase:
        raise src.error(line, f"'{phrase}' in '{key}' has spaces at its ends or a line break, so it can never match")
    rest = _OPTIONAL.sub("", phrase)
    if "(" in rest or ")" in rest or any(not m.group(1) for m in _OPTIONAL.finditer(phrase)):
        raise src.error(line, f"'{phrase}' in '{key}': an optional part is one non-empty (...) and they do not nest")
    if not rest.strip():
        raise src.error(line, f"'{phrase}' in '{key}' is all optional, so it would match nothing")
    if lower and phrase != phrase.lower():
        raise src.error(line, f"'{phrase}' in '{key}' must be written in lower case")


def read_chars(table: dict[str, Any], key: str, src: Source, start: int = 1) -> tuple[str, ...]:
    """A non-empty list of single characters (separators)."""
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(c, str) and len(c) == 1 for c in value):
        raise src.error(src.key_line(key, start), f"'{key}' must be a non-empty list of single characters")
    if len(set(value)) != len(value):
        raise src.error(src.key_line(key, start), f"'{key}' lists a character twice")
    return tuple(value)


def read_count(table: dict[str, Any], key: str, src: Source, start: int = 1) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise src.error(src.key_line(key, start), f"'{key}' must be a positive whole number")
    return value


def read_text(table: dict[str, Any], key: str, src: Source, start: int = 1, end: int | None = None,
              required: bool = True) -> str:
    value = table.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise src.error(src.key_line(key, start, end) if key in table else start,
                        f"missing '{key}' (a non-empty string)")
    return value


def header_lines(src: Source, name: str) -> list[int]:
    """The lines of the `[[name]]` table headers, in file order."""
    pattern = re.compile(r"\s*\[\[\s*" + re.escape(name) + r"\s*\]\]")
    return [n for n, line in enumerate(src.lines, 1) if pattern.match(line)]


def never_matches(words: Words, src: Source, key: str, line: int = 1) -> None:
    """A phrase that begins with an earlier one can never match where nothing needs to follow the list
    (a lead): the earlier one always wins. Refuse it, naming it."""
    earlier: list[str] = []
    for entry in words:
        for text in entry.expansions():
            low = text.lower()
            hit = next((e for e in earlier if low.startswith(e)), None)
            if hit is not None:
                raise PackError(f"{src.name} line {value_line(src, key, entry.text, line)}: '{text}' begins with "
                                f"'{hit}', listed before it, so it can never match (list it first)")
            earlier.append(low)


@dataclass(frozen=True)
class ListSpec:
    """What a loader expects of one key of a vocabulary file."""

    patterns: bool = False  # entries may be { pattern = ... }
    case: bool = False  # matched case-sensitively (so "ml" and "mL" are two entries)
    count: bool = False  # a positive whole number, not a list


@dataclass(frozen=True)
class Vocabulary:
    """A vocabulary file's word lists (and numbers), by (table, key), as a loader's spec declares them."""

    name: str
    lists: tuple[tuple[tuple[str, str], Words], ...]
    counts: tuple[tuple[tuple[str, str], int], ...]

    def words(self, table: str, key: str) -> Words:
        return dict(self.lists)[(table, key)]

    def alt(self, table: str, key: str) -> str:
        """The list as one alternation, for the regex skeleton of the module that reads it."""
        return alternation(self.words(table, key))

    def count(self, table: str, key: str) -> int:
        return dict(self.counts)[(table, key)]


def read_vocabulary(data: dict[str, Any], src: Source, spec: dict[str, dict[str, ListSpec]]) -> Vocabulary:
    """Every table and key of `spec`, and nothing else, read and checked."""
    check_keys(data, src.name, set(spec), set(spec), src)
    lists: list[tuple[tuple[str, str], Words]] = []
    counts: list[tuple[tuple[str, str], int]] = []
    for table, keys in spec.items():
        start = src.table_line(table)
        body = check_keys(data[table], f"[{table}]", set(keys), set(keys), src, start)
        for key, how in keys.items():
            if how.count:
                counts.append(((table, key), read_count(body, key, src, start)))
            else:
                flags = 0 if how.case else re.I
                lists.append(((table, key), read_words(body, key, src, start, patterns=how.patterns, case=how.case,
                                                       flags=flags)))
    return Vocabulary(src.name, tuple(lists), tuple(counts))
