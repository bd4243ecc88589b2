"""What a clinician needs to know about one resource: its kind, its state, a label, codes and dates.

Reads R4B and R5 element names alike (``medicationCodeableConcept`` / ``medication.concept``,
``period`` / ``actualPeriod`` ...) and falls back to ``code.text`` or the resource type for any type it
does not know, so an unknown resource still gets a readable line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .jsonutil import items

# kind -> legend label, in legend order
KINDS: dict[str, str] = {
    "problem": "Problem",
    "past-problem": "Past problem",
    "medication": "Medication",
    "allergy": "Allergy",
    "procedure": "Procedure",
    "immunization": "Immunization",
    "vital": "Vital sign",
    "result": "Result",
    "family": "Family history",
    "plan": "Plan / order",
    "encounter": "Encounter",
    "impression": "Impression",
    "other": "Other",
}
# state -> legend label
STATES: dict[str, str] = {
    "refuted": "Negated / refuted",
    "family": "Family member, not the patient",
    "inactive": "Resolved / inactive / stopped",
    "planned": "Planned / intended",
    "uncertain": "Uncertain / provisional",
}

_TYPE_KIND = {
    "Condition": "problem", "FamilyMemberHistory": "family", "AllergyIntolerance": "allergy",
    "MedicationStatement": "medication", "MedicationRequest": "medication", "Medication": "medication",
    "MedicationAdministration": "medication", "MedicationDispense": "medication",
    "Procedure": "procedure", "Immunization": "immunization", "ServiceRequest": "plan", "CarePlan": "plan",
    "Goal": "plan", "Appointment": "plan", "Task": "plan", "NutritionOrder": "plan",
    "Encounter": "encounter", "ClinicalImpression": "impression", "DiagnosticReport": "result",
}
_PAST_SECTION = "11348-0"
_VITAL_SECTION = "8716-3"
_FAMILY_SECTION = "10157-6"
_VITAL_LOINC = {"85354-9", "8480-6", "8462-4", "8867-4", "9279-1", "8310-5", "59408-5", "2708-6", "29463-7",
                "8302-2", "39156-5", "8287-5", "9843-4", "85353-1", "8478-0", "8306-3", "3141-9"}
_INACTIVE = {"resolved", "inactive", "remission", "stopped", "completed-past", "not-active", "entered-in-error"}
_REFUTED = {"refuted", "not-taken", "not-done", "entered-in-error"}
_UNCERTAIN = {"provisional", "differential", "unconfirmed", "presumed"}
_PLANNED_STATUS = {"intended", "draft", "preparation", "planned", "proposed", "on-hold", "requested"}
_CONCEPT_KEYS = ("code", "medicationCodeableConcept", "medication", "vaccineCode", "relationship",
                 "valueCodeableConcept", "category", "type", "class", "reasonCode", "reason", "bodySite")
_DATE_KEYS = ("onsetDateTime", "onsetPeriod", "onsetString", "onsetAge", "onsetRange", "abatementDateTime",
              "abatementString", "abatementPeriod", "abatementAge", "recordedDate", "recorded", "effectiveDateTime",
              "effectivePeriod", "effectiveInstant", "performedDateTime", "performedPeriod", "performedString",
              "occurrenceDateTime", "occurrenceString", "occurrencePeriod", "authoredOn", "issued", "period",
              "actualPeriod", "plannedStartDate", "date", "dateAsserted", "birthDate", "lastOccurrence")
ABSENT_CODES = {"716186003", "409137002", "428197003", "160245001", "787480003", "1234391000"}


@dataclass
class Facts:
    """Everything the popup and the panel show about a resource, as plain (unescaped) strings."""

    rtype: str
    label: str
    kind: str
    states: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    absent: bool = False  # an IPS "no known ..." / absent-or-unknown statement


def _codings(cc: Any) -> list[dict[str, Any]]:
    if isinstance(cc, list):
        return [c for x in cc for c in _codings(x)]
    if not isinstance(cc, dict):
        return []
    if "concept" in cc:  # R5 CodeableReference
        return _codings(cc["concept"])
    if "code" in cc and "system" in cc and "coding" not in cc:  # a bare Coding
        return [cc]
    return [c for c in items(cc.get("coding")) if isinstance(c, dict)]


def concept_text(value: Any) -> str:
    """Readable text of a CodeableConcept, CodeableReference, Reference, Coding or string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(t for t in (concept_text(v) for v in value) if t)
    if not isinstance(value, dict):
        return ""
    if value.get("text"):
        return str(value["text"])
    if "concept" in value or "reference" in value and isinstance(value.get("reference"), dict):
        return concept_text(value.get("concept")) or concept_text(value.get("reference"))
    if value.get("display"):
        return str(value["display"])
    for c in _codings(value):
        if c.get("display") or c.get("code"):
            return str(c.get("display") or c.get("code"))
    return ""


