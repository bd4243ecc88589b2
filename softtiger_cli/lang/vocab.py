"""The word lists that decide what a found term or a model's answer is, and which sections each question
reads: lang/<code>/vocab.toml and steering.toml, read once and checked at load (file and line).

The tables hold words and phrases only (and two shapes as regular expressions); pipeline/candidates.py,
pipeline/ground.py and pipeline/questions.py build their patterns from them. A word ending in "*" stands
for every word that begins so, one ending in "+" for every longer one (see vocab.toml's header).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from softtiger_cli.lang.pack import PackError, Source, compile_pattern, load_pack, read_file

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

GENDERS = ("male", "female", "other", "unknown")  # FHIR AdministrativeGender codes a [gender.*] table may name
NO_KNOWN_GROUPS = ("allergies", "medications")  # the groups whose "no known ..." statements code reads
OTHER_KIND = "other"  # the section kind of text under no recognised heading (note/sections.py)
Kind = Literal["words", "stems", "cues", "kinds", "count", "flag", "text", "pattern"]
_EXAMPLE = ("example", "target", "expect")


@dataclass(frozen=True)
class Example:
    """A sentence (or note) of the pack author's, the part of it the rule looks at, and what comes out."""

    text: str
    target: str
    expect: str


@dataclass(frozen=True)
class WordList:
    """One list of words, and the example that shows it at work."""

    words: tuple[str, ...]
    example: Example
    unreachable: Mapping[str, str]  # word -> why no sentence can show it deciding


@dataclass(frozen=True)
class AllergyLead:
    """Words before a drug, on its line, that make it an allergy ("allergic to penicillin")."""

    words: tuple[str, ...]
    reach: int  # characters between the lead and the drug
    example: Example
    unreachable: Mapping[str, str]


@dataclass(frozen=True)
class AllergyAfter:
    """Words after a drug that make it an allergy: a word ("penicillin allergy"), or a verb and a reaction
    at most `reach` words on ("codeine gave him nausea")."""

    words: tuple[str, ...]
    verbs: tuple[str, ...]
    reach: int
    reactions: tuple[str, ...]
    example: Example
    unreachable: Mapping[str, str]


@dataclass(frozen=True)
class NoKnown:
    """A group's "no known ..." statements: phrases, or the heading, a colon and an empty word."""

    statements: tuple[str, ...]
    heading: str
    empty: tuple[str, ...]
    whole_words: bool  # False: a statement may run on into a longer word (kept as it was before the pack)
    example: Example
    unreachable: Mapping[str, str]


@dataclass(frozen=True)
class Junk:
    """Texts that are never an item, in groups for the reader; `words` is the one list code reads."""

    template_labels: tuple[str, ...]  # one corpus's template labels (ACI-Bench), not general English
    headings: tuple[str, ...]
    body_systems: tuple[str, ...]
    findings: tuple[str, ...]
    generic: tuple[str, ...]
    course: tuple[str, ...]
    example: Example
    unreachable: Mapping[str, str]

    @property
    def words(self) -> tuple[str, ...]:
        return (self.template_labels + self.headings + self.body_systems + self.findings + self.generic
                + self.course)


@dataclass(frozen=True)
class Fragments:
    """A proposed condition that is a comparison ("worse than"), only a side ("left"), or the visit or its
    record ("follow up for abnormal labs": why the patient came; "门诊病历": the document), not a problem."""

    comparisons: tuple[str, ...]
    sides: tuple[str, ...]
    reasons: tuple[str, ...]
    example: Example
    unreachable: Mapping[str, str]


@dataclass(frozen=True)
class Birth:
    """Words that must stand at most `reach` characters before a birth date's year."""

    words: tuple[str, ...]
    reach: int
    example: Example
    unreachable: Mapping[str, str]


@dataclass(frozen=True)
class Shape:
    """A shape of text as a regular expression (case-sensitive): a heading line, a person's name."""

    pattern: re.Pattern[str]
    example: Example
    unreachable: Mapping[str, str]


@dataclass(frozen=True)
class SteeringRule:
    """The sections a group's question reads, and the cues that make a chunk worth asking anyway."""

    reads: tuple[str, ...]  # section kinds
    inside: tuple[str, ...]  # cues matched anywhere, even inside a word
    starts: tuple[str, ...]  # ... at the start of a word
    words: tuple[str, ...]  # ... as whole words
    example: Example
    unreachable: Mapping[str, str]


@dataclass(frozen=True)
class Vocab:
    """One language's vocab.toml and steering.toml."""

    code: str
    allergy_lead: AllergyLead
    allergy_after: AllergyAfter
    allergens: WordList
    no_known: Mapping[str, NoKnown]  # group -> its statements
    junk: Junk
    denials: WordList
    habits: WordList
    disorders: WordList
    fragments: Fragments
    semantic_tags: WordList
    dose_units: WordList
    coordinators: WordList
    gender: Mapping[str, WordList]  # FHIR gender code -> its cue words
    birth: Birth
    not_names: WordList
    heading_shape: Shape
    person_shape: Shape
    steering: Mapping[str, SteeringRule]  # question group -> what it reads


