"""Extraction -> FHIR Bundle, built by code: ids, references, the Composition and its sections.

Ids are UUIDv5 over the note's hash, the model, the options and the item, so the same note, model and
options give a byte-identical bundle (apart from the timestamp, which can be pinned).
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from typing import Any

from . import __version__
from .extract import Extraction, Item

LOINC = "http://loinc.org"
SPAN_EXTENSION = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/source-span"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
_NS = uuid.UUID("5b0c7c36-4c47-4b0e-9b61-3f1c6c1e2a10")
_VITAL_WORDS = re.compile(
    r"\b(bp|blood pressure|pulse|heart rate|hr|temp|temperature|resp|respiratory|rr|spo2|o2 sat|"
    r"oxygen saturation|saturation|weight|height|bmi|body mass)\b",
    re.I,
)


@dataclass(frozen=True)
class SectionDef:
    group: str
    code: str
    display: str
    title: str
    required: bool = False


SECTIONS = (
    SectionDef("problems", "11450-4", "Problem list - Reported", "Active Problems", True),
    SectionDef("medications", "10160-0", "History of Medication use Narrative", "Medication Summary", True),
    SectionDef("allergies", "48765-2", "Allergies and adverse reactions Document", "Allergies and Intolerances", True),
    SectionDef("procedures", "47519-4", "History of Procedures Document", "History of Procedures"),
    SectionDef("immunizations", "11369-6", "History of Immunization Narrative", "Immunizations"),
    SectionDef("results", "30954-2", "Relevant diagnostic tests/laboratory data Narrative", "Results"),
    SectionDef("vitals", "8716-3", "Vital signs", "Vital Signs"),
    SectionDef("plan", "18776-5", "Plan of care note", "Plan of Care"),
)
REQUIRED_SECTION_CODES = {s.code for s in SECTIONS if s.required}


@dataclass(frozen=True)
class AssemblyOptions:
    timestamp: str  # FHIR instant, e.g. 2026-11-26T12:00:00Z
    options_key: str = ""  # options that change the output, folded into ids


class _Ids:
    def __init__(self, ex: Extraction, options_key: str) -> None:
        self.base = f"{ex.note.sha256}|{ex.model_label}|{ex.task}|{ex.version}|{options_key}"

    def make(self, *parts: str) -> str:
        return str(uuid.uuid5(_NS, self.base + "|" + "|".join(parts)))


def _cc(text: str) -> dict[str, Any]:
    return {"text": text}


def _coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _span_extensions(item: Item) -> list[dict[str, Any]]:
    return [
        {
            "url": SPAN_EXTENSION,
            "extension": [
                {"url": "offset", "valueInteger": s.start},
                {"url": "length", "valueInteger": s.length()},
                {"url": "match", "valueCode": s.method},
            ],
        }
        for s in sorted(item.spans, key=lambda s: (s.start, s.end))
    ]


def _div(lines: list[str]) -> dict[str, str]:
    if lines:
        body = "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in lines) + "</ul>"
    else:
        body = "<p>No information about this was found in the note.</p>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _resource(item: Item, patient_ref: dict[str, str]) -> tuple[str, dict[str, Any], str]:
    """(section group, resource, one-line narrative) for one item."""
    v = item.values
    ext = _span_extensions(item)
    if item.group == "problems":
        res = {"resourceType": "Condition", "clinicalStatus": _coded(CONDITION_CLINICAL, v.get("clinicalStatus") or "active"),
               "code": _cc(v["code"]), "subject": patient_ref}
        if v.get("onsetString"):
            res["onsetString"] = v["onsetString"]
        return "problems", res, v["code"]
    if item.group == "medications":
        name = v.get("medicationCodeableConcept") or v.get("medication", "")
        res = {"resourceType": "MedicationStatement", "status": v.get("status") or "unknown",
               "medicationCodeableConcept": _cc(name), "subject": patient_ref}
        if v.get("dosage"):
            res["dosage"] = [{"text": v["dosage"]}]
        line = name + (f" ({v['dosage']})" if v.get("dosage") else "")
        return "medications", res, line
    if item.group == "allergies":
        res = {"resourceType": "AllergyIntolerance", "clinicalStatus": _coded(ALLERGY_CLINICAL, "active"),
               "code": _cc(v["code"]), "patient": patient_ref}
        if v.get("criticality"):
            res["criticality"] = v["criticality"]
        if v.get("reaction"):
            res["reaction"] = [{"manifestation": [_cc(v["reaction"])]}]
        return "allergies", res, v["code"]
    if item.group == "procedures":
        res = {"resourceType": "Procedure", "status": v.get("status") or "completed", "code": _cc(v["code"]),
               "subject": patient_ref}
        if v.get("performedString"):
            res["performedString"] = v["performedString"]
        return "procedures", res, v["code"]
    if item.group == "immunizations":
        res = {"resourceType": "Immunization", "status": "completed", "vaccineCode": _cc(v["vaccineCode"]),
               "patient": patient_ref, "occurrenceString": v.get("occurrenceString") or "date not stated in the note"}
        return "immunizations", res, v["vaccineCode"]
    if item.group == "results":
        vital = bool(_VITAL_WORDS.search(v["code"]))
        category = "vital-signs" if vital else "laboratory"
        res = {"resourceType": "Observation", "status": "final",
               "category": [_coded(OBS_CATEGORY, category)], "code": _cc(v["code"]), "subject": patient_ref}
        if v.get("valueString"):
            res["valueString"] = v["valueString"]
        line = v["code"] + (f": {v['valueString']}" if v.get("valueString") else "")
        return ("vitals" if vital else "results"), res, line
    if item.group == "plan":
        res = {"resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": patient_ref,
               "description": v["description"]}
        return "plan", res, v["description"]
    raise ValueError(f"no FHIR mapping for group {item.group!r}")


def assemble_ips(ex: Extraction, opts: AssemblyOptions) -> dict[str, Any]:
    """Build the IPS document Bundle (FHIR R4B/R4) for one extraction."""
    ids = _Ids(ex, opts.options_key)
    patient_id = ids.make("Patient")
    device_id = ids.make("Device")
    patient_ref = {"reference": f"urn:uuid:{patient_id}"}
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    if ex.patient.get("name"):
        patient["name"] = [{"text": ex.patient["name"]}]
    if ex.patient.get("gender"):
        patient["gender"] = ex.patient["gender"]
    if ex.patient.get("birthDate"):
        patient["birthDate"] = ex.patient["birthDate"]
    device = {
        "resourceType": "Device", "id": device_id,
        "deviceName": [{"name": f"softtiger {__version__}", "type": "user-friendly-name"},
                       {"name": ex.model_label or "unknown model", "type": "model-name"}],
        "version": [{"value": __version__}],
    }
    entries: list[dict[str, Any]] = []
    by_section: dict[str, list[tuple[str, str]]] = {s.group: [] for s in SECTIONS}
    for group, items in ex.groups.items():
        for item in items:
            section, res, line = _resource(item, patient_ref)
            rid = ids.make(group, item.key)
            res = {"resourceType": res["resourceType"], "id": rid, **{k: v for k, v in res.items() if k != "resourceType"}}
            ext = _span_extensions(item)
            if ext:
                res["extension"] = ext
            entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": res})
            by_section[section].append((rid, line))
    sections = []
    for sdef in SECTIONS:
        refs = by_section[sdef.group]
        if not refs and not sdef.required:
            continue
        section: dict[str, Any] = {
            "title": sdef.title,
            "code": {"coding": [{"system": LOINC, "code": sdef.code, "display": sdef.display}]},
            "text": _div([line for _, line in refs]),
        }
        if refs:
            section["entry"] = [{"reference": f"urn:uuid:{rid}"} for rid, _ in refs]
        else:
            section["emptyReason"] = {"coding": [{"system": EMPTY_REASON, "code": "unavailable", "display": "Unavailable"}]}
        sections.append(section)
    composition_id = ids.make("Composition")
    composition = {
        "resourceType": "Composition", "id": composition_id, "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": patient_ref, "date": opts.timestamp,
        "author": [{"reference": f"urn:uuid:{device_id}"}],
        "title": "Patient summary generated by softtiger from a clinical note",
        "section": sections,
    }
    bundle_id = ids.make("Bundle")
    return {
        "resourceType": "Bundle", "id": bundle_id,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        "type": "document", "timestamp": opts.timestamp,
        "entry": [
            {"fullUrl": f"urn:uuid:{composition_id}", "resource": composition},
            {"fullUrl": f"urn:uuid:{patient_id}", "resource": patient},
            {"fullUrl": f"urn:uuid:{device_id}", "resource": device},
            *entries,
        ],
    }
