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
from softtiger_cli.core.text import folded

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


def _one_status(text: str, mentions: list[Mention]) -> tuple[str, list[Mention]] | None:
    """The status of one wording of a condition: its most authoritative mention (ties to the later one);
    an affirmed mention in a clinician's section outweighs a template denial."""
    decided = [(condition_status(text, m), m) for m in mentions]
    kept = [(s, m) for s, m in decided if s is not None]
    if not kept:
        return None
    affirmed = [(s, m) for s, m in kept if s != "absent"]
    pool = affirmed if affirmed and max(_authority(m) for _, m in affirmed)[0] >= 3 else kept
    status = max(pool, key=lambda sm: _authority(sm[1]))[0]
    return status, [m for s, m in kept if (s == "absent") == (status == "absent")]


def pick_condition(text: str, mentions: list[Mention], surface: dict[int, str]) -> list[tuple[str, list[Mention]]]:
    """Statuses for a concept named in several places. One wording has one status (the end of the note
    holds); two wordings of one code ("fluid retention" denied, "edema" on exam) keep their own status when
    they differ; a relative's mentions are a separate item. `surface`: each mention's words, by start."""
    own = [m for m in mentions if m.assertion.subject != "family"]
    family = [m for m in mentions if m.assertion.subject == "family"]
    wordings: dict[str, list[Mention]] = {}
    for m in own:
        wordings.setdefault(folded(surface.get(m.start, text)), []).append(m)
    by_status: dict[str, list[Mention]] = {}
    for group in wordings.values():
        decided = _one_status(text, group)
        if decided is not None:
            by_status.setdefault(decided[0], []).extend(decided[1])
    out = [(status, sorted(ms, key=lambda m: m.start)) for status, ms in by_status.items()]
    if family and any(m.assertion.certainty != "negated" for m in family):
        out.append(("family", [m for m in family if m.assertion.certainty != "negated"]))
    return out


_NOT_TAKEN = re.compile(
    r"\b(?:denies taking|not (?:been )?taking|(?:does|did)(?:n't| not) take|declined|refused|refuses|"
    r"never (?:took|taken|started|filled)|ran out|non-?complian\w*|(?:has|have)(?:n't| not) been taking|"
    r"not on any|stopped taking it on (?:his|her) own|(?:does|did)(?:n't| not) want)\b", re.I)
_STOPPED = re.compile(
    r"\b(?:stop(?:ped|ping)?|discontinu\w+|d/c(?:'?d|ed)?|held|hold(?:ing)?|no longer (?:taking|on|uses?|using)|"
    r"quit|taken off|came off|came off of|instead of)\b", re.I)
_SWITCHED_FROM = re.compile(r"\b(?:switch|chang)\w*\s+(?:\w+\s+){0,2}?(?:from|off(?: of)?)\s+$", re.I)
# "plans to stop X before surgery": the patient takes it now
_FUTURE_STOP = re.compile(r"\b(?:plans? to|will|going to|should|needs? to|would)\s+(?:\w+\s+)?(?:stop|discontinue|"
                          r"hold)\b", re.I)
_REPLACED = re.compile(r"\b(?:chang|switch)\w*\b", re.I)  # "changed her X to Y": X stopped
_INTENDED = re.compile(
    r"\b(?:start(?:ing)?|begin|initiat\w+|prescrib\w+|new prescription|adding|add|trial of|will (?:start|put|give|"
    r"prescribe|add|try|send|order|have)|plan(?:s|ned)? to (?:start|add|give|prescribe|try)|put (?:him|her|them|you) on|"
    r"send (?:in )?(?:a )?prescription|recommend\w*|try (?:him|her|them|you)? ?on|switch(?:ed|ing)? (?:him|her|them|"
    r"you )?to|give (?:him|her|them|you)|going to (?:start|put|give|prescribe|try))\b", re.I)
_DOSE_CHANGE = re.compile(r"\b(?:increas\w*|decreas\w*|reduc\w*|lower\w*|rais\w*|titrat\w*|adjust\w*|doubl\w*|"
                          r"(?:change|bump|go up on|go down on)\w*)\b(?:\s+\w+){0,4}\s+(?:dose|dosage|to\s+\d)|"
                          r"\b(?:increase|decrease|reduce|titrate|adjust|double)\s+(?:his|her|their|the|your)\b", re.I)
_STARTED_TODAY = re.compile(r"\bstarted\b[^.]{0,40}\b(?:today|now|this visit|at this visit)\b", re.I)
_ACTIVE = re.compile(
    r"\b(?:continue[sd]?|continuing|takes|taking|took|tried|is on|are on|remains? on|currently|uses|using|"
    r"has been on|increas\w+|decreas\w+|refill\w*|started\b|on (?:a|an)? ?(?:daily|regular))\b", re.I)
_CLAUSE_END = re.compile(r"(?:;|,\s*(?:and|but|then|while)\b|\s(?:and|but|then)\s(?=\w)|,\s)")
_STRENGTH = re.compile(r"^\S+(?:\s+\S+){0,3}?[\s,]+\d+(?:\.\d+)?\s*(?:mg|mcg|g|units?|ml|%)\b", re.I)


