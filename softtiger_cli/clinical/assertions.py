"""Assertions read off the note around an item: negated, possible, family, historical, planned.

A small ConText-style checker (the algorithm of Harkema et al., 2009, with this project's own cue lists):
cue phrases open a scope forwards or backwards from where they stand, the scope ends at the sentence's
end or at a termination word ("but", "however", ...), and an item inside a scope takes that assertion.
Section headings count too: an item under "Family history" concerns a relative; under "Past medical
history" it is historical; under "Plan" it is planned.

medspaCy implements ConText on spaCy; softtiger does not depend on it because spaCy and its models would
multiply the install for offline laptops, and the checks needed here are few. The cue lists are
documented in README ("Clinical meaning").
"""

from __future__ import annotations

import re

from softtiger_cli.core.data import Assertion
from softtiger_cli.note.sections import Section, Sentence

# (cue, direction): "fwd" scopes the words after the cue, "bwd" the words before it
NEGATION = [
    ("no", "fwd"), ("not", "fwd"), ("denies", "fwd"), ("denied", "fwd"), ("deny", "fwd"), ("without", "fwd"),
    ("negative for", "fwd"), ("no evidence of", "fwd"), ("no signs of", "fwd"), ("no history of", "fwd"),
    ("free of", "fwd"), ("ruled out", "fwd"), ("absence of", "fwd"), ("never had", "fwd"), ("nkda", "fwd"),
    ("no known", "fwd"), ("resolved", "bwd"), ("was ruled out", "bwd"), ("is ruled out", "bwd"),
    ("not present", "bwd"), ("unlikely", "bwd"), ("absent", "bwd"),
]
POSSIBLE = [
    ("possible", "fwd"), ("possibly", "fwd"), ("probable", "fwd"), ("likely", "fwd"), ("suspected", "fwd"),
    ("suspicion of", "fwd"), ("concern for", "fwd"), ("rule out", "fwd"), ("r/o", "fwd"), ("questionable", "fwd"),
    ("cannot exclude", "fwd"), ("differential", "fwd"), ("vs", "fwd"), ("versus", "fwd"), ("may have", "fwd"),
    ("is suspected", "bwd"), ("?", "bwd"),
]
FAMILY = [
    ("mother", "both"), ("father", "both"), ("mom", "both"), ("dad", "both"), ("sister", "both"),
    ("brother", "both"), ("son", "both"), ("daughter", "both"), ("grandmother", "both"), ("grandfather", "both"),
    ("aunt", "both"), ("uncle", "both"), ("cousin", "both"), ("sibling", "both"), ("parent", "both"),
    ("maternal", "fwd"), ("paternal", "fwd"), ("family history of", "fwd"), ("family history", "fwd"),
    ("fhx", "fwd"), ("fh", "fwd"),
]
HISTORICAL = [
    ("history of", "fwd"), ("hx of", "fwd"), ("h/o", "fwd"), ("s/p", "fwd"), ("status post", "fwd"),
    ("past", "fwd"), ("previous", "fwd"), ("prior", "fwd"), ("remote", "fwd"), ("childhood", "fwd"),
    ("in the past", "bwd"), ("years ago", "bwd"),
]
PLANNED = [
    ("plan to", "fwd"), ("planned", "fwd"), ("will", "fwd"), ("scheduled for", "fwd"), ("schedule", "fwd"),
    ("consider", "fwd"), ("recommend", "fwd"), ("recommended", "fwd"), ("refer to", "fwd"), ("order", "fwd"),
    ("start", "fwd"), ("if", "fwd"), ("should", "fwd"), ("to be", "fwd"),
]
TERMINATION = ("but", "however", "although", "except", "though", "which", "presents", "presenting",
               "complains", "reports", "and has", "aside from", "secondary to", "due to")
