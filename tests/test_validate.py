"""Assembly and validation on hand-built extractions (pure logic: no model)."""

from __future__ import annotations

import copy

import pytest

from softtiger_cli.fhir.assemble import REQUIRED_SECTION_CODES, AssemblyOptions, assemble
from softtiger_cli.core.data import Extraction, Item
from softtiger_cli.fhir.grammars import load
from softtiger_cli.core.data import Span
from softtiger_cli.note.reader import decode_note
from softtiger_cli.fhir.validate import validate_bundle

NOTE = "Hypertension since 2015. Lisinopril 10 mg daily. Allergic to penicillin (hives)."


def _extraction(empty: bool = False) -> Extraction:
    note = decode_note(NOTE.encode(), "note.txt")
    groups = {g: [] for g in ("patient", "problems", "medications", "allergies", "procedures", "immunizations", "results", "plan")}
    if not empty:
        groups["problems"] = [Item("problems", {"code": "Hypertension", "clinicalStatus": "active", "onsetString": "2015"},
                                   [Span(0, 12, "exact")], "exact", text_field="code")]
        groups["medications"] = [Item("medications", {"medicationCodeableConcept": "Lisinopril 10 mg", "status": "active",
                                                      "dosage": "daily"}, [Span(25, 41, "exact")], "exact",
                                      text_field="medicationCodeableConcept")]
        groups["allergies"] = [Item("allergies", {"code": "penicillin", "criticality": "low", "reaction": "hives"},
                                    [Span(62, 72, "exact")], "exact", text_field="code")]
    del groups["patient"]
    return Extraction(note=note, tasks=("ips",), version="R4B", model_label="test", groups=groups,
                      group_task={g: "ips" for g in groups}, patient={"gender": "female"}, chunks=[(0, len(NOTE))])


def _bundle(empty: bool = False) -> dict:
    return assemble(_extraction(empty), AssemblyOptions(timestamp="2026-01-01T00:00:00Z"),
                    {"ips": load("R4B", "ips").schema})


def _composition(bundle: dict) -> dict:
    return bundle["entry"][0]["resource"]


def _first(bundle: dict, rtype: str) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype)


def test_assembled_bundle_validates() -> None:
    assert validate_bundle(_bundle(), "R4B", ips_required=REQUIRED_SECTION_CODES) == []


def test_empty_required_sections_carry_an_empty_reason() -> None:
    bundle = _bundle(empty=True)
    assert validate_bundle(bundle, "R4B", ips_required=REQUIRED_SECTION_CODES) == []
    sections = _composition(bundle)["section"]
    assert {s["code"]["coding"][0]["code"] for s in sections} == REQUIRED_SECTION_CODES
    assert all("emptyReason" in s and "div" in s["text"] for s in sections)


def test_ids_are_deterministic() -> None:
    assert _bundle() == _bundle()


def test_spans_index_the_note() -> None:
    bundle = _bundle()
    import base64

    doc = _first(bundle, "DocumentReference")
    text = base64.b64decode(doc["content"][0]["attachment"]["data"]).decode()
    assert text == NOTE
    seen = 0
    for entry in bundle["entry"]:
        for ext in entry["resource"].get("extension", []):
            parts = {e["url"]: e for e in ext["extension"]}
            start, length = parts["offset"]["valueInteger"], parts["length"]["valueInteger"]
            assert parts["reference"]["valueReference"]["reference"].endswith(doc["id"])
            assert 0 <= start and start + length <= len(text)
            seen += 1
    assert seen == 3
    hypertension = _first(bundle, "Condition")["extension"][0]["extension"]
    assert text[hypertension[1]["valueInteger"]:][: hypertension[2]["valueInteger"]] == "Hypertension"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: _composition(b).__setitem__("status", "finalx"), "required value set"),
        (lambda b: _first(b, "Condition")["clinicalStatus"]["coding"][0].__setitem__("code", "gone"), "required value set"),
        (lambda b: b["entry"].insert(0, b["entry"].pop(1)), "first entry must be the Composition"),
        (lambda b: _composition(b)["section"].pop(0), "required IPS section 11450-4 is missing"),
        (lambda b: _composition(b)["section"][0].pop("entry"), "needs entries or an emptyReason"),
        (lambda b: _composition(b)["section"][0].pop("text"), "narrative text"),
        (lambda b: _composition(b)["subject"].__setitem__("reference", "urn:uuid:nowhere"), "does not resolve"),
        (lambda b: _composition(b)["type"]["coding"][0].__setitem__("code", "11503-0"), "60591-5"),
        (lambda b: b.__setitem__("type", "collection"), "document"),
        (lambda b: _first(b, "MedicationStatement").pop("status"), "status"),
    ],
)
def test_invalid_bundles_are_rejected(mutate, expected: str) -> None:
    bundle = copy.deepcopy(_bundle())
    mutate(bundle)
    problems = validate_bundle(bundle, "R4B", ips_required=REQUIRED_SECTION_CODES)
    assert any(expected in p for p in problems), problems


def test_validation_messages_do_not_echo_values() -> None:
    bundle = _bundle()
    _first(bundle, "Condition")["onsetString"] = {"secret": "Hypertension"}
    problems = validate_bundle(bundle, "R4B", ips_required=REQUIRED_SECTION_CODES)
    assert problems and not any("Hypertension" in p for p in problems)


