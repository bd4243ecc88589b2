"""Symptoms and examination findings written as phrases no code list holds: a finding word with the body
site and qualifiers around it ("right index finger pain", "tenderness to palpation of the abdomen",
"decreased range of motion", "pain with urination", "1+ pitting edema").

The patterns name kinds of findings (pain, tenderness, swelling, limited motion, ...), never a dev note's
wording. What a found phrase asserts (denied, a normal exam, a relative's) is decided like every other
item, by the assertion step; a phrase here is only a candidate with its exact span.
"""

from __future__ import annotations

import re

_SIDE = r"(?:(?:right|left|bilateral|both|upper|lower|mid|anterior|posterior|medial|lateral|dorsal|volar)[ -]+)*"
_SITE = (r"(?:lumbar spine|cervical spine|thoracic spine|lower extremit(?:y|ies)|upper extremit(?:y|ies)|index finger|"
         r"head|neck|throat|chest|back|low back|lower back|upper back|abdomen|abdominal|belly|stomach|flank|pelvic|"
         r"groin|hip|knee|ankle|foot|feet|toe|heel|leg|calf|thigh|shoulder|arm|elbow|forearm|wrist|hand|finger|thumb|"
         r"joint|muscle|bone|eye|ear|jaw|tooth|teeth|face|breast|rib|spine|lumbar|cervical|"
         r"epigastric|periumbilical|suprapubic|rectal|vaginal|penile|scrotal|testicular|skin|tendon|nerve|"
         r"extremity|extremities|legs|arms|hands|feet|ankles|knees|joints)")
_SYMPTOM = (r"(?:pain|aches?|aching|soreness|tenderness|swelling|stiffness|tightness|weakness|numbness|tingling|"
            r"cramps?|cramping|spasms?|bleeding|bruising|redness|rash|itching|discharge|drainage|effusion|"
            r"fluctuance|crepitus|warmth|induration|twitch(?:ing)?|tics?|tremors?|burning|pressure|discomfort|"
            r"instability|deformity|laxity|masses|mass|lumps?|nodules?|ulcers?|wounds?|lesions?)")
_QUAL = r"(?:(?:mild|moderate|severe|significant|marked|trace|slight|diffuse|focal|localized|some|\d\+)[ ,]+)*"
_LOCATION = (r"(?:\s+(?:to palpation|on palpation|with palpation)?\s*(?:of|over|at|along|in|on|around|near|down)\s+"
             r"(?:the\s+|his\s+|her\s+|their\s+)?" + _SIDE + r"(?:\w+\s+){0,2}?" + _SITE + r"s?\b)")
# Examination language: tenderness (or pain to palpation) over any named structure, up to four words.
_PALPATED = (r"(?:(?:point |focal |mild |moderate |severe )?tenderness(?:\s+(?:to|on|with)\s+palpation)?|"
             r"pain\s+(?:to|on|with)\s+palpation)\s+"
             r"(?:of|over|at|along|in|on)\s+(?:the\s+|his\s+|her\s+)?(?:[\w-]+\s+){0,3}?(?:[A-Za-z][\w-]*\d?|[A-Z]\d)"
             r"(?=\s*(?:[.,;]|and\b|$))")
_WITH = r"(?:\s+with\s+(?:urination|walking|movement|flexion(?: and extension)?|extension|supination|pronation|" \
        r"rotation|weight[- ]bearing|bending|lifting|swallowing|breathing|exertion|palpation|range of motion))"
FINDING = re.compile(
    r"(?<![\w-])(?:" + _PALPATED + r"|" + _QUAL + _SIDE + r"(?:" + _SITE + r"\s+){1,2}" + _SYMPTOM + r"\b(?:" + _LOCATION + r")?"
    r"|" + _QUAL + _SYMPTOM + r"\b(?:" + _LOCATION + r"|" + _WITH + r")"
    r"|(?:decreased|limited|reduced|diminished|restricted|painful|loss of|increased)\s+(?:active and passive\s+|"
    r"passive\s+|active\s+)?(?:range of motion|rom|flexion|extension|sensation(?: to light touch)?|strength|"
    r"grip strength|appetite|sleep|hearing|vision|reflexes)(?:\s+(?:of|in)\s+(?:the\s+)?" + _SIDE + _SITE + r"s?)?"
    r"|(?:positive|\+)\s+(?:straight leg raise|drawer test|lachman|mcmurray|phalen|tinel|finkelstein|spurling|"
    r"hawkins|neer|murphy|homan)(?:'?s)?(?:\s+(?:test|sign))?"
    r"|(?:blood in (?:the |his |her )?(?:stools?|urine)|pain with urination|burning with urination|"
    r"changes? in (?:appetite|sleep|vision|bowel habits)|(?:sleep|vision|visual) (?:changes|disturbances?)|"
    r"difficulty (?:sleeping|breathing|swallowing|walking|urinating|concentrating))"
    r")(?![\w-])", re.I)
# Too vague alone ("mild pain", "some discomfort"): a specific finding word may stand alone ("effusion").
_BARE = re.compile(r"^(?:" + _QUAL + r")?(?:pain|aches?|aching|discomfort|pressure|soreness|masses|mass|lumps?|lesions?|"
                   r"burning|deformity|instability)$", re.I)
_SPECIFIC = re.compile(r"(?<![\w-])" + _QUAL + r"(?:swelling|stiffness|tightness|redness|bruising|effusion|fluctuance|"
                       r"crepitus|induration|numbness|tingling|cramps|cramping|spasms|itching|twitching|tics|tremors?)"
                       r"(?![\w-])", re.I)


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
