"""Clinical meaning: negation, family, history and planned items; abbreviations; dates; vital signs."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import PINNED_TIMESTAMP
from softtiger_cli.clinical.abbreviations import abbreviations_for, expand, expand_text, glossary
from softtiger_cli.fhir.assemble import AssemblyOptions, assemble
from softtiger_cli.clinical.assertions import assert_span
from softtiger_cli.clinical.dates import find_note_date, resolve
from softtiger_cli.pipeline.analyse import analyse
from softtiger_cli.pipeline.decide import decide
from softtiger_cli.pipeline.extract import answer_item
from softtiger_cli.pipeline.ground import find_with_abbreviations, ground_item
from conftest import hand_extraction
from softtiger_cli.note.grounding import Grounder
from softtiger_cli.note.reader import decode_note
from softtiger_cli.note.sections import sections, sentences
from softtiger_cli.fhir.validate import validate_bundle
from softtiger_cli.fhir.assemble import REQUIRED_SECTION_CODES
from softtiger_cli.clinical.vitals import read_vitals

NOTE = ("Date of visit: 2026-03-14\n\nHPI: 62 year old woman. She denies chest pain. Mother with T2DM. "
        "HTN since 2015. Cough x3d. Possible pneumonia.\nPast medical history: appendicitis.\n"
        "Vitals: BP 132/78, HR 96, Temp 38.1 C, SpO2 94%.\nPlan: will start metformin. Consider CT chest.\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("3 days ago", "2026-03-11"), ("x3d", "2026-03-11"), ("last March", "2025-03"), ("2015", "2015"),
    ("since 2015", "2015"), ("POD 2", "2026-03-12"), ("03/01/2026", "2026-03-01"), ("June 2020", "2020-06"),
    ("yesterday", "2026-03-13"), ("2 years ago", "2024"), ("onset unclear", None), ("", None),
])
def test_dates_resolve_with_the_right_precision(text: str, expected: str | None) -> None:
    assert resolve(text, dt.date(2026, 3, 14)) == expected


def test_relative_dates_need_a_note_date() -> None:
    assert resolve("3 days ago", None) is None and resolve("last March", None) is None
    assert resolve("2015", None) == "2015"
    assert find_note_date(NOTE) == dt.date(2026, 3, 14)
    assert find_note_date("no date here") is None


def test_abbreviations_and_their_ambiguous_cases() -> None:
    assert expand("HTN").expansion == "hypertension"
    assert expand_text("HTN, T2DM") == "hypertension, type 2 diabetes mellitus"
    ms = expand("MS")
    assert ms.expansion is None and "multiple sclerosis" in ms.readings and "mitral stenosis" in ms.readings
    assert expand("MS", "systolic murmur, mitral valve on echo").expansion == "mitral stenosis"
    assert expand("RA", "SpO2 94% on RA").expansion == "room air"
    assert expand("PE", "").expansion is None
    assert expand_text("PE", "") == "PE"  # ambiguous and undecided: kept as written
    assert "htn" in abbreviations_for("hypertension")
    assert glossary("PMHx HTN, s/p CABG") == ["HTN = hypertension", "CABG = coronary artery bypass graft"]
    g = Grounder(NOTE)
    span = find_with_abbreviations(g, "hypertension", None)
    assert span is not None and NOTE[span.start:span.end] == "HTN" and span.method == "abbreviation"


@pytest.mark.parametrize(("word", "certainty", "subject", "time"), [
    ("chest pain", "negated", "patient", "current"),
    ("T2DM", "affirmed", "family", "current"),
    ("HTN", "affirmed", "patient", "current"),
    ("pneumonia", "possible", "patient", "current"),
    ("appendicitis", "affirmed", "patient", "current"),  # the section alone says nothing; status.py decides
    ("metformin", "affirmed", "patient", "planned"),
    ("CT chest", "affirmed", "patient", "planned"),
])
def test_context_rules(word: str, certainty: str, subject: str, time: str) -> None:
    i = NOTE.index(word)
    secs = sections(NOTE)
    sec = next(s for s in secs if s.start <= i < s.end)
    a, _ = assert_span(NOTE, i, i + len(word), sec, sentences(NOTE, sec.body_start, sec.end))
    assert (a.certainty, a.subject, a.time) == (certainty, subject, time)


def test_vital_signs_by_pattern() -> None:
    vitals = {v.kind: v for v in read_vitals(NOTE)}
    assert vitals["bp"].components == (("systolic", 132), ("diastolic", 78))
    assert (vitals["hr"].value, vitals["hr"].unit) == (96, "/min")
    assert (vitals["temp"].value, vitals["temp"].unit) == (38.1, "Cel")
    assert (vitals["spo2"].value, vitals["spo2"].unit) == (94, "%")
    assert read_vitals("BP was normal. HR regular.") == []


def _hand_built(values_list: list[dict]) -> dict:
    """A hand-built model answer for the problems group, fed through grounding, rules and assembly."""
    note = decode_note(NOTE.encode(), "n.txt")
    analysis = analyse(note)
    ex, schemas = hand_extraction(note, note_date="2026-03-14")
    for values in values_list:
        node = schemas["ips"]["properties"]["problems"]["items"]
        item = answer_item("problems", values, node)
        ground_item(item, analysis.grounder, node, False, (0, len(NOTE)))
        if item.spans:
            ex.groups["problems"] += decide(item, ex, analysis)
    ex.vitals = analysis.vitals
    bundle = assemble(ex, AssemblyOptions(timestamp=PINNED_TIMESTAMP), schemas)
    assert validate_bundle(bundle, "R4B", ips_required=REQUIRED_SECTION_CODES) == []
    return bundle


def _resources(bundle: dict, rtype: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def test_negated_and_family_items_land_in_the_right_resources() -> None:
    base = {"clinicalStatus": "active", "verificationStatus": "confirmed", "subject": "patient",
            "relationship": "", "time": "current", "onsetString": ""}
    bundle = _hand_built([{"code": "chest pain", **base}, {"code": "T2DM", **base}, {"code": "appendicitis", **base}])
    conditions = _resources(bundle, "Condition")
    denied = [c for c in conditions if "chest pain" in c["code"]["text"]]
    assert len(denied) == 1 and "clinicalStatus" not in denied[0]  # kept as a pertinent negative, refuted
    assert denied[0]["verificationStatus"]["coding"][0]["code"] == "refuted"
    assert not any("diabetes" in c["code"]["text"].lower() or "T2DM" in c["code"]["text"] for c in conditions)
    fmh = _resources(bundle, "FamilyMemberHistory")
    assert len(fmh) == 1 and fmh[0]["relationship"]["coding"][0]["code"] == "MTH"
    past = [c for c in conditions if "appendicitis" in c["code"]["text"]]
    assert past and past[0]["clinicalStatus"]["coding"][0]["code"] == "inactive"
    sections_by_code = {s["code"]["coding"][0]["code"]: s for s in bundle["entry"][0]["resource"]["section"]}
    assert "10157-6" in sections_by_code and "11348-0" in sections_by_code


def test_hypertension_since_2015_gets_its_onset_and_expansion() -> None:
    bundle = _hand_built([{"code": "hypertension", "clinicalStatus": "active", "verificationStatus": "confirmed",
                           "subject": "patient", "relationship": "", "time": "current", "onsetString": ""}])
    htn = [c for c in _resources(bundle, "Condition") if c["code"]["text"] == "hypertension"]
    assert len(htn) == 1
    assert htn[0]["onsetDateTime"] == "2015"
    span = {part["url"]: part for part in htn[0]["extension"][0]["extension"]}
    start, length = span["offset"]["valueInteger"], span["length"]["valueInteger"]
    assert NOTE[start:start + length] == "HTN"


def test_bp_panel_with_loinc_and_ucum() -> None:
    bundle = _hand_built([])
    obs = _resources(bundle, "Observation")
    bp = next(o for o in obs if o["code"]["coding"][0]["code"] == "85354-9")
    comps = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in bp["component"]}
    assert comps["8480-6"] == {"value": 132, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}
    assert comps["8462-4"]["value"] == 78
    hr = next(o for o in obs if o["code"]["coding"][0]["code"] == "8867-4")
    assert hr["valueQuantity"]["code"] == "/min" and hr["effectiveDateTime"] == "2026-03-14"
    assert all(o["category"][0]["coding"][0]["code"] == "vital-signs" for o in obs)


def _vitals_lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, line) for the lines of a VITALS section that state a number next to a vital label."""
    m = __import__("re").search(r"^VITALS[^\n]*\n(.*?)(?=^[A-Z][A-Z ]{3,}$|\Z)", text, 0x8 | 0x10)  # re.M | re.S
    if not m:
        return []
    out, pos = [], m.start(1)
    for line in m.group(1).splitlines(keepends=True):
        if __import__("re").search(r"\d", line) and __import__("re").search(
                r"pressure|bp|heart|pulse|hr|resp|rr|temp|spo2|saturation|oxygenation|weight|height|bmi", line, 2):
            out.append((pos, pos + len(line), line))
        pos += len(line)
    return out