ENC_NOTE = ("Admitted 2026-02-02 from the emergency department with pneumonia, discharged home 2026-02-06. "
            "Seen by Dr. Smith on Ward 5. Assessment: improving community-acquired pneumonia on antibiotics.")


def _all_tasks(version: str, tasks: tuple[str, ...] = ("ips", "impression", "encounter")) -> tuple[Extraction, dict]:
    note = decode_note(ENC_NOTE.encode(), "enc.txt")
    schemas = {t: load(version, t).schema for t in ("ips", "impression", "encounter")}
    groups: dict[str, list[Item]] = {
        "problems": [Item("problems", {"code": "pneumonia", "clinicalStatus": "active", "onsetString": ""},
                          [Span(56, 65, "exact")], "exact", text_field="code")],
        "medications": [], "allergies": [], "procedures": [], "immunizations": [], "results": [], "plan": []}
    group_task = {g: "ips" for g in groups}
    enc_props = schemas["encounter"]["properties"]["encounter"]["properties"]
    period_key = "period" if version == "R4B" else "actualPeriod"
    hosp_key = "hospitalization" if version == "R4B" else "admission"
    reason_key = "reasonCode" if version == "R4B" else "reason"
    assert {period_key, hosp_key, reason_key} <= set(enc_props)
    enc_values = {"status": "completed" if version == "R5" else "finished", "class": "IMP", "type": "",
                  "serviceType": "", "priority": "", reason_key: ["pneumonia"],
                  "diagnosis": [{"condition": "pneumonia", "use": "discharge"}],
                  period_key: {"start": "2026-02-02", "end": "2026-02-06"}, "length": "4 days",
                  hosp_key: {"admitSource": "emergency department", "dischargeDisposition": "home"},
                  "location": ["Ward 5"], "participant": ["Dr. Smith"]}
    groups["encounter"], group_task["encounter"] = [Item("encounter", enc_values, [], "exact", text_field="status")], "encounter"
    imp_props = schemas["impression"]["properties"]["impression"]["properties"]
    item_key = "itemCodeableConcept" if version == "R4B" else "item"
    imp_values = {k: "" for k in imp_props}
    imp_values.update({"status": "completed", "summary": "improving community-acquired pneumonia",
                       "problem": ["pneumonia"], "finding": [{item_key: "pneumonia", "basis": ""}],
                       "prognosisCodeableConcept": "", "note": ""})
    groups["impression"], group_task["impression"] = [Item("impression", imp_values, [], "exact",
                                                                  text_field=next(iter(imp_props)))], "impression"
    order = [g for t in tasks for g in groups if group_task[g] == t]
    ex = Extraction(note=note, tasks=tasks, version=version, model_label="test", groups={g: groups[g] for g in order},
                    group_task={g: group_task[g] for g in order}, patient={}, chunks=[(0, len(ENC_NOTE))])
    return ex, schemas


@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_all_three_tasks_link_in_one_document(version: str) -> None:
    extraction, schemas = _all_tasks(version)
    bundle = assemble(extraction, AssemblyOptions(timestamp="2026-01-01T00:00:00Z"), schemas)
    assert validate_bundle(bundle, version, ips_required=REQUIRED_SECTION_CODES) == []
    by_type: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry)
    assert len(by_type["Patient"]) == 1 and len(by_type["Encounter"]) == 1
    assert len(by_type["Condition"]) == 1  # IPS, Encounter.diagnosis and ClinicalImpression.problem share it
    composition = bundle["entry"][0]["resource"]
    encounter_url = by_type["Encounter"][0]["fullUrl"]
    assert composition["encounter"]["reference"] == encounter_url
    impression = by_type["ClinicalImpression"][0]
    assert impression["resource"]["encounter"]["reference"] == encounter_url
    assert any(impression["fullUrl"] == e["reference"] for s in composition["section"] for e in s.get("entry", []))
    enc = by_type["Encounter"][0]["resource"]
    assert enc["length"] == {"value": 4, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}
    if version == "R4B":
        assert enc["class"]["code"] == "IMP" and enc["period"]["start"] == "2026-02-02"
        assert enc["hospitalization"]["dischargeDisposition"] == {"text": "home"}
        assert impression["resource"]["finding"][0]["itemCodeableConcept"] == {"text": "pneumonia"}
    else:
        assert enc["class"][0]["coding"][0]["code"] == "IMP" and enc["actualPeriod"]["end"] == "2026-02-06"
        assert enc["admission"]["admitSource"] == {"text": "emergency department"}
        assert "reference" in impression["resource"]["finding"][0]["item"] or "concept" in impression["resource"]["finding"][0]["item"]


@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_without_ips_the_bundle_is_a_collection(version: str) -> None:
    extraction, schemas = _all_tasks(version, ("impression", "encounter"))
    bundle = assemble(extraction, AssemblyOptions(timestamp="2026-01-01T00:00:00Z"), schemas)
    assert bundle["type"] == "collection"
    assert validate_bundle(bundle, version) == []
    assert not any(e["resource"]["resourceType"] == "Composition" for e in bundle["entry"])
