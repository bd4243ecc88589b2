"""Sections and sentences of a clinical note, with character offsets into the note's text.

Headings are recognised by shape (a short line in capitals, a line ending with a colon, a Markdown
`#` heading, `Heading:` followed by text on the same line, or a known heading name alone on its line) and mapped
to a canonical kind through the language pack's table of common clinical headings (lang/en/sections.toml), so a
medications section is known as one whatever it is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import functools

from softtiger_cli.core.text import Language, han_count
from softtiger_cli.lang import fold_heading, load_pack
from softtiger_cli.lang.text import TextModel, text_model

# canonical kind -> heading names (lower case, matched as whole words at the start of a heading), from the
# language pack: softtiger_cli/lang/<code>/sections.toml
HEADING_KINDS: Mapping[str, tuple[str, ...]] = load_pack("en").headings


@dataclass(frozen=True)
class Section:
    start: int  # offset of the heading (or of the text when there is none)
    end: int
    heading: str  # as written, "" for text before the first heading
    kind: str  # canonical kind, or "other"
    body_start: int  # offset where the section's text begins, after its heading


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@functools.lru_cache(maxsize=None)
def _kinds(lang: Language) -> Mapping[str, tuple[str, ...]]:
    return load_pack(lang).headings


def heading_kind(heading: str, lang: Language = "en") -> str:
    """The canonical kind of a heading ("other" when the pack does not know it): the longest pack name that is
    the heading or starts it, as whole words (Han names need no space after them: "既往史及个人史")."""
    words = fold_heading(heading)
    best, best_len = "other", 0
    for kind, names in _kinds(lang).items():
        for name in names:
            if (words == name or words.startswith(name + " ") or words.startswith(name) and _han_end(name)) \
                    and len(name) > best_len:
                best, best_len = kind, len(name)
    return best


def _han_end(name: str) -> bool:
    return han_count(name[-1:]) == 1


def _headings(text: str, tm: TextModel) -> list[tuple[int, int, str]]:
    """(heading start, body start, heading text) for every heading-looking line or inline label."""
    found: dict[int, tuple[int, int, str]] = {}
    for m in tm.heading_line.finditer(text):
        groups = m.groupdict()
        name = (groups["md"] or groups["caps"] or groups["colon"] or groups.get("bracket") or groups.get("zhcolon")
                or "").strip().strip("#").strip()
        if groups["caps"] and len(name.split()) > 6:
            continue
        if (groups["colon"] or groups.get("zhcolon")) and heading_kind(name, tm.code) == "other" and \
                tm.word_count(name) > 4:
            continue
        found[m.start()] = (m.start(), m.end(), name)
    for m in tm.plain_heading.finditer(text):  # "Medications" alone on its line: a known heading name
        name = m.group("name").strip()
        if m.start() not in found and len(name.split()) <= 5 and heading_kind(name, tm.code) != "other":
            found[m.start()] = (m.start(), m.end(), name)
    for m in tm.inline_heading.finditer(text):
        name = (m.groupdict().get("bname") or m.group("name")).strip()
        if heading_kind(name, tm.code) != "other" and m.start() not in found:
            found[m.start()] = (m.start(), m.end(), name)
    return [found[k] for k in sorted(found)]


def sections(text: str, lang: Language = "en") -> list[Section]:
    """The note's sections in order; together they cover the whole text."""
    tm = text_model(lang)
    heads = _headings(text, tm)
    out: list[Section] = []
    if not heads or heads[0][0] > 0:
        first = heads[0][0] if heads else len(text)
        if text[:first].strip():
            out.append(Section(0, first, "", "other", 0))
    for i, (start, body, name) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        out.append(Section(start, end, name, heading_kind(name, lang), body))
    if out and out[0].start > 0:  # leading blank text joins the first section
        s = out[0]
        out[0] = Section(0, s.end, s.heading, s.kind, s.body_start)
    return out


def sentences(text: str, start: int = 0, end: int | None = None, lang: Language = "en") -> list[Sentence]:
    """Sentences (or list lines) within text[start:end], trimmed of surrounding blanks."""
    end = len(text) if end is None else end
    out: list[Sentence] = []
    pos = start
    for m in text_model(lang).sentence_end.finditer(text, start, end):
        _append_trimmed(text, pos, m.start(), out)
        pos = m.end()
    _append_trimmed(text, pos, end, out)
    return out


def _append_trimmed(text: str, s: int, e: int, out: list[Sentence]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append(Sentence(s, e))


def section_at(secs: list[Section], offset: int) -> Section | None:
    for s in secs:
        if s.start <= offset < s.end:
            return s
    return None
