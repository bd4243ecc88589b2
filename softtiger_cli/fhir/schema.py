"""Extraction schemas derived from FHIR: which elements a model fills, in FHIR names and value sets.

A task (IPS, ClinicalImpression, Encounter) is a list of groups; a group is one resource type with the
elements a note can state. The model fills one group per call (small models do far better with one
focused question), under that group's grammar. Element names, types, cardinality, required value sets and
descriptions come from fhir.resources for the chosen FHIR version, so one spec serves R4B and R5: where a
version renames an element (Encounter.period -> actualPeriod, hospitalization -> admission), the spec lists
both names and the version's schema picks. What this file decides is only *which* elements, how long their
text may be and how many items a list may hold. Each field's `x-fhir` annotation records the FHIR path
and types, which assembly follows to build the resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from softtiger_cli.fhir.model import ElementInfo, element

DATE_TYPES = ("date", "dateTime")
TEXT_BEARING = ("string", "markdown", "CodeableConcept", "CodeableReference", "Annotation", "Reference")
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@dataclass(frozen=True)
class FieldSpec:
    """One element to extract. `candidates` lets a single spec follow renames across FHIR versions."""

    candidates: tuple[str, ...]
    max_length: int = 60
    hint: str = ""  # what to write, in words a small model follows
    child: "FieldSpec | None" = None  # descend into a complex type/backbone for its text-bearing child
    children: tuple["FieldSpec", ...] = ()  # or: a nested object of several children (Period, backbones)
    max_items: int = 1  # >1: a list element becomes a JSON array of up to this many
    codes: tuple[str, ...] = ()  # a value set for an extensible binding (FHIR states no required codes)
    system: str = ""  # code system of the codes, for Coding/CodeableConcept
    ref: str = ""  # for Reference: the resource type built from the text ("" = display only)
    optional: bool = False  # may be absent from a FHIR version (e.g. changePattern is R5 only)
    assertion: bool = False  # not a FHIR element: an assertion that decides the resource (family, planned)


@dataclass(frozen=True)
class GroupSpec:
    name: str
    resource: str
    fields: tuple[FieldSpec, ...]
    ask: str  # the question put to the model
    max_items: int = 6
    single: bool = False


@dataclass(frozen=True)
class TaskSpec:
    name: str
    title: str
    groups: tuple[GroupSpec, ...]


def F(*candidates: str, **kw: Any) -> FieldSpec:  # noqa: N802 - reads as a table below
    return FieldSpec(tuple(candidates), **kw)


IPS = TaskSpec(
    name="ips",
    title="International Patient Summary",
    groups=(
        GroupSpec("patient", "Patient", single=True, ask="Who is the patient?", fields=(
            F("name", max_length=50, child=F("text"), hint="the patient's full name as written, or empty"),
            F("gender", hint="the patient's gender"),
            F("birthDate", hint="date of birth as YYYY-MM-DD, or empty"),
        )),
        GroupSpec("problems", "Condition", ask="List the problems, diagnoses and symptoms the note mentions.", fields=(
            F("code", hint="the condition, in the note's words"),
            F("clinicalStatus", system=CONDITION_CLINICAL, hint="whether it is still present"),
            F("verificationStatus", system=CONDITION_VERIFICATION,
              hint="confirmed, refuted if the note says the patient does not have it, provisional if only suspected"),
            F("subject", assertion=True, codes=("patient", "family"), hint="patient, or family if a relative has it"),
            F("relationship", assertion=True, max_length=20, hint="the relative (mother, father, ...) or empty"),
            F("time", assertion=True, codes=("current", "history", "planned"),
              hint="current, history if in the past, planned if only planned or hypothetical"),
            F("onsetString", max_length=30, hint="when it began, as written, or empty"),
        )),
        GroupSpec("medications", "MedicationStatement", ask="List the patient's medications.", fields=(
            F("medicationCodeableConcept", "medication", hint="the medication name and strength"),
            F("status", hint="whether the patient takes it now"),
            F("dosage", child=F("text"), hint="how it is taken, as written, or empty"),
        )),
        GroupSpec("allergies", "AllergyIntolerance", ask="List the patient's allergies and intolerances.", fields=(
            F("code", max_length=50, hint="the substance the patient is allergic to"),
            F("criticality", hint="how dangerous the reaction is"),
            F("reaction", max_length=50, child=F("manifestation"), hint="the reaction, as written, or empty"),
        )),
        GroupSpec("procedures", "Procedure", ask="List the procedures done to the patient.", fields=(
            F("code", hint="the procedure, in the note's words"),
            F("status", hint="whether it was done"),
            F("performedString", "occurrenceString", max_length=30, hint="when it was done, as written, or empty"),
        )),
        GroupSpec("immunizations", "Immunization", ask="List the vaccines the patient received.", fields=(
            F("vaccineCode", hint="the vaccine, in the note's words"),
            F("occurrenceString", max_length=30, hint="when it was given, as written, or empty"),
        )),
        GroupSpec("results", "Observation", ask="List vital signs and test results with their values.", fields=(
            F("code", max_length=50, hint="what was measured"),
            F("valueString", max_length=30, hint="the value with its unit, as written"),
        )),
        GroupSpec("plan", "CarePlan", ask="List the plan of care: what will be done next.", max_items=5, fields=(
            F("description", max_length=100, hint="one planned action, in the note's words"),
        )),
    ),
)

IMPRESSION = TaskSpec(
    name="impression",
    title="Clinical Impression",
    groups=(
        GroupSpec("impression", "ClinicalImpression", single=True,
                  ask="Summarise the clinician's assessment of the patient.", fields=(
            F("status", hint="whether the assessment is complete"),
            F("description", max_length=100, hint="why the patient was assessed, in the note's words"),
            F("effectiveDateTime", hint="date of the assessment as YYYY-MM-DD, or empty"),
            F("problem", max_items=3, ref="Condition", hint="problems the assessment is about"),
            F("summary", max_length=160, hint="the clinician's assessment, in the note's words"),
            F("finding", max_items=3, hint="findings and diagnoses with what they rest on", children=(
                F("itemCodeableConcept", "item", hint="what was found"),
                F("basis", max_length=80, hint="what the finding rests on (exam, test), or empty"),
            )),
            F("prognosisCodeableConcept", max_items=1, hint="the expected outcome, or none"),
            F("changePattern", optional=True, hint="how the condition is changing, or empty"),
            F("note", max_items=1, max_length=100, child=F("text"), hint="other remarks, or none"),
        )),
    ),
)

ENCOUNTER = TaskSpec(
    name="encounter",
    title="Encounter",
    groups=(
        GroupSpec("encounter", "Encounter", single=True, ask="Describe this visit or hospital stay.", fields=(
            F("status", hint="the state of the encounter"),
            F("class", codes=("AMB", "EMER", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "HH", "VR"),
              system=ACT_CODE,
              hint="AMB outpatient visit, EMER emergency, IMP inpatient stay, HH home visit, VR virtual visit"),
            F("type", max_items=1, hint="the kind of visit, in the note's words"),
            F("serviceType", max_items=1, hint="the clinical service, or empty"),
            F("priority", hint="how urgent the visit was, or empty"),
            F("reasonCode", "reason", max_items=3, child=F("value"), hint="why the patient came"),
            F("diagnosis", max_items=3, hint="diagnoses made at this encounter", children=(
                F("condition", ref="Condition", hint="the diagnosis"),
                F("use", max_length=30, hint="admission, discharge, billing or empty"),
            )),
            F("period", "actualPeriod", hint="when the encounter started and ended", children=(
                F("start", hint="start date as YYYY-MM-DD, or empty"),
                F("end", hint="end date as YYYY-MM-DD, or empty"),
            )),
            F("length", max_length=20, hint="how long it lasted, e.g. 3 days, or empty"),
            F("hospitalization", "admission", hint="admission and discharge details", children=(
                F("admitSource", max_length=50, hint="where the patient was admitted from, or empty"),
                F("dischargeDisposition", max_length=50, hint="where the patient went after discharge, or empty"),
            )),
            F("location", max_items=2, child=F("location", ref="Location"), hint="where the encounter took place"),
            F("participant", max_items=2, child=F("individual", "actor"), hint="clinicians involved, by name or role"),
        )),
    ),
)

TASKS: dict[str, TaskSpec] = {t.name: t for t in (IPS, IMPRESSION, ENCOUNTER)}


def _leaf_schema(info: ElementInfo, spec: FieldSpec) -> dict[str, Any]:
    codes = spec.codes or (info.codes if info.type_name in ("code", "CodeableConcept", "Coding") else ())
    if codes:
        return {"type": "string", "enum": list(codes)}
    if info.type_name in DATE_TYPES:
        return {"type": "string", "format": "partial-date"}
    return {"type": "string", "maxLength": spec.max_length}


def field_schema(version: str, owner: str, spec: FieldSpec) -> tuple[str, dict[str, Any]] | None:
    """(JSON key, schema) for one element of `owner` in the version; None when an optional one is absent."""
    if spec.assertion:
        value = {"type": "string", "enum": list(spec.codes)} if spec.codes else {"type": "string", "maxLength": spec.max_length}
        value["description"] = spec.hint
        value["x-fhir"] = {"assertion": True}
        return spec.candidates[0], value
    info = next((i for i in (element(version, owner, n) for n in spec.candidates) if i is not None), None)
    if info is None:
        if spec.optional:
            return None
        raise KeyError(f"{owner} in {version} has none of {spec.candidates}")
    xfhir: dict[str, Any] = {"path": f"{owner}.{info.name}", "type": info.type_name, "list": info.is_list}
    if spec.system:
        xfhir["system"] = spec.system
    if spec.ref:
        xfhir["ref"] = spec.ref
    if spec.children:
        props: dict[str, Any] = {}
        for child in spec.children:
            got = field_schema(version, info.type_name, child)
            if got is not None:
                props[got[0]] = got[1]
        value: dict[str, Any] = {"type": "object", "properties": props, "required": list(props),
                                 "additionalProperties": False}
    elif spec.child is not None and info.type_name not in TEXT_BEARING:
        got = field_schema(version, info.type_name, spec.child)
        if got is None:
            raise KeyError(f"{info.type_name} in {version} has none of {spec.child.candidates}")
        value = dict(got[1])
        xfhir["child"] = {"name": got[0], **got[1]["x-fhir"]}
        value.pop("x-fhir", None)
        value.pop("description", None)
    else:
        value = _leaf_schema(info, spec)
    if info.is_list and spec.max_items > 1:
        value = {"type": "array", "items": value, "maxItems": spec.max_items}
    value["description"] = spec.hint or info.description
    value["x-fhir"] = xfhir
    return info.name, value


def group_schema(version: str, group: GroupSpec) -> dict[str, Any]:
    """JSON schema of one group's answer: {"<group>": [ {...}, ... ]} or {"<group>": {...}}."""
    props: dict[str, Any] = {}
    for spec in group.fields:
        got = field_schema(version, group.resource, spec)
        if got is not None:
            props[got[0]] = got[1]
    item = {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
        "x-fhir": {"resource": group.resource},
    }
    body: dict[str, Any] = item if group.single else {"type": "array", "items": item, "maxItems": group.max_items}
    return {
        "type": "object",
        "description": group.ask,
        "properties": {group.name: body},
        "required": [group.name],
        "additionalProperties": False,
    }


def task_schema(version: str, task: TaskSpec) -> dict[str, Any]:
    """The whole task's extraction schema, one property per group; committed as grammars/<v>/<task>.schema.json."""
    groups = {g.name: group_schema(version, g) for g in task.groups}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"softtiger {task.title} extraction (FHIR {version})",
        "description": "Derived by softtiger_cli.fhir.schema from fhir.resources; regenerate with `softtiger grammar build`.",
        "type": "object",
        "properties": {name: s["properties"][name] for name, s in groups.items()},
        "required": list(groups),
        "additionalProperties": False,
        "x-groups": {name: {"description": s["description"]} for name, s in groups.items()},
    }
