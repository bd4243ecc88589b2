"""Common clinical abbreviations: expansions for display, prompts and grounding.

Curated for this project from everyday clinical usage. An ambiguous abbreviation lists every reading;
softtiger expands it only when the note's own words pick one reading (a cue word nearby), otherwise it
keeps the abbreviation as written. The table is documented in README ("Clinical meaning").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ABBREVIATIONS: dict[str, str] = {
    "htn": "hypertension", "dm": "diabetes mellitus", "t2dm": "type 2 diabetes mellitus",
    "t1dm": "type 1 diabetes mellitus", "dm2": "type 2 diabetes mellitus", "cad": "coronary artery disease",
    "chf": "congestive heart failure", "hf": "heart failure", "afib": "atrial fibrillation",
    "af": "atrial fibrillation", "copd": "chronic obstructive pulmonary disease", "ckd": "chronic kidney disease",
    "esrd": "end-stage renal disease", "aki": "acute kidney injury", "gerd": "gastroesophageal reflux disease",
    "hld": "hyperlipidemia", "osa": "obstructive sleep apnea", "uti": "urinary tract infection",
    "uri": "upper respiratory infection", "dvt": "deep vein thrombosis", "mi": "myocardial infarction",
    "cva": "cerebrovascular accident", "tia": "transient ischemic attack", "bph": "benign prostatic hyperplasia",
    "cabg": "coronary artery bypass graft", "pci": "percutaneous coronary intervention",
    "sob": "shortness of breath", "doe": "dyspnea on exertion", "n/v": "nausea and vomiting",
    "abd": "abdominal", "ha": "headache", "loc": "loss of consciousness", "hx": "history", "pmh": "past medical history",
    "pmhx": "past medical history", "psh": "past surgical history", "fhx": "family history",
    "nkda": "no known drug allergies", "sz": "seizure", "oa": "osteoarthritis", "ibs": "irritable bowel syndrome",
    "hiv": "human immunodeficiency virus infection", "hcv": "hepatitis C", "hbv": "hepatitis B",
    "cxr": "chest x-ray", "ekg": "electrocardiogram", "ecg": "electrocardiogram", "echo": "echocardiogram",
    "ct": "computed tomography", "mri": "magnetic resonance imaging", "cbc": "complete blood count",
    "bmp": "basic metabolic panel", "cmp": "comprehensive metabolic panel", "a1c": "hemoglobin A1c",
    "tsh": "thyroid stimulating hormone", "egd": "esophagogastroduodenoscopy", "lap chole": "laparoscopic cholecystectomy",
    "tka": "total knee arthroplasty", "tha": "total hip arthroplasty", "asa": "aspirin", "ntg": "nitroglycerin",
    "hctz": "hydrochlorothiazide", "apap": "acetaminophen", "po": "by mouth", "iv": "intravenous",
    "im": "intramuscular", "sq": "subcutaneous", "qd": "daily", "bid": "twice daily", "tid": "three times daily",
    "qid": "four times daily", "qhs": "at bedtime", "prn": "as needed", "q4h": "every 4 hours",
    "q6h": "every 6 hours", "f/u": "follow-up", "s/p": "status post", "r/o": "rule out", "c/o": "complains of",
    "w/": "with", "w/o": "without", "yo": "year-old", "y/o": "year-old", "bp": "blood pressure",
    "hr": "heart rate", "rr": "respiratory rate", "spo2": "oxygen saturation", "bmi": "body mass index",
}

# abbreviation -> readings, each with cue words that select it when they occur near the abbreviation
AMBIGUOUS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "ms": [("multiple sclerosis", ("neuro", "relapsing", "demyelinat", "mri")),
           ("mitral stenosis", ("murmur", "valve", "echo", "mitral")),
           ("morphine sulfate", ("mg", "pain", "dose", "iv"))],
    "pe": [("pulmonary embolism", ("ct", "anticoag", "dvt", "heparin", "embol")),
           ("physical examination", ("exam", "findings", "normal"))],
    "cp": [("chest pain", ("pain", "radiat", "exertion", "angina")), ("cerebral palsy", ("spastic", "child", "develop"))],
    "ra": [("rheumatoid arthritis", ("joint", "methotrexate", "arthritis")), ("room air", ("spo2", "sat", "%", "o2")),
           ("right atrium", ("echo", "atrial", "dilat"))],
    "pt": [("patient", ("presents", "reports", "denies", "is a")), ("physical therapy", ("refer", "session", "exercise")),
           ("prothrombin time", ("inr", "ptt", "coag"))],
    "ar": [("aortic regurgitation", ("murmur", "valve", "echo")), ("allergic rhinitis", ("sneez", "nasal", "season"))],
}


@dataclass(frozen=True)
class Expansion:
    abbreviation: str
    expansion: str | None  # None: ambiguous and the context does not decide
    readings: tuple[str, ...]


# Abbreviations written in lower case in prescriptions and notes ("bid", "prn", "s/p"); every other one is
# an abbreviation only when written in capitals: "Ms. Lopez" is no morphine sulfate, "Has" no HAS.
LOWER_CASE_FORMS = frozenset({"po", "qd", "bid", "tid", "qid", "qhs", "prn", "q4h", "q6h", "f/u", "s/p", "r/o", "c/o",
                              "w/", "w/o", "yo", "y/o", "h/o", "n/v", "hx", "pmhx", "fhx", "spo2", "a1c", "afib",
                              "echo", "abd"})
_ROMAN = re.compile(r"^(?:I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII)$")
_ROMAN_LEAD = re.compile(r"(?:stage|grade|class|type|phase|level|nyha|cranial nerve|cn|factor|step|tier|part|"
                         r"schedule|category)\s*$", re.I)


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
