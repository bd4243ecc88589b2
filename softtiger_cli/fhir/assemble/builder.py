"""The Bundle under construction: deterministic ids, shared resources, and FHIR values placed by following
each extraction-schema field's `x-fhir` annotation (type, cardinality, child element), so the same code
builds R4B and R5 resources.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from softtiger_cli.clinical.dates import read_duration
from softtiger_cli.core.data import Extraction
from softtiger_cli.core.text import Language, words
from softtiger_cli.fhir.assemble.sections import SECTIONS
from softtiger_cli.fhir.model import element
from softtiger_cli.fhir.schema import CONDITION_CLINICAL


DERIVATION_REFERENCE = "http://hl7.org/fhir/StructureDefinition/derivation-reference"
_OWN = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/"
SPAN_MATCH = _OWN + "span-match"  # exact | normalized | fuzzy | abbreviation | pattern
SPAN_ORIGIN = _OWN + "span-origin"  # list | model | lexicon | pattern | both
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
_NS = uuid.UUID("5b0c7c36-4c47-4b0e-9b61-3f1c6c1e2a10")


@dataclass(frozen=True)
class AssemblyOptions:
    timestamp: str  # FHIR instant, e.g. 2026-11-26T12:00:00Z
    options_key: str = ""  # options that change the output, folded into ids


def _key(text: str) -> str:
    return words(text)


def _duration(text: str, lang: Language) -> dict[str, Any] | None:
    """A FHIR Duration for a text that begins with one ("10 days"); its units are those of the dates pack."""
    found = read_duration(text, lang)
    if found is None:
        return None
    value, code, name = found
    return {"value": value, "unit": name, "system": UCUM, "code": code}


class BundleBuilder:
    """Collects entries, mints deterministic ids and resolves text references to shared resources."""

    def __init__(self, ex: Extraction, opts: AssemblyOptions) -> None:
        tasks = "+".join(ex.tasks)
        self.version = ex.version
        self.lang = ex.note.lang  # durations are read in the note's language
        self.base = f"{ex.note.sha256}|{ex.model_label}|{tasks}|{self.version}|{opts.options_key}"
        self.entries: list[dict[str, Any]] = []
        self.by_key: dict[tuple[str, str], str] = {}
        self.links = ex.links  # a referenced Condition's words -> the key of the decided item it names
        self.patient_url = self.url("Patient")
        self.sections: dict[str, list[tuple[str, str]]] = {s.key: [] for s in SECTIONS}

    def url(self, *parts: str) -> str:
        return "urn:uuid:" + str(uuid.uuid5(_NS, self.base + "|" + "|".join(parts)))

    def add(self, resource: dict[str, Any], url: str) -> str:
        rid = url.removeprefix("urn:uuid:")
        ordered = {"resourceType": resource["resourceType"], "id": rid}
        ordered.update({k: v for k, v in resource.items() if k not in ("resourceType", "id")})
        self.entries.append({"fullUrl": url, "resource": ordered})
        return url

    def subject_field(self, resource: str) -> str:
        return "subject" if element(self.version, resource, "subject") is not None else "patient"

    def shared(self, resource_type: str, text: str) -> str:
        """A Condition or Location named by text, made once and referenced from everywhere it is named."""
        key = (resource_type, self.links.get(_key(text), _key(text)) if resource_type == "Condition" else _key(text))
        if key in self.by_key:
            return self.by_key[key]
        url = self.url(resource_type, key[1])
        if resource_type == "Condition":
            res = {"resourceType": "Condition",
                   "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
                   "code": {"text": text}, "subject": {"reference": self.patient_url}}
            self.sections["problems"].append((url, text))
        elif resource_type == "Location":
            res = {"resourceType": "Location", "name": text}
        else:  # pragma: no cover - the schema only names these two
            raise ValueError(f"cannot build a {resource_type} from text")
        self.by_key[key] = url
        return self.add(res, url)

    # -- values ------------------------------------------------------------------------------------
    def _leaf(self, x: dict[str, Any], value: str) -> Any:
        t = x["type"]
        if t in ("string", "markdown", "code", "date", "dateTime"):
            return value
        if t == "CodeableConcept":
            return {"coding": [{"system": x["system"], "code": value}]} if x.get("system") else {"text": value}
        if t == "Coding":
            return {"system": x.get("system", ""), "code": value}
        if t == "CodeableReference":
            if x.get("ref"):
                return {"reference": {"reference": self.shared(x["ref"], value), "display": value}}
            return {"concept": {"text": value}}
        if t == "Reference":
            if x.get("ref"):
                return {"reference": self.shared(x["ref"], value), "display": value}
            return {"display": value}
        if t == "Annotation":
            return {"text": value}
        if t == "Duration":
            return _duration(value, self.lang)
        raise ValueError(f"no placement for FHIR type {t}")

    def _one(self, node: dict[str, Any], x: dict[str, Any], value: Any) -> Any:
        if node.get("type") == "object":
            obj = {}
            for key, sub in node["properties"].items():
                built = self.build(sub, (value or {}).get(key))
                if built is not None:
                    obj[key] = built
            return obj or None
        if value in (None, ""):
            return None
        if "child" in x:
            child = x["child"]
            inner = self._leaf(child, value)
            if inner is None:
                return None
            return {child["name"]: [inner] if child.get("list") else inner}
        return self._leaf(x, value)

    def build(self, node: dict[str, Any], value: Any) -> Any:
        """The FHIR JSON for one extracted field, following its schema node's x-fhir annotation."""
        x = node.get("x-fhir", {})
        if node.get("type") == "array":
            built = [self._one(node["items"], x, v) for v in (value or [])]
            built = [b for b in built if b is not None]
            return built or None
        one = self._one(node, x, value)
        if one is None:
            return None
        return [one] if x.get("list") else one


