"""One FHIR resource per decided item, and the fixed ones (the note, the Device), built in code."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from softtiger_cli import __version__
from softtiger_cli.clinical.abbreviations import expand_text
from softtiger_cli.clinical.assertions import RELATION_CODES
from softtiger_cli.clinical.vitals import VITAL_LOINC, VITAL_WORDS, Vital
from softtiger_cli.core.data import Extraction, Item
from softtiger_cli.fhir.assemble.sections import LOINC
from softtiger_cli.fhir.assemble.builder import (ALLERGY_CLINICAL, OBS_CATEGORY, SPAN_EXTENSION, UCUM,
                                                 BundleBuilder)
from softtiger_cli.fhir.schema import CONDITION_CLINICAL

def span_extensions(item: Item, source_url: str) -> list[dict[str, Any]]:
    """One extension per span: offset and length in characters into the note carried by the bundle."""
    return [
        {"url": SPAN_EXTENSION, "extension": [
            {"url": "source", "valueReference": {"reference": source_url}},
            {"url": "offset", "valueInteger": s.start},
            {"url": "length", "valueInteger": s.length()},
            {"url": "match", "valueCode": s.method},
            {"url": "origin", "valueCode": item.origin},
        ]}
        for s in sorted(item.spans, key=lambda s: (s.start, s.end))
    ]


def note_document(b: BundleBuilder, ex: Extraction) -> dict[str, Any]:
    """The note itself, so span offsets have a referent: its text (as read, line endings normalised)
    base64 in an attachment, with the SHA-1 FHIR's Attachment.hash asks for and the sha256 as an RFC 6920
    `ni:` identifier."""
    data = ex.note.text.encode("utf-8")
    sha256 = hashlib.sha256(data).digest()
    doc: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": "urn:ietf:rfc:3986",
                        "value": "ni:///sha-256;" + base64.urlsafe_b64encode(sha256).decode().rstrip("=")}],
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": "34109-9", "display": "Note"}]},
        "subject": {"reference": b.patient_url},
        "description": "The clinical note this bundle was made from; source-span offsets index its text.",
        "content": [{"attachment": {
            "contentType": "text/plain; charset=utf-8",
            "data": base64.b64encode(data).decode(),
            "size": len(data),
            "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),  # noqa: S324 - FHIR mandates SHA-1 here
        }}],
    }
    if b.version == "R5":
        doc["subject"] = {"reference": b.patient_url}
    return doc


def label(resource: dict[str, Any]) -> str:
    for key in ("code", "medicationCodeableConcept", "vaccineCode"):
        if isinstance(resource.get(key), dict) and resource[key].get("text"):
            return resource[key]["text"]
    med = resource.get("medication")
    if isinstance(med, dict):
        return med.get("concept", {}).get("text", "") or med.get("reference", {}).get("display", "")
    return str(resource.get("description") or resource.get("summary") or resource["resourceType"])


def complete(res: dict[str, Any], version: str) -> tuple[dict[str, Any], str]:
    """Fill what FHIR requires but a note does not state, and pick the IPS section."""
    rtype = res["resourceType"]
    section = {"Condition": "problems", "MedicationStatement": "medications", "AllergyIntolerance": "allergies",
               "Procedure": "procedures", "Immunization": "immunizations", "CarePlan": "plan",
               "ClinicalImpression": "impression"}.get(rtype, "")
    if rtype == "Condition" and "clinicalStatus" not in res:
        res["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]}
    elif rtype == "AllergyIntolerance":
        res.setdefault("clinicalStatus", {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]})
    elif rtype == "Immunization":
        res.setdefault("status", "completed")
        if not any(k.startswith("occurrence") for k in res):
            res["occurrenceString"] = "date not stated in the note"
    elif rtype == "Observation":
        res.setdefault("status", "final")
        vital = bool(VITAL_WORDS.search(label(res)))
        res["category"] = [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs" if vital else "laboratory"}]}]
        section = "vitals" if vital else "results"
    elif rtype == "CarePlan":
        res.setdefault("status", "active")
        res.setdefault("intent", "plan")
    elif rtype == "MedicationStatement" and "status" not in res:
        res["status"] = "active" if version == "R4B" else "recorded"
    return res, section


def apply_assertion(item: Item, note: str) -> dict[str, Any]:
    """Values as they should be placed: statuses from the rules' assertion, abbreviations expanded."""
    values = dict(item.values)
    a = item.assertion
    if item.group in ("problems", "procedures") and isinstance(values.get("code"), str):
        context = note[max(0, item.spans[0].start - 80) : item.spans[0].end + 80] if item.spans else ""
        values["code"] = expand_text(values["code"], context)
    if a is not None and item.group == "problems":
        values["verificationStatus"] = {"possible": "provisional"}.get(a.certainty, "confirmed")
        if a.time == "history" and values.get("clinicalStatus") in (None, "", "active", "recurrence", "relapse"):
            values["clinicalStatus"] = "inactive"
    return values


