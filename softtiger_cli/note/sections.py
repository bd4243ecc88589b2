"""Sections and sentences of a clinical note, with character offsets into the note's text.

Headings are recognised by shape (a short line in capitals, a line ending with a colon, a Markdown
`#` heading, `Heading:` followed by text on the same line, or a known heading name alone on its line) and mapped
to a canonical kind through the language pack's table of common clinical headings (lang/en/sections.toml), so a
medications section is known as one whatever it is called.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from softtiger_cli.lang import fold_heading, load_pack

# canonical kind -> heading names (lower case, matched as whole words at the start of a heading), from the
# language pack: softtiger_cli/lang/en/sections.toml
HEADING_KINDS: Mapping[str, tuple[str, ...]] = load_pack("en").headings
_HEADING_LINE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*(?P<md>[^\n]{2,80})|(?P<caps>[A-Z][A-Z0-9 /&,()'-]{1,60}[A-Z)])[ \t]*:?|"
    r"(?P<colon>[A-Za-z][A-Za-z /&()'-]{1,50}):)[ \t]*$",
    re.M,
)
_PLAIN_HEADING = re.compile(r"^[ \t]*(?P<name>[A-Za-z][A-Za-z /&'-]{1,40}?)[ \t]*$", re.M)
_INLINE_HEADING = re.compile(r"^[ \t]*(?P<name>[A-Za-z][A-Za-z /&'-]{1,40}):[ \t]+(?=\S)", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?;])[ \t]+(?=[A-Z0-9(\"'])|\n(?=[ \t]*\S)")


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


def heading_kind(heading: str) -> str:
    words = fold_heading(heading)
    best, best_len = "other", 0
    for kind, names in HEADING_KINDS.items():
        for name in names:
            if (words == name or words.startswith(name + " ")) and len(name) > best_len:
                best, best_len = kind, len(name)
    return best


def _headings(text: str) -> list[tuple[int, int, str]]:
    """(heading start, body start, heading text) for every heading-looking line or inline label."""
    found: dict[int, tuple[int, int, str]] = {}
    for m in _HEADING_LINE.finditer(text):
        name = (m.group("md") or m.group("caps") or m.group("colon") or "").strip().strip("#").strip()
        if m.group("caps") and len(name.split()) > 6:
            continue
        if m.group("colon") and heading_kind(name) == "other" and len(name.split()) > 4:
            continue
        found[m.start()] = (m.start(), m.end(), name)
    for m in _PLAIN_HEADING.finditer(text):  # "Medications" alone on its line: a known heading name
        name = m.group("name").strip()
        if m.start() not in found and len(name.split()) <= 5 and heading_kind(name) != "other":
            found[m.start()] = (m.start(), m.end(), name)
    for m in _INLINE_HEADING.finditer(text):
        name = m.group("name").strip()
        if heading_kind(name) != "other" and m.start() not in found:
            found[m.start()] = (m.start(), m.end(), name)
    return [found[k] for k in sorted(found)]


def sections(text: str) -> list[Section]:
    """The note's sections in order; together they cover the whole text."""
    heads = _headings(text)
    out: list[Section] = []
    if not heads or heads[0][0] > 0:
        first = heads[0][0] if heads else len(text)
        if text[:first].strip():
            out.append(Section(0, first, "", "other", 0))
    for i, (start, body, name) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        out.append(Section(start, end, name, heading_kind(name), body))
    if out and out[0].start > 0:  # leading blank text joins the first section
        s = out[0]
        out[0] = Section(0, s.end, s.heading, s.kind, s.body_start)
    return out


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Sentences (or list lines) within text[start:end], trimmed of surrounding blanks."""
    end = len(text) if end is None else end
    out: list[Sentence] = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
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
