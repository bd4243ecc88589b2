"""Terminology layer (softtiger_cli/terms): coding, mention finding, shipped data (fast, no model)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from softtiger_cli import terms
from softtiger_cli.terms import (
    CVX_SYSTEM,
    ICD10CM_SYSTEM,
    code_condition,
    code_drug,
    code_vaccine,
    find_mentions,
    is_known_code,
    normalise,
)
from softtiger_cli.terms import curated

# Written for this test: everyday outpatient wording -> the ICD-10-CM code a coder would pick.
CONDITIONS = {
    "hypertension": "I10", "HTN": "I10", "high blood pressure": "I10",
    "Essential (primary) hypertension": "I10",
    "type 2 diabetes": "E11.9", "T2DM": "E11.9", "diabetes mellitus type 2": "E11.9",
    "Type 2 diabetes mellitus without complications": "E11.9", "type 1 diabetes": "E10.9",
    "CHF": "I50.9", "congestive heart failure": "I50.9", "Congestive heart failure NOS": "I50.9",
    "COPD": "J44.9", "chronic obstructive pulmonary disease": "J44.9",
    "atrial fibrillation": "I48.91", "afib": "I48.91", "A-fib": "I48.91",
    "GERD": "K21.9", "acid reflux": "K21.9", "hyperlipidemia": "E78.5", "high cholesterol": "E78.00",
    "hypothyroidism": "E03.9", "asthma": "J45.909", "osteoarthritis of knee": "M17.9",
    "low back pain": "M54.50", "Low back pain, unspecified": "M54.50", "depression": "F32.A",
    "anxiety": "F41.9", "migraine": "G43.909", "obesity": "E66.9", "CKD": "N18.9",
    "chronic kidney disease stage 3": "N18.30", "pneumonia": "J18.9", "UTI": "N39.0",
    "urinary tract infection": "N39.0", "chest pain": "R07.9", "shortness of breath": "R06.02",
    "cough": "R05.9", "headache": "R51.9", "headaches": "R51.9", "fatigue": "R53.83",
    "dizziness": "R42", "lightheadedness": "R42", "coronary artery disease": "I25.10",
    "obstructive sleep apnea": "G47.33", "BPH": "N40.0", "gout": "M10.9", "anemia": "D64.9",
    "iron deficiency anemia": "D50.9", "insomnia": "G47.00", "constipation": "K59.00",
    "nausea": "R11.0", "palpitations": "R00.2", "DVT": "I82.409", "stroke": "I63.9",
    "Crohn's disease": "K50.90", "Alzheimer's disease": "G30.9", "kidney stones": "N20.0",
    "allergic rhinitis": "J30.9", "rheumatoid arthritis": "M06.9",
}

# brand or generic name -> canonical ingredient display
DRUGS = {
    "Lasix": "Furosemide", "furosemide": "Furosemide", "lisinopril": "Lisinopril",
    "Zestril": "Lisinopril", "metformin": "Metformin", "Glucophage": "Metformin",
    "Lipitor": "Atorvastatin", "atorvastatin": "Atorvastatin", "Norvasc": "Amlodipine",
    "Synthroid": "Levothyroxine", "levothyroxine": "Levothyroxine", "Eliquis": "Apixaban",
    "Xarelto": "Rivaroxaban", "Coumadin": "Warfarin", "Plavix": "Clopidogrel", "aspirin": "Aspirin",
    "Tylenol": "Acetaminophen", "Advil": "Ibuprofen", "Motrin": "Ibuprofen", "Zoloft": "Sertraline",
    "Lexapro": "Escitalopram", "Prilosec": "Omeprazole", "Protonix": "Pantoprazole",
    "albuterol": "Albuterol", "Ventolin": "Albuterol", "gabapentin": "Gabapentin",
    "Neurontin": "Gabapentin", "prednisone": "Prednisone", "Ozempic": "Semaglutide",
    "Jardiance": "Empagliflozin", "hydrochlorothiazide": "Hydrochlorothiazide", "HCTZ": "Hydrochlorothiazide",
    "Keflex": "Cephalexin", "amlodipine": "Amlodipine", "Flomax": "Tamsulosin",
}


@pytest.mark.parametrize(("text", "code"), sorted(CONDITIONS.items()))
def test_code_condition(text: str, code: str) -> None:
    c = code_condition(text)
    assert c is not None, text
    assert (c.system, c.code) == (ICD10CM_SYSTEM, code)
    assert c.display and is_known_code(c.system, c.code)


@pytest.mark.parametrize(("text", "name"), sorted(DRUGS.items()))
def test_code_drug(text: str, name: str) -> None:
    d = code_drug(text)
    assert d is not None, text
    assert d.display == name
    assert d.codings == ()  # THO names no system for the source's ids


def test_code_drug_inside_text() -> None:
    assert code_drug("lisinopril 20 mg daily").display == "Lisinopril"
    assert code_drug("Lasix 40 mg PO BID").display == "Furosemide"
    assert code_drug("take one tablet every morning") is None


def test_code_condition_is_exact_never_fuzzy() -> None:
    assert code_condition("hypertensoin") is None
    assert code_condition("history of hypertension and diabetes") is None
    assert code_condition("MS") is None and code_condition("PE") is None and code_condition("RA") is None


def test_code_vaccine() -> None:
    assert code_vaccine("flu shot") == terms.Coding(CVX_SYSTEM, "88", "influenza, unspecified formulation")
    assert code_vaccine("Tdap").code == "115"
    assert code_vaccine("Shingrix").code == "187"
    assert code_vaccine("Pneumovax 23").code == "33"
    assert code_vaccine("got her COVID-19 vaccine in March").code == "213"
    assert code_vaccine("tetanus shot") is None  # Td or Tdap: the words do not say


def test_normalise() -> None:
    assert normalise("Congestive Heart-Failure.") == "congestive heart failure"
    assert normalise("headaches") == normalise("headache")
    assert normalise("allergies") == normalise("allergy")
    assert normalise("Crohn's disease") == normalise("Crohns disease")
    assert normalise("pain in the right knee") == "pain in right knee"
    assert normalise("diabetes mellitus") == normalise("Diabetes Mellitus")
    assert normalise("abscesses") == "abscess" and normalise("rashes") == "rash"


def _spans_ok(text: str, mentions) -> None:
    for m in mentions:
        assert text[m.start:m.end] == m.text


def test_find_mentions_spans_and_longest_match() -> None:
    text = "Assessment: Congestive heart failure, hypertension. Plan: continue Lasix 20 mg daily."
    ms = find_mentions(text)
    _spans_ok(text, ms)
    conds = [(m.text, m.code.code) for m in ms if m.kind == "condition"]
    assert ("Congestive heart failure", "I50.9") in conds
    assert ("hypertension", "I10") in conds
    assert not any(m.text == "heart failure" for m in ms)
    meds = [m for m in ms if m.kind == "medication"]
    assert [(m.text, m.display, m.code) for m in meds] == [("Lasix", "Furosemide", None)]


def test_find_mentions_word_boundaries_and_plurals() -> None:
    text = "She enjoys painting. Headaches twice a week; no chest pains."
    ms = find_mentions(text)
    _spans_ok(text, ms)
    assert not any(m.start < 20 for m in ms)  # nothing inside "painting"
    found = {(m.text, m.term) for m in ms}
    assert ("Headaches", "headache") in found
    assert ("chest pains", "chest pain") in found


def test_find_mentions_does_not_span_punctuation() -> None:
    ms = find_mentions("Pain in the chest. Pain, back and forth.")
    assert not any(m.term in ("chest pain", "back pain") for m in ms)


def test_ambiguous_abbreviations_need_the_caller() -> None:
    text = "PMH: MS, PE last year, RA. No MI."
    assert [m for m in find_mentions(text) if m.kind == "condition"] == []
    ms = find_mentions(text, extra_terms={"PE": "pulmonary embolism", "RA": "rheumatoid arthritis"})
    _spans_ok(text, ms)
    got = {(m.text, m.code.code, m.via) for m in ms}
    assert ("PE", "I26.99", "pe") in got and ("RA", "M06.9", "ra") in got
    assert not any(m.text == "MS" for m in ms)


def test_extra_terms_abbreviation_table() -> None:
    table = {"htn": "hypertension", "t2dm": "type 2 diabetes mellitus", "hf": "heart failure",
             "asa": "aspirin", "po": "by mouth", "im": "intramuscular"}
    text = "Hx of HTN and HF. I'm on ASA 81 mg PO."
    ms = find_mentions(text, extra_terms=table)
    _spans_ok(text, ms)
    got = {(m.kind, m.text) for m in ms}
    assert ("condition", "HTN") in got and ("condition", "HF") in got
    assert ("medication", "ASA") in got
    assert not any(m.text in ("PO", "I'm") for m in ms)
    hf = next(m for m in ms if m.text == "HF")
    assert hf.code.code == "I50.9" and hf.term == "heart failure"
    # short abbreviations only match in capitals
    assert not any(m.text == "ha" for m in find_mentions("ha ha", extra_terms={"ha": "headache"}))


def test_curated_short_abbreviations_need_capitals() -> None:
    assert [m.text for m in find_mentions("He has CHF and CKD.")] == ["CHF", "CKD"]
    assert find_mentions("the chf file; a cad") == []


def test_drug_brand_in_a_sentence() -> None:
    text = "Her cardiologist switched her from Coumadin to Eliquis 5 mg twice a day last month."
    ms = [m for m in find_mentions(text) if m.kind == "medication"]
    _spans_ok(text, ms)
    assert [(m.text, m.display) for m in ms] == [("Coumadin", "Warfarin"), ("Eliquis", "Apixaban")]


def test_drug_span_covers_only_the_name() -> None:
    text = "metformin 500 mg twice daily"
    (m,) = [m for m in find_mentions(text) if m.kind == "medication"]
    assert (m.start, m.end, m.text) == (0, 9, "metformin")


def test_vaccine_mentions_and_cross_kind_containment() -> None:
    text = "She got her flu shot and her COVID-19 vaccine; Shingrix is due."
    ms = find_mentions(text)
    _spans_ok(text, ms)
    vacc = [(m.text, m.code.code if m.code else None) for m in ms if m.kind == "vaccine"]
    assert vacc == [("flu shot", "88"), ("COVID-19 vaccine", "213"), ("Shingrix", "187")]
    assert not any(m.kind == "condition" and m.text in ("flu", "COVID-19") for m in ms)


def test_common_words_are_not_drugs() -> None:
    text = "She reports a fall at home and takes care of her grandchildren. Hemoglobin A1c is 7.2."
    assert [m for m in find_mentions(text) if m.kind == "medication"] == []


def test_everything_emitted_is_known() -> None:
    text = open(__file__, encoding="utf-8").read()
    for m in find_mentions(text):
        if m.code is not None:
            assert is_known_code(m.code.system, m.code.code), m
    assert is_known_code(ICD10CM_SYSTEM, "I10") and is_known_code(ICD10CM_SYSTEM, "S72.001A")
    assert not is_known_code(ICD10CM_SYSTEM, "I10.0") and not is_known_code(CVX_SYSTEM, "9999")
    assert not is_known_code("http://example.org", "I10")


def test_curated_codes_exist_in_shipped_lists() -> None:
    for term, code in curated.CONDITION_SYNONYMS.items():
        assert is_known_code(ICD10CM_SYSTEM, code), (term, code)
        assert code_condition(term).code == code, term
    for term, code in curated.VACCINE_TERMS.items():
        if code is not None:
            assert is_known_code(CVX_SYSTEM, code), (term, code)


def test_import_reads_no_data() -> None:
    code = ("import sys, softtiger_cli.terms as t, softtiger_cli.terms.lexicon as L; "
            "assert not L._cache, L._cache; assert 'softtiger_cli.terms.build' not in sys.modules; "
            "assert not any(m.startswith(('typer', 'rich', 'numpy')) for m in sys.modules), 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_manifest_names_sources() -> None:
    m = terms.manifest()
    assert set(m["sources"]) == {"simple-icd-10-cm", "drug-named-entity-recognition", "wordfreq"}
    assert m["counts"]["icd10cm_codes"] > 98000


_SOURCES = ("simple_icd_10_cm", "drug_named_entity_recognition", "wordfreq")


@pytest.mark.skipif(any(importlib.util.find_spec(s) is None for s in _SOURCES),
                    reason="terms sources not installed (pip install -e '.[dev]')")
def test_check_terms_passes_on_committed_data() -> None:
    from softtiger_cli.terms.build import DATA_DIR, check_terms

    assert check_terms(DATA_DIR) == []


def test_check_terms_says_how_to_install_when_sources_missing(monkeypatch, tmp_path) -> None:
    from softtiger_cli.terms import build

    monkeypatch.setattr(build, "missing_sources", lambda: ["simple-icd-10-cm"])
    (problem,) = build.check_terms(tmp_path)
    assert "simple-icd-10-cm" in problem and "pip install" in problem
