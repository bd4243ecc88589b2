"""Common clinical abbreviations: expansions for display, prompts and grounding.

Curated for this project from everyday clinical usage. An ambiguous abbreviation lists every reading;
softtiger expands it only when the note's own words pick one reading (a cue word nearby), otherwise it
keeps the abbreviation as written. The table is documented in README ("Clinical meaning"); the words are
data in lang/<code>/abbreviations.toml, and this module is the algorithm that reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from softtiger_cli.lang.measures import Abbreviations, load_measures

_PACK: Abbreviations = load_measures("en").abbreviations
ABBREVIATIONS: dict[str, str] = dict(_PACK.expansions)
# abbreviation -> readings, each with cue words that select it when they occur near the abbreviation
AMBIGUOUS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    abbrev: [(r.reading, r.cues) for r in readings] for abbrev, readings in _PACK.ambiguous.items()}


@dataclass(frozen=True)
class Expansion:
    abbreviation: str
    expansion: str | None  # None: ambiguous and the context does not decide
    readings: tuple[str, ...]


# Abbreviations written in lower case in prescriptions and notes ("bid", "prn", "s/p"); every other one is
# an abbreviation only when written in capitals: "Ms. Lopez" is no morphine sulfate, "Has" no HAS.
LOWER_CASE_FORMS = _PACK.lower_case
_ROMAN = re.compile(r"^(?:I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)$")
_ROMAN_LEAD = re.compile(r"(?:" + "|".join(map(re.escape, _PACK.roman_leads)) + r")\s*$", re.I)


def written_as_abbreviation(term: str, before: str = "") -> bool:
    """Whether the word as written is the abbreviation: in capitals (or its usual lower-case form), and not
    a Roman numeral after "stage", "grade", "class" ("Stage IV breast cancer" is not intravenous)."""
    word = term.strip().rstrip(".")
    key = word.lower()
    if _ROMAN.match(word) and _ROMAN_LEAD.search(before):
        return False
    if word == word.upper() and any(ch.isalpha() for ch in word):
        return True
    return key in LOWER_CASE_FORMS and (word == key or word.upper() == word)


def expand(term: str, context: str = "", before: str = "") -> Expansion | None:
    """The expansion of a term written as an abbreviation, using context for ambiguous ones; `before` is
    the text just before the term (a Roman numeral after "stage" is no abbreviation)."""
    if not written_as_abbreviation(term, before):
        return None
    key = term.strip().lower().rstrip(".")
    if key in ABBREVIATIONS:
        return Expansion(term, ABBREVIATIONS[key], (ABBREVIATIONS[key],))
    if key in AMBIGUOUS:
        readings = AMBIGUOUS[key]
        ctx = context.lower()
        chosen = [r for r, cues in readings if any(c in ctx for c in cues)]
        return Expansion(term, chosen[0] if len(chosen) == 1 else None, tuple(r for r, _ in readings))
    return None


def expand_text(text: str, context: str = "") -> str:
    """Replace abbreviations word by word where the reading is certain; keep everything else."""
    def repl(m: re.Match[str]) -> str:
        e = expand(m.group(0), context, text[:m.start()])
        if not e or not e.expansion:
            return m.group(0)
        lead = e.expansion.lower().split()[:-1]  # "Hemoglobin A1C" already says what A1C stands for
        if lead and text[:m.start()].lower().split()[-len(lead):] == lead:
            return m.group(0)
        return e.expansion

    return re.sub(r"[A-Za-z][A-Za-z0-9/]*", repl, text)


def abbreviations_for(expansion: str) -> list[str]:
    """Abbreviations that stand for `expansion` (so grounding can find "hypertension" as "HTN")."""
    target = expansion.strip().lower()
    out = [a for a, e in ABBREVIATIONS.items() if e == target]
    out += [a for a, readings in AMBIGUOUS.items() if any(r == target for r, _ in readings)]
    return out


def glossary(text: str, limit: int = 12) -> list[str]:
    """Lines "HTN = hypertension" for the certain abbreviations found in text (for prompts)."""
    seen: dict[str, str] = {}
    for m in re.finditer(r"(?<![A-Za-z])([A-Za-z][A-Za-z0-9/]{1,5})(?![A-Za-z])", text):
        word = m.group(1)
        if word.lower() in ABBREVIATIONS and word.isupper() and word.lower() not in seen:
            seen[word.lower()] = f"{word} = {ABBREVIATIONS[word.lower()]}"
        if len(seen) >= limit:
            break
    return list(seen.values())


def lexicon_abbreviations() -> dict[str, str]:
    """Unambiguous abbreviations as a note writes them ("HTN" -> "hypertension"), for the term finder."""
    return {abbrev.upper(): expansion for abbrev, expansion in ABBREVIATIONS.items()}
