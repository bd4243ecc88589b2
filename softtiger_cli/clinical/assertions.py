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
multiply the install for offline laptops, and the checks needed here are few. The cue lists are
documented in README ("Clinical meaning").
"""

from __future__ import annotations

import re

from softtiger_cli.core.data import Assertion
from softtiger_cli.note.sections import Section, Sentence

# (cue, direction): "fwd" scopes the words after the cue, "bwd" the words before it
NEGATION = [
    ("no", "fwd"), ("not", "fwd"), ("denies", "fwd"), ("denied", "fwd"), ("deny", "fwd"), ("denying", "fwd"),
    ("without", "fwd"), ("negative for", "fwd"), ("no evidence of", "fwd"), ("no signs of", "fwd"),
    ("no history of", "fwd"), ("free of", "fwd"), ("ruled out", "fwd"), ("absence of", "fwd"),
    ("never had", "fwd"), ("nkda", "fwd"), ("no known", "fwd"), ("does not have", "fwd"), ("doesn't have", "fwd"),
    ("did not have", "fwd"), ("didn't have", "fwd"), ("has not had", "fwd"), ("hasn't had", "fwd"),
    ("not experiencing", "fwd"), ("not had any", "fwd"), ("none", "bwd"),
    ("was ruled out", "bwd"), ("is ruled out", "bwd"), ("not present", "bwd"), ("unlikely", "bwd"),
    ("absent", "bwd"), ("is negative", "bwd"), ("was negative", "bwd"), ("were negative", "bwd"),
]
# Words that contain a negation cue but do not negate ("no longer" says a problem ended).
PSEUDO_NEGATION = ("no longer", "not only", "not necessarily", "no change", "no changes", "no increase",
                   "not certain", "not sure", "no further", "not been taking", "not taking", "no improvement",
                   "not improved", "not improving", "not resolved", "not gone", "not controlled",
                   "not well controlled", "not been controlled", "without relief", "without improvement",
                   "no relief", "not helped", "not helping", "not working", "gram negative", "not been able",
                   "not able", "unable")
# A hedge about something else ("the most likely cause of his pain is X"): the pain is not in doubt.
PSEUDO_POSSIBLE = ("likely etiology", "likely cause", "likely source", "likely reason", "likely explanation",
                   "likely trigger", "possible etiology", "possible cause", "possible causes", "possible source")
RESOLVED = [
    ("resolved", "bwd"), ("has resolved", "bwd"), ("have resolved", "bwd"), ("now resolved", "bwd"),
    ("since resolved", "bwd"), ("went away", "bwd"), ("gone away", "bwd"), ("is gone", "bwd"), ("are gone", "bwd"),
    ("cleared", "bwd"), ("healed", "bwd"), ("in remission", "bwd"), ("resolution of", "fwd"),
    ("recovered from", "fwd"), ("no longer has", "fwd"), ("no longer had", "fwd"), ("no longer having", "fwd"),
    ("no longer", "fwd"), ("resolved", "fwd"), ("cured of", "fwd"),
]
POSSIBLE = [
    ("possible", "fwd"), ("possibly", "fwd"), ("probable", "fwd"), ("likely", "fwd"), ("suspected", "fwd"),
    ("suspicion of", "fwd"), ("suspicious for", "fwd"), ("concern for", "fwd"), ("concerning for", "fwd"),
    ("rule out", "fwd"), ("r/o", "fwd"), ("questionable", "fwd"), ("cannot exclude", "fwd"),
    ("can't rule out", "fwd"), ("differential", "fwd"), ("vs", "fwd"), ("versus", "fwd"), ("may have", "fwd"),
    ("might have", "fwd"), ("could be", "fwd"), ("may be", "fwd"), ("worried about", "fwd"),
    ("is suspected", "bwd"), ("is possible", "bwd"), ("is likely", "bwd"), ("?", "bwd"),
]
HISTORICAL = [
    ("history of", "fwd"), ("hx of", "fwd"), ("h/o", "fwd"), ("s/p", "fwd"), ("status post", "fwd"),
    ("past", "fwd"), ("previous", "fwd"), ("previously", "fwd"), ("prior", "fwd"), ("remote", "fwd"),
    ("childhood", "fwd"), ("as a child", "bwd"), ("in the past", "bwd"), ("years ago", "bwd"),
    ("in childhood", "bwd"),
]
# For a disease or symptom: not a fact about the patient, only a possibility talked about.
HYPOTHETICAL = [
    ("if", "fwd"), ("in case of", "fwd"), ("should she develop", "fwd"), ("should he develop", "fwd"),
    ("return for", "fwd"), ("watch for", "fwd"), ("monitor for", "fwd"), ("risk of", "fwd"), ("risk for", "fwd"),
    ("at risk", "fwd"), ("to prevent", "fwd"), ("prevention of", "fwd"), ("to avoid", "fwd"),
    ("signs of", "fwd"), ("symptoms of", "fwd"), ("call if", "fwd"), ("unless", "fwd"), ("screen for", "fwd"),
    ("sooner if", "fwd"), ("she develops", "fwd"), ("he develops", "fwd"), ("they develop", "fwd"),
    ("you develop", "fwd"), ("in the event of", "fwd"),
    ("screening for", "fwd"), ("evaluate for", "fwd"), ("to assess for", "fwd"), ("side effects", "fwd"),
]
# For an order, a drug or a test: something to be done, not done.
PLANNED = [
    ("plan to", "fwd"), ("planned", "fwd"), ("plan for", "fwd"), ("plans to", "fwd"), ("will", "fwd"),
    ("going to", "fwd"), ("scheduled for", "fwd"), ("schedule", "fwd"), ("order", "fwd"), ("ordered", "fwd"),
    ("ordering", "fwd"), ("obtain", "fwd"), ("recommend", "fwd"), ("recommended", "fwd"), ("refer", "fwd"),
    ("referral", "fwd"), ("consider", "fwd"), ("start", "fwd"), ("starting", "fwd"), ("begin", "fwd"),
    ("initiate", "fwd"), ("prescribe", "fwd"), ("prescribed", "fwd"), ("prescription for", "fwd"),
    ("trial of", "fwd"), ("repeat", "fwd"), ("arrange", "fwd"), ("request", "fwd"), ("would like to", "fwd"),
    ("want to", "fwd"), ("need to", "fwd"), ("needs", "fwd"), ("to be", "fwd"), ("should", "fwd"),
    ("get a", "fwd"), ("get an", "fwd"), ("go ahead", "fwd"), ("send", "fwd"), ("put him on", "fwd"),
    ("put her on", "fwd"), ("add", "fwd"), ("due for", "fwd"), ("is scheduled", "bwd"), ("is planned", "bwd"),
    ("was ordered", "bwd"), ("were ordered", "bwd"), ("to be done", "bwd"), ("pending", "bwd"),
]
TERMINATION = ("but", "however", "although", "except", "though", "which", "presents", "presenting",
               "complains", "reports", "and has", "aside from", "secondary to", "due to", "who")
RELATION_CODES = {  # v3-RoleCode family members
    "mother": ("MTH", "mother"), "mom": ("MTH", "mother"), "father": ("FTH", "father"), "dad": ("FTH", "father"),
    "sister": ("SIS", "sister"), "brother": ("BRO", "brother"), "son": ("SONC", "son"),
    "daughter": ("DAUC", "daughter"), "grandmother": ("GRMTH", "grandmother"),
    "grandfather": ("GRFTH", "grandfather"), "aunt": ("AUNT", "aunt"), "uncle": ("UNCLE", "uncle"),
    "cousin": ("COUSN", "cousin"), "sibling": ("SIB", "sibling"), "parent": ("PRN", "parent"),
    "grandparent": ("GRPRN", "grandparent"),
}
FAMILY_KINDS = ("family",)
_RELATIVE = r"(?:mother|mom|father|dad|sister|brother|son|daughter|grandmother|grandfather|grandparent|aunt|uncle|" \
            r"cousin|sibling|parent)s?"
# A relative before the item, linked to it ("her mother had breast cancer", "father: MI at 50").
_FAMILY_BEFORE = re.compile(
    r"\b(?:(?:maternal|paternal)\s+)?" + _RELATIVE + r"(?:'s)?\b(?=[^.;]*?\b(?:has|had|have|with|diagnosed|died|"
    r"passed|history|suffer|suffered|suffers|developed|significant for|positive for)\b|\s*(?:'s|:|-|\())", re.I)
_FAMILY_AFTER = re.compile(r"\b(?:in|on)\s+(?:his|her|their|the|a|both)?\s*(?:maternal|paternal)?\s*" + _RELATIVE +
                           r"|\bruns in (?:the|his|her) family|\bon (?:his|her|the) (?:mother|father)'s side", re.I)
_FAMILY_LEAD = re.compile(r"\b(?:family history|family hx|fhx|fh)\b(?:\s+(?:is\s+)?(?:significant|positive|notable)"
                          r"\s+for|\s+of|\s*:)?", re.I)
# A relative named as informant or companion, not as the one with the disease.
_INFORMANT = re.compile(
    r"\b(?:accompanied|brought(?:\s+in)?|escorted|driven|here|present|comes?|came|lives?|living|visiting|staying|"
    r"along|together)\s+(?:by|with|in)?\s*(?:his|her|their|the)?\s*" + _RELATIVE + r"\b|\b" + _RELATIVE +
    r"\s+(?:reports|reported|states|stated|says|said|notes|noted|is here|is present|accompanies|brought|drove|"
    r"is concerned|was concerned|thinks|believes|feels|provides|provided|gives|helps|is worried|asks|asked|"
    r"mentions|mentioned|tells|told)\b", re.I)


def _cue_pattern(cue: str) -> re.Pattern[str]:
    if cue == "?":
        return re.compile(r"\?")
    return re.compile(r"(?<![a-z0-9])" + re.escape(cue) + r"(?![a-z0-9])", re.I)


_COMPILED = {name: [(c, d, _cue_pattern(c)) for c, d in cues] for name, cues in
             {"neg": NEGATION, "res": RESOLVED, "pos": POSSIBLE, "hist": HISTORICAL, "hyp": HYPOTHETICAL,
              "plan": PLANNED}.items()}
_PSEUDO = {kind: re.compile(r"(?<![a-z])(?:" + "|".join(re.escape(p) for p in cues) + r")(?![a-z])", re.I)
           for kind, cues in (("neg", PSEUDO_NEGATION), ("pos", PSEUDO_POSSIBLE))}
# How far a cue reaches forward: a denial or a condition ("call if ...") often runs over a long list
# ("denies chest pain, shortness of breath, vomiting, dizziness, fevers, and chills").
_FORWARD_WORDS = {"neg": 20, "hyp": 20}
_TERM = re.compile(r"(?<![a-z])(" + "|".join(re.escape(t) for t in TERMINATION) + r")(?![a-z])|[;:]", re.I)


def _blocked(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < hi and end > lo for lo, hi in spans)


def in_scope(sentence: str, item_start: int, item_end: int, kind: str,
             names: tuple[tuple[int, int], ...] = ()) -> str | None:
    """The cue of `kind` whose scope covers the item's span (offsets within the sentence), if any."""
    pseudo = [(m.start(), m.end()) for m in _PSEUDO[kind].finditer(sentence)] if kind in _PSEUDO else []
    for cue, direction, pattern in _COMPILED[kind]:
        for m in pattern.finditer(sentence):
            if m.start() < item_end and m.end() > item_start:
                continue  # the cue is part of the item's own words
            if _blocked(list(names), m.start(), m.end()) or _blocked(pseudo, m.start(), m.end()):
                continue  # ... or of another item's name ("not in labor force"), or a pseudo-cue
            if direction in ("fwd", "both") and m.end() <= item_start:
                between = sentence[m.end():item_start]
                if not _TERM.search(between) and len(between.split()) <= _FORWARD_WORDS.get(kind, 8):
                    return cue
            if direction in ("bwd", "both") and m.start() >= item_end:
                between = sentence[item_end:m.start()]
                if not _TERM.search(between) and len(between.split()) <= 5:
                    return cue
    return None