def place_onset(res: dict[str, Any], item: Item, version: str) -> None:
    """A resolved date replaces the text form; an unresolved one stays text (never invented)."""
    if not item.onset:
        return
    rtype = res["resourceType"]
    if rtype == "Condition":
        res.pop("onsetString", None)
        res["onsetDateTime"] = item.onset
    elif rtype == "Procedure":
        res.pop("performedString", None)
        res.pop("occurrenceString", None)
        res["performedDateTime" if version == "R4B" else "occurrenceDateTime"] = item.onset
    elif rtype == "Immunization":
        res.pop("occurrenceString", None)
        res["occurrenceDateTime"] = item.onset


def reshape_for_assertion(res: dict[str, Any], item: Item, section: str, b: BundleBuilder) -> tuple[dict[str, Any], str]:
    """Family items become FamilyMemberHistory, planned ones a CarePlan, historical ones Past illness."""
    a = item.assertion
    if a is None or res["resourceType"] != "Condition":
        return res, section
    text = res.get("code", {}).get("text", "")
    if a.subject == "family":
        rel = a.relationship
        code = next((c for w, (c, d) in RELATION_CODES.items() if d == rel), "")
        relationship = ({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": code,
                                     "display": rel}]} if code else {"text": rel or "family member"})
        fmh = {"resourceType": "FamilyMemberHistory", "status": "completed",
               "patient": {"reference": b.patient_url}, "relationship": relationship,
               "condition": [{"code": {"text": text}}]}
        if "extension" in res:
            fmh["extension"] = res["extension"]
        return fmh, "family"
    if a.time == "planned":
        plan = {"resourceType": "CarePlan", "status": "draft", "intent": "plan",
                "subject": {"reference": b.patient_url}, "description": f"Planned or hypothetical: {text}"}
        return plan, "plan"
    if a.time == "history":
        return res, "past_illness"
    return res, section


def vital_observation(v: Vital, b: BundleBuilder, note_date: str | None, source_url: str) -> dict[str, Any]:
    code, display, ucum, unit_display = VITAL_LOINC[v.kind]
    obs: dict[str, Any] = {
        "resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": b.patient_url},
    }
    if note_date:
        obs["effectiveDateTime"] = note_date
    if v.kind == "bp":
        obs["component"] = []
        for kind, value in v.components:
            c_code, c_display, c_ucum, c_unit = VITAL_LOINC[kind]
            obs["component"].append({
                "code": {"coding": [{"system": LOINC, "code": c_code, "display": c_display}]},
                "valueQuantity": {"value": value, "unit": c_unit, "system": UCUM, "code": c_ucum},
            })
    else:
        unit = {"[degF]": "F", "[lb_av]": "lb", "[in_i]": "in"}.get(v.unit, unit_display)
        obs["valueQuantity"] = {"value": v.value, "unit": unit, "system": UCUM, "code": v.unit}
    obs["extension"] = [{"url": SPAN_EXTENSION, "extension": [
        {"url": "source", "valueReference": {"reference": source_url}},
        {"url": "offset", "valueInteger": v.span.start},
        {"url": "length", "valueInteger": v.span.length()},
        {"url": "match", "valueCode": "pattern"},
    ]}]
    return obs


def device(b: BundleBuilder, model_label: str) -> dict[str, Any]:
    names = [("softtiger " + __version__, "user-friendly-name"), (model_label or "unknown model", "model-name")]
    if b.version == "R4B":
        return {"resourceType": "Device", "deviceName": [{"name": n, "type": t} for n, t in names],
                "version": [{"value": __version__}]}
    return {"resourceType": "Device", "name": [{"value": names[0][0], "type": "user-friendly-name"},
                                               {"value": names[1][0], "type": "registered-name"}],
            "version": [{"value": __version__}]}


