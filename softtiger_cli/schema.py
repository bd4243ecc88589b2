"""Extraction schemas derived from FHIR: which elements a model fills, in FHIR names and value sets.

A task (IPS, ...) is a list of groups; a group is one resource type with a few elements a note can state.
The model fills one group per call (small models do far better with one focused question), under the
group's grammar. Element names, types, value sets and descriptions come from fhir.resources for the chosen
FHIR version; what this file decides is only *which* elements, how long their text may be, and how many
items a list may hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fhirmodel import ElementInfo, element, first_element

TEXT_TYPES = ("string", "markdown")
DATE_TYPES = ("date", "dateTime")


@dataclass(frozen=True)
class FieldSpec:
    """One element to extract. `candidates` lets a single spec follow renames across FHIR versions."""

    candidates: tuple[str, ...]
    max_length: int = 60
    child: str | None = None  # for a complex datatype or backbone: the child element whose text we take
    hint: str = ""  # what to write, in words a small model follows


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


IPS = TaskSpec(
    name="ips",
    title="International Patient Summary",
    groups=(
        GroupSpec("patient", "Patient", single=True, ask="Who is the patient?", fields=(
            FieldSpec(("name",), 50, child="text", hint="the patient's full name as written, or empty"),
            FieldSpec(("gender",), hint="the patient's gender"),
            FieldSpec(("birthDate",), hint="date of birth as YYYY-MM-DD, or empty"),
        )),
        GroupSpec("problems", "Condition", ask="List the patient's problems and diagnoses.", fields=(
            FieldSpec(("code",), 60, hint="the condition, in the note's words"),
            FieldSpec(("clinicalStatus",), hint="whether it is still present"),
            FieldSpec(("onsetString",), 30, hint="when it began, as written, or empty"),
        )),
        GroupSpec("medications", "MedicationStatement", ask="List the patient's medications.", fields=(
            FieldSpec(("medicationCodeableConcept", "medication"), 60, hint="the medication name and strength"),
            FieldSpec(("status",), hint="whether the patient takes it now"),
            FieldSpec(("dosage",), 60, child="text", hint="how it is taken, as written, or empty"),
        )),
        GroupSpec("allergies", "AllergyIntolerance", ask="List the patient's allergies and intolerances.", fields=(
            FieldSpec(("code",), 50, hint="the substance the patient is allergic to"),
            FieldSpec(("criticality",), hint="how dangerous the reaction is"),
            FieldSpec(("reaction",), 50, child="manifestation", hint="the reaction, as written, or empty"),
        )),
        GroupSpec("procedures", "Procedure", ask="List the procedures done to the patient.", fields=(
            FieldSpec(("code",), 60, hint="the procedure, in the note's words"),
            FieldSpec(("status",), hint="whether it was done"),
            FieldSpec(("performedString", "occurrenceString"), 30, hint="when it was done, as written, or empty"),
        )),
        GroupSpec("immunizations", "Immunization", ask="List the vaccines the patient received.", fields=(
            FieldSpec(("vaccineCode",), 60, hint="the vaccine, in the note's words"),
            FieldSpec(("occurrenceString",), 30, hint="when it was given, as written, or empty"),
        )),
        GroupSpec("results", "Observation", ask="List vital signs and test results with their values.", fields=(
            FieldSpec(("code",), 50, hint="what was measured"),
            FieldSpec(("valueString",), 30, hint="the value with its unit, as written"),
        )),
        GroupSpec("plan", "CarePlan", ask="List the plan of care: what will be done next.", max_items=5, fields=(
            FieldSpec(("description",), 100, hint="one planned action, in the note's words"),
        )),
    ),
)

TASKS: dict[str, TaskSpec] = {IPS.name: IPS}


def _resolve(version: str, resource: str, spec: FieldSpec) -> tuple[ElementInfo, ElementInfo | None]:
    info = first_element(version, resource, spec.candidates)
    child = None
    if spec.child:
        target = info.type_name
        child = element(version, target, spec.child)
        if child is None:
            raise KeyError(f"{version} {target} has no element {spec.child!r}")
    return info, child


def _field_schema(version: str, group: GroupSpec, spec: FieldSpec) -> tuple[str, dict[str, Any]]:
    info, child = _resolve(version, group.resource, spec)
    leaf = child or info
    path = f"{group.resource}.{info.name}" + (f".{child.name}" if child else "")
    doc: dict[str, Any] = {
        "description": spec.hint or leaf.description,
        "x-fhir": {"path": path, "type": info.type_name, "list": info.is_list},
    }
    if child is not None:
        doc["x-fhir"]["childType"] = child.type_name
    if leaf.codes and leaf.type_name in ("code", "CodeableConcept"):
        doc.update(type="string", enum=list(leaf.codes))
    elif leaf.type_name in DATE_TYPES:
        doc.update(type="string", format="partial-date")
    else:
        doc.update(type="string", maxLength=spec.max_length)
    return info.name, doc


def group_schema(version: str, group: GroupSpec) -> dict[str, Any]:
    """JSON schema of one group's answer: {"<group>": [ {...}, ... ]} or {"<group>": {...}}."""
    props: dict[str, Any] = {}
    for spec in group.fields:
        key, doc = _field_schema(version, group, spec)
        props[key] = doc
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
        "description": "Derived by softtiger_cli.schema from fhir.resources; regenerate with `softtiger grammar build`.",
        "type": "object",
        "properties": {name: s["properties"][name] for name, s in groups.items()},
        "required": list(groups),
        "additionalProperties": False,
        "x-groups": {name: {"description": s["description"]} for name, s in groups.items()},
    }