def test_aci_vitals_sections_become_coded_observations() -> None:
    from conftest import dev_notes

    from conftest import REPO

    # a prose visit note of the tests' own (always), and the ACI-Bench dev notes when they are beside us
    notes = [REPO / "tests" / "data" / "prose-visit.txt"] + [p for p in dev_notes("aci-bench") if "\nVITALS" in p.read_text()]
    loinc_for = [("pressure", "85354-9"), (r"bp\b", "85354-9"), ("heart", "8867-4"), ("pulse ox", "59408-5"),
                 ("oxygen", "59408-5"), ("spo2", "59408-5"), ("pulse", "8867-4"), (r"hr\b", "8867-4"),
                 ("resp", "9279-1"), (r"rr\b", "9279-1"), ("temp", "8310-5"), ("weight", "29463-7"),
                 ("height", "8302-2"), ("bmi", "39156-5")]
    checked = 0
    for path in notes:
        note = decode_note(path.read_bytes(), path.name)
        ex, schemas = hand_extraction(note)
        ex.vitals = read_vitals(note.text)
        bundle = assemble(ex, AssemblyOptions(timestamp=PINNED_TIMESTAMP), schemas)
        assert validate_bundle(bundle, "R4B", ips_required=REQUIRED_SECTION_CODES) == []
        obs = _resources(bundle, "Observation")
        for start, end, line in _vitals_lines(note.text):
            if __import__("re").search(r"\d0s\b", line):
                continue  # "60s" states a range, not a value
            label = line.lower()
            want = next(code for word, code in loinc_for if __import__("re").search(r"\b" + word, label))
            hits = [o for o in obs if start <= o["extension"][0]["extension"][1]["valueInteger"] < end]
            assert hits, (path.name, line)
            assert any(want in [c["code"] for c in o["code"]["coding"]] for o in hits), (path.name, line, hits)
            for o in hits:
                q = [o["valueQuantity"]] if "valueQuantity" in o else [c["valueQuantity"] for c in o["component"]]
                assert all(x["system"] == "http://unitsofmeasure.org" and x["code"] for x in q)
            checked += 1
    assert checked >= (20 if len(notes) > 1 else 5)


