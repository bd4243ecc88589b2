"""Extractions -> one FHIR Bundle, built by code: ids, references, the Composition and its sections.

Element values are placed by following each field's `x-fhir` annotation in the extraction schema (type,
cardinality, child element), so the same code builds R4B and R5 resources. Ids are UUIDv5 over the
note's hash, the model, the options and the item, so the same note, model and options give a
byte-identical bundle (apart from the timestamp, which can be pinned).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import uuid
from dataclasses import dataclass
from typing import Any

from . import __version__
from .abbreviations import expand_text
from .extract import VITAL_WORDS, Extraction, Item
from .vitals import VITAL_LOINC, Vital
from .fhirmodel import element
from .schema import CONDITION_CLINICAL

LOINC = "http://loinc.org"
SPAN_EXTENSION = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/source-span"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
UCUM = "http://unitsofmeasure.org"
_NS = uuid.UUID("5b0c7c36-4c47-4b0e-9b61-3f1c6c1e2a10")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|months?|mo)\b", re.I)
_UCUM_UNITS = {"m": ("min", "minutes"), "h": ("h", "hours"), "d": ("d", "days"), "w": ("wk", "weeks"), "mo": ("mo", "months")}


@dataclass(frozen=True)
class SectionDef:
    key: str
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
    SectionDef("past_illness", "11348-0", "History of Past illness Narrative", "Past Illness History"),
    SectionDef("family", "10157-6", "History of family member diseases Narrative", "Family History"),
    SectionDef("plan", "18776-5", "Plan of care note", "Plan of Care"),
    SectionDef("impression", "51848-0", "Evaluation note", "Clinical Impression"),
)
REQUIRED_SECTION_CODES = {s.code for s in SECTIONS if s.required}


@dataclass(frozen=True)
class AssemblyOptions:
    timestamp: str  # FHIR instant, e.g. 2026-11-26T12:00:00Z
    options_key: str = ""  # options that change the output, folded into ids


def _key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _duration(text: str) -> dict[str, Any] | None:
    m = _DURATION.match(text)
    if not m:
        return None
    unit = m.group(2).lower()
    short = "mo" if unit.startswith("mo") else unit[0]
    code, name = _UCUM_UNITS[short]
    return {"value": float(m.group(1)) if "." in m.group(1) else int(m.group(1)), "unit": name,
            "system": UCUM, "code": code}


def _div(lines: list[str], empty: str = "No information about this was found in the note.") -> dict[str, str]:
    body = ("<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in lines) + "</ul>") if lines else f"<p>{html.escape(empty)}</p>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _span_extensions(item: Item, source_url: str) -> list[dict[str, Any]]:
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


def _note_document(b: "BundleBuilder", ex: Extraction) -> dict[str, Any]:
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


class BundleBuilder:
    """Collects entries, mints deterministic ids and resolves text references to shared resources."""

    def __init__(self, extractions: list[Extraction], opts: AssemblyOptions) -> None:
        first = extractions[0]
        tasks = "+".join(e.task for e in extractions)
        self.version = first.version
        self.base = f"{first.note.sha256}|{first.model_label}|{tasks}|{self.version}|{opts.options_key}"
        self.entries: list[dict[str, Any]] = []
        self.by_key: dict[tuple[str, str], str] = {}
        self.patient_url = self.url("Patient")
        self.sections: dict[str, list[tuple[str, str]]] = {s.key: [] for s in SECTIONS}

    def url(self, *parts: str) -> str:
        return "urn:uuid:" + str(uuid.uuid5(_NS, self.base + "|" + "|".join(parts)))

    def add(self, resource: dict[str, Any], url: str) -> str:
        rid = url.removeprefix("urn:uuid:")
        ordered = {"resourceType": resource["resourceType"], "id": rid}
        ordered.update({k: v for k, v in resource.items() if k not in ("resourceType", "id")})
        self.entries.append({"fullUrl": url, "resource": ordered})
        return url

    def subject_field(self, resource: str) -> str:
        return "subject" if element(self.version, resource, "subject") is not None else "patient"

    def shared(self, resource_type: str, text: str) -> str:
        """A Condition or Location named by text, made once and referenced from everywhere it is named."""
        key = (resource_type, _key(text))
        if key in self.by_key:
            return self.by_key[key]
        url = self.url(resource_type, key[1])
        if resource_type == "Condition":
            res = {"resourceType": "Condition",
                   "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
                   "code": {"text": text}, "subject": {"reference": self.patient_url}}
            self.sections["problems"].append((url, text))
        elif resource_type == "Location":
            res = {"resourceType": "Location", "name": text}
        else:  # pragma: no cover - the schema only names these two
            raise ValueError(f"cannot build a {resource_type} from text")
        self.by_key[key] = url
        return self.add(res, url)

    # -- values ------------------------------------------------------------------------------------
    def _leaf(self, x: dict[str, Any], value: str) -> Any:
        t = x["type"]
        if t in ("string", "markdown", "code", "date", "dateTime"):
            return value
        if t == "CodeableConcept":
            return {"coding": [{"system": x["system"], "code": value}]} if x.get("system") else {"text": value}
        if t == "Coding":
            return {"system": x.get("system", ""), "code": value}
        if t == "CodeableReference":
            if x.get("ref"):
                return {"reference": {"reference": self.shared(x["ref"], value), "display": value}}
            return {"concept": {"text": value}}
        if t == "Reference":
            if x.get("ref"):
                return {"reference": self.shared(x["ref"], value), "display": value}
            return {"display": value}
        if t == "Annotation":
            return {"text": value}
        if t == "Duration":
            return _duration(value)
        raise ValueError(f"no placement for FHIR type {t}")

    def _one(self, node: dict[str, Any], x: dict[str, Any], value: Any) -> Any:
        if node.get("type") == "object":
            obj = {}
            for key, sub in node["properties"].items():
                built = self.build(sub, (value or {}).get(key))
                if built is not None:
                    obj[key] = built
            return obj or None
        if value in (None, ""):
            return None
        if "child" in x:
            child = x["child"]
            inner = self._leaf(child, value)
            if inner is None:
                return None
            return {child["name"]: [inner] if child.get("list") else inner}
        return self._leaf(x, value)

    def build(self, node: dict[str, Any], value: Any) -> Any:
        """The FHIR JSON for one extracted field, following its schema node's x-fhir annotation."""
        x = node.get("x-fhir", {})
        if node.get("type") == "array":
            built = [self._one(node["items"], x, v) for v in (value or [])]
            built = [b for b in built if b is not None]
            return built or None
        one = self._one(node, x, value)
        if one is None:
            return None
        return [one] if x.get("list") else one


