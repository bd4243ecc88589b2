"""One FHIR resource per decided item, and the fixed ones (the note, the Device), built in code."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from softtiger_cli import __version__
from softtiger_cli.clinical.vitals import VITAL_LOINC, VITAL_WORDS
from softtiger_cli.core.data import Extraction, Item, Vital
from softtiger_cli.lang.text import BCP47
from softtiger_cli.fhir.assemble.sections import LOINC
from softtiger_cli.fhir.assemble.builder import (ALLERGY_CLINICAL, DERIVATION_REFERENCE, OBS_CATEGORY, SPAN_MATCH,
                                                 SPAN_ORIGIN, UCUM, BundleBuilder)
from softtiger_cli.fhir.assemble.meaning import DAR_URL
from softtiger_cli.fhir.schema import CONDITION_CLINICAL

def span_extension(start: int, length: int, source_url: str, match: str, origin: str) -> dict[str, Any]:
    """FHIR's derivation-reference: where in the note (the DocumentReference) a resource came from, with
    softtiger's match kind and origin as sub-extensions of its own."""
    parts: list[dict[str, Any]] = [
        {"url": "reference", "valueReference": {"reference": source_url}},
        {"url": "offset", "valueInteger": start},
        {"url": "length", "valueInteger": length},
        {"url": SPAN_MATCH, "valueCode": match},
    ]
    if origin:
        parts.append({"url": SPAN_ORIGIN, "valueCode": origin})
    return {"url": DERIVATION_REFERENCE, "extension": parts}


def span_extensions(item: Item, source_url: str) -> list[dict[str, Any]]:
    """One extension per span: offset and length in characters into the note carried by the bundle."""
    return [span_extension(s.start, s.length(), source_url, s.method, item.origin)
            for s in sorted(item.spans, key=lambda s: (s.start, s.end))]


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
        "description": "The clinical note this bundle was made from; derivation-reference offsets index its text.",
        "content": [{"attachment": {
            "contentType": "text/plain; charset=utf-8",
            "language": BCP47[ex.note.lang],
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
    section = {"Condition": "problems", "MedicationStatement": "medications", "MedicationRequest": "medications",
               "AllergyIntolerance": "allergies", "Procedure": "procedures", "Immunization": "immunizations",
               "CarePlan": "plan", "ServiceRequest": "plan", "ClinicalImpression": "impression"}.get(rtype, "")
    refuted = "refuted" in str(res.get("verificationStatus", ""))
    if rtype == "Condition" and "clinicalStatus" not in res and not refuted:
        res["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]}
    elif rtype == "AllergyIntolerance":
        res.setdefault("clinicalStatus", {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]})
    elif rtype == "Immunization":
        res.setdefault("status", "completed")
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
    else:  # the vital-signs profile requires effective[x]: the note gives no date
        obs["_effectiveDateTime"] = {"extension": [{"url": DAR_URL, "valueCode": "unknown"}]}
    if v.kind == "spo2":  # the vital-signs profile's oxygen saturation code, beside the pulse-oximetry one
        obs["code"]["coding"].insert(0, {"system": LOINC, "code": "2708-6", "display": "Oxygen saturation in Arterial blood"})
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
    obs["extension"] = [span_extension(v.span.start, v.span.length(), source_url, "pattern", "pattern")]
    return obs


def device(b: BundleBuilder, model_label: str) -> dict[str, Any]:
    names = [("softtiger " + __version__, "user-friendly-name"), (model_label or "unknown model", "model-name")]
    if b.version == "R4B":
        return {"resourceType": "Device", "deviceName": [{"name": n, "type": t} for n, t in names],
                "version": [{"value": __version__}]}
    return {"resourceType": "Device", "name": [{"value": names[0][0], "type": "user-friendly-name"},
                                               {"value": names[1][0], "type": "registered-name"}],
            "version": [{"value": __version__}]}


