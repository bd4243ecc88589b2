"""The list reader: enumerations a note writes out (bulleted, semicolon- or comma-separated) as items.

Clinical notes keep most of their coded facts in lists: a medication list under its heading, "history of
A, B, C", "the following procedures were conducted:" with bullets. A small model misses items and cuts
them at the wrong place; reading the list structure gives every item with its exact span. Which kind of
item a list holds comes from cues in general clinical English (the section heading or the phrase that
leads the list), never from item names; a SNOMED-style semantic tag written after an item, such as
"(substance)", outranks the list's cue for that item. Items the note negates ("No Known Allergies") are
not items. The model still reads everything the lists do not cover (extract.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from softtiger_cli.note.sections import Section

# Group names of the IPS task that lists can feed.
LIST_GROUPS = ("problems", "medications", "allergies", "procedures", "immunizations", "plan")

# Section kinds whose body, when shaped as a list, is a list of that group.
_SECTION_GROUP = {"medications": "medications", "allergies": "allergies", "pmh": "problems",
                  "chief_complaint": "problems",
                  "procedures": "procedures", "immunizations": "immunizations"}

# Phrases that lead a list, the group the list holds, and whether the lead names one item only ("s/p X,
# c/o Y" is no list of procedures). The earliest match in the text wins.
_LEADS: tuple[tuple[str, re.Pattern[str], bool], ...] = tuple(
    (group.rstrip("!"), re.compile(pattern, re.I), group.endswith("!"))
    for group, pattern in (
        ("immunizations", r"\b(?:following (?:immunizations|vaccinations|vaccines)|immunized (?:with|against)|"
                          r"(?:immunizations?|vaccinations?|vaccines?) (?:given|administered|received)|"
                          r"(?:was|were) (?:given|administered) the following (?:immunizations|vaccines))\s*:?"),
        ("procedures", r"\b(?:following procedures(?: were| was)?(?: conducted| performed| done)?|"
                       r"procedures? (?:conducted|performed|done))\s*:?"),
        ("procedures!", r"(?:\bunderwent|\bstatus post|\bs/p)\s*:?"),
        ("medications", r"\b(?:(?:was |were )?prescribed(?: the following medications?)?|following medications|"
                        r"(?:started|continued|maintained) on|medications? (?:include|are|were))\s*:?"),
        ("allergies", r"\b(?:allergic to|allergies? to|allergies (?:include|are)|sensitivity to|intolerant of)\s*:?"),
        ("plan", r"\b(?:placed on (?:a |the )?care ?plan|care ?plans? (?:include|includes|are))\s*:?"),
        ("problems", r"\b(?:(?:a |past |prior |known )?(?:medical )?history of|hx of|presenting with|presents with|"
                     r"diagnosed with|diagnoses? (?:include|are|were|of)|problems? (?:include|are)|"
                     r"suffers from|known for)\s*:?"),
    )
)

# A semantic tag after an item names what it is; some tags move the item to another group.
_TAG = re.compile(r"\s*\((disorder|finding|procedure|regime/therapy|substance|organism|edible|product|"
                  r"situation|observable entity|qualifier value|morphologic abnormality|event)\)", re.I)
_TAG_GROUP = {"disorder": "problems", "finding": "problems", "situation": "problems",
              "morphologic abnormality": "problems", "procedure": "procedures", "regime/therapy": "procedures",
              "substance": "allergies", "organism": "allergies", "edible": "allergies", "product": "medications"}
# Substances (allergens) are only ever moved into allergies from a problem or allergy list.
_TAG_MOVES_FROM = {"allergies": ("problems", "allergies"), "problems": ("problems", "allergies"),
                   "procedures": ("problems", "procedures"), "medications": ("medications",)}
# A status that a list's kind implies, for required status fields (first one the FHIR version allows).
_STATUS_BY_GROUP = {"medications": ("active", "recorded"), "procedures": ("completed",)}


def implied_status(group: str, allowed: list[str]) -> str | None:
    """A medication list says what the patient takes; a procedure list says what was done."""
    return next((s for s in _STATUS_BY_GROUP.get(group, ()) if s in allowed), None)


# A reason for the visit that is no problem of the patient's ("Annual exam.", "Follow-up visit").
_VISIT_REASON = re.compile(r"\b(?:exam|examination|visit|check-?up|physical|follow[- ]?up|well[- ]child|routine|"
                           r"refill|screening|consult|consultation|evaluation|establish care)\b", re.I)
# An operation in a history list is a past procedure ("Appendectomy" under Past Medical History).
_OPERATION = re.compile(r"(?:ectomy|otomy|ostomy|plasty|pexy|bypass graft|\bcabg|\brepair|\breplacement|"
                        r"\bamputation|\bfusion)$", re.I)
_NONE = re.compile(r"^\s*(?:no|none|nil|nkda|nka|denies|negative|not applicable|n/a)\b", re.I)
_BULLET = re.compile(r"^[ \t]*(?:[-*\u2022+]|\d{1,2}[.)])[ \t]+(?=\S)", re.M)
# Where an item written in prose stops: a new clause begins.
_CLAUSE = re.compile(r"\s+(?:which|who|that|but|because|since|although|however|and (?:he|she|they|i|we|it|is|was|has|"
                     r"had|denies|reports|takes|uses|states|notes|now)|for (?:the past|about|several|many)|\d+ (?:days?|weeks?|months?|years?))\b"
                     r"|\s+(?:he|she|they|it) \w+", re.I)
_MAX_WORDS_INLINE = 8
# A date or duration written after an item is its onset, not its name ("Hypertension since 2015"); the
# date rules read it from the sentence (extract.apply_rules).
_TRAILING_TIME = re.compile(r"\s+(?:(?:since|in|from|on|dx|diagnosed)\s+(?:(?:19|20)\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|"
                            r"\d{1,2}/(?:19|20)\d{2})|(?:for|x)\s*\d+\s*(?:d|days?|wks?|weeks?|mos?|months?|y|yrs?|years?))"
                            r"\s*$|\s+(?:19|20)\d{2}\s*$", re.I)
_TRAILING_FUNCTION_WORD = re.compile(r"(?:\s+(?:for|with|of|in|on|at|since|and|or|to|x))+\s*$", re.I)
# Prose around a list: a determiner is not part of the item; a function word cannot start one.
_DETERMINER = re.compile(r"(?:a|an|the|some|any|his|her|their|my|your|this|these|those)\s+", re.I)
_NOT_A_START = frozenset(
    "but which who that it its by felt feel feels stating states however approximately correct and or to for "
    "with of in on at as about over more less very also well good because so then when while is was "
    "be been being he she they we i you there here what how if whether".split())
_SUBHEADINGS = frozenset("medical surgical social family other past history current".split())
_SENTENCE_STOP = re.compile(r"\.(?=\s|$)|\n[ \t]*\n|\n(?=[ \t]*(?:#|[-*\u2022]))")


@dataclass(frozen=True)
class ListItem:
    group: str  # an IPS group name (LIST_GROUPS)
    text: str  # the item as the note writes it, without a semantic tag
    start: int  # note[start:end] == text
    end: int
    cue: str  # what decided the group: "heading", "lead", "tag" (a semantic tag) or "word" (an operation)


def _trim(note: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (note[start].isspace() or note[start] in ",;:-*\u2022"):
        start += 1
    while end > start and (note[end - 1].isspace() or note[end - 1] in ",;:."):
        end -= 1
    return start, end


def _split(note: str, start: int, end: int, group: str) -> list[tuple[int, int]]:
    """Cut one list's text into item spans: semicolons first; commas outside brackets unless the items
    are vaccines (whose names carry commas); a final ", and" / " and " joins the last item."""
    text = note[start:end]
    if ";" in text:
        seps = [m.start() for m in re.finditer(";", text)]
    elif group == "immunizations":
        seps = []
    else:
        seps, depth = [], 0
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")" and depth > 0
            if ch == "," and depth == 0:
                seps.append(i)
    pieces, pos = [], 0
    for cut in seps + [len(text)]:
        pieces.append((start + pos, start + cut))
        pos = cut + 1
    if len(pieces) > 1:  # "A, B, and C" or "A, B and C": the last piece holds two items
        lo, hi = pieces[-1]
        m = re.search(r"(?:^|\s)and\s+", note[lo:hi])
        if m:
            pieces[-1:] = [(lo, lo + m.start()), (lo + m.end(), hi)]
    return [_trim(note, lo, hi) for lo, hi in pieces]


def _items(note: str, spans: list[tuple[int, int]], group: str, cue: str, inline: bool) -> list[ListItem]:
    out: list[ListItem] = []
    for lo, hi in spans:
        if inline:  # prose: the item ends where a new clause starts
            m = _CLAUSE.search(note, lo, hi)
            if m:
                hi = m.start()
            lo, hi = _trim(note, lo, hi)
            tail = _TRAILING_FUNCTION_WORD.search(note, lo, hi)
            if tail and tail.end() == hi:
                hi = tail.start()
            det = _DETERMINER.match(note, lo, hi)
            lo = det.end() if det else lo
        when = _TRAILING_TIME.search(note, lo, hi)
        if when and when.end() == hi and when.start() > lo:
            hi = when.start()
        text = note[lo:hi]
        if not text.strip():
            continue
        first = text.split()[0].lower().strip(",.;:")
        if first in _NOT_A_START or text.lower().strip(":") in _SUBHEADINGS:
            if inline:
                break
            continue
        item_group, item_cue = group, cue
        tag = _TAG.search(text)
        if tag:
            moved = _TAG_GROUP.get(tag.group(1).lower())
            if moved and group in _TAG_MOVES_FROM.get(moved, ()):
                item_group, item_cue = moved, "tag"
            hi = lo + tag.start()
            text = note[lo:hi]
        if item_group == "problems" and item_cue != "tag" and _OPERATION.search(text):
            item_group, item_cue = "procedures", "word"
        if _NONE.match(text) or sum(ch.isalpha() for ch in text) < 3 or len(text) > 200:
            if inline:
                break
            continue
        if inline and group != "immunizations" and len(text.split()) > _MAX_WORDS_INLINE:
            break
        out.append(ListItem(item_group, text, lo, hi, item_cue))
    untagged = [i for i in out if i.cue != "tag"]
    tagged = {i.group for i in out if i.cue == "tag"}
    if untagged and len(tagged) == 1 and tagged != {group} and len(out) - len(untagged) >= len(untagged):
        # an untagged item in a list of tagged ones is of the same kind ("aspirin" among allergens)
        majority = tagged.pop()
        out = [ListItem(majority, i.text, i.start, i.end, "tag") if i.cue != "tag" else i for i in out]
    return out


def _sentence_start(note: str, floor: int, pos: int) -> int:
    """Where the sentence holding pos begins (after the last full stop or line break before it)."""
    cut = max(note.rfind("\n", floor, pos), note.rfind(". ", floor, pos) + 1, floor - 1)
    return cut + 1


def _bullets_after(note: str, pos: int, end: int) -> tuple[list[tuple[int, int]], int]:
    """Bulleted lines right after pos (the line that leads them), and where they stop."""
    spans: list[tuple[int, int]] = []
    line_start = note.find("\n", pos, end)
    while 0 <= line_start < end:
        line_start += 1
        line_end = note.find("\n", line_start, end)
        line_end = end if line_end < 0 else line_end
        m = _BULLET.match(note, line_start, line_end)
        if not m:
            break
        spans.append(_trim(note, m.end(), line_end))
        pos = line_end
        line_start = line_end if line_end < end else -1
    return spans, pos


def read_lists(note: str, secs: list[Section]) -> tuple[list[ListItem], list[tuple[int, int, str]]]:
    """Every list item the note writes out, and the regions (start, end, group) the lists cover.

    A region runs from the sentence of the lead phrase to the list's end (or is a whole list section):
    extraction blanks regions out of every list group's question, so the model does not re-read them.
    """
    items: list[ListItem] = []
    regions: list[tuple[int, int, str]] = []
    for sec in secs:
        pos, end = sec.body_start, sec.end
        # a heading may itself lead a list ("Started on:" above bullets)
        section_group = _SECTION_GROUP.get(sec.kind) or next(
            (g for g, pattern, _ in _LEADS if sec.kind == "other" and sec.heading and pattern.search(sec.heading)), None)
        lead_found = False
        while pos < end:
            best = None
            for group, pattern, single in _LEADS:
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
            if not rest.strip():  # "...conducted:" then bullets
                spans, stop = _bullets_after(note, m.end(), end)
                found = _items(note, spans, group, "lead", inline=False)
            else:
                stop_m = _SENTENCE_STOP.search(note, m.end(), end)
                stop = stop_m.start() if stop_m else end
                pieces = _split(note, m.end(), stop, group)
                found = _items(note, pieces[:1] if single else pieces, group, "lead", inline=True)
            items += found
            if found:  # the region runs from the start of the lead's sentence to the end of the list
                regions.append((_sentence_start(note, sec.body_start, m.start()), stop, group))
            pos = max(stop, m.end() + 1)
        if section_group and not lead_found:
            items += _section_list(note, sec, section_group, regions)
    return items, regions


def _section_list(note: str, sec: Section, group: str, regions: list[tuple[int, int, str]]) -> list[ListItem]:
    """A list section's body: one item per line (bulleted or not), or one line of separated items."""
    lines = [(m.start() + sec.body_start, m.end() + sec.body_start)
             for m in re.finditer(r"[^\n]+", note[sec.body_start:sec.end]) if m.group(0).strip()]
    if not lines:
        return []
    spans: list[tuple[int, int]] = []
    for lo, hi in lines:
        b = _BULLET.match(note, lo, hi)
        lo = b.end() if b else lo
        sentences = [s for s in re.finditer(r"[^.]+(?:\.(?!\S)|$)", note[lo:hi]) if s.group(0).strip()]
        if len(sentences) > 1 and all(len(s.group(0).split()) <= _MAX_WORDS_INLINE for s in sentences):
            spans += [_trim(note, lo + s.start(), lo + s.end()) for s in sentences]  # "Asthma. Gout."
        elif len(lines) == 1 or ";" in note[lo:hi] and not re.search(r"\.\s+\S", note[lo:hi]):
            spans += _split(note, lo, hi, group)
        else:
            spans.append(_trim(note, lo, hi))
    if sec.kind == "chief_complaint":
        spans = [(lo, hi) for lo, hi in spans if not _VISIT_REASON.search(note[lo:hi])]
    found = _items(note, spans, group, "heading", inline=False)
    if found or all(_NONE.match(note[lo:hi]) for lo, hi in lines):  # "No Known Allergies." settles it too
        regions.append((sec.body_start, sec.end, group))
    return found
