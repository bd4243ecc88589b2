"""Reading a FHIR Bundle (R4B or R5) as status items: (kind, text, status) per scoreable resource.

A Bundle is read as standard FHIR only (resource types and their status elements, never softtiger's own
extensions), R4B or R5, so any producer's Bundle scores the same way:

- Condition: text = code.text (else the first coding's display). verificationStatus refuted -> absent;
  provisional / differential / unconfirmed -> possible; else clinicalStatus resolved / remission -> resolved,
  inactive -> history, active / recurrence / relapse or none -> active. entered-in-error is not an item.
- FamilyMemberHistory: each condition[].code -> a condition with status family (relationship kept).
- MedicationStatement: medicationCodeableConcept (R4B) or medication.concept (R5). R4B status active and
  unknown -> active, intended -> intended, stopped / completed / on-hold -> stopped, not-taken -> not-taken.
  R5 status (recorded / draft) says nothing clinical, so adherence.code decides: taking* -> active,
  not-taking -> not-taken, stopped* / on-hold* -> stopped; no adherence -> active.
- MedicationRequest: active / draft / on-hold / unknown -> intended; stopped / cancelled / completed -> stopped.
- AllergyIntolerance: the IPS absent-unknown code no-known-allergies (or no-known-drug-allergies, ...) or the
  SNOMED "no known allergy" codes -> "no known allergies" with status none; otherwise active, or the
  clinicalStatus word when it is inactive / resolved.
- Procedure: completed -> completed, preparation -> planned, else the status word.
- ServiceRequest: a procedure, planned; an immunization, planned, when its code has a CVX coding or its text
  names a vaccine. revoked orders are not items.
- Immunization: completed -> completed; not-done is not an item.
- ImmunizationRecommendation: each recommendation's vaccineCode -> an immunization, planned.
- Observation with category vital-signs: a vital, final (status final / amended / corrected), text =
  code.text or the display; its LOINC codes are kept for the vital-sign synonym match below.
- Everything else (CarePlan, Encounter, ClinicalImpression, Patient, Device, ...) is not a scored item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from softtiger_cli.eval.match import Concept, matches, normalise

STATUS_KINDS = ("condition", "medication", "allergy", "procedure", "immunization", "vital")

IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CVX = "http://hl7.org/fhir/sid/cvx"
_SNOMED_NO_ALLERGY = {"716186003", "409137002", "428607008", "429625007"}  # no known (drug/food/env.) allergy

# vital sign -> (names a note or a producer may use, LOINC codes of the sign)
# (Chinese records write 血压, 脉搏/心率, 体温, 呼吸, 血氧饱和度, 体重, 身高, and the letters T, P, R of 体格检查.)
VITAL_SIGNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "blood pressure": (("blood pressure", "bp", "systolic", "diastolic", "血压"),
                       ("85354-9", "55284-4", "8480-6", "8462-4")),
    "heart rate": (("heart rate", "hr", "pulse", "pulse rate", "heart beat", "p", "心率", "脉搏"), ("8867-4",)),
    "oxygen saturation": (("oxygen saturation", "o2 sat", "o2 saturation", "o2 sats", "spo2", "sao2", "pulse ox",
                           "pulse oximetry", "oxygen sat", "sat", "sats", "oximetry", "血氧饱和度", "氧饱和度",
                           "指脉氧"), ("59408-5", "2708-6")),
    "temperature": (("temperature", "temp", "body temperature", "t", "体温"), ("8310-5",)),
    "respiratory rate": (("respiratory rate", "rr", "respirations", "respiration rate", "breathing rate", "r", "呼吸"),
                         ("9279-1",)),
    "weight": (("weight", "body weight", "wt", "体重"), ("29463-7",)),
    "height": (("height", "body height", "ht", "身高"), ("8302-2",)),
    "bmi": (("bmi", "body mass index", "体重指数"), ("39156-5",)),
}
_SYNONYMS = sorted(((normalise(name).split(), sign) for sign, (names, _) in VITAL_SIGNS.items() for name in names),
                   key=lambda pair: -len(pair[0]))
_VACCINE = re.compile(r"\b(vaccin\w*|immuni[sz]ation\w*|shots?|boosters?|tdap|dtap|td|mmr|hpv|bcg|"
                      r"pneumovax|prevnar|shingrix|zostavax|gardasil|flu ?shot|influenza vaccine)\b", re.I)


@dataclass(frozen=True)
class StatusItem:
    kind: str
    text: str
    status: str
    system: str = ""
    code: str = ""
    loinc: tuple[str, ...] = ()
    relationship: str = ""
    resource: str = ""  # the resource type it came from (for reports)

    def concept(self) -> Concept:
        return Concept(self.kind, self.text, self.system, self.code)


def vital_sign(text: str) -> str | None:
    """The vital sign a text names ("BP" -> "blood pressure"), or None."""
    words = normalise(text).split()
    for syn, sign in _SYNONYMS:
        it = iter(words)
        if all(w in it for w in syn):
            return sign
    return None


def item_matches(pred: StatusItem, gold: StatusItem) -> bool:
    if pred.kind != gold.kind:
        return False
    if pred.status == gold.status == "none":  # "no known allergies": one per kind, however the note words it
        return True
    if matches(pred.concept(), gold.concept()):
        return True
    if gold.kind == "vital":
        sign = vital_sign(gold.text)
        if sign is not None:
            codes = VITAL_SIGNS[sign][1]
            return any(c in codes for c in pred.loinc) or vital_sign(pred.text) == sign
    return False


# --- reading a Bundle ----------------------------------------------------------------------------------------

def _codings(cc: Any) -> list[dict[str, Any]]:
    if not isinstance(cc, dict):
        return []
    return [c for c in cc.get("coding") or [] if isinstance(c, dict)]


def _text(cc: Any) -> tuple[str, str, str]:
    """(text, system, code) of a CodeableConcept or an R5 CodeableReference."""
    if not isinstance(cc, dict):
        return "", "", ""
    if isinstance(cc.get("concept"), dict):
        cc = cc["concept"]
    codings = _codings(cc)
    first = codings[0] if codings else {}
    text = cc.get("text") or next((c.get("display") for c in codings if c.get("display")), "") or cc.get("display") or ""
    return str(text), str(first.get("system", "")), str(first.get("code", ""))


def _code(cc: Any) -> str:
    codings = _codings(cc)
    return str(codings[0].get("code", "")).lower() if codings else ""


def _condition_status(res: dict[str, Any]) -> str | None:
    ver = _code(res.get("verificationStatus"))
    if ver == "entered-in-error":
        return None
    if ver == "refuted":
        return "absent"
    if ver in ("provisional", "differential", "unconfirmed"):
        return "possible"
    clin = _code(res.get("clinicalStatus"))
    if clin in ("resolved", "remission"):
        return "resolved"
    if clin == "inactive":
        return "history"
    return "active"


_MS_R4B = {"active": "active", "unknown": "active", "intended": "intended", "stopped": "stopped",
           "completed": "stopped", "on-hold": "stopped", "not-taken": "not-taken"}


def _medication_statement_status(res: dict[str, Any]) -> str | None:
    status = str(res.get("status", "")).lower()
    if status == "entered-in-error":
        return None
    if status in _MS_R4B:
        return _MS_R4B[status]
    # R5: recorded | draft (| entered-in-error); adherence says what the patient does
    adherence = res.get("adherence")
    code = _code(adherence.get("code")) if isinstance(adherence, dict) else ""
    if code.startswith("not-taking"):
        return "not-taken"
    if code.startswith("stopped") or code.startswith("on-hold"):
        return "stopped"
    return "active"  # taking*, or no adherence


def _medication_text(res: dict[str, Any]) -> tuple[str, str, str]:
    cc = res.get("medicationCodeableConcept") or res.get("medication") or res.get("medicationReference")
    return _text(cc)


def _allergy(res: dict[str, Any]) -> StatusItem | None:
    if _code(res.get("verificationStatus")) == "entered-in-error":
        return None
    cc = res.get("code")
    for c in _codings(cc):
        code = str(c.get("code", "")).lower()
        if (c.get("system") == IPS_ABSENT and code.startswith("no-known") and "allerg" in code) or (
                c.get("system") == SNOMED and code in _SNOMED_NO_ALLERGY):
            return StatusItem("allergy", "no known allergies", "none", resource="AllergyIntolerance")
    text, system, code = _text(cc)
    if not (text or code):
        return None
    clin = _code(res.get("clinicalStatus"))
    status = clin if clin in ("inactive", "resolved") else "active"
    if _code(res.get("verificationStatus")) == "refuted":
        status = "absent"
    return StatusItem("allergy", text, status, system, code, resource="AllergyIntolerance")


def _names_vaccine(cc: Any) -> bool:
    if any(c.get("system") == CVX for c in _codings(cc)):
        return True
    texts = [cc.get("text", "")] if isinstance(cc, dict) else []
    texts += [str(c.get("display", "")) for c in _codings(cc)]
    return any(_VACCINE.search(str(t) or "") for t in texts)


def _is_vital(res: dict[str, Any]) -> bool:
    for cat in res.get("category") or []:
        if any(c.get("code") == "vital-signs" for c in _codings(cat)):
            return True
    return False


def items_from_bundle(bundle: dict[str, Any]) -> list[StatusItem]:
    """The scoreable (kind, text, status) items of a FHIR Bundle, R4B or R5."""
    out: list[StatusItem] = []

    def add(kind: str, cc: Any, status: str | None, rtype: str, relationship: str = "",
            loinc: tuple[str, ...] = ()) -> None:
        if status is None:
            return
        text, system, code = _text(cc)
        if text or code:
            out.append(StatusItem(kind, text, status, system, code, loinc, relationship, rtype))

    for entry in bundle.get("entry") or []:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict):
            continue
        rtype = res.get("resourceType", "")
        status = str(res.get("status", "")).lower()
        if rtype == "Condition":
            add("condition", res.get("code"), _condition_status(res), rtype)
        elif rtype == "FamilyMemberHistory":
            if status == "entered-in-error":
                continue
            rel = res.get("relationship") or {}
            codings = _codings(rel)
            relationship = str((codings[0].get("display") or codings[0].get("code")) if codings else rel.get("text", "") or "")
            for cond in res.get("condition") or []:
                if isinstance(cond, dict):
                    add("condition", cond.get("code"), "family", rtype, relationship)
        elif rtype == "MedicationStatement":
            text, system, code = _medication_text(res)
            st = _medication_statement_status(res)
            if st is not None and (text or code):
                out.append(StatusItem("medication", text, st, system, code, resource=rtype))
        elif rtype == "MedicationRequest":
            if status in ("active", "draft", "on-hold", "unknown"):
                st: str | None = "intended"
            elif status in ("stopped", "cancelled", "completed"):
                st = "stopped"
            else:
                st = None
            text, system, code = _medication_text(res)
            if st is not None and (text or code):
                out.append(StatusItem("medication", text, st, system, code, resource=rtype))
        elif rtype == "AllergyIntolerance":
            item = _allergy(res)
            if item is not None:
                out.append(item)
        elif rtype == "Procedure":
            if status == "entered-in-error":
                continue
            add("procedure", res.get("code"), {"completed": "completed", "preparation": "planned"}.get(status, status or "completed"), rtype)
        elif rtype == "ServiceRequest":
            if status in ("entered-in-error", "revoked"):
                continue
            cc = res.get("code")
            if isinstance(cc, dict) and isinstance(cc.get("concept"), dict):  # R5 CodeableReference
                cc = cc["concept"]
            add("immunization" if _names_vaccine(cc) else "procedure", cc, "planned", rtype)
        elif rtype == "Immunization":
            if status == "completed":
                add("immunization", res.get("vaccineCode"), "completed", rtype)
        elif rtype == "ImmunizationRecommendation":
            for rec in res.get("recommendation") or []:
                vaccines = rec.get("vaccineCode") if isinstance(rec, dict) else None
                for cc in vaccines or []:
                    if _text(cc)[0] or _text(cc)[2]:
                        add("immunization", cc, "planned", rtype)
                        break
        elif rtype == "Observation" and _is_vital(res):
            if status in ("entered-in-error", "cancelled"):
                continue
            st = "final" if status in ("final", "amended", "corrected", "") else status
            loinc = tuple(str(c.get("code", "")) for c in _codings(res.get("code")) if c.get("system") == LOINC)
            add("vital", res.get("code"), st, rtype, loinc=loinc)
    return out


def items_from_gold(gold: list[dict[str, Any]]) -> list[StatusItem]:
    return [StatusItem(g["kind"], str(g.get("text") or ""), str(g.get("status") or ""),
                       str(g.get("system") or ""), str(g.get("code") or ""), (), str(g.get("relationship") or ""))
            for g in gold if isinstance(g, dict) and g.get("kind") in STATUS_KINDS]


def is_status_gold(data: dict[str, Any]) -> bool:
    gold = data.get("gold")
    return isinstance(gold, list) and any(isinstance(g, dict) and "status" in g for g in gold)