def code_of(value: Any) -> str:
    """The first code of a concept (for status elements that are CodeableConcepts in FHIR)."""
    if isinstance(value, str):
        return value
    for c in _codings(value):
        if c.get("code"):
            return str(c["code"])
    return concept_text(value)


def quantity_text(q: Any) -> str:
    if not isinstance(q, dict):
        return str(q) if q is not None else ""
    value = q.get("value")
    unit = q.get("unit") or q.get("code") or ""
    if value is None:
        return str(unit)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value} {unit}".strip()


def when_text(value: Any) -> str:
    """A date, Period, Age or Range as one short string."""
    if isinstance(value, (str, int, float)):
        return str(value)
    if not isinstance(value, dict):
        return ""
    if "start" in value or "end" in value:
        return f"{value.get('start', '…')} – {value.get('end', '…')}" if value.get("end") else f"from {value.get('start')}"
    if "low" in value or "high" in value:
        return f"{quantity_text(value.get('low'))}–{quantity_text(value.get('high'))}"
    return quantity_text(value)


def observation_value(res: dict[str, Any]) -> str:
    """An Observation's value, with blood pressure written as 132/78 mmHg from its components."""
    for key, value in res.items():
        if key.startswith("value"):
            return quantity_text(value) if key == "valueQuantity" else (
                concept_text(value) if isinstance(value, dict) else str(value))
    parts = []
    unit = ""
    for comp in items(res.get("component")):
        q = comp.get("valueQuantity") if isinstance(comp, dict) else None
        if isinstance(q, dict) and q.get("value") is not None:
            v = q["value"]
            parts.append(str(int(v) if isinstance(v, float) and v.is_integer() else v))
            unit = q.get("unit") or q.get("code") or unit
    return ("/".join(parts) + (f" {unit}" if unit else "")) if parts else ""


def label(res: dict[str, Any]) -> str:
    """One readable line naming the resource, whatever its type."""
    t = res.get("resourceType", "Resource")
    if t == "Patient":
        names = items(res.get("name"))
        n = names[0] if names and isinstance(names[0], dict) else {}
        return n.get("text") or " ".join([*(n.get("given") or []), n.get("family", "")]).strip() or "Patient"
    if t == "FamilyMemberHistory":
        who = concept_text(res.get("relationship")) or "Family member"
        what = ", ".join(concept_text(c.get("code")) for c in items(res.get("condition")) if isinstance(c, dict))
        return f"{who}: {what}" if what else who
    if t == "Observation":
        name = concept_text(res.get("code")) or "Observation"
        value = observation_value(res)
        return f"{name} {value}".strip()
    for key in ("medicationCodeableConcept", "medication", "medicationReference", "vaccineCode", "code"):
        text = concept_text(res.get(key))
        if text:
            return text
    if t == "Encounter":
        return concept_text(res.get("type")) or concept_text(res.get("class")) or "Encounter"
    for key in ("title", "summary", "description", "name", "deviceName", "note"):
        value = res.get(key)
        if isinstance(value, list) and value:
            value = value[0].get("name") or value[0].get("value") or value[0].get("text") if isinstance(value[0], dict) else value[0]
        if isinstance(value, str) and value:
            return value
    return t


