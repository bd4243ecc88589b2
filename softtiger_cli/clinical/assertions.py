"""Assertions read off the note around an item: negated, possible, family, past, resolved, planned or
hypothetical.

A small ConText-style checker (the algorithm of Harkema et al., 2009, with this project's own cue lists):
cue phrases open a scope forwards or backwards from where they stand, the scope ends at the sentence's
end or at a termination word ("but", "however", ...), and an item inside a scope takes that assertion.
Pseudo-cues block a cue that only looks like one: "no longer" is resolution, not negation; "accompanied by
her mother" names an informant, not a relative's disease. A Family history section makes its items a
relative's. What the assertion means for each kind of item (a chronic disease under "history of" is still
current; an order in a Plan section is planned) is decided in clinical/status.py.

medspaCy implements ConText on spaCy; softtiger does not depend on it because spaCy and its models would
multiply the install for offline laptops, and the checks needed here are few. The cues themselves are
data, in the language pack (softtiger_cli/lang/en/context.toml and relatives.toml); this module is the
algorithm that reads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from softtiger_cli.core.data import Assertion, Certainty, Subject, Time
from softtiger_cli.core.text import Language
from softtiger_cli.lang import SCOPED, FamilyWords, Pack, load_pack, per_language
from softtiger_cli.lang.text import LANGUAGES, TextModel, text_model
from softtiger_cli.note.sections import Section, Sentence

FAMILY_KINDS = ("family",)


@dataclass(frozen=True)
class _Cue:
    literal: str
    forward: int | None  # words the scope reaches after the cue; None: it does not look forward
    backward: int | None  # ... before it
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class _Matcher:
    """A pack's cues compiled once (every word of them from the pack)."""

    scoped: dict[str, list[_Cue]]  # category -> its cues, in pack order
    pseudo: dict[str, re.Pattern[str]]  # blocked category -> its pseudo-cues
    term: re.Pattern[str]
    ongoing: re.Pattern[str]
    relatives: Mapping[str, tuple[str, str]]
    relative: re.Pattern[str]
    family_before: re.Pattern[str]
    family_after: re.Pattern[str]
    family_lead: re.Pattern[str]
    informant: re.Pattern[str]
    breaks: re.Pattern[str]
    side: re.Pattern[str]
    family: FamilyWords
    text: TextModel  # how scopes are counted in this pack's language
    backward_stops: str = ""  # characters that end a backward scope (the pack's backward_terminate_chars) ...
    backward_stop_kinds: tuple[str, ...] = ()  # ... of a cue of these categories


def _alt(words: tuple[str, ...] | list[str], spaced: bool = False) -> str:
    """An alternation of literal phrases (none: a pattern that never matches); spaced: any run of blanks
    between their words."""
    return "|".join(r"\s+".join(map(re.escape, w.split())) if spaced else re.escape(w) for w in words) or "(?!)"


def _cue_pattern(cue: str) -> re.Pattern[str]:
    """A cue as a whole word: bounded where it begins or ends with a letter or digit ("?" is bare)."""
    head = r"(?<![a-z0-9])" if cue[0].isalnum() else ""
    tail = r"(?![a-z0-9])" if cue[-1].isalnum() else ""
    return re.compile(head + re.escape(cue) + tail, re.I)


def _tail(phrase: str) -> str:
    """A family-history lead's tail: words after blanks, punctuation after optional blanks."""
    return (r"\s+" if phrase[0].isalnum() else r"\s*") + _alt([phrase], spaced=True)