def test_tiny_model_bundle_respects_negation_family_and_vitals(replay_backend) -> None:
    """The tiny model's recorded answers on examples/assertions.txt (tests/data/replay/)."""
    from conftest import EXAMPLES
    from softtiger_cli.note.reader import read_note
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    note = read_note(str(EXAMPLES / "assertions.txt"))
    result = structure_note(replay_backend(), note, StructureOptions(tasks=("ips",), timestamp=PINNED_TIMESTAMP))
    bundle = result.bundle
    active = [c for c in _resources(bundle, "Condition")
              if c.get("clinicalStatus", {}).get("coding", [{}])[0].get("code") == "active"]
    assert not any("chest pain" in c["code"]["text"].lower() for c in active)
    assert not any("diabet" in c["code"]["text"].lower() or "t2dm" in c["code"]["text"].lower()
                   for c in _resources(bundle, "Condition"))
    bp = [o for o in _resources(bundle, "Observation") if o["code"].get("coding", [{}])[0].get("code") == "85354-9"]
    assert len(bp) == 1
    values = {c["code"]["coding"][0]["code"]: (c["valueQuantity"]["value"], c["valueQuantity"]["code"]) for c in bp[0]["component"]}
    assert values == {"8480-6": (132, "mm[Hg]"), "8462-4": (78, "mm[Hg]")}
    assert bp[0]["effectiveDateTime"] == "2026-03-14"