_DATE_WORDS = {"onset": "Onset", "abatement": "Resolved", "recorded": "Recorded", "effective": "Effective",
               "performed": "Performed", "occurrence": "Occurred", "authoredOn": "Authored", "issued": "Issued",
               "period": "Period", "actualPeriod": "Period", "plannedStartDate": "Planned start", "date": "Date",
               "dateAsserted": "Asserted", "birthDate": "Birth date", "lastOccurrence": "Last occurred"}


def date_label(key: str) -> str:
    """``onsetDateTime`` -> "Onset": FHIR choice-type suffixes mean nothing to a reader."""
    if key in _DATE_WORDS:
        return _DATE_WORDS[key]
    for prefix, word in _DATE_WORDS.items():
        if key.startswith(prefix):
            return word
    return key


def describe(res: dict[str, Any], section_codes: list[str] | None = None) -> Facts:
    """Kind, states, status, codes and dates of a resource; ``section_codes`` are the LOINC codes of
    the Composition sections that list it (a Condition under Past illness is a past problem)."""
    t = str(res.get("resourceType", "Resource"))
    sections = set(section_codes or [])
    kind = _TYPE_KIND.get(t, "other")
    status: list[str] = []
    for key in ("status", "clinicalStatus", "verificationStatus", "intent", "criticality"):
        value = code_of(res[key]) if res.get(key) else ""
        if value:
            status.append(value)
    low = {s.lower() for s in status}
    states: list[str] = []
    if low & _REFUTED or res.get("doNotPerform") is True or res.get("notGiven") is True:
        states.append("refuted")
    if t == "FamilyMemberHistory" or _FAMILY_SECTION in sections:
        states.append("family")
    if low & _INACTIVE and "refuted" not in states:
        states.append("inactive")
    if (low & _PLANNED_STATUS or t in ("ServiceRequest", "CarePlan", "Goal", "Appointment", "NutritionOrder")
            or (t == "MedicationRequest" and res.get("intent") in ("plan", "proposal", "order", "original-order"))):
        states.append("planned")
    if low & _UNCERTAIN:
        states.append("uncertain")
    if t == "Condition" and ("inactive" in states or _PAST_SECTION in sections):
        kind = "past-problem"
    if t == "Observation":
        cats = {str(c.get("code")) for c in _codings(res.get("category"))}
        loinc = {str(c.get("code")) for c in _codings(res.get("code"))}
        kind = "vital" if "vital-signs" in cats or loinc & _VITAL_LOINC or _VITAL_SECTION in sections else "result"
    codes = []
    for key in _CONCEPT_KEYS:
        for c in _codings(res.get(key)):
            if c.get("code"):
                system = str(c.get("system") or "")
                display = f" {c['display']}" if c.get("display") else ""
                codes.append(f"{system}|{c['code']}{display}")
    for cond in items(res.get("condition")):  # FamilyMemberHistory.condition[].code
        if isinstance(cond, dict):
            for c in _codings(cond.get("code")):
                if c.get("code"):
                    codes.append(f"{c.get('system', '')}|{c['code']}" + (f" {c['display']}" if c.get("display") else ""))
    dates = [(date_label(key), when_text(res[key])) for key in _DATE_KEYS if res.get(key) and when_text(res[key])]
    details: list[tuple[str, str]] = []
    for key in ("dosage", "dosageInstruction"):
        for d in items(res.get(key)):
            if isinstance(d, dict) and d.get("text"):
                details.append(("dosage", str(d["text"])))
    if t == "Observation" and observation_value(res):
        details.append(("value", observation_value(res)))
    for key in ("reaction",):
        for r in items(res.get(key)):
            if isinstance(r, dict):
                text = concept_text(r.get("manifestation"))
                if text:
                    details.append(("reaction", text))
    for n in items(res.get("note")):
        if isinstance(n, dict) and n.get("text"):
            details.append(("note", str(n["text"])))
    absent = any(("absent-unknown" in str(c.get("system", "")) or str(c.get("code", "")) in ABSENT_CODES
                  or str(c.get("code", "")).startswith("no-known-"))
                 for key in ("code", "medicationCodeableConcept", "medication", "vaccineCode")
                 for c in _codings(res.get(key)))
    return Facts(t, label(res), kind, states, status, codes, dates, details, absent)