def _compile(pack: Pack) -> _Matcher:
    """The pack as patterns: built once at import (and by tests/test_lang.py from a pack less one entry)."""
    scoped = {category: [_Cue(r.literal, pack.forward(r) if r.direction in ("forward", "bidirectional") else None,
                              pack.backward(r) if r.direction in ("backward", "bidirectional") else None,
                              _cue_pattern(r.literal)) for r in pack.of(category)] for category in SCOPED}
    pseudo = {category: re.compile(r"(?<![a-z])(?:" + _alt(cues) + r")(?![a-z])", re.I) for category in SCOPED
              if (cues := [r.literal for r in pack.of("pseudo") if r.blocks == category])}
    term = r"(?<![a-z])(" + _alt([r.literal for r in pack.of("terminate")]) + r")(?![a-z])" + \
        ("|[" + re.escape(pack.terminate_chars) + "]" if pack.terminate_chars else "")
    fam, tm = pack.family, text_model(pack.code)
    b, gap, stops = tm.edge, tm.gap, tm.stops  # English: \b, \s+ and ".;" (no character needs escaping in [...])
    rel = r"(?:" + _alt(list(pack.relatives)) + r")s?"
    sides, poss = _alt(fam.sides), _alt(fam.possessive)
    return _Matcher(
        scoped=scoped, pseudo=pseudo, term=re.compile(term, re.I),
        ongoing=re.compile(b + r"(?:" + _alt(pack.ongoing) + r")" + b, re.I),
        relatives=pack.relatives, relative=re.compile(rel, re.I),
        # A relative before the item, linked to it ("her mother had breast cancer", "father: MI at 50").
        family_before=re.compile(b + r"(?:(?:" + sides + r")" + gap + r")?" + rel + r"(?:" + poss + r")?" + b +
                                 r"(?=[^" + stops + r"]*?" + b + r"(?:" + _alt(fam.links) + r")" + b +
                                 r"|\s*(?:" + poss + r"|:|-|\())", re.I),
        family_after=re.compile(b + r"(?:" + _alt(fam.after_links) + r")" + gap + r"(?:" + _alt(fam.after_determiners) +
                                r")?\s*(?:" + sides + r")?\s*" + rel + r"|" + b + r"(?:" + _alt(fam.after) + r")", re.I),
        family_lead=re.compile(b + r"(?:" + _alt(fam.leads) + r")" + b + r"(?:" + "|".join(map(_tail, fam.lead_tails)) +
                               r")?", re.I),
        # A relative named as informant or companion, not as the one with the disease.
        informant=re.compile(b + r"(?:" + _alt(fam.informant_before, spaced=True) + r")" + gap + r"(?:" +
                             _alt(fam.informant_links) + r")?\s*(?:" + _alt(fam.informant_determiners) + r")?\s*" +
                             rel + b + r"|" + b + rel + gap + r"(?:" + _alt(fam.informant_after) + r")" + b, re.I),
        breaks=re.compile(r"[" + stops + r"]|" + b + r"(?:" + _alt(fam.breaks) + r")" + b, re.I),
        side=re.compile(r"^(?:" + sides + r")" + gap, re.I),
        family=fam,
        text=text_model(pack.code),
        backward_stops=pack.backward_terminate_chars,
        backward_stop_kinds=pack.backward_terminate_categories,
    )


_matcher = per_language(load_pack, _compile)  # a language's cues, compiled once


_MATCHER = _matcher("en")
RELATION_CODES: Mapping[str, tuple[str, str]] = _MATCHER.relatives  # v3-RoleCode family members


def relation_code(display: str) -> str:
    """The v3-RoleCode of a relative's display ("mother" -> MTH), from any language's relatives ("" if none)."""
    for lang in LANGUAGES:  # the packs' tables only: no other language's cues are compiled for this
        code = next((c for c, d in load_pack(lang).relatives.values() if d == display), "")
        if code:
            return code
    return ""


def _blocked(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < hi and end > lo for lo, hi in spans)


def in_scope(sentence: str, item_start: int, item_end: int, kind: str,
             names: tuple[tuple[int, int], ...] = (), lang: Language = "en") -> str | None:
    """The cue of category `kind` (negated, possible, ...: lang.SCOPED) whose scope covers the item's span
    (offsets within the sentence), if any. Scopes count words as the language's text model does."""
    matcher = _matcher(lang)
    count = matcher.text.word_count
    pseudo = [(m.start(), m.end()) for m in matcher.pseudo[kind].finditer(sentence)] if kind in matcher.pseudo else []
    for cue in matcher.scoped[kind]:
        for m in cue.pattern.finditer(sentence):
            if m.start() < item_end and m.end() > item_start:
                continue  # the cue is part of the item's own words
            if _blocked(list(names), m.start(), m.end()) or _blocked(pseudo, m.start(), m.end()):
                continue  # ... or of another item's name ("not in labor force"), or a pseudo-cue
            if cue.forward is not None and m.end() <= item_start:
                between = sentence[m.end():item_start]
                if not matcher.term.search(between) and count(between) <= cue.forward:
                    return cue.literal
            if cue.backward is not None and m.start() >= item_end:
                between = sentence[item_end:m.start()]
                if not matcher.term.search(between) and count(between) <= cue.backward and \
                        not (kind in matcher.backward_stop_kinds and any(ch in between for ch in matcher.backward_stops)):
                    return cue.literal
    return None