def _label(resource: dict[str, Any]) -> str:
    for key in ("code", "medicationCodeableConcept", "vaccineCode"):
        if isinstance(resource.get(key), dict) and resource[key].get("text"):
            return resource[key]["text"]
    med = resource.get("medication")
    if isinstance(med, dict):
        return med.get("concept", {}).get("text", "") or med.get("reference", {}).get("display", "")
    return str(resource.get("description") or resource.get("summary") or resource["resourceType"])


def _complete(res: dict[str, Any], version: str) -> tuple[dict[str, Any], str]:
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
        vital = bool(VITAL_WORDS.search(_label(res)))
        res["category"] = [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs" if vital else "laboratory"}]}]
        section = "vitals" if vital else "results"
    elif rtype == "CarePlan":
        res.setdefault("status", "active")
        res.setdefault("intent", "plan")
    elif rtype == "MedicationStatement" and "status" not in res:
        res["status"] = "active" if version == "R4B" else "recorded"
    return res, section


def ex_note_text(extractions: list[Extraction]) -> str:
    return extractions[0].note.text


def _apply_assertion(item: Item, note: str) -> dict[str, Any]:
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


def _place_onset(res: dict[str, Any], item: Item, version: str) -> None:
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


def _reshape_for_assertion(res: dict[str, Any], item: Item, section: str, b: "BundleBuilder") -> tuple[dict[str, Any], str]:
    """Family items become FamilyMemberHistory, planned ones a CarePlan, historical ones Past illness."""
    a = item.assertion
    if a is None or res["resourceType"] != "Condition":
        return res, section
    text = res.get("code", {}).get("text", "")
    if a.subject == "family":
        rel = a.relationship
        from .context import RELATION_CODES

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


def _vital_line(v: Vital, note: str) -> str:
    return note[v.span.start : v.span.end]


def _vital_observation(v: Vital, b: "BundleBuilder", note_date: str | None, source_url: str) -> dict[str, Any]:
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


def _device(b: BundleBuilder, model_label: str) -> dict[str, Any]:
    names = [("softtiger " + __version__, "user-friendly-name"), (model_label or "unknown model", "model-name")]
    if b.version == "R4B":
        return {"resourceType": "Device", "deviceName": [{"name": n, "type": t} for n, t in names],
                "version": [{"value": __version__}]}
    return {"resourceType": "Device", "name": [{"value": names[0][0], "type": "user-friendly-name"},
                                               {"value": names[1][0], "type": "registered-name"}],
            "version": [{"value": __version__}]}


def assemble(extractions: list[Extraction], opts: AssemblyOptions, schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One Bundle for every task run on a note: a document (IPS) when IPS is among them, else a collection."""
    b = BundleBuilder(extractions, opts)
    tasks = {e.task for e in extractions}
    patient: dict[str, Any] = {"resourceType": "Patient"}
    encounter_url = None
    impression_urls: list[str] = []
    pending: list[tuple[str, dict[str, Any], Item]] = []
    for ex in extractions:
        schema = schemas[ex.task]
        if ex.patient.get("name"):
            patient["name"] = [{"text": ex.patient["name"]}]
        for key in ("gender", "birthDate"):
            if ex.patient.get(key):
                patient[key] = ex.patient[key]
        for group, items in ex.groups.items():
            node = schema["properties"][group]
            item_node = node["items"] if node.get("type") == "array" else node
            rtype = item_node["x-fhir"]["resource"]
            for item in items:
                url = b.url(group, item.key) if node.get("type") == "array" else b.url(group)
                if rtype == "Condition" and item.key:
                    b.by_key[("Condition", item.key)] = url  # later text references reuse this Condition
                pending.append((url, {"resourceType": rtype, "_node": item_node}, item))
    b.add(patient, b.patient_url)
    source_url = b.url("DocumentReference")
    b.add(_note_document(b, extractions[0]), source_url)
    for url, stub, item in pending:
        node = stub.pop("_node")
        res = dict(stub)
        res[b.subject_field(res["resourceType"])] = {"reference": b.patient_url}
        values = _apply_assertion(item, ex_note_text(extractions))
        for key, sub in node["properties"].items():
            if sub.get("x-fhir", {}).get("assertion"):
                continue
            built = b.build(sub, values.get(key))
            if built is not None:
                res[key] = built
        _place_onset(res, item, b.version)
        res, section = _complete(res, b.version)
        res, section = _reshape_for_assertion(res, item, section, b)
        ext = _span_extensions(item, source_url)
        if ext:
            res["extension"] = ext
        b.add(res, url)
        if res["resourceType"] == "Encounter":
            encounter_url = url
        elif res["resourceType"] == "ClinicalImpression":
            impression_urls.append(url)
        if section and (section != "problems" or all(u != url for u, _ in b.sections["problems"])):
            b.sections[section].append((url, _label(res)))
    for ex in extractions:
        for vital in ex.vitals:
            url = b.url("vital", vital.kind, str(vital.span.start))
            b.add(_vital_observation(vital, b, ex.note_date, source_url), url)
            b.sections["vitals"].append((url, _vital_line(vital, ex.note.text)))
    if encounter_url:
        for entry in b.entries:
            if entry["resource"]["resourceType"] == "ClinicalImpression":
                entry["resource"]["encounter"] = {"reference": encounter_url}
    device_url = b.url("Device")
    b.add(_device(b, extractions[0].model_label), device_url)
    bundle_url = b.url("Bundle")
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "id": bundle_url.removeprefix("urn:uuid:"),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": bundle_url},
        "timestamp": opts.timestamp,
    }
    if "ips" not in tasks:
        bundle["type"] = "collection"
        bundle["entry"] = b.entries
        return bundle
    sections = []
    for sdef in SECTIONS:
        refs = b.sections[sdef.key]
        if not refs and not sdef.required:
            continue
        section: dict[str, Any] = {
            "title": sdef.title,
            "code": {"coding": [{"system": LOINC, "code": sdef.code, "display": sdef.display}]},
            "text": _div([line for _, line in refs]),
        }
        if refs:
            section["entry"] = [{"reference": url} for url, _ in refs]
        else:
            section["emptyReason"] = {"coding": [{"system": EMPTY_REASON, "code": "unavailable", "display": "Unavailable"}]}
        sections.append(section)
    composition_url = b.url("Composition")
    composition: dict[str, Any] = {
        "resourceType": "Composition", "id": composition_url.removeprefix("urn:uuid:"), "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": b.patient_url} if b.version == "R4B" else [{"reference": b.patient_url}],
        "date": opts.timestamp,
        "author": [{"reference": device_url}],
        "title": "Patient summary generated by softtiger from a clinical note",
        "section": sections,
    }
    if encounter_url:
        composition["encounter"] = {"reference": encounter_url}
    bundle["type"] = "document"
    bundle["entry"] = [{"fullUrl": composition_url, "resource": composition}, *b.entries]
    return bundle
