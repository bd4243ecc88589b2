"""`softtiger eval` on status gold (kind, text, status): FHIR R4B / R5 mapping, matching, status accuracy,
strict F1, harmful errors, the condition confusion table and the CLI's JSON and table. Bundles and gold are
written here by hand (not taken from the dev notes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import run_cli
from softtiger_cli.eval.score import Concept, load_gold, score
from softtiger_cli.eval.status import (StatusItem, harmful_errors, item_matches, items_from_bundle, items_from_gold,
                                       score_status, vital_sign)

CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
LOINC = "http://loinc.org"


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "document",
            "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)]}


def cc(text: str | None = None, system: str | None = None, code: str | None = None, display: str | None = None) -> dict:
    out: dict[str, Any] = {}
    if code:
        out["coding"] = [{k: v for k, v in (("system", system), ("code", code), ("display", display)) if v}]
    if text:
        out["text"] = text
    return out


def condition(text: str, clinical: str | None = "active", verification: str | None = None, **extra: Any) -> dict:
    res: dict[str, Any] = {"resourceType": "Condition", "code": cc(text), **extra}
    if clinical:
        res["clinicalStatus"] = {"coding": [{"system": CLIN, "code": clinical}]}
    if verification:
        res["verificationStatus"] = {"coding": [{"system": VER, "code": verification}]}
    return res


def fmh(relationship: str, *conditions: str) -> dict:
    return {"resourceType": "FamilyMemberHistory", "status": "completed",
            "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                         "code": relationship.upper()[:4], "display": relationship}]},
            "condition": [{"code": cc(c)} for c in conditions]}


def vital(text: str | None, loinc: str | None, status: str = "final") -> dict:
    return {"resourceType": "Observation", "status": status,
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": cc(text, LOINC if loinc else None, loinc)}


def triples(b: dict) -> list[tuple[str, str, str]]:
    return [(i.kind, i.text, i.status) for i in items_from_bundle(b)]


def g(kind: str, text: str, status: str, **extra: Any) -> StatusItem:
    return items_from_gold([{"kind": kind, "text": text, "status": status, **extra}])[0]


# --- mapping a Bundle to (kind, text, status) -----------------------------------------------------------------

def test_condition_statuses_r4b_and_r5() -> None:
    b = bundle(
        condition("chest pain", "active", "refuted"),
        condition("pneumonia", "active", "provisional"),
        condition("sepsis", None, "differential"),
        condition("gout", "active", "unconfirmed"),
        condition("appendicitis", "resolved", "confirmed"),
        condition("hepatitis b", "remission"),
        condition("fracture of wrist", "inactive"),
        condition("asthma", "recurrence"),
        condition("migraine", "relapse"),
        condition("hypertension", None),
        condition("typo", "active", "entered-in-error"),
        {"resourceType": "Condition", "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006",
                                                           "display": "Diabetes mellitus type 2"}]}},
    )
    assert triples(b) == [
        ("condition", "chest pain", "absent"), ("condition", "pneumonia", "possible"),
        ("condition", "sepsis", "possible"), ("condition", "gout", "possible"),
        ("condition", "appendicitis", "resolved"), ("condition", "hepatitis b", "resolved"),
        ("condition", "fracture of wrist", "history"), ("condition", "asthma", "active"),
        ("condition", "migraine", "active"), ("condition", "hypertension", "active"),
        ("condition", "Diabetes mellitus type 2", "active"),
    ]


def test_family_member_history_is_a_family_condition() -> None:
    items = items_from_bundle(bundle(fmh("mother", "breast cancer", "asthma"),
                                     {"resourceType": "FamilyMemberHistory", "status": "completed",
                                      "relationship": {"text": "uncle"}, "condition": [{"code": cc("gout")}]}))
    assert [(i.kind, i.text, i.status, i.relationship, i.resource) for i in items] == [
        ("condition", "breast cancer", "family", "mother", "FamilyMemberHistory"),
        ("condition", "asthma", "family", "mother", "FamilyMemberHistory"),
        ("condition", "gout", "family", "uncle", "FamilyMemberHistory"),
    ]


def test_medication_statement_r4b() -> None:
    statuses = ["active", "intended", "stopped", "completed", "not-taken", "on-hold", "unknown", "entered-in-error"]
    b = bundle(*[{"resourceType": "MedicationStatement", "status": s, "medicationCodeableConcept": cc(f"drug {s}")}
                 for s in statuses])
    assert [s for _, _, s in triples(b)] == ["active", "intended", "stopped", "stopped", "not-taken", "stopped", "active"]
    coded = bundle({"resourceType": "MedicationStatement", "status": "active",
                    "medicationCodeableConcept": cc(None, "http://www.nlm.nih.gov/research/umls/rxnorm", "314076",
                                                    "lisinopril 10 MG Oral Tablet")})
    assert triples(coded) == [("medication", "lisinopril 10 MG Oral Tablet", "active")]


def test_medication_statement_r5_uses_adherence() -> None:
    def ms(adherence: str | None, status: str = "recorded") -> dict:
        res: dict[str, Any] = {"resourceType": "MedicationStatement", "status": status,
                               "medication": {"concept": cc(f"drug {adherence}")}}
        if adherence:
            res["adherence"] = {"code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/medication-statement-adherence",
                                                     "code": adherence}]}}
        return res

    b = bundle(ms("taking"), ms("taking-as-directed"), ms("not-taking"), ms("stopped"), ms("on-hold"), ms(None),
               ms(None, "draft"), ms("taking", "entered-in-error"))
    assert triples(b) == [
        ("medication", "drug taking", "active"), ("medication", "drug taking-as-directed", "active"),
        ("medication", "drug not-taking", "not-taken"), ("medication", "drug stopped", "stopped"),
        ("medication", "drug on-hold", "stopped"), ("medication", "drug None", "active"),
        ("medication", "drug None", "active"),
    ]


def test_medication_request_r4b_and_r5() -> None:
    b = bundle(
        {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": cc("amoxicillin")},
        {"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal", "medication": {"concept": cc("naproxen")}},
        {"resourceType": "MedicationRequest", "status": "on-hold", "intent": "order", "medicationCodeableConcept": cc("warfarin")},
        {"resourceType": "MedicationRequest", "status": "stopped", "intent": "order", "medicationCodeableConcept": cc("metformin")},
        {"resourceType": "MedicationRequest", "status": "cancelled", "intent": "order", "medication": {"concept": cc("codeine")}},
        {"resourceType": "MedicationRequest", "status": "completed", "intent": "order", "medicationCodeableConcept": cc("prednisone")},
        {"resourceType": "MedicationRequest", "status": "entered-in-error", "intent": "order", "medicationCodeableConcept": cc("x")},
    )
    assert triples(b) == [("medication", "amoxicillin", "intended"), ("medication", "naproxen", "intended"),
                          ("medication", "warfarin", "intended"), ("medication", "metformin", "stopped"),
                          ("medication", "codeine", "stopped"), ("medication", "prednisone", "stopped")]


def test_allergies() -> None:
    ips = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
    b = bundle(
        {"resourceType": "AllergyIntolerance", "code": cc("No known allergies", ips, "no-known-allergies")},
        {"resourceType": "AllergyIntolerance", "code": cc(None, ips, "no-known-drug-allergies", "No known drug allergies")},
        {"resourceType": "AllergyIntolerance", "code": cc("peanut")},
        {"resourceType": "AllergyIntolerance", "code": cc("latex"),
         "clinicalStatus": {"coding": [{"code": "inactive"}]}},
        {"resourceType": "AllergyIntolerance", "code": cc("shellfish"),
         "clinicalStatus": {"coding": [{"code": "resolved"}]}},
    )
    assert triples(b) == [("allergy", "no known allergies", "none"), ("allergy", "no known allergies", "none"),
                          ("allergy", "peanut", "active"), ("allergy", "latex", "inactive"),
                          ("allergy", "shellfish", "resolved")]


def test_procedures_orders_and_immunizations() -> None:
    cvx = "http://hl7.org/fhir/sid/cvx"
    b = bundle(
        {"resourceType": "Procedure", "status": "completed", "code": cc("appendectomy")},
        {"resourceType": "Procedure", "status": "preparation", "code": cc("colonoscopy")},
        {"resourceType": "Procedure", "status": "in-progress", "code": cc("dialysis")},
        {"resourceType": "Procedure", "status": "not-done", "code": cc("biopsy")},
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": cc("chest x-ray")},
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
         "code": {"concept": cc("MRI of the knee")}},  # R5 CodeableReference
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": cc("Tdap booster")},
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": cc("flu shot")},
        {"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
         "code": {"concept": cc(None, cvx, "208", "COVID-19, mRNA")}},
        {"resourceType": "ServiceRequest", "status": "revoked", "intent": "order", "code": cc("ct scan")},
        {"resourceType": "Immunization", "status": "completed", "vaccineCode": cc("influenza vaccine")},
        {"resourceType": "Immunization", "status": "not-done", "vaccineCode": cc("hepatitis b vaccine")},
        {"resourceType": "ImmunizationRecommendation",
         "recommendation": [{"vaccineCode": [cc("pneumococcal vaccine")]}, {"vaccineCode": [cc(None, cvx, "187", "zoster")]}]},
        {"resourceType": "CarePlan", "status": "active", "intent": "plan", "description": "Follow up in 2 weeks."},
        {"resourceType": "Encounter", "status": "finished"},
        {"resourceType": "ClinicalImpression", "status": "completed", "summary": "pneumonia"},
    )
    assert triples(b) == [
        ("procedure", "appendectomy", "completed"), ("procedure", "colonoscopy", "planned"),
        ("procedure", "dialysis", "in-progress"), ("procedure", "biopsy", "not-done"),
        ("procedure", "chest x-ray", "planned"), ("procedure", "MRI of the knee", "planned"),
        ("immunization", "Tdap booster", "planned"), ("immunization", "flu shot", "planned"),
        ("immunization", "COVID-19, mRNA", "planned"),
        ("immunization", "influenza vaccine", "completed"),
        ("immunization", "pneumococcal vaccine", "planned"), ("immunization", "zoster", "planned"),
    ]


def test_vitals_need_the_vital_signs_category() -> None:
    lab = vital("Hemoglobin A1c", "4548-4")
    lab["category"][0]["coding"][0]["code"] = "laboratory"
    b = bundle(vital("Heart rate", "8867-4"), vital("Body weight", "29463-7", "amended"), lab,
               vital("Temperature", "8310-5", "preliminary"))
    assert triples(b) == [("vital", "Heart rate", "final"), ("vital", "Body weight", "final"),
                          ("vital", "Temperature", "preliminary")]
    assert items_from_bundle(b)[0].loinc == ("8867-4",)


def test_our_extensions_are_not_read() -> None:
    res = condition("cough", "active")
    res["extension"] = [{"url": "https://softtiger.dev/fhir/StructureDefinition/assertion", "valueCode": "negated"}]
    assert triples(bundle(res)) == [("condition", "cough", "active")]


# --- matching ---------------------------------------------------------------------------------------------------

def test_vital_sign_synonyms_and_loinc() -> None:
    assert vital_sign("BP") == "blood pressure" and vital_sign("O2 sat") == "oxygen saturation"
    assert vital_sign("pulse oximetry") == "oxygen saturation" and vital_sign("pulse") == "heart rate"
    assert vital_sign("Body mass index") == "bmi" and vital_sign("headache") is None

    def pred(text: str | None, loinc: str) -> StatusItem:
        return items_from_bundle(bundle(vital(text, loinc)))[0]

    panel = pred("Vital panel 1", "85354-9")  # text names nothing; LOINC says blood pressure
    assert item_matches(panel, g("vital", "BP", "final"))
    assert item_matches(panel, g("vital", "blood pressure", "final"))
    assert not item_matches(panel, g("vital", "heart rate", "final"))
    assert item_matches(pred("Reading A", "8867-4"), g("vital", "pulse", "final"))
    assert item_matches(pred("Reading B", "2708-6"), g("vital", "O2 sat", "final"))
    assert item_matches(pred("Reading C", "59408-5"), g("vital", "oxygen saturation", "final"))
    assert item_matches(pred("Reading D", "8310-5"), g("vital", "temperature", "final"))
    assert item_matches(pred("Reading E", "9279-1"), g("vital", "respiratory rate", "final"))
    assert item_matches(pred("Reading F", "29463-7"), g("vital", "weight", "final"))
    assert item_matches(pred("Reading G", "8302-2"), g("vital", "height", "final"))
    assert item_matches(pred("Reading H", "39156-5"), g("vital", "BMI", "final"))
    assert not item_matches(pred("Reading H", "39156-5"), g("vital", "weight", "final"))
    # a sign's name in the Observation's text is enough too; and only within the vital kind
    assert item_matches(pred("Pulse rate", "0000-0"), g("vital", "heart rate", "final"))
    assert not item_matches(pred("Reading A", "85354-9"), g("condition", "BP", "active"))


# --- scoring ----------------------------------------------------------------------------------------------------

GOLD = [
    {"kind": "condition", "text": "hypertension", "status": "active"},
    {"kind": "condition", "text": "chest pain", "status": "absent", "evidence": "denies chest pain"},
    {"kind": "condition", "text": "diabetes", "status": "active"},
    {"kind": "condition", "text": "asthma", "status": "family", "relationship": "mother"},
    {"kind": "medication", "text": "lisinopril 10 mg", "status": "active"},
    {"kind": "medication", "text": "amoxicillin", "status": "intended"},
    {"kind": "medication", "text": "ibuprofen", "status": "stopped"},
    {"kind": "vital", "text": "BP", "status": "final", "value": "132/80", "unit": "mmHg"},
    {"kind": "procedure", "text": "chest x-ray", "status": "planned"},
]

BUNDLE = bundle(
    condition("Hypertension", "inactive"),  # matched, status history (wrong)
    condition("chest pain", "active", "refuted"),  # matched, absent (right)
    condition("diabetes", "active"),  # matched, right
    condition("asthma", "active"),  # the mother's asthma as the patient's: wrong status and harmful
    condition("headache", "active"),  # false positive
    condition("headache", "active"),  # repeated verbatim: counts once
    {"resourceType": "MedicationStatement", "status": "active", "medicationCodeableConcept": cc("lisinopril 10 mg oral tablet")},
    {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": cc("amoxicillin 500 mg")},
    {"resourceType": "MedicationStatement", "status": "active", "medicationCodeableConcept": cc("ibuprofen")},  # wrong status
    {"resourceType": "MedicationStatement", "status": "active", "medicationCodeableConcept": cc("aspirin")},  # false positive
    vital("Panel", "85354-9"),
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": cc("chest x-ray")},
    {"resourceType": "CarePlan", "status": "active", "intent": "plan", "description": "Rest"},
)


def test_status_accuracy_strict_f1_and_harm_on_a_small_case() -> None:
    result = score_status(items_from_bundle(BUNDLE), items_from_gold(GOLD))
    cond = result.counts["condition"].scores()
    # 4 gold conditions all found, 1 false positive; statuses right: chest pain, diabetes
    assert (cond["tp"], cond["fp"], cond["fn"], cond["status_right"]) == (4, 1, 0, 2)
    assert (cond["precision"], cond["recall"], cond["f1"]) == (0.8, 1.0, 0.889)
    assert cond["status_accuracy"] == 0.5
    # strict: P = 2/5, R = 2/4, F1 = 2*0.4*0.5/0.9
    assert (cond["strict_precision"], cond["strict_recall"], cond["strict_f1"]) == (0.4, 0.5, 0.444)
    med = result.counts["medication"].scores()
    assert (med["tp"], med["fp"], med["fn"], med["status_right"]) == (3, 1, 0, 2)
    assert med["status_accuracy"] == 0.667
    assert (med["strict_precision"], med["strict_recall"], med["strict_f1"]) == (0.5, 0.667, 0.571)
    assert result.counts["vital"].scores()["strict_f1"] == 1.0
    assert result.counts["procedure"].scores()["strict_f1"] == 1.0
    assert result.confusion == {"active": {"history": 1, "active": 1}, "absent": {"absent": 1}, "family": {"active": 1}}
    assert result.spurious == {"active": 1}
    assert result.harmful == [{"text": "asthma", "gold_status": "family", "predicted_text": "asthma",
                               "predicted_status": "active", "resource": "Condition", "relationship": "mother"}]


def test_harmful_errors() -> None:
    denied = [g("condition", "chest pain", "absent")]
    as_active = items_from_bundle(bundle(condition("chest pain", "active")))
    as_refuted = items_from_bundle(bundle(condition("chest pain", "active", "refuted")))
    as_history = items_from_bundle(bundle(condition("chest pain", "inactive")))
    as_possible = items_from_bundle(bundle(condition("chest pain", "active", "provisional")))
    assert len(harmful_errors(as_active, denied)) == 1
    assert len(harmful_errors(as_history, denied)) == 1
    assert len(harmful_errors(as_possible, denied)) == 1
    assert harmful_errors(as_refuted, denied) == []

    relative = [g("condition", "breast cancer", "family", relationship="mother")]
    as_condition = items_from_bundle(bundle(condition("breast cancer", "resolved")))
    as_fmh = items_from_bundle(bundle(fmh("mother", "breast cancer")))
    assert len(harmful_errors(as_condition, relative)) == 1
    assert harmful_errors(as_fmh, relative) == []
    # the patient's own condition of the same words, also in the gold: not harmful
    both = relative + [g("condition", "breast cancer", "history")]
    assert harmful_errors(as_condition, both) == []
    # a denied finding written both refuted and active: the refuted one matches, the active one still harms
    result = score_status(as_refuted + as_active, denied)
    c = result.counts["condition"]
    assert (c.tp, c.fp, c.fn, c.status_right) == (1, 0, 0, 1)
    assert len(result.harmful) == 1


def test_gold_item_prefers_a_prediction_with_its_status() -> None:
    gold = [g("medication", "metformin", "active"), g("medication", "metformin", "stopped")]
    pred = items_from_bundle(bundle(
        {"resourceType": "MedicationStatement", "status": "stopped", "medicationCodeableConcept": cc("metformin 500 mg")},
        {"resourceType": "MedicationStatement", "status": "active", "medicationCodeableConcept": cc("metformin 1000 mg")},
    ))
    c = score_status(pred, gold).counts["medication"]
    assert (c.tp, c.fp, c.fn, c.status_right) == (2, 0, 0, 2)


def test_status_right_match_is_preferred_across_gold_items() -> None:
    gold = [g("procedure", "lipid panel", "completed"), g("procedure", "repeat lipid panel", "planned")]
    ordered = items_from_bundle(bundle(
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order", "code": cc("lipid panel")}))
    result = score_status(ordered, gold)
    c = result.counts["procedure"]
    assert (c.tp, c.fp, c.fn, c.status_right) == (1, 0, 1, 1)
    assert [(gi.text, p.status if p else None) for gi, p in result.pairs] == [
        ("lipid panel", None), ("repeat lipid panel", "planned")]


def test_old_gold_formats_are_unchanged(tmp_path: Path) -> None:
    (tmp_path / "a.gold.json").write_text(json.dumps({"gold": [
        {"kind": "condition", "system": "http://snomed.info/sct", "code": "38341003", "display": "Hypertension",
         "text": "hypertension"}]}))
    (tmp_path / "b.gold.json").write_text(json.dumps({"chief_complaint": "knee pain"}))
    (tmp_path / "c.gold.json").write_text(json.dumps({"annotated_by": "t", "gold": GOLD}))
    a, b, c = load_gold(tmp_path)
    assert a.concepts == [Concept("condition", "hypertension", "http://snomed.info/sct", "38341003")] and a.status_items is None
    assert b.concepts is None and b.status_items is None and b.chief_complaint == "knee pain"
    assert c.concepts is None and c.status_items is not None and len(c.status_items) == len(GOLD)
    # the plain matcher still ignores status
    counts = score([Concept("condition", "hypertension")], [Concept("condition", "hypertension")])
    assert counts["condition"].tp == 1


# --- CLI ----------------------------------------------------------------------------------------------------------

def _write_case(tmp_path: Path) -> tuple[Path, Path]:
    gold_dir, bundles = tmp_path / "gold", tmp_path / "bundles"
    gold_dir.mkdir()
    bundles.mkdir()
    (gold_dir / "visit1.txt").write_text("note one\n")
    (gold_dir / "visit1.gold.json").write_text(json.dumps({"annotated_by": "test", "gold": GOLD}))
    (bundles / "visit1.json").write_text(json.dumps(BUNDLE))
    (gold_dir / "visit2.txt").write_text("note two\n")
    (gold_dir / "visit2.gold.json").write_text(json.dumps({"annotated_by": "test", "gold": [
        {"kind": "condition", "text": "fever", "status": "absent"},
        {"kind": "condition", "text": "colon cancer", "status": "family", "relationship": "father"},
        {"kind": "allergy", "text": "no known allergies", "status": "none"},
        {"kind": "immunization", "text": "flu shot", "status": "completed"},
    ]}))
    (bundles / "visit2.json").write_text(json.dumps(bundle(
        condition("Fever", "active"),  # denied, written active: harmful
        fmh("father", "colon cancer"),
        {"resourceType": "AllergyIntolerance",
         "code": cc(None, "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips", "no-known-allergies")},
    )))
    return gold_dir, bundles


def test_eval_cli_status_gold_json(tmp_path: Path) -> None:
    gold_dir, bundles = _write_case(tmp_path)
    result = run_cli("eval", str(gold_dir), "--bundles", str(bundles), "--json", "-q")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["notes"] == 2 and report["validity_rate"] == 1.0 and report["status_gold"] is True
    cond = report["per_kind"]["condition"]
    # visit1: 4 tp, 1 fp, 2 status right; visit2: fever (active vs absent) and colon cancer (family) matched
    assert (cond["tp"], cond["fp"], cond["fn"], cond["status_right"]) == (6, 1, 0, 3)
    assert cond["status_accuracy"] == 0.5
    assert (cond["strict_precision"], cond["strict_recall"], cond["strict_f1"]) == (0.429, 0.5, 0.462)
    assert report["per_kind"]["allergy"]["strict_f1"] == 1.0
    imm = report["per_kind"]["immunization"]
    assert (imm["tp"], imm["fp"], imm["fn"], imm["status_accuracy"]) == (0, 0, 1, None)
    assert report["overall"]["tp"] == 12 and report["overall"]["fp"] == 2 and report["overall"]["fn"] == 1
    assert report["harmful_errors"] == 2
    assert [(h["note"], h["text"], h["gold_status"]) for h in report["harmful"]] == [
        ("visit1", "asthma", "family"), ("visit2", "fever", "absent")]
    assert report["condition_confusion"] == {"active": {"history": 1, "active": 1}, "absent": {"absent": 1, "active": 1},
                                             "family": {"active": 1, "family": 1}}
    assert report["condition_false_positives"] == {"active": 1}


def test_eval_cli_status_gold_table(tmp_path: Path) -> None:
    gold_dir, bundles = _write_case(tmp_path)
    result = run_cli("eval", str(gold_dir), "--bundles", str(bundles), "-q")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith("condition "))
    assert row.split() == ["condition", "0.857", "1.000", "0.923", "0.500", "0.462", "6", "1", "0"]
    assert "harmful errors 2" in result.stdout
    assert any("visit2: 'fever' gold absent -> Condition 'Fever' active" in line for line in lines)
    assert any(line.split()[:2] == ["family", "1"] for line in lines)  # confusion row: family -> active 1
    assert "validity rate 100%" in result.stdout


def test_eval_default_tasks_are_structures() -> None:
    result = run_cli("eval", "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0
    assert "default all" in " ".join(result.stdout.split())


def test_chinese_vital_sign_names_and_the_letters_of_an_exam_line_name_their_sign() -> None:
    from softtiger_cli.eval.fhir_items import vital_sign

    assert [vital_sign(t) for t in ("T", "P", "R", "BP", "血压", "心率", "脉搏", "体温", "呼吸", "血氧饱和度", "体重",
                                    "身高")] == ["temperature", "heart rate", "respiratory rate", "blood pressure",
                                                "blood pressure", "heart rate", "heart rate", "temperature",
                                                "respiratory rate", "oxygen saturation", "weight", "height"]
    pred = StatusItem("vital", "Body temperature", "final", loinc=("8310-5",))
    assert item_matches(pred, StatusItem("vital", "T", "final"))
    assert not item_matches(pred, StatusItem("vital", "P", "final"))


def test_a_no_known_entry_matches_the_gold_one_however_it_is_worded() -> None:
    pred = StatusItem("allergy", "No known allergies", "none")
    assert item_matches(pred, StatusItem("allergy", "否认药物过敏史", "none"))
    assert item_matches(pred, StatusItem("allergy", "NKDA", "none"))
    assert not item_matches(pred, StatusItem("allergy", "penicillin", "active"))
    assert not item_matches(pred, StatusItem("medication", "no medications", "none"))
