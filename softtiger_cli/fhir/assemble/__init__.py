"""Extraction -> one FHIR Bundle, built by code: ids, references, the Composition and its sections.

builder.py places values and mints ids, resources.py makes each resource, sections.py the Composition's
sections. Ids are UUIDv5 over the note's hash, the model, the options and the item, so the same note, model
and options give a byte-identical bundle (apart from the timestamp, which can be pinned).
"""

from __future__ import annotations

from typing import Any

from softtiger_cli.core.data import Extraction, Item
from softtiger_cli.lang.text import BCP47
from softtiger_cli.fhir.assemble.builder import DERIVATION_REFERENCE, AssemblyOptions, BundleBuilder
from softtiger_cli.fhir.assemble.meaning import reshape, status_values
from softtiger_cli.fhir.assemble.resources import (complete, device, label, note_document, place_onset,
                                                   span_extensions, vital_observation)
from softtiger_cli.fhir.assemble.sections import REQUIRED_SECTION_CODES, SECTIONS, composition

__all__ = ["AssemblyOptions", "DERIVATION_REFERENCE", "REQUIRED_SECTION_CODES", "SECTIONS", "assemble"]


def assemble(ex: Extraction, opts: AssemblyOptions, schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One Bundle for every task run on a note: a document (IPS) when IPS is among them, else a collection."""
    b = BundleBuilder(ex, opts)
    patient: dict[str, Any] = {"resourceType": "Patient"}
    if ex.patient.get("name"):
        patient["name"] = [{"text": ex.patient["name"]}]
    for key in ("gender", "birthDate"):
        if ex.patient.get(key):
            patient[key] = ex.patient[key]
    encounter_url = None
    pending: list[tuple[str, str, dict[str, Any], Item]] = []
    for group, items in ex.groups.items():
        node = schemas[ex.group_task[group]]["properties"][group]
        item_node = node["items"] if node.get("type") == "array" else node
        rtype = item_node["x-fhir"]["resource"]
        for item in items:
            url = b.url(group, item.key) if node.get("type") == "array" else b.url(group)
            if rtype == "Condition" and item.key:
                b.by_key[("Condition", item.key)] = url  # later text references reuse this Condition
            pending.append((url, rtype, item_node, item))
    b.add(patient, b.patient_url)
    source_url = b.url("DocumentReference")
    b.add(note_document(b, ex), source_url)
    for url, rtype, node, item in pending:
        res: dict[str, Any] = {"resourceType": rtype, b.subject_field(rtype): {"reference": b.patient_url}}
        values = status_values(item, ex.note.text, b.version)
        for key, sub in node["properties"].items():
            if sub.get("x-fhir", {}).get("assertion"):
                continue
            built = b.build(sub, values.get(key))
            if built is not None:
                res[key] = built
        place_onset(res, item, b.version)
        res, section = complete(res, b.version)
        res, meant = reshape(res, item, b.patient_url, b.version)
        section = meant or section
        if res["resourceType"] == "ClinicalImpression" and ex.note_date and not any(k.startswith("effective") for k in res):
            res["effectiveDateTime"] = ex.note_date
        ext = span_extensions(item, source_url)
        if ext:
            res["extension"] = ext
        b.add(res, url)
        if res["resourceType"] == "Encounter":
            encounter_url = url
        if section and (section != "problems" or all(u != url for u, _ in b.sections["problems"])):
            b.sections[section].append((url, label(res)))
    for vital in ex.vitals:
        url = b.url("vital", vital.kind, str(vital.span.start))
        b.add(vital_observation(vital, b, ex.note_date, source_url), url)
        b.sections["vitals"].append((url, ex.note.text[vital.span.start : vital.span.end]))
    if encounter_url:
        for entry in b.entries:
            if entry["resource"]["resourceType"] == "ClinicalImpression":
                entry["resource"]["encounter"] = {"reference": encounter_url}
    device_url = b.url("Device")
    b.add(device(b, ex.model_label), device_url)
    bundle_url = b.url("Bundle")
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "id": bundle_url.removeprefix("urn:uuid:"),
        "language": BCP47[ex.note.lang],  # the note's language, which its items' texts are written in
        "identifier": {"system": "urn:ietf:rfc:3986", "value": bundle_url},
        "timestamp": opts.timestamp,
    }
    if "ips" not in ex.tasks:
        bundle["type"] = "collection"
        bundle["entry"] = b.entries
        return bundle
    composition_url = b.url("Composition")
    doc = composition(b, composition_url, opts.timestamp, device_url, encounter_url)
    bundle["type"] = "document"
    bundle["entry"] = [{"fullUrl": composition_url, "resource": doc}, *b.entries]
    return bundle
