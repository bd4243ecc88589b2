"""Validation before anything is written: fhir.resources structure, required value sets, meaning, IPS rules.

fhir.resources parses structure and datatypes but does not check required value-set bindings (a
Composition with status "finalx" parses), so codes are checked here against the value sets the FHIR
models themselves declare (enum_values / binding titles); then what the bundle means (semantics.py:
reference targets, section contents, code lists, the vital-signs profile), then the IPS rules.
"""

from __future__ import annotations

from typing import Any

from softtiger_cli.fhir.model import element, model_class
from softtiger_cli.fhir.semantics import absent_value_stand_ins, meaning_problems

IPS_COMPOSITION_TYPE = "60591-5"


def _structure_problems(bundle: dict[str, Any], version: str) -> list[str]:
    from pydantic import ValidationError

    try:
        model_class(version, "Bundle").model_validate(absent_value_stand_ins(bundle))
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return problems or ["structure does not validate"]
    return []


def _codes_problems(node: Any, type_name: str, version: str, path: str, out: list[str]) -> None:
    if isinstance(node, list):
        for i, sub in enumerate(node):
            _codes_problems(sub, type_name, version, f"{path}[{i}]", out)
        return
    if not isinstance(node, dict):
        return
    if "resourceType" in node:
        type_name = node["resourceType"]
    for key, value in node.items():
        if key in ("resourceType", "extension", "id", "div") or key.startswith("_"):
            continue
        try:
            info = element(version, type_name, key)
        except Exception:  # noqa: BLE001 - a type fhir.resources cannot name: nothing to check
            return
        if info is None:
            continue
        here = f"{path}.{key}"
        if info.type_name == "code" and info.codes:
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v not in info.codes:
                    out.append(f"{here}: a code that is not in its required value set")
        elif info.type_name == "CodeableConcept" and info.codes:
            concepts = value if isinstance(value, list) else [value]
            for cc in concepts:
                for coding in (cc or {}).get("coding", []):
                    if coding.get("code") not in info.codes:
                        out.append(f"{here}: a code that is not in its required value set")
        elif info.type_name not in ("string", "markdown", "uri", "date", "dateTime", "instant", "boolean",
                                    "integer", "decimal", "id", "positiveInt", "unsignedInt", "time"):
            _codes_problems(value, "Resource" if info.type_name == "Resource" else info.type_name, version, here, out)


def _reference_problems(bundle: dict[str, Any]) -> list[str]:
    full_urls = {e.get("fullUrl") for e in bundle.get("entry", [])}
    problems: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and ref not in full_urls:
                problems.append(f"{path}.reference does not resolve inside the bundle")
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(bundle.get("entry", []), "Bundle.entry")
    return problems


def ips_problems(bundle: dict[str, Any], required_sections: set[str]) -> list[str]:
    """The IPS rules softtiger checks (HL7 IPS IG): document shape, Composition, required sections."""
    problems: list[str] = []
    if bundle.get("type") != "document":
        problems.append("Bundle.type must be document")
    if not bundle.get("identifier"):
        problems.append("Bundle.identifier is required")
    if not bundle.get("timestamp"):
        problems.append("Bundle.timestamp is required")
    entries = bundle.get("entry", [])
    compositions = [e for e in entries if e.get("resource", {}).get("resourceType") == "Composition"]
    if not entries or entries[0].get("resource", {}).get("resourceType") != "Composition":
        problems.append("the first entry must be the Composition")
    if len(compositions) != 1:
        problems.append("exactly one Composition is allowed")
        return problems
    comp = compositions[0]["resource"]
    codes = [c.get("code") for c in comp.get("type", {}).get("coding", []) if c.get("system") == "http://loinc.org"]
    if IPS_COMPOSITION_TYPE not in codes:
        problems.append("Composition.type must be LOINC 60591-5")
    by_url = {e.get("fullUrl"): e.get("resource", {}) for e in entries}
    subj = comp.get("subject", {})
    subj = subj[0] if isinstance(subj, list) and subj else subj
    subject = by_url.get(subj.get("reference")) if isinstance(subj, dict) else None
    if not subject or subject.get("resourceType") != "Patient":
        problems.append("Composition.subject must reference a Patient in the bundle")
    if not comp.get("author"):
        problems.append("Composition.author is required")
    present: set[str] = set()
    for i, section in enumerate(comp.get("section", [])):
        code = next((c.get("code") for c in section.get("code", {}).get("coding", [])), None)
        present.add(code or "")
        if not section.get("title") or not code or not section.get("text", {}).get("div"):
            problems.append(f"Composition.section[{i}] needs title, code and narrative text")
        if section.get("section"):
            problems.append(f"Composition.section[{i}] must not nest sections")
        if code in required_sections and not section.get("entry") and not section.get("emptyReason"):
            problems.append(f"required section {code} needs entries or an emptyReason")
    for code in sorted(required_sections - present):
        problems.append(f"required IPS section {code} is missing")
    return problems


def validate_bundle(bundle: dict[str, Any], version: str, *, ips_required: set[str] | None = None) -> list[str]:
    """Every problem found; an empty list means the bundle may be written."""
    problems = _structure_problems(bundle, version)
    codes: list[str] = []
    _codes_problems(bundle, "Bundle", version, "Bundle", codes)
    problems += codes
    problems += _reference_problems(bundle)
    problems += meaning_problems(bundle)
    if ips_required is not None:
        problems += ips_problems(bundle, ips_required)
    return problems
