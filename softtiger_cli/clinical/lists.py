"""The list reader: enumerations a note writes out (bulleted, semicolon- or comma-separated) as items.

Clinical notes keep most of their coded facts in lists: a medication list under its heading, "history of
A, B, C", "the following procedures were performed:" with bullets. A small model misses items and cuts
them at the wrong place; reading the list structure gives every item with its exact span. Which kind of
item a list holds comes from cues (the section heading or the phrase that leads the list), never from item
names; a SNOMED-style semantic tag written after an item, such as "(substance)", outranks the list's cue
for that item. Items the note negates ("No Known Allergies") are not items. The model still reads
everything the lists do not cover (extract.py).

The words are data: general clinical English in lang/<code>/lists.toml, and a note generator's template
rules (lang/<code>/synthea.toml) added only for a note that carries that generator's markers. This module
is the algorithm that reads them."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from softtiger_cli.core.text import Language
from softtiger_cli.lang.lists import LIST_GROUPS, Generator, ListWords, generator_rules, load_lists
from softtiger_cli.lang.text import TextModel, text_model
from softtiger_cli.lang.words import alternation
from softtiger_cli.note.sections import Section

__all__ = ["LIST_GROUPS", "ListItem", "implied_status", "read_lists"]

# Substances (allergens) are only ever moved into allergies from a problem or allergy list.
_TAG_MOVES_FROM = {"allergies": ("problems", "allergies"), "problems": ("problems", "allergies"),
                   "procedures": ("problems", "procedures"), "medications": ("medications",)}
# A status that a list's kind implies, for required status fields (first one the FHIR version allows).
_STATUS_BY_GROUP = {"medications": ("active", "recorded"), "procedures": ("completed",)}


def implied_status(group: str, allowed: list[str]) -> str | None:
    """A medication list says what the patient takes; a procedure list says what was done."""
    return next((s for s in _STATUS_BY_GROUP.get(group, ()) if s in allowed), None)




@dataclass(frozen=True)
class _Matcher:
    """The list words of lang/<code>/lists.toml, and the rules of the generators a note carries the markers
    of, compiled once per combination."""

    leads: tuple[tuple[str, re.Pattern[str], bool], ...]  # group, lead pattern, names one item only
    tag: re.Pattern[str]  # a semantic tag after an item names what it is
    tag_group: Mapping[str, str]  # tag -> the group it moves its item to ("" keeps it)
    section_group: Mapping[str, str]  # section kind -> the group its list holds
    unsplit: frozenset[str]  # groups whose lists are not cut at weak separators
    strong: frozenset[str]
    weak: frozenset[str]
    last: re.Pattern[str]  # "A, B and C": the last piece holds two items
    visit_reason: re.Pattern[str]  # a reason for the visit that is no problem ("Annual exam.")
    operation: re.Pattern[str]  # an operation in a history list is a past procedure
    none: re.Pattern[str]
    clause: re.Pattern[str]  # where an item written in prose stops: a new clause begins
    trailing_time: re.Pattern[str]  # a date or duration after an item is its onset, not its name
    trailing_function_word: re.Pattern[str]
    determiner: re.Pattern[str]  # prose around a list: a determiner is not part of the item
    not_a_start: frozenset[str]  # ... and a function word cannot start one
    subheadings: frozenset[str]
    max_inline_words: int
    text: TextModel  # the language's bullets, list ends, trims and word counts


def _compile(words: ListWords, generators: tuple[Generator, ...] = ()) -> _Matcher:
    """The pack's words as patterns; a generator's leads go before the general ones of their group."""
    tm = text_model(words.code)
    alt = {name: alternation(w) for name, w in words.words}
    keys = list(dict.fromkeys((lead.group, lead.single) for lead in words.leads +
                              tuple(lead for g in generators for lead in g.leads)))
    ordered = tuple(lead for g in generators for lead in g.leads) + words.leads
    leads = tuple((group, re.compile(tm.edge + r"(?:" + alternation(tuple(
        e for lead in ordered if (lead.group, lead.single) == (group, single) for e in lead.phrases)) +
        r")\s*" + tm.colon + "?", re.I), single) for group, single in keys)
    tags = words.tags + tuple(t for g in generators for t in g.tags)
    year = r"(?:19|20)\d{2}"
    return _Matcher(
        leads=leads,
        tag=re.compile(r"\s*\((" + "|".join(re.escape(t.tag) for t in tags) + r")\)", re.I),
        tag_group={t.tag: t.group for t in tags},
        section_group=dict(words.section_groups),
        unsplit=frozenset(words.unsplit_groups),
        strong=frozenset(words.strong), weak=frozenset(words.weak),
        last=re.compile(r"(?:^|\s)(?:" + alternation(words.last) + r")\s+"),
        visit_reason=re.compile(r"\b(?:" + alt["visit_reasons"] + r")\b", re.I),
        operation=re.compile(r"(?:" + alt["operation_endings"] + r"|\b(?:" + alt["operation_words"] + r"))$", re.I),
        none=re.compile(r"^\s*(?:" + alt["none"] + r")\b", re.I),
        clause=re.compile(r"\s+(?:" + alt["clause_starts"] + r"|\d+ (?:" + alt["clause_durations"] + r"))\b"
                          r"|\s+(?:" + alt["clause_subjects"] + r") \w+", re.I),
        trailing_time=re.compile(
            r"\s+(?:(?:" + alt["date_words"] + r")\s+(?:" + year + r"|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}/" + year + r")"
            r"|(?:" + alt["duration_words"] + r")\s*\d+\s*(?:" + alt["duration_units"] + r"))\s*$|\s+" + year + r"\s*$",
            re.I),
        trailing_function_word=re.compile(r"(?:" + tm.gap + r"(?:" + alt["function_words"] + r"))+\s*$", re.I),
        determiner=re.compile(r"(?:" + alt["determiners"] + r")" + tm.gap, re.I),
        not_a_start=frozenset(t for e in words.of("not_a_start") for t in e.expansions()),
        subheadings=frozenset(t for e in words.of("subheadings") for t in e.expansions()),
        max_inline_words=words.max_inline_words,
        text=tm,
    )


@functools.lru_cache(maxsize=None)
def _matcher(generators: tuple[Generator, ...], lang: Language = "en") -> _Matcher:
    return _compile(load_lists(lang), generators)


@dataclass(frozen=True)
class ListItem:
    group: str  # an IPS group name (LIST_GROUPS)
    text: str  # the item as the note writes it, without a semantic tag
    start: int  # note[start:end] == text
    end: int
    cue: str  # what decided the group: "heading", "lead", "tag" (a semantic tag) or "word" (an operation)


def _trim(note: str, start: int, end: int, tm: TextModel) -> tuple[int, int]:
    while start < end and (note[start].isspace() or note[start] in tm.trim_start):
        start += 1
    while end > start and (note[end - 1].isspace() or note[end - 1] in tm.trim_end):
        end -= 1
    return start, end


def _split(note: str, start: int, end: int, group: str, mt: _Matcher) -> list[tuple[int, int]]:
    """Cut one list's text into item spans: semicolons first; commas outside brackets unless the items
    are of a group kept unsplit (vaccine names carry commas); a final ", and" /
    " and " joins the last item (the separators are the pack's)."""
    text = note[start:end]
    if any(ch in mt.strong for ch in text):
        seps = [i for i, ch in enumerate(text) if ch in mt.strong]
    elif group in mt.unsplit:
        seps = []
    else:
        seps, depth = [], 0
        for i, ch in enumerate(text):
            depth += ch in "(（"
            depth -= ch in ")）" and depth > 0
            if ch in mt.weak and depth == 0:
                seps.append(i)
    pieces, pos = [], 0
    for cut in seps + [len(text)]:
        pieces.append((start + pos, start + cut))
        pos = cut + 1
    if len(pieces) > 1:  # "A, B, and C" or "A, B and C": the last piece holds two items
        lo, hi = pieces[-1]
        m = mt.last.search(note[lo:hi])
        if m:
            pieces[-1:] = [(lo, lo + m.start()), (lo + m.end(), hi)]
    return [_trim(note, lo, hi, mt.text) for lo, hi in pieces]


def _items(note: str, spans: list[tuple[int, int]], group: str, cue: str, inline: bool,
           mt: _Matcher) -> list[ListItem]:
    out: list[ListItem] = []
    for lo, hi in spans:
        if inline:  # prose: the item ends where a new clause starts
            m = mt.clause.search(note, lo, hi)
            if m:
                hi = m.start()
            lo, hi = _trim(note, lo, hi, mt.text)
            tail = mt.trailing_function_word.search(note, lo, hi)
            if tail and tail.end() == hi:
                hi = tail.start()
            det = mt.determiner.match(note, lo, hi)
            lo = det.end() if det else lo
        when = mt.trailing_time.search(note, lo, hi)
        if when and when.end() == hi and when.start() > lo:
            hi = when.start()
        text = note[lo:hi]
        if not text.strip():
            continue
        if mt.text.starts_with(text, mt.not_a_start) or text.lower().strip(":") in mt.subheadings:
            if inline:
                break
            continue
        item_group, item_cue = group, cue
        tag = mt.tag.search(text)
        if tag:
            moved = mt.tag_group.get(tag.group(1).lower())
            if moved and group in _TAG_MOVES_FROM.get(moved, ()):
                item_group, item_cue = moved, "tag"
            hi = lo + tag.start()
            text = note[lo:hi]
        if item_group == "problems" and item_cue != "tag" and mt.operation.search(text):
            item_group, item_cue = "procedures", "word"
        if mt.none.match(text) or not mt.text.plausible(text) or len(text) > 200:
            if inline:
                break
            continue
        if inline and group != "immunizations" and mt.text.word_count(text) > mt.max_inline_words:
            break
        out.append(ListItem(item_group, text, lo, hi, item_cue))
    untagged = [i for i in out if i.cue != "tag"]
    tagged = {i.group for i in out if i.cue == "tag"}
    if untagged and len(tagged) == 1 and tagged != {group} and len(out) - len(untagged) >= len(untagged):
        # an untagged item in a list of tagged ones is of the same kind ("aspirin" among allergens)
        majority = tagged.pop()
        out = [ListItem(majority, i.text, i.start, i.end, "tag") if i.cue != "tag" else i for i in out]
    return out


def _sentence_start(note: str, floor: int, pos: int, tm: TextModel) -> int:
    """Where the clause holding pos begins: after the last of the language's clause marks before it (English:
    a full stop and a blank, or a line break; Chinese also 。；！？ and ，)."""
    cut = max([note.rfind(mark, floor, pos) + len(mark) - 1 for mark in tm.clause_marks] + [floor - 1])
    return cut + 1


def _bullets_after(note: str, pos: int, end: int, tm: TextModel) -> tuple[list[tuple[int, int]], int]:
    """Bulleted lines right after pos (the line that leads them), and where they stop."""
    spans: list[tuple[int, int]] = []
    line_start = note.find("\n", pos, end)
    while 0 <= line_start < end:
        line_start += 1
        line_end = note.find("\n", line_start, end)
        line_end = end if line_end < 0 else line_end
        m = tm.bullet.match(note, line_start, line_end)
        if not m:
            break
        spans.append(_trim(note, m.end(), line_end, tm))
        pos = line_end
        line_start = line_end if line_end < end else -1
    return spans, pos


def read_lists(note: str, secs: list[Section], generators: tuple[Generator, ...] | None = None,
               lang: Language = "en") -> tuple[list[ListItem], list[tuple[int, int, str]]]:
    """Every list item the note writes out, and the regions (start, end, group) the lists cover.

    A region runs from the sentence of the lead phrase to the list's end (or is a whole list section):
    extraction blanks regions out of every list group's question, so the model does not re-read them.
    generators: the note generators whose rules apply (lang.lists.generator_rules, decided once per note by
    the analysis); None decides them here, from the note.
    """
    return _read(note, secs, _matcher(generator_rules(note, lang) if generators is None else generators, lang))


def _read(note: str, secs: list[Section], mt: _Matcher) -> tuple[list[ListItem], list[tuple[int, int, str]]]:
    items: list[ListItem] = []
    regions: list[tuple[int, int, str]] = []
    for sec in secs:
        pos, end = sec.body_start, sec.end
        # a heading may itself lead a list ("Started on:" above bullets)
        section_group = mt.section_group.get(sec.kind) or next(
            (g for g, pattern, _ in mt.leads if sec.kind == "other" and sec.heading and pattern.search(sec.heading)), None)
        lead_found = False
        while pos < end:
            best = None
            for group, pattern, single in mt.leads:
                m = pattern.search(note, pos, end)
                if m and (best is None or m.start() < best[1].start()):
                    best = (group, m, single)
            if best is None:
                break
            group, m, single = best
            lead_found = True
            line_end = note.find("\n", m.end(), end)
            line_end = end if line_end < 0 else line_end
            rest = note[m.end():line_end]
            if not rest.strip():  # "...performed:" then bullets
                spans, stop = _bullets_after(note, m.end(), end, mt.text)
                found = _items(note, spans, group, "lead", False, mt)
            else:
                stop_m = mt.text.list_stop.search(note, m.end(), end)
                stop = stop_m.start() if stop_m else end
                pieces = _split(note, m.end(), stop, group, mt)
                found = _items(note, pieces[:1] if single else pieces, group, "lead", True, mt)
            items += found
            if found:  # the region runs from the start of the lead's sentence to the end of the list
                regions.append((_sentence_start(note, sec.body_start, m.start(), mt.text), stop, group))
            pos = max(stop, m.end() + 1)
        if section_group and not lead_found:
            items += _section_list(note, sec, section_group, regions, mt)
    return items, regions


def _section_list(note: str, sec: Section, group: str, regions: list[tuple[int, int, str]],
                  mt: _Matcher) -> list[ListItem]:
    """A list section's body: one item per line (bulleted or not), or one line of separated items."""
    lines = [(m.start() + sec.body_start, m.end() + sec.body_start)
             for m in re.finditer(r"[^\n]+", note[sec.body_start:sec.end]) if m.group(0).strip()]
    if not lines:
        return []
    spans: list[tuple[int, int]] = []
    for lo, hi in lines:
        b = mt.text.bullet.match(note, lo, hi)
        lo = b.end() if b else lo
        sentences = [s for s in re.finditer(r"[^.]+(?:\.(?!\S)|$)", note[lo:hi]) if s.group(0).strip()]
        if len(sentences) > 1 and all(len(s.group(0).split()) <= mt.max_inline_words for s in sentences):
            spans += [_trim(note, lo + s.start(), lo + s.end(), mt.text) for s in sentences]  # "Asthma. Gout."
        elif len(lines) == 1 or any(ch in mt.strong for ch in note[lo:hi]) and not re.search(r"\.\s+\S", note[lo:hi]):
            spans += _split(note, lo, hi, group, mt)
        else:
            spans.append(_trim(note, lo, hi, mt.text))
    if sec.kind == "chief_complaint":
        spans = [(lo, hi) for lo, hi in spans if not mt.visit_reason.search(note[lo:hi])]
    found = _items(note, spans, group, "heading", False, mt)
    if found or all(mt.none.match(note[lo:hi]) for lo, hi in lines):  # "No Known Allergies." settles it too
        regions.append((sec.body_start, sec.end, group))
    return found