def _relative(word: str) -> str:
    key = word.lower().rstrip("s").removesuffix("'")
    key = {"mothe": "mother", "brothe": "brother", "siste": "sister", "fathe": "father", "daughte": "daughter"}.get(key, key)
    return RELATION_CODES.get(key, RELATION_CODES.get(word.lower(), ("", "")))[1]


def family_cue(sentence: str, a: int, b: int, in_family_section: bool) -> tuple[bool, str]:
    """Whether the item at sentence[a:b] is a relative's, and which relative (may be "")."""
    informants = [(m.start(), m.end()) for m in _INFORMANT.finditer(sentence)]
    before = sentence[:a]
    for m in _FAMILY_BEFORE.finditer(before):
        if _blocked(informants, m.start(), m.end()):
            continue
        between = before[m.end():]
        if len(between.split()) <= 10 and not re.search(r"[.;]|\b(?:but|however|she|he|patient)\b", between, re.I):
            return True, _relative(re.sub(r"^(?:maternal|paternal)\s+", "", m.group(0), flags=re.I).split("'")[0])
    after = sentence[b:]
    m = _FAMILY_AFTER.search(after)
    if m and len(after[:m.start()].split()) <= 5 and not _TERM.search(after[:m.start()]):
        word = re.search(_RELATIVE, m.group(0), re.I)
        return True, _relative(word.group(0)) if word else ""
    lead = None
    for lead in _FAMILY_LEAD.finditer(before):
        pass
    if lead is not None and not _TERM.search(before[lead.end():]) and len(before[lead.end():].split()) <= 12:
        word = re.search(_RELATIVE, sentence, re.I)
        return True, _relative(word.group(0)) if word else ""
    if in_family_section:
        word = re.search(_RELATIVE, sentence, re.I)
        return True, _relative(word.group(0)) if word else ""
    return False, ""


