"""Reads element facts (type, cardinality, value set, docs) off fhir.resources' model classes.

fhir.resources' own JSON schema is shallow (complex types are `{}`), so the element type comes from the
pydantic field annotation and the codes of required value sets from `enum_values` or the element title.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

FHIR_VERSIONS = ("R4B", "R5")


@dataclass(frozen=True)
class ElementInfo:
    """What the schemas say about one element of one resource in one FHIR version."""

    resource: str
    name: str
    type_name: str  # "CodeableConcept", "string", "code", "date", "Dosage", ...
    is_list: bool
    title: str
    description: str
    codes: tuple[str, ...]  # codes of a required binding, when the schema states them


def _package(version: str) -> str:
    if version not in FHIR_VERSIONS:
        raise ValueError(f"unsupported FHIR version {version!r}; use one of {', '.join(FHIR_VERSIONS)}")
    return "fhir.resources.R4B" if version == "R4B" else "fhir.resources"


@lru_cache(maxsize=128)
def model_class(version: str, resource: str) -> Any:
    """The fhir.resources class for a resource or datatype name in a FHIR version."""
    pkg = importlib.import_module(_package(version))
    return pkg.get_fhir_model_class(resource)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Union or (origin is not None and type(None) in args):
            annotation = next(a for a in args if a is not type(None))
        elif origin in (list, typing.List):
            is_list = True
            annotation = args[0]
        elif origin is typing.Annotated:
            meta = args[1:]
            return (type(meta[0]).__name__ if meta else args[0].__name__), is_list
        elif origin is None:
            return annotation, is_list
        else:  # pragma: no cover - unexpected typing form
            return annotation, is_list


def _type_name(annotation: Any) -> tuple[str, bool]:
    inner, is_list = _unwrap(annotation)
    if isinstance(inner, str):
        name = inner
    else:
        name = getattr(inner, "__name__", str(inner))
    if name.endswith("Type") and name[0].isupper():
        name = name[: -len("Type")]
    primitive = {"String": "string", "Code": "code", "Date": "date", "DateTime": "dateTime",
                 "Markdown": "markdown", "Uri": "uri", "Boolean": "boolean", "Decimal": "decimal",
                 "Integer": "integer", "PositiveInt": "positiveInt", "Instant": "instant",
                 "Id": "id", "UnsignedInt": "unsignedInt", "Time": "time"}
    return primitive.get(name, name), is_list


def _codes_from_title(title: str) -> tuple[str, ...]:
    if " | " not in title:
        return ()
    parts = [p.strip() for p in title.split("|")]
    codes = [p.split()[0] for p in parts if p and p.split()[0] not in ("+",)]
    return tuple(c for c in codes if c and all(ch.isalnum() or ch in "-." for ch in c))


@lru_cache(maxsize=512)
def _fields_by_json_name(version: str, resource: str) -> dict[str, Any]:
    cls = model_class(version, resource)
    out: dict[str, Any] = {}
    for py_name, field in cls.model_fields.items():
        if py_name.endswith("__ext"):
            continue
        out[field.alias or py_name] = field
    return out


def element(version: str, resource: str, name: str) -> ElementInfo | None:
    """Facts about resource.name (its JSON name, e.g. "class") in the version, or None when absent."""
    field = _fields_by_json_name(version, resource).get(name)
    if field is None:
        return None
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    type_name, is_list = _type_name(field.annotation)
    title = field.title or ""
    enum = tuple(c for c in extra.get("enum_values", ()) if c != "+")
    if not enum and type_name in ("CodeableConcept", "code"):
        enum = _codes_from_title(title)
    return ElementInfo(
        resource=resource, name=name, type_name=type_name, is_list=is_list,
        title=title, description=(field.description or title).strip(), codes=enum,
    )


def first_element(version: str, resource: str, candidates: tuple[str, ...]) -> ElementInfo:
    """The first candidate element the version defines: how one spec serves R4B and R5."""
    for name in candidates:
        info = element(version, resource, name)
        if info is not None:
            return info
    raise KeyError(f"{resource} in {version} has none of {candidates}")
