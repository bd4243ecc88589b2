"""Tests and procedures named in prose: imaging, cardiac and endoscopic studies, laboratory panels, therapies
and operations, found by pattern with exact spans ("X-rays of the right elbow", "hemoglobin A1c",
"rotator cuff repair", "a colonoscopy").

A pattern names the kind of act (an imaging study, a panel, an -ectomy), never a dev note's wording; the
body part and side that follow or precede it are part of the name. A single laboratory analyte
("creatinine", "potassium") is a test only where the note gives its level or value next to it.
"""

from __future__ import annotations

import re

_SIDE = r"(?:(?:right|left|bilateral|both)\s+)?"
_BODY = (r"(?:lumbar|cervical|thoracic|lower|upper)?\s*(?:spine|back|neck|knees?|hips?|shoulders?|elbows?|wrists?|"
         r"hands?|fingers?|index finger|thumbs?|ankles?|feet|foot|toes?|chest|abdomen|pelvis|head|brain|legs?|arms?|"
         r"breasts?|liver|kidneys?|heart|thyroid|lungs?|sinus(?:es)?|gallbladder|bladder|prostate|carotids?|"
         r"ribs?|sacroiliac joints?|joints?|forearms?|heels?|jaw|face)")
_OF_BODY = rf"(?:\s+(?:images?\s+)?(?:of|on)\s+(?:the\s+|his\s+|her\s+|their\s+)?{_SIDE}(?:\w+\s+){{0,2}}?{_BODY})?"
_IMAGING = (r"(?:chest\s+)?(?:x-?rays?|radiographs?|mri(?:s)?|magnetic resonance imaging|ct(?:\s+scans?)?|cat scans?|"
            r"computed tomography|ultrasounds?|sonograms?|mammograms?|echocardiograms?|echo|pet scans?|bone scans?|"
            r"dexa(?: scans?)?|bone density (?:scan|test)s?|dopplers?|angiograms?|ct angiograms?|cta|fluoroscopy|"
            r"arthrograms?|myelograms?|nuclear stress tests?|stress echo)")
_STUDIES = (
    r"electrocardiograms?|ekgs?|ecgs?|(?:cardiac |exercise |treadmill )?stress tests?|holter(?: monitor)?|"
    r"event monitor|cardiac catheterization|heart catheterization|cardiac cath|angioplasty|"
    r"(?:drug-eluting |coronary )?stents?(?: placement)?|pacemaker(?: placement)?|defibrillator|ablation|cabg|"
    r"coronary artery bypass graft(?:ing|s)?|bypass surgery|colonoscopy|colonoscopies|(?:upper )?endoscopy|egd|"
    r"sigmoidoscopy|polypectomy|bronchoscopy|cystoscopy|arthroscopy|laparoscopy|biops(?:y|ies)|"
    r"(?:ultrasound-guided |core needle |fine needle |needle )+biops(?:y|ies)|lumbar puncture|spinal tap|"
    r"pap smears?|pulmonary function tests?|pfts?|sleep study|polysomnogra\w+|emg|nerve conduction stud(?:y|ies)|"
    r"eeg|lithotripsy|dialysis|(?:blood )?transfusions?|infusions?|(?:whole blood )?transfusion|"
    r"(?:steroid|cortisone|corticosteroid|trigger point|epidural|joint|knee|shoulder|trigger finger|"
    r"epidural steroid) injections?|cortisone shots?|steroid shots?|"
    r"(?:physical|occupational|speech|cognitive behavioral) therapy|\bpt\b(?= (?:twice|once|\d))|"
    r"cardiac rehab(?:ilitation)?|pulmonary rehab(?:ilitation)?|(?:adjuvant )?radiation(?: therapy)?|"
    r"(?:intraperitoneal |adjuvant |neoadjuvant )?chemotherapy|genetic (?:counseling and )?testing|"
    r"tubal ligation|c-section|cesarean section|hernia repair|rotator cuff repair|acl (?:repair|reconstruction)|"
    r"(?:total )?(?:knee|hip|shoulder) replacements?|(?:total )?(?:knee|hip|shoulder) arthroplasty|"
    r"(?:lymph node|neck) dissection|(?:back|neck|knee|hip|shoulder|spine|spinal|heart|cardiac|foot|hand|"
    r"wrist|ankle|eye|cataract|bariatric|gastric bypass|sinus|brain|open heart) surgery|"
    r"\w+(?:ectomy|ectomies|otomy|ostomy|plasty|pexy|oscopy)")
