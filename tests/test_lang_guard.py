"""No clinical language in the code: every cue, heading and vocabulary word lives in a pack (lang/<code>/*.toml).

The guard reads every string constant of clinical/, pipeline/, note/ and fhir/assemble/ that sits where text
is matched: a regular expression fragment, a member of a literal tuple/list/set, one side of a comparison, or
the argument of a string method (startswith, find, ...). It fails when such a constant holds a word or phrase
of any pack (or any Han character), unless the word is an identifier the code is entitled to name: a status,
a section kind, an item group, a FHIR type or element, a pack key. Docstrings, error messages and counter
labels are prose, not matching, and are not read.
"""

from __future__ import annotations

import ast
import functools
import re
import tomllib
import typing
from pathlib import Path

import pytest

from softtiger_cli.core import data
from softtiger_cli.core.text import HAN
from softtiger_cli.fhir.grammars import load
from softtiger_cli.fhir.schema import TASKS

PACKAGE = Path(__file__).resolve().parent.parent / "softtiger_cli"
FOLDERS = ("clinical", "pipeline", "note", "fhir/assemble")
_REGEX = re.compile(r"\\[bsdwSW]|\(\?|\|")
_METHODS = {"startswith", "endswith", "find", "rfind", "index", "search", "match", "fullmatch", "split", "replace",
            "removeprefix", "removesuffix", "strip", "rstrip", "lstrip"}
_HAN = re.compile(f"[{HAN}]")
# Constants the code may hold though a pack word is in them, each with why.
ALLOWED = {
    "No known allergies": "the display of IPS absent-unknown code no-known-allergies, fixed by the code system",
    "No known medications": "the display of IPS absent-unknown code no-known-medications, fixed by the code system",
}


@functools.lru_cache(maxsize=None)
def _pack_strings() -> tuple[frozenset[str], frozenset[str]]:
    """(keys, values) of every pack file of every language, lower case."""
    keys: set[str] = set()
    values: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                keys.add(str(k).lower())
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            values.add(node.strip().lower().rstrip("*+ "))

    for f in (PACKAGE / "lang").rglob("*.toml"):
        walk(tomllib.loads(f.read_text(encoding="utf-8")))
    return frozenset(keys), frozenset(values)


def _literal_values(alias: object) -> set[str]:
    out: set[str] = set()
    for arg in typing.get_args(alias):
        out |= _literal_values(arg) if typing.get_origin(arg) is typing.Literal else {str(arg)}
    return out


# Identifiers no Literal type names (yet), each with what it is.
NAMED = {
    "condition", "medication", "allergy", "finding", "procedure", "vaccine", "supplement",  # lexicon mention kinds
    "date", "datetime", "string", "markdown", "code", "partial-date", "child",  # schema types and grammar keys
    "extension", "ymd",  # a FHIR element; a date shape's field order (lang/<code>/dates.toml)
}


@functools.lru_cache(maxsize=None)
def _literals_in_code() -> frozenset[str]:
    """Every string inside a `Literal[...]` anywhere in the package: the typed vocabularies of the code."""
    out: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", getattr(node.value, "attr", "")) == "Literal":
                out |= {c.value for c in ast.walk(node.slice) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return frozenset(out)


@functools.lru_cache(maxsize=None)
def _identifiers() -> frozenset[str]:
    """Names the code uses as identifiers, not as words it looks for in a note."""
    keys, _ = _pack_strings()
    ids = set(keys) | NAMED | _literals_in_code()
    for name in dir(data):
        alias = getattr(data, name)
        if typing.get_origin(alias) is typing.Literal:
            ids |= _literal_values(alias)
    ids |= {g.name for t in TASKS.values() for g in t.groups} | set(TASKS)
    for task in TASKS:
        schema = load("R4B", task).schema
        stack: list[object] = [schema]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ids |= {str(k) for k in node.get("properties", {})}
                ids |= {str(v) for k, v in node.items() if k in ("title", "const") and isinstance(v, str)}
                stack += list(node.values())
            elif isinstance(node, list):
                stack += node
    ids |= {"Patient", "Condition", "Procedure", "Immunization", "Encounter", "MedicationStatement",
            "MedicationRequest", "AllergyIntolerance", "Observation", "ServiceRequest", "CarePlan",
            "ClinicalImpression", "DocumentReference", "Composition", "Device", "Bundle"}
    return frozenset(i.lower() for i in ids)


@functools.lru_cache(maxsize=None)
def _vocabulary() -> frozenset[str]:
    _, values = _pack_strings()
    words = {v for v in values if re.fullmatch(r"[a-z]{3,}", v)}
    phrases = {v for v in values if re.fullmatch(r"[a-z]+(?: [a-z]+)+", v)}
    return frozenset((words | phrases) - _identifiers())


def _matching_constants(tree: ast.AST) -> list[tuple[ast.Constant, str]]:
    """String constants in matching positions, with the position's kind."""
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in docstrings:
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.JoinedStr):
            parent = parents.get(id(parent))
        if _REGEX.search(node.value):
            out.append((node, "pattern"))
        elif isinstance(parent, (ast.Tuple, ast.List, ast.Set)):
            out.append((node, "word list"))
        elif isinstance(parent, ast.Compare):
            out.append((node, "comparison"))
        elif isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and parent.func.attr in _METHODS:
            out.append((node, f".{parent.func.attr}()"))
    return out


@functools.lru_cache(maxsize=None)
def _finder(vocabulary: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, sorted(vocabulary, key=len, reverse=True))) + r")(?![a-z])")


def language_in(source: str, vocabulary: frozenset[str], identifiers: frozenset[str]) -> list[str]:
    """Each matching-position constant of `source` that holds pack vocabulary or Han text, as 'line: why'."""
    found, finder = [], _finder(vocabulary)
    for node, where in _matching_constants(ast.parse(source)):
        text = node.value
        if text in ALLOWED or text.strip(" :").lower() in identifiers:
            continue
        low = text.lower()
        hits = sorted({w for w in vocabulary if w in low and re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", low)}) \
            if finder.search(low) else []
        hits += ["Han text"] if _HAN.search(text) else []
        if hits:
            found.append(f"{node.lineno} {text[:60]!r} ({where}): {', '.join(hits[:6])}")
    return sorted(found, key=lambda f: int(f.split(" ")[0]))


def _modules() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (PACKAGE / folder).glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_clinical_language_outside_the_packs(path: Path) -> None:
    found = language_in(path.read_text(encoding="utf-8"), _vocabulary(), _identifiers())
    assert not found, "\n".join(found)


def test_the_guard_sees_language_in_code() -> None:
    source = '\n'.join([
        '"""Docstrings may say denies and tobacco."""',
        'NEG = re.compile(r"\\b(?:denies|negative for)\\b")',
        'HABITS = ("tobacco", "alcohol")',
        'def f(s, t):',
        '    if s.status == "active" and t.startswith("family history"):',
        '        raise ValueError("the note denies it")',
        '    return s.text.endswith("否认")',
    ])
    found = language_in(source, _vocabulary(), _identifiers())
    assert [f.split(" ")[0] for f in found] == ["2", "3", "3", "5", "7"], found
    assert "denies" in found[0] and "tobacco" in found[1] and "family history" in found[3] and "Han" in found[4]


def test_the_guard_reads_every_folder() -> None:
    names = {p.relative_to(PACKAGE).parts[0] for p in _modules()}
    assert names == {"clinical", "pipeline", "note", "fhir"} and len(_modules()) >= 30
    assert {"denies", "tobacco", "family history"} <= _vocabulary()
