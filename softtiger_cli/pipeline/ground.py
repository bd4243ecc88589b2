"""Ground the model's answers in the note: every item's words must be found there, and every free-text
field the note does not support is blanked. Patient facts are kept only where the note states them.
The gender, birth and not-a-name words and the heading and name shapes are data (lang/<code>/vocab.toml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from softtiger_cli.clinical.abbreviations import abbreviations_for
from softtiger_cli.core.data import Item, Span
from softtiger_cli.core.text import Language
from softtiger_cli.lang import per_language
from softtiger_cli.lang.text import text_model
from softtiger_cli.lang.vocab import Vocab, alternation, load_vocab
from softtiger_cli.note.grounding import Grounder

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class _Patterns:
    """The patient words and text shapes of lang/<code>/vocab.toml, as this module reads them."""

    heading: re.Pattern[str]  # a line that is a heading
    gender_cues: dict[str, re.Pattern[str]]  # FHIR gender code -> its words
    birth_cue: re.Pattern[str]
    birth_reach: int  # characters before a birth date's year
    person: re.Pattern[str]  # a person's name as notes write one
    not_names: frozenset[str]  # words no patient's name has


def _compile(vocab: Vocab) -> _Patterns:
    """The vocab as patterns: built once at import (and by tests/test_lang_vocab.py from a vocab less a word)."""
    b = text_model(vocab.code).edge  # English \\b; Chinese: anywhere but inside a Latin word
    return _Patterns(
        heading=vocab.heading_shape.pattern,
        gender_cues={code: re.compile(b + r"(" + alternation(cues.words) + r")" + b, re.I)
                     for code, cues in vocab.gender.items()},
        birth_cue=re.compile(b + r"(" + alternation(vocab.birth.words) + r")" + b, re.I),
        birth_reach=vocab.birth.reach,
        person=vocab.person_shape.pattern,
        not_names=frozenset(vocab.not_names.words),
    )


_rx = per_language(load_vocab, _compile)  # a language's vocabulary as patterns, compiled once


def add_span(item: Item, span: Span) -> None:
    if all((s.start, s.end) != (span.start, span.end) for s in item.spans):
        item.spans.append(span)


def plausible(text: str, note: str, patient_name: str = "", lang: Language = "en") -> bool:
    """A main text worth keeping: enough letters for the language, not a bare heading, not the patient's name."""
    stripped = text.strip().strip(":").strip()
    if not text_model(lang).plausible(stripped):
        return False
    if patient_name and stripped.lower() == patient_name.strip().lower():
        return False
    for line in note.splitlines():
        if line.strip().strip(":").strip().lower() == stripped.lower() and _rx(lang).heading.match(line):
            return False
    return True


def date_in_note(value: str, note: str) -> bool:
    """An ISO (partial) date the note supports: written as such, or its year with its month and day nearby."""
    if not value:
        return False
    if value in note:
        return True
    m = _DATE.match(value)
    if not m:
        return False
    year, month, day = m.groups()
    for hit in re.finditer(year, note):
        window = note[max(0, hit.start() - 12) : hit.end() + 12]
        numbers = {int(n) for n in re.findall(r"\d{1,2}", window.replace(year, " "))}
        if (month is None or int(month) in numbers) and (day is None or int(day) in numbers):
            return True
    return False


def ground_value(node: dict[str, Any], value: Any, grounder: Grounder, spans: list[Span],
                 window: tuple[int, int] | None = None) -> Any:
    """Keep what the note supports: free text found in the note, dates it states, enums as given.

    Free text that cannot be found is blanked (lists lose the element); spans found are collected.
    """
    kind = node.get("type")
    if kind == "array":
        kept = [ground_value(node["items"], v, grounder, spans, window) for v in (value or [])]
        if node["items"].get("type") == "object":  # an element whose main (first) field is gone goes too
            first = next(iter(node["items"]["properties"]), None)
            kept = [v for v in kept if isinstance(v, dict) and v.get(first)]
        return [v for v in kept if v not in ("", None, {})]
    if kind == "object":
        return {k: ground_value(sub, (value or {}).get(k), grounder, spans, window) for k, sub in node["properties"].items()}
    if not isinstance(value, str) or not value.strip():
        return ""
    if "enum" in node:
        return value
    if node.get("format") == "partial-date":
        return value if date_in_note(value, grounder.note) else ""
    if sum(ch.isalpha() for ch in value) < 2:
        return ""
    span = grounder.find(value, min_ratio=0.9, window=window)
    if span is None:
        return ""
    spans.append(span)
    return value


def find_with_abbreviations(grounder: Grounder, text: str, window: tuple[int, int] | None) -> Span | None:
    """Find text in the note, or an abbreviation of it ("hypertension" is found as "HTN")."""
    span = grounder.find(text, window=window)
    if span is not None:
        return span
    for abbrev in abbreviations_for(text):
        for lo, hi in ([window] if window else []) + [(0, len(grounder.note))]:
            m = re.compile(r"(?<![A-Za-z0-9])" + re.escape(abbrev) + r"(?![A-Za-z0-9])", re.I).search(grounder.note, lo, hi)
            if m:
                return Span(m.start(), m.end(), "abbreviation")
    return None


def ground_item(item: Item, grounder: Grounder, schema_item: dict[str, Any], single: bool,
                window: tuple[int, int] | None = None) -> None:
    """Ground the main text (list groups) and every free-text field; blank what the note does not say."""
    props = schema_item["properties"]
    keys = list(props)
    if not single:
        span = find_with_abbreviations(grounder, str(item.values.get(keys[0], "")), window)
        if span is None:
            return
        add_span(item, span)
        item.grounding = span.method
        keys = keys[1:]
    found: list[Span] = []
    for key in keys:
        item.values[key] = ground_value(props[key], item.values.get(key), grounder, found, window)
    for span in found:
        add_span(item, span)
    if single:
        item.grounding = min((s.method for s in found), key=("exact", "normalized", "fuzzy").index, default="exact")


def _birth_cue_near(date: str, note: str, rx: _Patterns) -> bool:
    """A birth date needs a birth cue just before its year: visit dates are not birth dates."""
    year = date[:4]
    return any(rx.birth_cue.search(note[max(0, m.start() - rx.birth_reach) : m.start()])
               for m in re.finditer(year, note))


def _labelled(name: str, not_names: frozenset[str], lang: Language) -> bool:
    """A name holding a word no person's name has: a whole word in English, anywhere in Chinese ("人民医院")."""
    if text_model(lang).han_boundaries:
        return any(w in name.lower() for w in not_names)
    return any(w.lower().strip(".") in not_names for w in name.split())


def check_patient(values: dict[str, Any], grounder: Grounder, lang: Language = "en") -> dict[str, str]:
    """Keep only patient facts the note supports: a person's name it writes as such (never a heading or a
    label), a gender it cues, a birth date it has."""
    kept: dict[str, str] = {}
    rx = _rx(lang)
    name = str(values.get("name", "")).strip()
    if (rx.person.match(name) and not _labelled(name, rx.not_names, lang)
            and grounder.find(name, min_ratio=0.95) is not None and grounder.find(name).method == "exact"):
        kept["name"] = name
    gender = values.get("gender", "")
    cue = rx.gender_cues.get(gender)
    if cue is not None and cue.search(grounder.note):
        kept["gender"] = gender
    birth = str(values.get("birthDate", ""))
    if date_in_note(birth, grounder.note) and _birth_cue_near(birth, grounder.note, rx):
        kept["birthDate"] = birth
    return kept
