"""Validation of what a Bundle means, beyond its syntax: references point at the resource types FHIR and
IPS allow there, each IPS section holds what its title says (Active Problems only current problems,
Pertinent Negatives only refuted ones), codes exist in the code lists they name, vital signs carry what
the FHIR vital-signs profile requires. A Bundle that fails any of these is never written.
"""

from __future__ import annotations

from typing import Any

from softtiger_cli import terms

ABSENT_UNKNOWN = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
ABSENT_UNKNOWN_CODES = frozenset({
    "no-allergy-info", "no-known-allergies", "no-known-medication-allergies", "no-known-environmental-allergies",
    "no-known-food-allergies", "no-medication-info", "no-known-medications", "no-problem-info",
    "no-known-problems", "no-procedure-info", "no-known-procedures", "no-immunization-info",
    "no-known-immunizations", "no-device-info", "no-known-devices"})
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ROLE_CODES = frozenset({"MTH", "FTH", "SIS", "BRO", "SONC", "DAUC", "GRMTH", "GRFTH", "AUNT", "UNCLE", "COUSN", "SIB",
                        "PRN", "GRPRN", "FAMMEMB", "CHILD", "SPS", "NMTH", "NFTH", "NSIS", "NBRO",
                        "MGRFTH", "MGRMTH", "PGRFTH", "PGRMTH", "EBRO", "ESIS", "YBRO", "YSIS", "MUNCLE", "PUNCLE",
                        "MAUNT", "PAUNT"})
DAR_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
LOINC = "http://loinc.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
# IPS section LOINC -> the resource types its entries may be
SECTION_TYPES = {
    "11450-4": ("Condition",), "11348-0": ("Condition",), "10187-3": ("Condition",),
    "10160-0": ("MedicationStatement", "MedicationRequest"), "48765-2": ("AllergyIntolerance",),
    "47519-4": ("Procedure",), "11369-6": ("Immunization",), "30954-2": ("Observation", "DiagnosticReport"),
    "8716-3": ("Observation",), "10157-6": ("FamilyMemberHistory",),
    "18776-5": ("CarePlan", "ServiceRequest", "MedicationRequest", "ImmunizationRecommendation"),
    "51848-0": ("ClinicalImpression",),
}
_CURRENT = ("active", "recurrence", "relapse")
_OVER = ("inactive", "resolved", "remission")
# (resource type, element) -> target types a reference there may have
REFERENCE_TYPES = {
    ("Composition", "subject"): ("Patient",), ("Composition", "encounter"): ("Encounter",),
    ("Composition", "author"): ("Device", "Practitioner", "PractitionerRole", "Organization", "Patient"),
    ("Encounter", "diagnosis"): ("Condition",), ("ClinicalImpression", "problem"): ("Condition", "AllergyIntolerance"),
    ("ClinicalImpression", "encounter"): ("Encounter",), ("Encounter", "location"): ("Location",),
}
_SUBJECT_KEYS = ("subject", "patient")


def _coded(cc: Any, system: str) -> list[str]:
    if isinstance(cc, dict) and "concept" in cc:
        cc = cc["concept"]
    if not isinstance(cc, dict):
        return []
    return [c.get("code", "") for c in cc.get("coding", []) if c.get("system") == system]


def _refs(node: Any) -> list[str]:
    """Every reference string under node."""
    out: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            out.append(node["reference"])
        for v in node.values():
            out += _refs(v)
    elif isinstance(node, list):
        for v in node:
            out += _refs(v)
    return out


def meaning_problems(bundle: dict[str, Any]) -> list[str]:
    """Every problem with what the bundle says; empty when it means what a clinician would read."""
    entries = bundle.get("entry", [])
    by_url = {e.get("fullUrl"): e.get("resource", {}) for e in entries}
    problems: list[str] = []
    for i, entry in enumerate(entries):
        res = entry.get("resource", {})
        rtype = res.get("resourceType", "")
        where = f"Bundle.entry[{i}] ({rtype})"
        for key in _SUBJECT_KEYS:
            for ref in _refs(res.get(key)) if rtype != "Composition" or key == "subject" else []:
                if by_url.get(ref, {}).get("resourceType") not in (None, "Patient"):
                    problems.append(f"{where}.{key} must reference a Patient")
        for (owner, key), allowed in REFERENCE_TYPES.items():
            if owner != rtype:
                continue
            for ref in _refs(res.get(key)):
                target = by_url.get(ref, {})
                if target and target.get("resourceType") not in allowed:
                    problems.append(f"{where}.{key} references a {target.get('resourceType')}, not {'/'.join(allowed)}")
                elif target.get("resourceType") == "Condition" and _refuted(target):
                    problems.append(f"{where}.{key} references a Condition the note denies")
        problems += _resource_meaning(res, rtype, where)
    problems += _section_meaning(entries, by_url)
    return problems


