"""What an item's assertion means for its kind: one status word per item, as a clinician would sign it.

Statuses (the vocabulary of the eval gold and of fhir/assemble's mapping):
- condition: active | possible | history | resolved | absent | family (None: not a fact, leave it out)
- medication: active | intended | stopped | not-taken
- procedure, immunization: completed | planned
- allergy: active | none ("no known allergies")

Rules are general clinical language. A chronic disease stays active under "history of" or a Past Medical
History heading (it goes on); a past episode ("history of appendicitis", a healed fracture) is history;
"now resolved" is resolved. A drug the note starts or prescribes today is intended; one it stops, stopped;
one the patient does not take, not-taken. A test or operation ordered, scheduled or to be repeated is
planned; one done (or whose result is given) completed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from softtiger_cli.core.data import Assertion

# Diseases that, once present, are ongoing unless the note says they ended.
CHRONIC = re.compile(
    r"\b(?:hypertension|high blood pressure|htn|diabet\w*|dm2?|t[12]dm|prediabetes|hyperlipid\w*|hypercholesterol\w*|"
    r"high cholesterol|dyslipid\w*|hypertriglycerid\w*|asthma|copd|chronic|emphysema|heart failure|chf|"
    r"atrial fibrillation|a-?fib|atrial flutter|coronary artery disease|cad|kidney disease|ckd|renal insufficiency|"
    r"hypothyroid\w*|hyperthyroid\w*|thyroid disease|depress\w*|anxiety|bipolar|schizo\w*|adhd|ptsd|gerd|reflux|"
    r"arthritis|osteoarthritis|gout|osteoporosis|osteopenia|obesity|obese|sleep apnea|osa|epilepsy|seizure disorder|"
    r"migraines?|parkinson\w*|dementia|alzheimer\w*|multiple sclerosis|hiv|hepatitis [bc]|cirrhosis|crohn\w*|"
    r"colitis|irritable bowel|ibs|psoriasis|eczema|lupus|glaucoma|benign prostatic\w*|bph|neuropathy|fibromyalgia|"
    r"anemia|allerg\w+|rhinitis|insomnia|peripheral (?:arterial|vascular) disease|cardiomyopathy|stenosis|"
    r"regurgitation|sickle cell|hemophilia|cerebral palsy|down syndrome|autism|macular degeneration|"
    r"pulmonary hypertension|hyperparathyroid\w*|addison\w*|cushing\w*|celiac|diverticulosis|hemorrhoids|"
    r"scoliosis|spinal stenosis|degenerative disc|back pain|neck pain|knee pain|joint pain|tinnitus|"
    r"hearing loss|vertigo|restless legs|overactive bladder|incontinence|erectile dysfunction|infertility|"
    r"endometriosis|polycystic ovar\w*|pcos|type [12] diabetes)\b", re.I)
# Conditions that happen as episodes: written in a past history, they are over unless said otherwise.
EPISODIC = re.compile(
    r"\b(?:fractures?|broke|broken|appendicitis|pneumonia|infections?|injur\w*|sprains?|strains?|concussions?|"
    r"stones?|cholecystitis|uti|bronchitis|influenza|flu|covid\w*|mononucleosis|mono|chicken ?pox|measles|"
    r"tonsillitis|otitis|cellulitis|abscess|heart attack|myocardial infarction|stemi|nstemi|strokes?|tia|"
    r"tears?|dislocation|laceration|burns?|sepsis|embolism|thrombosis|dvt|bleed\w*|hemorrhage|overdose|"
    r"miscarriage|pregnan\w*|surgery|pancreatitis|diverticulitis|shingles|zoster|gastroenteritis|sinusitis|"
    r"pharyngitis|strep throat|syncope|seizure)\b", re.I)
# The authority of a section for an item's meaning: the clinician's assessment over a template review.
SECTION_WEIGHT = {"assessment": 6, "plan": 5, "chief_complaint": 4, "hpi": 4, "results": 3, "exam": 3,
                  "medications": 3, "allergies": 3, "procedures": 3, "immunizations": 3, "pmh": 2, "other": 2,
                  "family": 1, "social": 1, "ros": 1, "vitals": 1}
PLAN_SECTIONS = ("plan",)


@dataclass(frozen=True)
class Mention:
    """One place the note names an item: its assertion, the section it stands in, its sentence."""

    start: int
    end: int
    assertion: Assertion
    section: str  # canonical section kind ("hpi", "pmh", ...; "other")
    sentence: str  # the sentence holding it
    at: int  # offset of the mention inside `sentence`


def _authority(m: Mention) -> tuple[int, int]:
    return SECTION_WEIGHT.get(m.section, 2), m.start  # later mentions win a tie: the end of the note holds


def condition_status(text: str, m: Mention) -> str | None:
    """The status of the patient's condition named at `m` (None: the note only talks about it)."""
    a = m.assertion
    if a.subject == "family":
        return None if a.certainty == "negated" else "family"
    if a.time == "hypothetical":
        return None
    if a.certainty == "negated":
        return None if m.section == "exam" else "absent"  # a normal exam finding is no item
    if a.time == "resolved":
        return "resolved"
    if a.certainty == "possible":
        return "possible"
    if CHRONIC.search(text):
        return "active"
    if a.time == "history":
        return "history"
    if m.section == "pmh" and EPISODIC.search(text):
        return "history"
    return "active"