RELATION_CODES = {  # v3-RoleCode family members
    "mother": ("MTH", "mother"), "mom": ("MTH", "mother"), "father": ("FTH", "father"), "dad": ("FTH", "father"),
    "sister": ("SIS", "sister"), "brother": ("BRO", "brother"), "son": ("SONC", "son"),
    "daughter": ("DAUC", "daughter"), "grandmother": ("GRMTH", "grandmother"),
    "grandfather": ("GRFTH", "grandfather"), "aunt": ("AUNT", "aunt"), "uncle": ("UNCLE", "uncle"),
    "cousin": ("COUSN", "cousin"), "sibling": ("SIB", "sibling"), "parent": ("PRN", "parent"),
}
HISTORY_KINDS = ("pmh",)
FAMILY_KINDS = ("family",)
PLAN_KINDS = ("plan",)



def _cue_pattern(cue: str) -> re.Pattern[str]:
    if cue == "?":
        return re.compile(r"\?")
    return re.compile(r"(?<![a-z0-9])" + re.escape(cue) + r"(?![a-z0-9])", re.I)


_COMPILED = {name: [(c, d, _cue_pattern(c)) for c, d in cues] for name, cues in
             {"neg": NEGATION, "pos": POSSIBLE, "fam": FAMILY, "hist": HISTORICAL, "plan": PLANNED}.items()}
_TERM = re.compile(r"(?<![a-z])(" + "|".join(re.escape(t) for t in TERMINATION) + r")(?![a-z])|[;:]", re.I)


def _in_scope(sentence: str, item_start: int, item_end: int, kind: str,
              names: tuple[tuple[int, int], ...] = ()) -> str | None:
    """The cue of `kind` whose scope covers the item's span (offsets within the sentence), if any."""
    for cue, direction, pattern in _COMPILED[kind]:
        for m in pattern.finditer(sentence):
            if m.start() < item_end and m.end() > item_start:
                continue  # the cue is part of the item's own words
            if any(m.start() < hi and m.end() > lo for lo, hi in names):
                continue  # ... or of another item's name ("not in labor force" in a list)
            if direction in ("fwd", "both") and m.end() <= item_start:
                between = sentence[m.end():item_start]
                if not _TERM.search(between) and len(between.split()) <= 8:
                    return cue
            if direction in ("bwd", "both") and m.start() >= item_end:
                between = sentence[item_end:m.start()]
                if not _TERM.search(between) and len(between.split()) <= 5:
                    return cue
    return None


def assert_span(note: str, start: int, end: int, sec: Section | None, sents: list[Sentence],
                names: list[tuple[int, int]] | tuple[tuple[int, int], ...] = ()) -> tuple[Assertion, dict[str, str]]:
    """The assertion for the item at note[start:end], and the cues that decided it (for the summary).

    sec and sents: the section holding the item and its sentences (from the note's one analysis).
    names: spans of item names the list reader found; words inside them are never cues.
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
    certainty, subject, relationship, time = "affirmed", "patient", "", "current"
    if (cue := _in_scope(sentence, a, b, "neg", local)) is not None:
        certainty, cues["certainty"] = "negated", cue
    elif (cue := _in_scope(sentence, a, b, "pos", local)) is not None:
        certainty, cues["certainty"] = "possible", cue
    fam = _in_scope(sentence, a, b, "fam", local)
    if fam is not None or (sec is not None and sec.kind in FAMILY_KINDS):
        subject = "family"
        cues["subject"] = fam or f"section {sec.heading if sec else ''}"
        word = (fam or "").lower()
        if word not in RELATION_CODES:
            found = re.search(r"\b(" + "|".join(RELATION_CODES) + r")\b", sentence, re.I)
            word = found.group(1).lower() if found else ""
        relationship = RELATION_CODES.get(word, ("", ""))[1]
    if (cue := _in_scope(sentence, a, b, "hist", local)) is not None or (sec is not None and sec.kind in HISTORY_KINDS):
        time = "history"
        cues["time"] = cue or "past-history section"
    if (cue := _in_scope(sentence, a, b, "plan", local)) is not None or (sec is not None and sec.kind in PLAN_KINDS and certainty != "negated"):
        if time != "history":
            time = "planned"
            cues["time"] = cue or "plan section"
    if re.search(r"\bsince\b", sentence[:a], re.I):
        time = "current"  # "HTN since 2015": began in the past, still present
    return Assertion(certainty, subject, relationship, time), cues