def _refuted(cond: dict[str, Any]) -> bool:
    return "refuted" in _coded(cond.get("verificationStatus"), CONDITION_VERIFICATION)


def _resource_meaning(res: dict[str, Any], rtype: str, where: str) -> list[str]:
    problems: list[str] = []
    for key in ("code", "vaccineCode", "medicationCodeableConcept", "medication"):
        for system in (terms.ICD10CM_SYSTEM, terms.CVX_SYSTEM):
            for code in _coded(res.get(key), system):
                if not terms.is_known_code(system, code):
                    problems.append(f"{where}.{key}: code {code} is not in the shipped {system} list")
        for code in _coded(res.get(key), ABSENT_UNKNOWN):
            if code not in ABSENT_UNKNOWN_CODES:
                problems.append(f"{where}.{key}: {code} is not an IPS absent/unknown code")
    if rtype == "Condition":
        clinical = _coded(res.get("clinicalStatus"), CONDITION_CLINICAL)
        if _refuted(res) and any(c in _CURRENT for c in clinical):
            problems.append(f"{where}: a refuted Condition cannot be clinically active")
        if any(k.startswith("abatement") for k in res) and clinical and clinical[0] not in _OVER:
            problems.append(f"{where}: an abated Condition must be inactive, remission or resolved (con-4)")
    if rtype == "FamilyMemberHistory":
        for code in _coded(res.get("relationship"), ROLE_CODE):
            if code not in ROLE_CODES:
                problems.append(f"{where}.relationship: {code} is not a v3-RoleCode family member")
    if rtype == "Observation" and any("vital-signs" in _coded(c, "http://terminology.hl7.org/CodeSystem/observation-category")
                                      for c in res.get("category", [])):
        if not _coded(res.get("code"), LOINC):
            problems.append(f"{where}: a vital sign needs a LOINC code")
        if not any(k.startswith("effective") or k.startswith("_effective") for k in res):
            problems.append(f"{where}: a vital sign needs effective[x] (or its data-absent-reason)")
        if "valueQuantity" not in res and "component" not in res and "dataAbsentReason" not in res:
            problems.append(f"{where}: a vital sign needs a Quantity value, components or a dataAbsentReason")
        if "59408-5" in _coded(res.get("code"), LOINC) and "2708-6" not in _coded(res.get("code"), LOINC):
            problems.append(f"{where}: oxygen saturation needs LOINC 2708-6 beside 59408-5")
    return problems


def _section_meaning(entries: list[dict[str, Any]], by_url: dict[str, dict[str, Any]]) -> list[str]:
    comp = entries[0].get("resource", {}) if entries else {}
    if comp.get("resourceType") != "Composition":
        return []
    problems: list[str] = []
    for i, section in enumerate(comp.get("section", [])):
        code = next((c.get("code") for c in section.get("code", {}).get("coding", [])), "")
        allowed = SECTION_TYPES.get(code)
        for e in section.get("entry", []):
            target = by_url.get(e.get("reference"), {})
            rtype = target.get("resourceType", "")
            if allowed and rtype not in allowed:
                problems.append(f"Composition.section[{i}] ({code}) holds a {rtype}")
            if rtype != "Condition":
                continue
            clinical = _coded(target.get("clinicalStatus"), CONDITION_CLINICAL)
            if code == "11450-4" and (_refuted(target) or (clinical and clinical[0] not in _CURRENT)):
                problems.append(f"Composition.section[{i}] (Active Problems) holds a Condition that is not current")
            if code == "11348-0" and (_refuted(target) or not clinical or clinical[0] not in _OVER):
                problems.append(f"Composition.section[{i}] (Past Illness) holds a Condition that is not over")
            if code == "10187-3" and not _refuted(target):
                problems.append(f"Composition.section[{i}] (Pertinent Negatives) holds a Condition not refuted")
    return problems


def absent_value_stand_ins(resource: Any) -> Any:
    """A copy in which each primitive given only by its data-absent-reason extension (`_x` without `x`,
    as FHIR allows) has a stand-in value, for parsers that insist on the value (fhir.resources does)."""
    if isinstance(resource, list):
        return [absent_value_stand_ins(r) for r in resource]
    if not isinstance(resource, dict):
        return resource
    out = {k: absent_value_stand_ins(v) for k, v in resource.items()}
    for key, value in resource.items():
        base = key[1:]
        if key.startswith("_") and base not in resource and isinstance(value, dict) and any(
                x.get("url") == DAR_URL for x in value.get("extension", [])):
            out[base] = "1900-01-01" if base.endswith(("DateTime", "Date")) else "unknown"
            out.pop(key)
    return out
