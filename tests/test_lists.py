"""The list reader: items, their groups and exact spans, on notes written for these tests (not dev notes),
and its place in extraction: negation cues inside another item's name, covered questions, and the tiny
model's recorded answers (tests/data/replay/test_lists.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import dev_notes
from softtiger_cli.clinical.assertions import assert_span
from softtiger_cli.clinical.lists import implied_status, read_lists
from softtiger_cli.note.sections import sections, sentences


def _read(note: str) -> list[tuple[str, str]]:
    items, _ = read_lists(note, sections(note))
    for item in items:
        assert note[item.start:item.end] == item.text
    return [(i.group, i.text) for i in items]


def test_history_list_with_semantic_tags_and_a_name_that_starts_with_not() -> None:
    note = ("HISTORY:\nMr. Doe has a history of asthma (disorder), not in labor force (finding), migraine, "
            "and gout.\n")
    assert _read(note) == [("problems", "asthma"), ("problems", "not in labor force"), ("problems", "migraine"),
                           ("problems", "gout")]


def test_medication_section_one_line_with_semicolons_and_one_per_line() -> None:
    semis = "Medications:\naspirin 81 mg daily; metoprolol 25 mg twice a day; insulin glargine 10 units\n"
    assert [t for _, t in _read(semis)] == ["aspirin 81 mg daily", "metoprolol 25 mg twice a day",
                                             "insulin glargine 10 units"]
    lines = "CURRENT MEDICATIONS\n1. Warfarin 5 mg\n2. Furosemide 40 mg, in the morning\n"
    assert _read(lines) == [("medications", "Warfarin 5 mg"), ("medications", "Furosemide 40 mg, in the morning")]


def test_bullets_after_a_lead_line_take_the_leads_group() -> None:
    note = ("Plan\nThe following procedures were performed:\n- colonoscopy\n* removal of polyp (procedure)\n\n"
            "She was started on:\n- omeprazole 20 mg\n")
    assert _read(note) == [("procedures", "colonoscopy"), ("procedures", "removal of polyp"),
                           ("medications", "omeprazole 20 mg")]
    assert implied_status("procedures", ["preparation", "completed"]) == "completed"
    assert implied_status("medications", ["recorded", "draft"]) == "recorded"  # R5 names it differently


def test_substances_presented_with_are_allergies_and_untagged_neighbours_follow() -> None:
    note = "Assessment:\nPatient presents with peanut (substance), cat dander (substance), penicillin.\n"
    assert _read(note) == [("allergies", "peanut"), ("allergies", "cat dander"), ("allergies", "penicillin")]


def test_vaccine_names_keep_their_commas_and_none_statements_are_not_items() -> None:
    note = ("Immunizations given today: hepatitis b, adult, 20 mcg dose.\n\nALLERGIES\nNo known drug allergies.\n")
    items, regions = read_lists(note, sections(note))
    assert [(i.group, i.text) for i in items] == [("immunizations", "hepatitis b, adult, 20 mcg dose")]
    assert any(g == "allergies" for _, _, g in regions)  # settled: the model is not asked for allergies


def test_chief_complaint_is_a_problem_unless_it_is_a_reason_for_the_visit() -> None:
    assert _read("CHIEF COMPLAINT\nLeft knee pain.\n\nHPI\nPain for 2 days.\n") == [("problems", "Left knee pain")]
    assert _read("CC: Annual exam.\n") == []
    assert _read("Chief complaint:\nFollow up visit for diabetes.\n") == []


def test_history_sentences_lose_their_dates_and_operations_are_procedures() -> None:
    note = "PAST MEDICAL HISTORY\nAsthma since 2009. Gout. Cholecystectomy in 2012.\n"
    assert _read(note) == [("problems", "Asthma"), ("problems", "Gout"), ("procedures", "Cholecystectomy")]


def test_status_post_names_one_item_not_the_rest_of_the_sentence() -> None:
    assert _read("Pt s/p knee replacement 2019, c/o fatigue x2d.\n") == [("procedures", "knee replacement")]


def test_prose_lists_stop_at_a_new_clause_and_drop_determiners() -> None:
    note = "She has a history of diabetes, which is well controlled, and hypertension.\n"
    assert _read(note) == [("problems", "diabetes")]
    note = "He has a history of the gout and takes colchicine when it flares.\n"
    assert _read(note) == [("problems", "gout")]


def test_a_negation_word_inside_another_items_name_is_no_cue() -> None:
    note = "Patient has a history of not in labor force (finding), asthma (disorder).\n"
    items, _ = read_lists(note, sections(note))
    names = [(i.start, i.end) for i in items]
    asthma = next(i for i in items if i.text == "asthma")
    plain, _ = _assert(note, asthma.start, asthma.end)
    aware, _ = _assert(note, asthma.start, asthma.end, names)
    assert plain.certainty == "negated"  # what a window-based ConText reading alone concludes
    assert aware.certainty == "affirmed"
    negated = "Patient denies a history of asthma.\n"
    items, _ = read_lists(negated, sections(negated))
    assertion, _ = _assert(negated, items[0].start, items[0].end, [(i.start, i.end) for i in items])
    assert assertion.certainty == "negated"


def _assert(note: str, start: int, end: int, names: list[tuple[int, int]] | tuple = ()):
    secs = sections(note)
    sec = next(s for s in secs if s.start <= start < s.end)
    return assert_span(note, start, end, sec, sentences(note, sec.body_start, sec.end), names)


@pytest.mark.parametrize("kind", ["synthea", "aci-bench", "tests-data"])
def test_every_item_span_indexes_the_dev_note(kind: str) -> None:
    from conftest import REPO

    paths = sorted((REPO / "tests" / "data").glob("*.txt")) if kind == "tests-data" else dev_notes(kind)
    if not paths:
        pytest.skip("../shared/data/eval-dev is not here")  # the tests-data case always runs
    for path in paths:
        note = path.read_text(encoding="utf-8")
        items, regions = read_lists(note, sections(note))
        for item in items:
            assert note[item.start:item.end] == item.text
        for lo, hi, _ in regions:
            assert 0 <= lo < hi <= len(note)


def test_tiny_model_reads_list_note_and_marks_item_origins(replay_backend) -> None:
    """The tiny model's answers, replayed: list items are kept with origin 'list'; lists of a group settle
    its question."""
    from softtiger_cli.fhir.grammars import load
    from softtiger_cli.fhir.schema import TASKS
    from softtiger_cli.note.reader import decode_note
    from softtiger_cli.pipeline.analyse import analyse
    from softtiger_cli.pipeline.extract import TaskGrammar, extract

    text = ("Chief Complaint\nCough.\n\nHistory\nShe has a history of asthma (disorder), eczema (disorder).\n\n"
            "Medications\nalbuterol 90 mcg inhaler; fluticasone 110 mcg inhaler\n\nAllergies\nPenicillin (hives)\n")
    grammar = load("R4B", "ips")
    analysis = analyse(decode_note(text.encode(), "t.txt"))
    ex = extract(replay_backend(), analysis, [TaskGrammar(TASKS["ips"], grammar.schema, grammar.gbnf_text)], "R4B", "tiny",
                 keep_debug=True)
    meds = {i.values["medicationCodeableConcept"]: i for i in ex.groups["medications"]}
    assert {"albuterol 90 mcg inhaler", "fluticasone 110 mcg inhaler"} <= set(meds)
    assert all(i.origin in ("list", "both") and i.values["status"] == "active" for i in meds.values())
    assert {"asthma", "eczema"} <= {i.values["code"] for i in ex.groups["problems"]}
    allergy = next(i for i in ex.groups["allergies"] if i.origin in ("list", "both"))
    assert (allergy.values["code"], allergy.values["reaction"]) == ("Penicillin", "hives")
    asked = [record["group"] for record in ex.debug]
    assert asked and "patient" in asked  # the model was asked what lists do not settle ...
    assert "medications" not in asked and "allergies" not in asked  # ... and not what they do
    assert ex.covered_questions >= 2


def test_every_synthea_medication_is_named_as_its_list_item_writes_it() -> None:
    """Over the Synthea dev notes (when present), by rule: each item of a "# Medications" line ("a; b; c") is
    one medication named exactly as written (issue 24: 154 of 324 were cut short at a comma or a bracket)."""
    import sys

    from conftest import DEV_DIR
    from softtiger_cli.note.reader import read_note
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    folder = DEV_DIR / "synthea"
    if not folder.is_dir():
        pytest.skip("../shared/data/eval-dev is not here")
    sys.path.insert(0, str(Path(__file__).parent))
    from scripted import ScriptedBackend

    wrong, total = [], 0
    for path in sorted(folder.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        listed = [x.strip() for i, line in enumerate(lines) if line.strip() == "# Medications" and i + 1 < len(lines)
                  for x in lines[i + 1].split(";") if x.strip() and not x.strip().lower().startswith("no active")]
        if not listed:
            continue
        bundle = structure_note(ScriptedBackend(), read_note(str(path), "en"),
                                StructureOptions(timestamp="2026-01-01T00:00:00Z")).bundle
        names = {e["resource"].get("medicationCodeableConcept", {}).get("text") for e in bundle["entry"]
                 if e["resource"]["resourceType"] in ("MedicationStatement", "MedicationRequest")}
        total += len(listed)
        wrong += [(path.name, x) for x in listed if x not in names]
    assert total > 100 and not wrong, f"{len(wrong)} of {total} not named as written, e.g. {wrong[:5]}"