def pick_condition(text: str, mentions: list[Mention]) -> list[tuple[str, list[Mention]]]:
    """Statuses for a concept named in several places: the patient's (the most authoritative mention,
    ties to the later one) and, separately, a relative's. Each with the mentions it rests on."""
    own = [m for m in mentions if m.assertion.subject != "family"]
    family = [m for m in mentions if m.assertion.subject == "family"]
    out: list[tuple[str, list[Mention]]] = []
    decided = [(condition_status(text, m), m) for m in own]
    kept = [(s, m) for s, m in decided if s is not None]
    if kept:
        affirmed = [(s, m) for s, m in kept if s != "absent"]
        pool = affirmed if affirmed and max(_authority(m) for _, m in affirmed)[0] >= 3 else kept
        status = max(pool, key=lambda sm: _authority(sm[1]))[0]
        out.append((status, [m for s, m in kept if (s == "absent") == (status == "absent")]))
    if family and any(m.assertion.certainty != "negated" for m in family):
        out.append(("family", [m for m in family if m.assertion.certainty != "negated"]))
    return out


_NOT_TAKEN = re.compile(
    r"\b(?:denies taking|not (?:been )?taking|(?:does|did)(?:n't| not) take|declined|refused|refuses|"
    r"never (?:took|taken|started|filled)|ran out|non-?complian\w*|(?:has|have)(?:n't| not) been taking|"
    r"not on any|stopped taking it on (?:his|her) own|(?:does|did)(?:n't| not) want)\b", re.I)
_STOPPED = re.compile(
    r"\b(?:stop(?:ped|ping)?|discontinu\w+|d/c(?:'?d|ed)?|held|hold(?:ing)?|no longer (?:taking|on|uses?|using)|"
    r"quit|taken off|came off|switched (?:from|off)|came off of|instead of)\b", re.I)
_INTENDED = re.compile(
    r"\b(?:start(?:ing)?|begin|initiat\w+|prescrib\w+|new prescription|adding|add|trial of|will (?:start|put|give|"
    r"prescribe|add|try|send|order|have)|plan(?:s|ned)? to (?:start|add|give|prescribe|try)|put (?:him|her|them|you) on|"
    r"send (?:in )?(?:a )?prescription|recommend\w*|try (?:him|her|them|you)? ?on|switch(?:ed|ing)? (?:him|her|them|"
    r"you )?to|give (?:him|her|them|you)|going to (?:start|put|give|prescribe|try))\b", re.I)
_STARTED_TODAY = re.compile(r"\bstarted\b[^.]{0,40}\b(?:today|now|this visit|at this visit)\b", re.I)
_ACTIVE = re.compile(
    r"\b(?:continue[sd]?|continuing|takes|taking|is on|are on|remains? on|currently|uses|using|has been on|"
    r"increas\w+|decreas\w+|refill\w*|started\b|on (?:a|an)? ?(?:daily|regular))\b", re.I)