def _window(m: Mention, before_words: int = 10, after_words: int = 6) -> str:
    before = " ".join(m.sentence[:m.at].split()[-before_words:])
    after = " ".join(m.sentence[m.at:].split()[:after_words + 4])
    return before + " " + after


def _clause(m: Mention) -> str:
    """The words of the drug's own clause: "increase her lisinopril, and initiate Lasix" gives Lasix
    "initiate", not "increase"."""
    before = m.sentence[:m.at]
    cuts = list(_CLAUSE_END.finditer(before))
    start = cuts[-1].end() if cuts else 0
    after = m.sentence[m.at:]
    stop = _CLAUSE_END.search(after, 1)
    return before[start:] + (after[:stop.start()] if stop else after)


def medication_status(m: Mention, elsewhere_taken: bool) -> tuple[str, bool]:
    """(status, explicit) of a drug named at `m`; explicit when a cue word says it, not the section.
    Cues in the drug's own clause decide first; the sentence around it after."""
    if m.assertion.subject == "family":
        return "", True
    if m.assertion.certainty == "negated":
        return "not-taken", True
    after = m.sentence[m.at:]
    for near in (_clause(m), _window(m)):
        if _NOT_TAKEN.search(near):
            return "not-taken", True
        replaced = _SWITCHED_FROM.search(m.sentence[:m.at]) or (
            _REPLACED.search(m.sentence[:m.at]) and re.match(r"^\S+(?:\s+\S+){0,3}?\s+to\s", after))
        if _STOPPED.search(near) or replaced:
            return ("active" if _FUTURE_STOP.search(near) else "stopped"), True
        if _STARTED_TODAY.search(near):
            return "intended", True
        if _DOSE_CHANGE.search(near):  # a dose changed: the patient takes it, now at another dose
            return "active-dose", True
        if _INTENDED.search(near) or m.assertion.time in ("planned", "hypothetical"):
            return "intended", True
        if _ACTIVE.search(near):
            return "active", True
    if m.section in PLAN_SECTIONS and not elsewhere_taken:
        return "intended", False
    return "active", False


def pick_medication(mentions: list[Mention]) -> list[tuple[str, list[Mention]]]:
    """Statuses for a drug named in several places. An explicit cue beats a section's default, and among
    explicit ones the latest holds (the plan at the end of a note says what happens now) - except that a
    drug the patient takes and is also prescribed at a stated dose is two facts (what they take, and the new
    prescription), and advice to take a drug they already take ("Tylenol is recommended") keeps it active."""
    taken = any(m.section not in PLAN_SECTIONS and m.section != "assessment" for m in mentions)
    decided = [(medication_status(m, taken), m) for m in mentions]
    decided = [((s, e), m) for (s, e), m in decided if s]
    if not decided:
        return []
    every = [m for _, m in decided]
    explicit = [(s, m) for (s, e), m in decided if e]
    if {s for s, _ in explicit} == {"intended", "active-dose"}:  # started now, its dose to be changed later
        return [("intended", every)]
    explicit = [("active" if s == "active-dose" else s, m) for s, m in explicit]
    if not explicit:
        return [("active" if taken else decided[-1][0][0].replace("active-dose", "active"), every)]
    others = [(s, m) for s, m in explicit if s != "intended"]
    if others and len(others) < len(explicit):
        final = max(others, key=lambda sm: sm[1].start)[0]
        new_rx = [m for s, m in explicit if s == "intended" and _STRENGTH.match(m.sentence[m.at:])]
        if new_rx:
            return [(final, [m for m in every if m not in new_rx]), ("intended", new_rx)]
        return [(final, every)]
    return [(max(explicit, key=lambda sm: sm[1].start)[0], every)]


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


_RESULT_BEFORE = re.compile(r"\b(?:normal|abnormal|unremarkable|negative|positive)\s*$", re.I)  # "Normal CT of ..."


def procedure_status(m: Mention, listed_done: bool = False) -> str | None:
    """completed or planned for a test or operation named at `m` (None: denied, or a relative's).
    listed_done: the item stands in a list the note says was done ("The following procedures were
    conducted:"), which outweighs the section it is written in."""
    a = m.assertion
    if a.certainty == "negated" or a.subject == "family" or a.time == "hypothetical":
        return None
    before = " ".join(m.sentence[:m.at].split()[-8:])
    after = " ".join(m.sentence[m.at:].split()[1:8])
    if _ORDERED.search(before) or a.time == "planned":
        return "planned"
    if _DONE.search(before) or _DONE.search(after) or _RESULT_BEFORE.search(before) or a.time == "history":
        return "completed"
    if listed_done:
        return "completed"
    return "planned" if m.section in PLAN_SECTIONS + ("assessment",) else "completed"


def pick_procedure(mentions: list[Mention], listed_done: bool = False) -> list[tuple[str, list[Mention]]]:
    """A test done and the same test ordered again are two items: group mentions by status."""
    groups: dict[str, list[Mention]] = {}
    for m in mentions:
        status = procedure_status(m, listed_done)
        if status is not None:
            groups.setdefault(status, []).append(m)
    return sorted(groups.items())