def assert_span(note: str, start: int, end: int, sec: Section | None, sents: list[Sentence],
                names: list[tuple[int, int]] | tuple[tuple[int, int], ...] = ()) -> tuple[Assertion, dict[str, str]]:
    """The assertion for the item at note[start:end], and the cues that decided it (for the summary).

    sec and sents: the section holding the item and its sentences (from the note's one analysis).
    names: spans of item names the list reader found; words inside them are never cues.
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
    certainty, subject, relationship, time = "affirmed", "patient", "", "current"
    if (cue := in_scope(sentence, a, b, "res", local)) is not None:
        time, cues["time"] = "resolved", cue
    elif (cue := in_scope(sentence, a, b, "neg", local)) is not None:
        certainty, cues["certainty"] = "negated", cue
    if certainty == "affirmed" and (cue := in_scope(sentence, a, b, "pos", local)) is not None:
        certainty, cues["certainty"] = "possible", cue
    is_family, relationship = family_cue(sentence, a, b, sec is not None and sec.kind in FAMILY_KINDS)
    if is_family:
        subject, cues["subject"] = "family", relationship or "family"
    if time == "current" and (cue := in_scope(sentence, a, b, "hist", local)) is not None:
        time, cues["time"] = "history", cue
    if time == "current" and (cue := in_scope(sentence, a, b, "plan", local)) is not None:
        time, cues["time"] = "planned", cue
    if time in ("current", "planned") and (cue := in_scope(sentence, a, b, "hyp", local)) is not None:
        time, cues["time"] = "hypothetical", cue
    if time == "history" and re.search(r"\bsince\b", sentence[:a], re.I):
        time = "current"  # "HTN since 2015": began in the past, still present
    return Assertion(certainty, subject, relationship, time), cues