def _relative(word: str, matcher: _Matcher) -> str:
    """The display name of a relative as matched ("sisters" -> "sister"), "" when unknown."""
    relatives = matcher.relatives
    key = word.lower().rstrip("s").removesuffix("'")
    return relatives.get(key, relatives.get(word.lower(), ("", "")))[1]


def family_cue(sentence: str, a: int, b: int, in_family_section: bool, lang: Language = "en") -> tuple[bool, str]:
    """Whether the item at sentence[a:b] is a relative's, and which relative (may be "")."""
    matcher = _matcher(lang)
    words, count = matcher.family, matcher.text.word_count
    informants = [(m.start(), m.end()) for m in matcher.informant.finditer(sentence)]
    before = sentence[:a]
    for m in matcher.family_before.finditer(before):
        if _blocked(informants, m.start(), m.end()):
            continue
        between = before[m.end():]
        if count(between) <= words.relative_before_words and not matcher.breaks.search(between):
            return True, _relative(matcher.side.sub("", m.group(0)).split("'")[0], matcher)
    after = sentence[b:]
    m = matcher.family_after.search(after)
    if m and count(after[:m.start()]) <= words.relative_after_words and \
            not matcher.term.search(after[:m.start()]):
        word = matcher.relative.search(m.group(0))
        return True, _relative(word.group(0), matcher) if word else ""
    lead = None
    for lead in matcher.family_lead.finditer(before):
        pass
    if lead is not None and not matcher.term.search(before[lead.end():]) and \
            count(before[lead.end():]) <= words.lead_words:
        word = matcher.relative.search(sentence)
        return True, _relative(word.group(0), matcher) if word else ""
    if in_family_section:
        word = matcher.relative.search(sentence)
        return True, _relative(word.group(0), matcher) if word else ""
    return False, ""


def assert_span(note: str, start: int, end: int, sec: Section | None, sents: list[Sentence],
                names: list[tuple[int, int]] | tuple[tuple[int, int], ...] = (),
                lang: Language = "en") -> tuple[Assertion, dict[str, str]]:
    """The assertion for the item at note[start:end], and the cues that decided it (for the summary).

    sec and sents: the section holding the item and its sentences (from the note's one analysis).
    names: spans of item names the list reader found; words inside them are never cues.
    lang: the note's language, whose pack and text model read the cues.
    time: current | history | resolved | planned | hypothetical (what status.py makes of it depends on the
    kind of item: "planned" is an order for a test, "hypothetical" a disease only talked about).
    """
    sent_start, sent_end = start, end
    if sec is not None:
        for s in sents:
            if s.start <= start < s.end:
                sent_start, sent_end = s.start, max(s.end, end)
                break
    sentence = note[sent_start:sent_end]
    a, b = start - sent_start, end - sent_start
    local = tuple((lo - sent_start, hi - sent_start) for lo, hi in names if lo < sent_end and hi > sent_start)
    cues: dict[str, str] = {}
    certainty: Certainty = "affirmed"
    subject: Subject = "patient"
    time: Time = "current"
    relationship = ""
    if (cue := in_scope(sentence, a, b, "resolved", local, lang)) is not None:
        time, cues["time"] = "resolved", cue
    elif (cue := in_scope(sentence, a, b, "negated", local, lang)) is not None:
        certainty, cues["certainty"] = "negated", cue
    if certainty == "affirmed" and (cue := in_scope(sentence, a, b, "possible", local, lang)) is not None:
        certainty, cues["certainty"] = "possible", cue
    is_family, relationship = family_cue(sentence, a, b, sec is not None and sec.kind in FAMILY_KINDS, lang)
    if is_family:
        subject, cues["subject"] = "family", relationship or "family"
    if time == "current" and (cue := in_scope(sentence, a, b, "history", local, lang)) is not None:
        time, cues["time"] = "history", cue
    if time == "current" and (cue := in_scope(sentence, a, b, "planned", local, lang)) is not None:
        time, cues["time"] = "planned", cue
    if time in ("current", "planned") and (cue := in_scope(sentence, a, b, "hypothetical", local, lang)) is not None:
        time, cues["time"] = "hypothetical", cue
    if time == "history" and _matcher(lang).ongoing.search(sentence[:a]):
        time = "current"  # "HTN since 2015": began in the past, still present
    return Assertion(certainty, subject, relationship, time), cues
