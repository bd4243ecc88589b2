"""Symptoms and examination findings written as phrases no code list holds: a finding word with the body
site and qualifiers around it ("right index finger pain", "tenderness to palpation of the abdomen",
"decreased range of motion", "pain with urination", "1+ pitting edema").

The patterns name kinds of findings (pain, tenderness, swelling, limited motion, ...), never a dev note's
wording. What a found phrase asserts (denied, a normal exam, a relative's) is decided like every other item,
by the assertion step; a phrase here is only a candidate with its exact span. The words are data
(lang/<code>/findings.toml); this module is the skeleton that joins them.
"""

from __future__ import annotations

import re
from functools import partial

from softtiger_cli.lang.findings import load_findings

_V = load_findings("en")
_F, _E, _FN, _S = (partial(_V.alt, table) for table in ("findings", "exam", "function", "signs"))

_SIDE = r"(?:(?:" + _F("sides") + r")[ -]+)*"
_SITE = r"(?:" + _F("sites") + r")"
_SYMPTOM = r"(?:" + _F("symptoms") + r")"
_QUAL = r"(?:(?:" + _F("qualifiers") + r")[ ,]+)*"
_LOCATION = (r"(?:\s+(?:" + _F("palpation") + r")?\s*(?:" + _F("places") + r")\s+(?:(?:" + _F("determiners") +
             r")\s+)?" + _SIDE + r"(?:\w+\s+){0,2}?" + _SITE + r"s?\b)")
# Examination language: tenderness (or pain to palpation) over any named structure, up to four words.
_PALPATED = (r"(?:(?:(?:" + _E("tender_qualifiers") + r") )?(?:" + _E("tender") + r")(?:\s+(?:" + _E("palpation_links") +
             r")\s+(?:" + _E("palpation") + r"))?|(?:" + _E("pain") + r")\s+(?:" + _E("palpation_links") + r")\s+(?:" +
             _E("palpation") + r"))\s+(?:" + _E("places") + r")\s+(?:(?:" + _E("determiners") + r")\s+)?"
             r"(?:[\w-]+\s+){0,3}?(?:[A-Za-z][\w-]*\d?|[A-Z]\d)(?=\s*(?:[.,;]|(?:" + _E("joiners") + r")\b|$))")
_WITH = r"(?:\s+(?:" + _F("with") + r")\s+(?:" + _F("activities") + r"))"
FINDING = re.compile(
    r"(?<![\w-])(?:" + _PALPATED + r"|" + _QUAL + _SIDE + r"(?:" + _SITE + r"\s+){1,2}" + _SYMPTOM + r"\b(?:" + _LOCATION + r")?"
    r"|" + _QUAL + _SYMPTOM + r"\b(?:" + _LOCATION + r"|" + _WITH + r")"
    r"|(?:" + _FN("changes") + r")\s+(?:(?:" + _FN("kinds") + r")\s+)?(?:" + _FN("functions") + r")(?:\s+(?:" +
    _FN("places") + r")\s+(?:(?:" + _FN("determiners") + r")\s+)?" + _SIDE + _SITE + r"s?)?"
    r"|(?:" + _S("positive") + r")\s+(?:" + _S("signs") + r")(?:'?s)?(?:\s+(?:" + _S("words") + r"))?"
    r"|(?:" + _V.alt("phrases", "phrases") + r")"
    r")(?![\w-])", re.I)
# Too vague alone ("mild pain", "some discomfort"): a specific finding word may stand alone ("effusion").
_BARE = re.compile(r"^(?:" + _QUAL + r")?(?:" + _F("vague") + r")$", re.I)
_SPECIFIC = re.compile(r"(?<![\w-])" + _QUAL + r"(?:" + _F("specific") + r")(?![\w-])", re.I)


def find_findings(text: str) -> list[tuple[int, int]]:
    """Spans of symptom and finding phrases ("pain" alone says too little; "effusion" alone is a finding)."""
    out: list[tuple[int, int]] = []
    for pattern in (FINDING, _SPECIFIC):
        for m in pattern.finditer(text):
            phrase = m.group(0).strip()
            if _BARE.match(phrase) or (pattern is FINDING and len(phrase.split()) < 2):
                continue
            lo, hi = m.start(), m.end()
            while lo < hi and text[lo].isspace():
                lo += 1
            if not any(lo < b and hi > a for a, b in out):
                out.append((lo, hi))
    return sorted(out)
