"""The words of written-out lists (lang/<code>/lists.toml) and the rules of note generators (synthea.toml),
read once and checked at load, naming the file and line of a bad entry.

lists.toml is general clinical English: lead phrases per group, semantic tags, separators, the words that
end or trim an item and the words that are none. A generator's file holds what only its templates need;
`generator_rules(note)` decides, once per note, which generators' rules apply (the note carries their
markers), and clinical/lists.py reads the note with those rules added.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from softtiger_cli.lang.pack import Source, load_pack, read_file, shipped
from softtiger_cli.lang.words import (
    Words, alternation, check_keys, header_lines, never_matches, read_chars, read_count, read_text, read_words, texts,
)

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable
    from pathlib import Path

ListGroup = Literal["problems", "medications", "allergies", "procedures", "immunizations", "plan"]
LIST_GROUPS: tuple[str, ...] = get_args(ListGroup)
GENERATOR_FILES = ("synthea.toml",)
_LEAD_KEYS = {"group", "phrases", "single", "example", "target", "expect", "unreachable"}
_TAG_KEYS = {"tag", "group", "example", "target", "expect", "unreachable"}
_EXAMPLE = {"example", "target", "expect"}
WORD_LISTS = ("clause_starts", "clause_durations", "clause_subjects", "date_words", "duration_words",
              "duration_units", "function_words", "determiners", "not_a_start", "subheadings", "none",
              "visit_reasons", "operation_endings", "operation_words", "qualifiers")
# lists a language may leave out (read as matching nothing)
OPTIONAL_WORD_LISTS = frozenset({"qualifiers"})
_PATTERNS = frozenset({"qualifiers"})  # lists whose entries may be { pattern = "..." }
_LOWER = ("not_a_start", "subheadings")  # compared with lower-cased text


@dataclass(frozen=True)
class Lead:
    """A phrase that leads a list of one group, with an example in which it decides an item's group."""

    group: str
    phrases: Words
    single: bool  # the lead names one item only ("s/p X, c/o Y")
    example: str
    target: str
    expect: str
    unreachable: str = ""


@dataclass(frozen=True)
class Tag:
    """A semantic tag written after an item ("(substance)"): cut off, and the group it moves the item to."""

    tag: str  # lower case, without the brackets
    group: str  # "" keeps the item in its list's group
    example: str
    target: str
    expect: str
    unreachable: str = ""


@dataclass(frozen=True)
class ListWords:
    """One language's list vocabulary, as read from lists.toml."""

    code: str
    leads: tuple[Lead, ...]
    tags: tuple[Tag, ...]
    section_groups: tuple[tuple[str, str], ...]  # section kind -> group
    strong: tuple[str, ...]  # separator characters that cut first
    weak: tuple[str, ...]  # ... outside brackets, when there is no strong one
    last: Words  # the word between the last two items
    words: tuple[tuple[str, Words], ...]  # WORD_LISTS, by name
    max_inline_words: int
    unsplit_groups: tuple[str, ...] = ()  # lists of these groups are not cut at weak separators

    def of(self, name: str) -> Words:
        return dict(self.words)[name]


@dataclass(frozen=True)
class Generator:
    """A note generator's rules: applied to a note only when it carries the generator's markers."""

    name: str  # the file's stem: "synthea"
    marker: re.Pattern[str]
    leads: tuple[Lead, ...]
    tags: tuple[Tag, ...]