_LIST = {"words": "words"}
# table path -> (record, its keys and their kinds, in the record's field order)
_TABLES: dict[str, tuple[type, dict[str, Kind]]] = {
    "allergy_lead": (AllergyLead, {"words": "words", "reach": "count"}),
    "allergy_after": (AllergyAfter, {"words": "words", "verbs": "words", "reach": "count", "reactions": "stems"}),
    "allergens": (WordList, _LIST),
    "junk": (Junk, {k: "words" for k in ("template_labels", "headings", "body_systems", "findings", "generic",
                                          "course")}),
    "denials": (WordList, _LIST),
    "habits": (WordList, {"words": "stems"}),
    "disorders": (WordList, _LIST),
    "fragments": (Fragments, {"comparisons": "words", "sides": "words", "reasons": "words"}),
    "semantic_tags": (WordList, _LIST),
    "dose_units": (WordList, _LIST),
    "coordinators": (WordList, _LIST),
    "birth": (Birth, {"words": "words", "reach": "count"}),
    "not_names": (WordList, _LIST),
}
_NO_KNOWN: dict[str, Kind] = {"statements": "words", "heading": "text", "empty": "words", "whole_words": "flag"}
_SHAPE: dict[str, Kind] = {"pattern": "pattern"}
_STEERING: dict[str, Kind] = {"reads": "kinds", "inside": "cues", "starts": "words", "words": "words"}
_OPTIONAL = {"inside", "starts", "words"}  # in steering tables: at least one of them
_JOINED = {"junk"}  # tables whose lists are one list: a word may stand in only one of them


@functools.lru_cache(maxsize=None)
def load_vocab(code: str = "en") -> Vocab:
    """The vocab shipped in softtiger_cli/lang/<code>/, read and checked once per process."""
    return read_vocab(code)


def read_vocab(code: str = "en", folder: Traversable | Path | None = None) -> Vocab:
    """Read and check vocab.toml and steering.toml of lang/<code>/ (or of `folder`, for tests); section
    kinds are checked against the sections.toml of lang/<code>/."""
    data, src = read_file(code, "vocab.toml", folder)
    known = {"no_known", "gender", "shapes", *_TABLES}
    for name in data:
        if name not in known:
            raise src.error(src.table_line(name), f"unknown table [{name}]")
    tables = {name: _table(data, name, cls, spec, src) for name, (cls, spec) in _TABLES.items()}
    no_known = _family(data, "no_known", src, NO_KNOWN_GROUPS, exact=True)
    gender = _family(data, "gender", src, GENDERS, exact=False)
    shapes = _family(data, "shapes", src, ("heading", "person"), exact=True)
    steer_data, steer_src = read_file(code, "steering.toml", folder)
    return Vocab(
        code=code, **tables,
        no_known=MappingProxyType({g: _table(no_known, g, NoKnown, _NO_KNOWN, src, "no_known.") for g in no_known}),
        gender=MappingProxyType({g: _table(gender, g, WordList, _LIST, src, "gender.") for g in gender}),
        heading_shape=_table(shapes, "heading", Shape, _SHAPE, src, "shapes."),
        person_shape=_table(shapes, "person", Shape, _SHAPE, src, "shapes."),
        steering=_steering(steer_data, steer_src, set(load_pack(code).headings) | {OTHER_KIND}),
    )


def alternation(words: tuple[str, ...] | list[str]) -> str:
    """The words as one regular-expression alternation, in their order: escaped, a word ending in "*" or
    "+" as a word beginning so (any or at least one more word character). None: a pattern that never
    matches."""
    out = []
    for w in words:
        if w.endswith(("*", "+")) and len(w) > 1:
            out.append(re.escape(w[:-1]) + (r"\w*" if w[-1] == "*" else r"\w+"))
        else:
            out.append(re.escape(w))
    return "|".join(out) or "(?!)"


def _family(data: dict[str, Any], name: str, src: Source, names: tuple[str, ...], exact: bool) -> dict[str, Any]:
    """A table of sub-tables ([gender.female], ...): `exact` all of `names`, else some of them."""
    family = data.get(name)
    line = src.table_line(name) if src.table_line(name) > 1 else _header_line(src, name + ".")
    if not isinstance(family, dict) or not family:
        raise src.error(line, f"missing the [{name}.*] tables ({', '.join(names)})")
    for key in family:
        if key not in names:
            raise src.error(src.table_line(f"{name}.{key}"),
                            f"unknown table [{name}.{key}] (one of {', '.join(names)})")
    missing = [n for n in names if n not in family] if exact else []
    if missing:
        raise src.error(line, f"missing the [{name}.{missing[0]}] table")
    return family


def _header_line(src: Source, prefix: str) -> int:
    return next((n for n, line in enumerate(src.lines, 1) if line.strip().startswith("[" + prefix)), 1)