_LABS = (
    r"blood ?work|labs?|lab ?work|laboratory (?:tests?|studies|work)|cbc|complete blood count|cmp|bmp|"
    r"(?:basic|comprehensive) metabolic panel|metabolic panel|lipid (?:panel|profile)|cholesterol (?:panel|test)|"
    r"(?:hemoglobin|hgb|hb) ?a1c|hba1c|a1c|tsh|thyroid (?:function )?(?:tests?|panel|studies)|urinalysis|"
    r"urine (?:culture|test|drug screen)|blood cultures?|psa|pt/inr|inr|bnp|troponins?|"
    r"liver (?:function|enzyme)s?(?: tests?| labs| panel)?|lfts|vitamin d level|iron (?:studies|panel)|ferritin|"
    r"b12 level|(?:rapid )?strep test|covid(?:-19)? test|pcr(?: test)?|(?:lyme )?titers?|western blot(?: pcr)?|"
    r"ca-?125|afp|ldh|hcg|cea|sed rate|esr|crp|c-reactive protein|(?:non-?)?fasting glucose|glucose tolerance test|"
    r"urine microalbumin|microalbumin|drug screen|hepatitis panel|hiv test|std (?:testing|panel)|culture")
_ANALYTE = (r"creatinine|potassium|sodium|magnesium|hemoglobin|hematocrit|glucose|bun|calcium|platelets?|"
            r"white (?:blood )?(?:cell )?count|wbc|bnp|troponin|egfr|gfr|albumin|"
            r"bilirubin|alt|ast|alkaline phosphatase|uric acid|phosphorus|chloride|bicarbonate|co2")
# (cholesterol, LDL, HDL, triglycerides are read as the lipid panel that measures them, when it is named)
PROCEDURE = re.compile(
    rf"(?<![\w-])(?:{_SIDE}(?:{_IMAGING}){_OF_BODY}|{_SIDE}(?:(?:{_BODY})\s+)?(?:{_STUDIES})|(?:{_LABS}))(?![\w-])",
    re.I)
ANALYTE_WITH_VALUE = re.compile(
    rf"(?<![\w-])(?:{_ANALYTE})(?=\s*(?:level\b|levels\b|(?:was|is|of|at|came back|were)?\s*(?:\d|normal|elevated|"
    rf"low|high|stable|within)))", re.I)
_NOT_PROCEDURE = re.compile(r"^(?:echo|culture|ct|infusions?|pt|cta)$", re.I)
_NEVER_ALONE = re.compile(r"^(?:labs?|lab tests?)$", re.I)  # "her labs": which tests, the note does not say
_PROCEDURE_CONTEXT = re.compile(r"\b(?:order|get|obtain|repeat|review|did|do|had|the|an?|his|her|some|results?|"
                                r"showed|shows|check|schedule|refer|recent|last|previous|prior)\b", re.I)


def find_procedures(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of tests and procedures named in text[start:end], longest first, without overlaps."""
    end = len(text) if end is None else end
    found: list[tuple[int, int]] = []
    for pattern in (PROCEDURE, ANALYTE_WITH_VALUE):
        for m in pattern.finditer(text, start, end):
            lo, hi = m.start(), m.end()
            word = m.group(0).strip()
            if _NEVER_ALONE.match(word):
                continue
            if _NOT_PROCEDURE.match(word):
                before = text[max(0, lo - 20):lo]
                if not _PROCEDURE_CONTEXT.search(before):  # a bare "echo", "labs": only as an object of a verb
                    continue
            if word.lower().endswith("oscopy") is False and re.fullmatch(r"\w+(?:ectomy|otomy|ostomy|plasty|pexy)",
                                                                        word, re.I) and len(word) < 8:
                continue
            if not any(lo < b and hi > a for a, b in found):
                found.append((lo, hi))
    return sorted(found)
