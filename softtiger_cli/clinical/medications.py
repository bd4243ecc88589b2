"""A drug as a note writes it: the product (name, strength, form) and the instructions (route, frequency).

"Lisinopril 10 mg by mouth daily" is the medication "Lisinopril 10 mg" taken "10 mg by mouth daily";
FHIR wants the first in the medication concept and the second in Dosage.text. Found by pattern from the
drug name's span onwards, so the spans stay exact. The words are data (lang/<code>/medications.toml);
this module is the skeleton that joins them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from softtiger_cli.lang.medications import load_medications

_V = load_medications("en")
_S, _F, _G = (partial(_V.alt, table) for table in ("strength", "form", "sig"))

_UNIT = r"(?:" + _S("units") + r")"
_STRENGTH = rf"\d+(?:[.,]\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?\s*{_UNIT}(?![\w])"
STRENGTH_AFTER = re.compile(rf"(?:\s*,?\s*|\s+(?:{_S('links')})\s+){_STRENGTH}(?:\s*/\s*(?:{_S('per')}))?", re.I)
STRENGTH_BEFORE = re.compile(rf"\d+(?:\.\d+)?\s*{_UNIT}\s+$", re.I)
FORM_AFTER = re.compile(rf"\s+(?:(?:{_F('qualifiers')})\s+(?:{_F('qualified')})|{_F('forms')})\b", re.I)
_SIG_WORD = rf"(?:{_G('words')}|(?:{_G('doses')}) (?:{_G('dose_units')}))"
SIG = re.compile(rf"(?:[ \t]*,?[ \t]*(?:(?:{_G('joiners')})[ \t]+)?{_SIG_WORD}\b)+", re.I)
_LINKED_NUMBER = re.compile(rf"\s+(?:{_S('links')})\s+(?=\d)")  # as written: "to 10 mg", not "TO 10 mg"


@dataclass(frozen=True)
class DrugText:
    """Spans (note offsets) of one drug mention: the product's words and the instructions after them."""

    start: int
    end: int  # end of name + strength + form
    sig_start: int  # start of the instructions ("" when none: sig_start == sig_end)
    sig_end: int


def drug_text(note: str, start: int, end: int) -> DrugText:
    """Extend a drug name's span [start, end) to its strength and form, and find its instructions."""
    before = note[max(0, start - 16):start]
    lead = STRENGTH_BEFORE.search(before)
    if lead:  # "21 mg nicotine patch"
        start = start - (len(before) - lead.start())
    while True:
        m = STRENGTH_AFTER.match(note, end) or FORM_AFTER.match(note, end)
        if not m or "\n" in m.group(0):
            break
        end = m.end()
    sig = SIG.match(note, end)
    if sig and "\n" not in sig.group(0) and sig.group(0).strip(" ,"):
        lo = end + len(sig.group(0)) - len(sig.group(0).lstrip(" \t,"))
        return DrugText(start, end, lo, sig.end())
    return DrugText(start, end, end, end)


def product_name(words: str) -> str:
    """The product as a name: "Norvasc to 10 mg" (from "increase Norvasc to 10 mg") is "Norvasc 10 mg"."""
    return _LINKED_NUMBER.sub(" ", words)


_STRENGTH_IN = re.compile(_STRENGTH, re.I)


def dosage_text(note: str, d: DrugText) -> str:
    """What Dosage.text says: the strength and the instructions as written ("10 mg by mouth daily")."""
    name = note[d.start:d.end]
    strength = _STRENGTH_IN.search(name)
    sig = note[d.sig_start:d.sig_end].strip(" ,")
    if not sig:
        return ""
    return f"{strength.group(0)} {sig}" if strength else sig


# Supplements named with the word that says so ("iron supplementation", "a fiber supplement"): the drug
# lists hold no plain element or food concept for them.
SUPPLEMENT = re.compile(rf"\b(?:{_V.alt('supplements', 'names')})\s+(?:{_V.alt('supplements', 'words')})\b", re.I)
# A drug measured out and given in the office ("0.5 cc of lidocaine") is part of a procedure, not a medication.
ADMINISTERED = re.compile(rf"\d+(?:\.\d+)?\s*(?:{_V.alt('administered', 'units')})\s+"
                          rf"(?:{_V.alt('administered', 'links')})\s+$")


def find_supplements(text: str) -> list[tuple[int, int]]:
    """Spans of supplements named with the word that says so."""
    return [(m.start(), m.end()) for m in SUPPLEMENT.finditer(text)]
