"""A drug as a note writes it: the product (name, strength, form) and the instructions (route, frequency).

"Lisinopril 10 mg by mouth daily" is the medication "Lisinopril 10 mg" taken "10 mg by mouth daily";
FHIR wants the first in the medication concept and the second in Dosage.text. Found by pattern from the
drug name's span onwards, so the spans stay exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNIT = r"(?:mg|mcg|µg|g|grams?|milligrams?|micrograms?|units?|iu|ml|cc|%|meq|mEq)"
STRENGTH_AFTER = re.compile(
    rf"(?:\s*,?\s*|\s+(?:at|of|to)\s+)\d+(?:[.,]\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?\s*{_UNIT}(?![\w])(?:\s*/\s*(?:ml|dose|hour|hr|day))?",
    re.I)
STRENGTH_BEFORE = re.compile(rf"\d+(?:\.\d+)?\s*{_UNIT}\s+$", re.I)
FORM_AFTER = re.compile(r"\s+(?:(?:oral|topical|nasal|ophthalmic|otic|vaginal|rectal|transdermal|inhalation|"
                        r"injectable|sublingual|extended[- ]release|delayed[- ]release|chewable|disintegrating)\s+"
                        r"(?:tablets?|capsules?|solution|suspension|syrup|powder|spray|cream|ointment|patch|"
                        r"inhaler|injection|film|lozenge|gel|drops)|patch(?:es)?|inhalers?|cream|ointment|gel|drops|spray|nasal spray|supplements?|"
                        r"supplementation|injections?|tablets?|capsules?|pills?|shots?|pen|xl|xr|er|sr|cr|hct)\b", re.I)
_SIG_WORD = (r"(?:by mouth|orally|p\.?o\.?|iv|intravenously|im|intramuscularly|subq|sq|subcutaneous(?:ly)?|topically|"
             r"inhaled|sublingual(?:ly)?|once|twice|three times|four times|daily|nightly|a day|per day|a week|"
             r"per week|every (?:\d+ )?(?:other )?(?:day|night|morning|evening|week|month|hours?|\d+ hours)|"
             r"q\.?\d+h|q\.?d\.?|b\.?i\.?d\.?|t\.?i\.?d\.?|q\.?i\.?d\.?|qhs|qam|qpm|prn|as needed|at bedtime|at night|"
             r"in the (?:morning|evening)|weekly|monthly|with (?:meals|food)|before (?:meals|bed)|"
             r"(?:one|two|three|1|2|3|half a|1/2) (?:tablets?|capsules?|puffs?|pills?|sprays?|drops?)|"
             r"(?:tablets?|capsules?|puffs?|pills?)|(?:a|per|each|every) (?:day|night|week))")
SIG = re.compile(rf"(?:[ \t]*,?[ \t]*(?:and[ \t]+)?{_SIG_WORD}\b)+", re.I)


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
    return re.sub(r"\s+(?:to|at|of)\s+(?=\d)", " ", words)


def dosage_text(note: str, d: DrugText) -> str:
    """What Dosage.text says: the strength and the instructions as written ("10 mg by mouth daily")."""
    name = note[d.start:d.end]
    strength = re.search(rf"\d+(?:[.,]\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?\s*{_UNIT}(?![\w])", name, re.I)
    sig = note[d.sig_start:d.sig_end].strip(" ,")
    if not sig:
        return ""
    return f"{strength.group(0)} {sig}" if strength else sig


# Supplements named with the word that says so ("iron supplementation", "a fiber supplement"): the drug
# lists hold no plain element or food concept for them.
SUPPLEMENT = re.compile(
    r"\b(?:iron|magnesium|potassium|calcium|zinc|fiber|fish oil|omega-3|vitamin [a-z]\d*|b12|folic acid|folate|"
    r"multivitamin|probiotic|melatonin|glucosamine|co-?q ?10|biotin|collagen|electrolyte)\s+(?:supplements?|"
    r"supplementation|pills?|tablets?|capsules?|gummies)\b", re.I)
# A drug measured out and given in the office ("0.5 cc of lidocaine") is part of a procedure, not a medication.
ADMINISTERED = re.compile(r"\d+(?:\.\d+)?\s*(?:cc|ml|mL)\s+of\s+$")


def find_supplements(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in SUPPLEMENT.finditer(text)]
