"""Assembly and validation on hand-built extractions (pure logic: no model)."""

from __future__ import annotations

import copy

import pytest

from softtiger_cli.assemble import REQUIRED_SECTION_CODES, AssemblyOptions, assemble_ips
from softtiger_cli.extract import Extraction, Item
from softtiger_cli.grounding import Span
from softtiger_cli.notes import decode_note
from softtiger_cli.validate import validate_bundle

NOTE = "Hypertension since 2015. Lisinopril 10 mg daily. Allergic to penicillin (hives)."


def _extraction(empty: bool = False) -> Extraction:
    note = decode_note(NOTE.encode(), "note.txt")
    groups = {g: [] for g in ("patient", "problems", "medications", "allergies", "procedures", "immunizations", "results", "plan")}
    if not empty:
        groups["problems"] = [Item("problems", {"code": "Hypertension", "clinicalStatus": "active", "onsetString": "2015"},
                                   [Span(0, 12, "exact")], "exact")]
        groups["medications"] = [Item("medications", {"medicationCodeableConcept": "Lisinopril 10 mg", "status": "active",
                                                      "dosage": "daily"}, [Span(25, 41, "exact")], "exact")]
        groups["allergies"] = [Item("allergies", {"code": "penicillin", "criticality": "low", "reaction": "hives"},
                                    [Span(62, 72, "exact")], "exact")]
    return Extraction(note=note, task="ips", version="R4B", model_label="test", groups=groups,
                      patient={"gender": "female"}, chunks=[(0, len(NOTE))])


def _bundle(empty: bool = False) -> dict:
    return assemble_ips(_extraction(empty), AssemblyOptions(timestamp="2026-01-01T00:00:00Z"))


def _composition(bundle: dict) -> dict:
    return bundle["entry"][0]["resource"]


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
    for entry in bundle["entry"][3:]:
        for ext in entry["resource"].get("extension", []):
            parts = {e["url"]: e for e in ext["extension"]}
            start = parts["offset"]["valueInteger"]
            assert 0 <= start < len(NOTE)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: _composition(b).__setitem__("status", "finalx"), "required value set"),
        (lambda b: b["entry"][3]["resource"]["clinicalStatus"]["coding"][0].__setitem__("code", "gone"), "required value set"),
        (lambda b: b["entry"].insert(0, b["entry"].pop(1)), "first entry must be the Composition"),
        (lambda b: _composition(b)["section"].pop(0), "required IPS section 11450-4 is missing"),
        (lambda b: _composition(b)["section"][0].pop("entry"), "needs entries or an emptyReason"),
        (lambda b: _composition(b)["section"][0].pop("text"), "narrative text"),
        (lambda b: _composition(b)["subject"].__setitem__("reference", "urn:uuid:nowhere"), "does not resolve"),
        (lambda b: _composition(b)["type"]["coding"][0].__setitem__("code", "11503-0"), "60591-5"),
        (lambda b: b.__setitem__("type", "collection"), "document"),
        (lambda b: b["entry"][4]["resource"].pop("status"), "status"),
    ],
)
def test_invalid_bundles_are_rejected(mutate, expected: str) -> None:
    bundle = copy.deepcopy(_bundle())
    mutate(bundle)
    problems = validate_bundle(bundle, "R4B", ips_required=REQUIRED_SECTION_CODES)
    assert any(expected in p for p in problems), problems


def test_validation_messages_do_not_echo_values() -> None:
    bundle = _bundle()
    bundle["entry"][3]["resource"]["onsetString"] = {"secret": "Hypertension"}
    problems = validate_bundle(bundle, "R4B", ips_required=REQUIRED_SECTION_CODES)
    assert problems and not any("Hypertension" in p for p in problems)