def _span(src: Source, path: str) -> tuple[int, int | None]:
    """The lines of table [path]: its header, and the next header after it (None: the file's end)."""
    start = src.table_line(path)
    end = next((n for n in range(start + 1, len(src.lines) + 1) if src.lines[n - 1].lstrip().startswith("[")), None)
    return start, end


def _table(data: dict[str, Any], name: str, cls: type, spec: dict[str, Kind], src: Source, prefix: str = "",
           kinds: set[str] | None = None) -> Any:
    """One table, checked against its spec, as its record."""
    path = prefix + name
    raw = data.get(name)
    start, end = _span(src, path)
    if not isinstance(raw, dict):
        raise src.error(1, f"missing the [{path}] table")

    def fail(key: str, problem: str) -> PackError:
        return src.error(src.key_line(key, start, end) if key else start, f"[{path}] {problem}")

    for key in raw:
        if key not in spec and key not in _EXAMPLE and key != "unreachable":
            raise fail(key, f"unknown key '{key}'")
    values: dict[str, Any] = {}
    for key, kind in spec.items():
        if key not in raw and key in _OPTIONAL and cls is SteeringRule:
            values[key] = ()
            continue
        if key not in raw:
            raise fail("", f"missing '{key}'")
        values[key] = _value(raw[key], kind, lambda problem, key=key: fail(key, problem), src,
                             src.key_line(key, start, end), kinds)
    lists = [k for k, kind in spec.items() if kind in ("words", "stems", "cues")]
    if cls is SteeringRule and not any(values[k] for k in _OPTIONAL):
        raise fail("", "needs cues: inside, starts or words")
    if name in _JOINED:
        seen: dict[str, str] = {}
        for key in lists:
            for w in values[key]:
                if w in seen:
                    raise fail(key, f"'{w}' is listed under '{seen[w]}' and '{key}'")
                seen[w] = key
    for key in _EXAMPLE:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise fail(key if key in raw else "", f"missing '{key}' (a non-empty string)")
    if raw["target"] not in raw["example"]:
        raise fail("target", f"target '{raw['target']}' is not in the example")
    values["example"] = Example(raw["example"], raw["target"], raw["expect"])
    values["unreachable"] = _unreachable(raw.get("unreachable", {}), {w for k in lists for w in values[k]}, src,
                                         path)
    return cls(**values)


def _value(value: Any, kind: Kind, fail: Any, src: Source, line: int, kinds: set[str] | None) -> Any:
    if kind == "count":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise fail("must be a positive whole number")
        return value
    if kind == "flag":
        if not isinstance(value, bool):
            raise fail("must be true or false")
        return value
    if kind == "pattern":
        if not isinstance(value, str) or not value:
            raise fail("must be a regular expression (a string)")
        return compile_pattern(value, src, line, flags=0)
    if kind == "text":
        if not isinstance(value, str) or not value or value != value.strip().lower():
            raise fail("must be a lower-case word or phrase")
        return value
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w for w in value):
        raise fail("must be a non-empty list of words or phrases")
    for w in value:
        if kind == "kinds":
            if w not in (kinds or set()):
                raise fail(f"'{w}' is no section kind (sections.toml, or '{OTHER_KIND}')")
            continue
        body = w[:-1] if (kind == "stems" and w.endswith(("*", "+"))) or (kind == "cues" and w.endswith(" ")) else w
        if not body or body != body.strip() or "  " in body or "\n" in body or body.endswith(("*", "+")):
            raise fail(f"'{w}' has spaces at its ends, two spaces or a line break"
                       + (", or a '*'/'+' where no stems are read" if kind != "stems" else ""))
        if w != w.lower():
            raise fail(f"'{w}' must be written in lower case")
    if len(set(value)) != len(value):
        twice = next(w for w in value if value.count(w) > 1)
        raise fail(f"lists '{twice}' twice")
    return tuple(value)


def _unreachable(raw: Any, words: set[str], src: Source, path: str) -> Mapping[str, str]:
    line = src.table_line(f"{path}.unreachable")
    if not isinstance(raw, dict):
        raise src.error(line, f"[{path}.unreachable] is a table: word = \"why\"")
    for word, why in raw.items():
        if word not in words:
            raise src.error(src.key_line(word, line), f"[{path}.unreachable] '{word}' is not a word of the table")
        if not isinstance(why, str) or not why.strip():
            raise src.error(src.key_line(word, line), f"[{path}.unreachable] '{word}' needs a reason (a string)")
    return MappingProxyType(dict(raw))


def _steering(data: dict[str, Any], src: Source, kinds: set[str]) -> Mapping[str, SteeringRule]:
    for name in data:
        if name != "question":
            raise src.error(src.table_line(name), f"unknown table [{name}]")
    questions = data.get("question")
    if not isinstance(questions, dict) or not questions:
        raise src.error(1, "missing the [question.*] tables")
    out = {}
    for group in questions:
        if not re.fullmatch(r"[a-z][a-z_]*", group):
            raise src.error(src.table_line(f"question.{group}"), f"question group '{group}' must be a lower-case name")
        out[group] = _table(questions, group, SteeringRule, _STEERING, src, "question.", kinds)
    return MappingProxyType(out)