def _window(m: Mention, before_words: int = 10, after_words: int = 6) -> str:
    before = " ".join(m.sentence[:m.at].split()[-before_words:])
    after = " ".join(m.sentence[m.at:].split()[:after_words + 4])
    return before + " " + after


def medication_status(m: Mention, elsewhere_taken: bool) -> tuple[str, bool]:
    """(status, explicit) of a drug named at `m`; explicit when a cue word says it, not the section."""
    if m.assertion.subject == "family":
        return "", True
    near = _window(m)
    if _NOT_TAKEN.search(near) or m.assertion.certainty == "negated":
        return "not-taken", True
    if _STOPPED.search(near):
        return "stopped", True
    if _STARTED_TODAY.search(near):
        return "intended", True
    if _INTENDED.search(near) or m.assertion.time in ("planned", "hypothetical"):
        return ("active" if elsewhere_taken and re.search(r"\b(?:increas|decreas|refill|continu)", near, re.I)
                else "intended"), True
    if _ACTIVE.search(near):
        return "active", True
    if m.section in PLAN_SECTIONS and not elsewhere_taken:
        return "intended", False
    return "active", False


def pick_medication(mentions: list[Mention]) -> str | None:
    """One status for a drug named in several places: an explicit cue beats a section's default; among
    explicit ones the latest holds (the plan at the end of a note says what happens now)."""
    taken = any(m.section not in PLAN_SECTIONS and m.section != "assessment" for m in mentions)
    decided = [(medication_status(m, taken), m) for m in mentions]
    decided = [((s, e), m) for (s, e), m in decided if s]
    if not decided:
        return None
    explicit = [(s, m) for (s, e), m in decided if e]
    if explicit:
        return max(explicit, key=lambda sm: sm[1].start)[0]
    return "active" if taken else decided[-1][0][0]


_DONE = re.compile(
    r"\b(?:had|has had|have had|underwent|undergone|s/p|status post|performed|was done|were done|done|did|showed|"
    r"shows|show|revealed|reveals|demonstrat\w+|results?|came back|was (?:normal|negative|positive|abnormal|"
    r"unremarkable|elevated|low|high)|were (?:normal|negative|positive)|history of|prior|previous|previously|"
    r"last (?:week|month|year)|ago|in (?:19|20)\d\d|administered|injected|received|got|completed|obtained|"
    r"reviewed|looked at|review of|was|were)\b", re.I)
_ORDERED = re.compile(
    r"\b(?:order\w*|will (?:get|obtain|order|do|schedule|send|check|repeat|refer|perform|arrange|have)|"
    r"schedul\w+|refer\w*|recommend\w*|repeat|obtain|get (?:a|an|some|the)|check (?:a|an|his|her|the)?|"
    r"plan(?:s|ned)? (?:to|for)|want (?:to|him|her)|would like|need(?:s)? (?:a|an|to)|go ahead|set (?:him|her|you) up|"
    r"arrange|request\w*|consider|pending|due for|send (?:him|her|you)? ?(?:for|to))\b", re.I)


def procedure_status(m: Mention) -> str | None:
    """completed or planned for a test or operation named at `m` (None: denied, or a relative's)."""
    a = m.assertion
    if a.certainty == "negated" or a.subject == "family" or a.time == "hypothetical":
        return None
    before = " ".join(m.sentence[:m.at].split()[-8:])
    after = " ".join(m.sentence[m.at:].split()[1:8])
    if _ORDERED.search(before) or a.time == "planned":
        return "planned"
    if _DONE.search(before) or _DONE.search(after) or a.time == "history":
        return "completed"
    return "planned" if m.section in PLAN_SECTIONS + ("assessment",) else "completed"


def pick_procedure(mentions: list[Mention]) -> list[tuple[str, list[Mention]]]:
    """A test done and the same test ordered again are two items: group mentions by status."""
    groups: dict[str, list[Mention]] = {}
    for m in mentions:
        status = procedure_status(m)
        if status is not None:
            groups.setdefault(status, []).append(m)
    return sorted(groups.items())
