"""Decided statuses -> FHIR, for R4B and R5. Nothing is decided here: the assertion step
(pipeline/decide.py) gave each item its status; this module only says it in FHIR's words.

- condition: active -> Condition active/confirmed (Active Problems); possible -> active/provisional;
  history -> inactive, resolved -> resolved (History of Past Illness); absent -> verificationStatus refuted,
  no clinicalStatus (R5, which requires one: inactive) (Pertinent Negatives); family -> FamilyMemberHistory.
- medication: active | stopped | not-taken -> MedicationStatement (R4B status; R5 status recorded with
  that adherence); intended -> MedicationRequest (status active, intent order); none ->
  MedicationStatement coded `no-known-medications` (IPS absent-unknown code system).
- allergy: active -> AllergyIntolerance, with the criticality the assertion step decided; none -> coded
  `no-known-allergies`.
- procedure: completed -> Procedure; planned -> ServiceRequest (Plan of Care). Immunization the same
  (a planned vaccine is a ServiceRequest coded in CVX).
- encounter: finished (R5 completed); impression: completed.
"""

from __future__ import annotations

from typing import Any

from softtiger_cli.clinical.abbreviations import expand_text
from softtiger_cli.clinical.assertions import relation_code
from softtiger_cli.core.data import ConditionStatus, Item

ABSENT_UNKNOWN = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
NO_KNOWN = {"allergies": ("no-known-allergies", "No known allergies"),
            "medications": ("no-known-medications", "No known medications")}
ADHERENCE = "http://hl7.org/fhir/CodeSystem/medication-statement-adherence"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
DAR_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
CONDITION_SECTION: dict[ConditionStatus, str] = {"active": "problems", "possible": "problems", "history": "past_illness",
                                                 "resolved": "past_illness", "absent": "negatives"}
_CLINICAL: dict[ConditionStatus, str] = {"active": "active", "possible": "active", "history": "inactive",
                                         "resolved": "resolved", "absent": ""}
_VERIFICATION: dict[ConditionStatus, str] = {"possible": "provisional", "absent": "refuted"}


def status_values(item: Item, note: str, version: str) -> dict[str, Any]:
    """The item's values with its status fields set from the decided status (the model's are replaced)."""
    values = dict(item.values)
    context = note[max(0, item.spans[0].start - 80) : item.spans[0].end + 80] if item.spans else ""
    if item.group == "problems" and isinstance(values.get("code"), str):  # tests keep their names (MRI, EKG)
        values["code"] = expand_text(values["code"], context)
    if item.group == "problems":
        values["clinicalStatus"] = _CLINICAL.get(item.status, "active")
        if item.status == "absent" and version == "R5":
            values["clinicalStatus"] = "inactive"  # R5 requires one: a denied finding is not going on
        values["verificationStatus"] = _VERIFICATION.get(item.status, "confirmed")
    elif item.group == "medications":
        values["status"] = ({"active": "active", "stopped": "stopped", "not-taken": "not-taken", "none": "active"}
                            .get(item.status, "active") if version == "R4B" else "recorded")
    elif item.group == "allergies":
        values["criticality"] = item.criticality  # decided by the assertion step (the model's is replaced)
    elif item.group == "procedures":
        values["status"] = "completed"
    elif item.group == "encounter":
        values["status"] = "finished" if version == "R4B" else "completed"
    elif item.group == "impression":
        values["status"] = "completed"
    return values


def concept(text: str, coding: tuple[str, str, str] | None) -> dict[str, Any]:
    cc: dict[str, Any] = {"text": text}
    if coding:
        system, code, display = coding
        cc = {"coding": [{"system": system, "code": code, **({"display": display} if display else {})}], "text": text}
    return cc


def _codeable(res: dict[str, Any], key: str, cc: dict[str, Any], version: str, reference: bool) -> None:
    res[key] = {"concept": cc} if version == "R5" and reference else cc


def reshape(res: dict[str, Any], item: Item, patient_url: str, version: str) -> tuple[dict[str, Any], str]:
    """The resource the decided status calls for, and the IPS section it belongs to."""
    rtype, status = res["resourceType"], item.status
    text = item.text
    if rtype == "Condition":
        if status == "family":
            return _family(res, item, patient_url), "family"
        if item.coding:
            res["code"] = concept(res.get("code", {}).get("text", text), item.coding)
        return res, CONDITION_SECTION.get(status, "problems")
    if rtype == "MedicationStatement":
        key = "medicationCodeableConcept" if version == "R4B" else "medication"
        if status == "none":
            code, display = NO_KNOWN["medications"]
            _codeable(res, key, concept(display, (ABSENT_UNKNOWN, code, display)), version, True)
            res.pop("dosage", None)
        elif status == "intended":
            return _request(res, key, patient_url, version), "medications"
        elif version == "R5":
            adherence = {"active": "taking", "stopped": "stopped", "not-taken": "not-taking"}[status]
            res["adherence"] = {"code": {"coding": [{"system": ADHERENCE, "code": adherence}]}}
        return res, "medications"
    if rtype == "AllergyIntolerance" and status == "none":
        code, display = NO_KNOWN["allergies"]
        res["code"] = concept(display, (ABSENT_UNKNOWN, code, display))
        res.pop("reaction", None)
        res.pop("criticality", None)
        return res, "allergies"
    if rtype in ("Procedure", "Immunization") and status == "planned":
        key = "code" if rtype == "Procedure" else "vaccineCode"
        cc = res.get(key) or {"text": text}
        if item.coding:
            cc = concept(cc.get("text", text), item.coding)
        order = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                 "subject": {"reference": patient_url}}
        _codeable(order, "code", cc, version, True)
        return order, "plan"
    if rtype == "Immunization":
        if item.coding:
            res["vaccineCode"] = concept(res.get("vaccineCode", {}).get("text", text), item.coding)
        if not any(k.startswith("occurrence") for k in res):  # required; the note gives no date
            res["_occurrenceDateTime"] = {"extension": [{"url": DAR_URL, "valueCode": "unknown"}]}
        return res, "immunizations"
    return res, ""


def _family(res: dict[str, Any], item: Item, patient_url: str) -> dict[str, Any]:
    rel = item.assertion.relationship if item.assertion else ""
    code = relation_code(rel)
    relationship = ({"coding": [{"system": ROLE_CODE, "code": code, "display": rel}]} if code
                    else {"coding": [{"system": ROLE_CODE, "code": "FAMMEMB", "display": "family member"}]})
    condition = {"code": concept(res.get("code", {}).get("text", item.text), item.coding)}
    fmh = {"resourceType": "FamilyMemberHistory", "status": "completed", "patient": {"reference": patient_url},
           "relationship": relationship, "condition": [condition]}
    if "extension" in res:
        fmh["extension"] = res["extension"]
    return fmh


def _request(res: dict[str, Any], key: str, patient_url: str, version: str) -> dict[str, Any]:
    """A drug started or prescribed at this visit: an order, with the note's instructions."""
    request: dict[str, Any] = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                               "subject": {"reference": patient_url}}
    med = res.get(key)
    if version == "R5" and isinstance(med, dict) and "concept" not in med and "reference" not in med:
        med = {"concept": med}
    request["medication" if version == "R5" else "medicationCodeableConcept"] = med
    dosage = [d for d in res.get("dosage", []) if d.get("text")]
    if dosage:
        request["dosageInstruction"] = dosage
    return request