@functools.lru_cache(maxsize=None)
def load_lists(code: str = "en", folder: Traversable | Path | None = None) -> ListWords:
    """lists.toml of lang/<code>/ (or of `folder`, for tests), read and checked once."""
    data, src = read_file(code, "lists.toml", folder)
    check_keys(data, "lists.toml", {"max_inline_words", "sections", "lead", "tag", "separators", "words"},
               {"max_inline_words", "sections", "lead", "tag", "separators", "words"}, src)
    kinds = set(load_pack(code).headings)  # a folder's lists.toml is checked against lang/<code>'s sections
    sections: list[tuple[str, str]] = []
    start = src.table_line("sections")
    for kind, group in check_keys(data["sections"], "[sections]", set(data["sections"]), set(), src, start).items():
        if kind not in kinds:
            raise src.error(src.key_line(kind, start), f"unknown section kind '{kind}' (sections.toml names them)")
        if group not in LIST_GROUPS:
            raise src.error(src.key_line(kind, start), f"unknown group '{group}' (one of {', '.join(LIST_GROUPS)})")
        sections.append((kind, group))
    seps = check_keys(data["separators"], "[separators]", {"strong", "weak", "last", "unsplit_groups"},
                      {"strong", "weak", "last"}, src, src.table_line("separators"))
    unsplit = tuple(texts(read_words(seps, "unsplit_groups", src, src.table_line("separators")))
                    ) if "unsplit_groups" in seps else ()
    for group in unsplit:
        if group not in LIST_GROUPS:
            raise src.error(src.key_line("unsplit_groups", src.table_line("separators")), f"unknown group '{group}'")
    start = src.table_line("words")
    words = check_keys(data["words"], "[words]", set(WORD_LISTS), set(WORD_LISTS) - OPTIONAL_WORD_LISTS, src, start)
    leads = _leads(data["lead"], src)
    _check_lead_order(leads, (), src)
    return ListWords(
        code=code, leads=leads, tags=_tags(data["tag"], src), section_groups=tuple(sections),
        strong=read_chars(seps, "strong", src, src.table_line("separators")),
        weak=read_chars(seps, "weak", src, src.table_line("separators")),
        last=read_words(seps, "last", src, src.table_line("separators")),
        words=tuple((name, read_words(words, name, src, start, lower=name in _LOWER, patterns=name in _PATTERNS)
                     if name in words else ()) for name in WORD_LISTS),
        max_inline_words=read_count(data, "max_inline_words", src), unsplit_groups=unsplit)


@functools.lru_cache(maxsize=None)
def load_generators(code: str = "en", folder: Traversable | Path | None = None) -> tuple[Generator, ...]:
    """Every generator's rules (GENERATOR_FILES of lang/<code>/, or of `folder`), read and checked once."""
    general = load_lists(code, folder)
    # a generator writes one language: its file applies to that language's notes only, never by fallback
    own = [name for name in GENERATOR_FILES if folder is not None or shipped(code, name)[1] == code]
    return tuple(_generator(name, general, code, folder) for name in own)


def generator_rules(note_text: str, code: str = "en") -> tuple[Generator, ...]:
    """The generators whose markers the note carries (none for a clinician's note): decided once per note,
    then passed to the list reader."""
    return tuple(g for g in load_generators(code) if g.marker.search(note_text))


def _generator(name: str, general: ListWords, code: str, folder: Traversable | Path | None) -> Generator:
    data, src = read_file(code, name, folder)
    check_keys(data, name, {"markers", "lead", "tag"}, {"markers"}, src)
    start = src.table_line("markers")
    markers = check_keys(data["markers"], "[markers]", {"semantic_tags", "phrases"}, set(), src, start)
    tags = _tags(data.get("tag", []), src) if "tag" in data else ()
    for i, tag in enumerate(tags):
        if tag.tag in {t.tag for t in general.tags}:
            raise src.error(src.key_line("tag", header_lines(src, "tag")[i]), f"tag '{tag.tag}' is also in lists.toml")
    alternatives = []
    if markers.get("semantic_tags", False) is True:
        every = [t.tag for t in general.tags + tags]
        alternatives.append(r"\((?:" + "|".join(map(re.escape, every)) + r")\)")
    elif "semantic_tags" in markers and markers["semantic_tags"] is not False:
        raise src.error(src.key_line("semantic_tags", start), "'semantic_tags' is true or false")
    if "phrases" in markers:
        alternatives.append(r"\b(?:" + alternation(read_words(markers, "phrases", src, start)) + r")\b")
    if not alternatives:
        raise src.error(start, "[markers] names no marker: a generator's rules would apply to no note")
    leads = _leads(data.get("lead", []), src, required=False)
    _check_lead_order(general.leads, leads, src)
    return Generator(name.removesuffix(".toml"), re.compile("|".join(alternatives), re.I), leads, tags)


def _leads(raw: Any, src: Source, required: bool = True) -> tuple[Lead, ...]:
    if not isinstance(raw, list) or (required and not raw):
        raise src.error(1, "no [[lead]] tables")
    lines = header_lines(src, "lead")
    out = []
    for i, table in enumerate(raw):
        start, end = lines[i], lines[i + 1] if i + 1 < len(lines) else None
        check_keys(table, "[[lead]]", _LEAD_KEYS, {"group", "phrases"} | _EXAMPLE, src, start, end)
        group = read_text(table, "group", src, start, end)
        if group not in LIST_GROUPS:
            raise src.error(src.key_line("group", start, end), f"unknown group '{group}' (one of {', '.join(LIST_GROUPS)})")
        single = table.get("single", False)
        if not isinstance(single, bool):
            raise src.error(src.key_line("single", start, end), "'single' is true or false")
        example, target, expect, unreachable = _example(table, src, start, end)
        if expect not in LIST_GROUPS:
            raise src.error(src.key_line("expect", start, end), f"expect '{expect}' is no group")
        out.append(Lead(group, read_words(table, "phrases", src, start, end), single, example, target, expect,
                        unreachable))
    return tuple(out)


def _tags(raw: Any, src: Source) -> tuple[Tag, ...]:
    if not isinstance(raw, list) or not raw:
        raise src.error(1, "no [[tag]] tables")
    lines = header_lines(src, "tag")
    out: list[Tag] = []
    for i, table in enumerate(raw):
        start, end = lines[i], lines[i + 1] if i + 1 < len(lines) else None
        check_keys(table, "[[tag]]", _TAG_KEYS, {"tag", "group"} | _EXAMPLE, src, start, end)
        tag = read_text(table, "tag", src, start, end)
        group = read_text(table, "group", src, start, end, required=False)
        if tag != tag.lower().strip() or "(" in tag or ")" in tag:
            raise src.error(src.key_line("tag", start, end), f"tag '{tag}' is written in lower case, without brackets")
        if tag in {t.tag for t in out}:
            raise src.error(src.key_line("tag", start, end), f"tag '{tag}' is listed twice")
        if group and group not in LIST_GROUPS:
            raise src.error(src.key_line("group", start, end), f"unknown group '{group}' (or \"\" to keep the item's)")
        out.append(Tag(tag, group, *_example(table, src, start, end)))
    return tuple(out)


def _example(table: dict[str, Any], src: Source, start: int, end: int | None) -> tuple[str, str, str, str]:
    example, target, expect = (read_text(table, key, src, start, end) for key in ("example", "target", "expect"))
    if target not in example:
        raise src.error(src.key_line("target", start, end), f"target '{target}' is not in the example")
    unreachable = table.get("unreachable", "")
    if not isinstance(unreachable, str):
        raise src.error(src.key_line("unreachable", start, end), "unreachable is a string saying why")
    return example, target, expect, unreachable


def _check_lead_order(general: tuple[Lead, ...], extra: tuple[Lead, ...], src: Source) -> None:
    """Each group's phrases as the list reader tries them (a generator's first): none may begin with an
    earlier one."""
    for group, single in dict.fromkeys((lead.group, lead.single) for lead in general + extra):
        phrases = tuple(e for lead in extra + general if (lead.group, lead.single) == (group, single)
                        for e in lead.phrases)
        never_matches(phrases, src, "phrases")
