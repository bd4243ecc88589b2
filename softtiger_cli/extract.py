"""Note -> chunks -> one grammar-constrained answer per (chunk, group) -> grounded, merged items.

The model only reads the note and fills FHIR-named fields; everything else (ids, references, codes fixed
by IPS, the Composition) is built in code by assemble.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .engine import Engine, Generation
from .errors import GenerationError
from .gbnf import group_root
from .grounding import Grounder, Span
from .jsonwatch import JsonWatch
from .notes import Note
from .prompting import Segment
from .schema import GroupSpec, TaskSpec

SYSTEM_PROMPT = (
    "You extract facts from a clinical note into JSON. Copy names exactly as the note writes them. "
    "Include only what the note states about this patient. If the note states nothing for the task, "
    "answer with an empty list."
)
UNGROUNDED_POLICIES = ("drop", "keep")
_GENDER_CUES = {
    "female": re.compile(r"\b(female|woman|girl|she|her|mrs|ms)\b", re.I),
    "male": re.compile(r"\b(male|man|boy|he|his|mr)\b", re.I),
}


@dataclass
class Item:
    """One extracted thing (a problem, a medication, ...) with the note spans it came from."""

    group: str
    values: dict[str, str]
    spans: list[Span] = field(default_factory=list)
    grounding: str = "ungrounded"  # exact | normalized | fuzzy | ungrounded

    @property
    def key(self) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", next(iter(self.values.values()), "").lower()))


@dataclass
class Extraction:
    note: Note
    task: str
    version: str
    model_label: str
    groups: dict[str, list[Item]]
    patient: dict[str, str]
    chunks: list[tuple[int, int]]
    generations: list[Generation] = field(default_factory=list)
    dropped_ungrounded: int = 0
    kept_ungrounded: int = 0
    dropped_implausible: int = 0
    debug: list[dict[str, Any]] = field(default_factory=list)


def _field_lines(schema: dict[str, Any]) -> str:
    lines = []
    for key, doc in schema["properties"].items():
        lines.append(f"- {key}: {doc['description']}")
    return "\n".join(lines)


def group_prompt(group: GroupSpec, group_schema: dict[str, Any], chunk_text: str) -> str:
    """The user turn: the note first (shared by every group, so its KV cache is reused), then the ask."""
    body = group_schema["properties"][group.name]
    item_schema = body if group.single else body["items"]
    shape = "{...}" if group.single else "[{...}, ...]"
    return (
        f"Clinical note:\n\"\"\"\n{chunk_text}\n\"\"\"\n\n"
        f"Task: {group.ask}\n"
        f"{'Give' if group.single else 'Each item has'}:\n{_field_lines(item_schema)}\n"
        f"Answer with JSON only: {{\"{group.name}\": {shape}}}"
    )


def output_bound(group: GroupSpec, group_schema: dict[str, Any]) -> int:
    """Worst-case answer length in tokens (one token per character at worst): a complete answer fits."""
    body = group_schema["properties"][group.name]
    item = body if group.single else body["items"]
    per_item = 2
    for key, doc in item["properties"].items():
        value = max((len(v) for v in doc["enum"]), default=0) if "enum" in doc else doc.get("maxLength", 10)
        per_item += len(key) + 4 + value + 2
    count = 1 if group.single else body.get("maxItems", 8)
    return per_item * count + len(group.name) + 8


def chunk_spans(text: str, max_tokens: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    """Cut the note at line boundaries into pieces of at most max_tokens; overlong lines are cut at spaces."""
    if count(text) <= max_tokens:
        return [(0, len(text))]
    pieces: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"[^\n]*\n|[^\n]+$", text):
        s, e = m.span()
        if e - s == 0:
            continue
        pieces.append((s, e))
    units: list[tuple[int, int]] = []
    for s, e in pieces:
        if count(text[s:e]) <= max_tokens:
            units.append((s, e))
            continue
        pos = s
        while pos < e:  # an overlong line: cut at spaces by a character estimate, then check
            step = max(16, max_tokens * 2)
            end = min(e, pos + step)
            if end < e:
                space = text.rfind(" ", pos + 1, end)
                end = space if space > pos else end
            while count(text[pos:end]) > max_tokens and end - pos > 16:
                end = pos + (end - pos) // 2
            units.append((pos, end))
            pos = end
    chunks: list[tuple[int, int]] = []
    start, end, used = units[0][0], units[0][0], 0
    for s, e in units:
        n = count(text[s:e])
        if used + n > max_tokens and end > start:
            chunks.append((start, end))
            start, used = s, 0
        end = e
        used += n
    if end > start:
        chunks.append((start, end))
    del pieces
    return chunks


def _parse(text: str, group: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise GenerationError(f"the model's answer for {group} is not complete JSON") from None
    return data.get(group)


def _add_span(item: Item, span: Span) -> None:
    if all((s.start, s.end) != (span.start, span.end) for s in item.spans):
        item.spans.append(span)


_HEADING = re.compile(r"^\s*([A-Z][A-Z /&-]{2,}|[A-Za-z][A-Za-z /&-]{2,}:)\s*$")


def plausible(text: str, note: str, patient_name: str = "") -> bool:
    """A main text worth keeping: some letters, not a bare heading, not the patient's name."""
    stripped = text.strip().strip(":").strip()
    if sum(ch.isalpha() for ch in stripped) < 3:
        return False
    if patient_name and stripped.lower() == patient_name.strip().lower():
        return False
    for line in note.splitlines():
        if line.strip().strip(":").strip().lower() == stripped.lower() and _HEADING.match(line):
            return False
    return True


def _ground_item(item: Item, grounder: Grounder, schema_item: dict[str, Any]) -> None:
    """Ground the main text; blank free-text fields the note does not contain (never invent)."""
    keys = list(schema_item["properties"])
    main = keys[0]
    span = grounder.find(item.values.get(main, ""))
    if span is not None:
        _add_span(item, span)
        item.grounding = span.method
    for key in keys[1:]:
        doc = schema_item["properties"][key]
        value = item.values.get(key, "")
        if "enum" in doc or not value:
            continue
        found = grounder.find(value, min_ratio=0.9)
        if found is None:
            item.values[key] = ""
        else:
            _add_span(item, found)


def _check_patient(values: dict[str, str], grounder: Grounder) -> dict[str, str]:
    """Keep only patient facts the note supports: a name it contains, a gender it cues, a date it has."""
    kept: dict[str, str] = {}
    name = values.get("name", "").strip()
    if name and grounder.find(name, min_ratio=0.95) is not None and len(name) > 2:
        kept["name"] = name
    gender = values.get("gender", "")
    cue = _GENDER_CUES.get(gender)
    if cue is not None and cue.search(grounder.note):
        kept["gender"] = gender
    birth = values.get("birthDate", "")
    if birth and birth in grounder.note:
        kept["birthDate"] = birth
    return kept


def extract(
    engine: Engine,
    note: Note,
    task: TaskSpec,
    version: str,
    schema: dict[str, Any],
    gbnf: str,
    *,
    max_tokens: int | None = None,
    ungrounded: str = "drop",
    keep_debug: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> Extraction:
    """Run every group of the task over every chunk of the note; ground, merge and return the items."""
    grounder = Grounder(note.text)
    group_schemas = {g.name: {"properties": {g.name: schema["properties"][g.name]}} for g in task.groups}
    bounds = {g.name: output_bound(g, group_schemas[g.name]) for g in task.groups}
    longest_ask = max(
        engine.count_tokens(SYSTEM_PROMPT + group_prompt(g, group_schemas[g.name], "")) for g in task.groups
    )
    reserve = max(bounds.values()) if max_tokens is None else min(max_tokens, max(bounds.values()))
    budget = engine.n_ctx - longest_ask - reserve - 32
    if budget < 64:
        raise GenerationError(
            f"the {engine.n_ctx}-token context leaves no room for the note; raise --n-ctx"
        )
    chunks = chunk_spans(note.text, budget, engine.count_tokens)
    result = Extraction(note=note, task=task.name, version=version, model_label=engine.config.model_label,
                        groups={g.name: [] for g in task.groups}, patient={}, chunks=chunks)
    patient_votes: dict[str, str] = {}
    for ci, (cs, ce) in enumerate(chunks):
        chunk_text = note.text[cs:ce]
        for group in task.groups:
            if on_progress:
                on_progress(f"chunk {ci + 1}/{len(chunks)}: {group.name}")
            prompt = group_prompt(group, group_schemas[group.name], chunk_text)
            segments: list[Segment] = engine.segments(SYSTEM_PROMPT, prompt)
            watch = JsonWatch()
            limit = bounds[group.name] if max_tokens is None else max_tokens
            gen = engine.generate(segments, gbnf, group_root(group.name), limit, watch=watch)
            result.generations.append(gen)
            if keep_debug:
                result.debug.append({"chunk": ci, "group": group.name, "prompt": "".join(s.text for s in segments),
                                     "output": gen.text, "stop": gen.stop})
            if gen.stop == "max_tokens":
                raise GenerationError(
                    f"the answer for {group.name} hit the {limit}-token limit before its JSON closed; "
                    "raise --max-tokens or leave it unset"
                )
            data = _parse(gen.text, group.name)
            item_schema = schema["properties"][group.name]
            if group.single:
                for k, v in (data or {}).items():
                    if v and k not in patient_votes:
                        patient_votes[k] = v
                continue
            item_schema = item_schema["items"]
            for values in data or []:
                item = Item(group=group.name, values={k: str(v) for k, v in values.items()})
                if not item.key:
                    continue
                _ground_item(item, grounder, item_schema)
                result.groups[group.name].append(item)
    result.patient = _check_patient(patient_votes, grounder)
    for name, items in result.groups.items():
        merged = merge_items(items)
        kept = []
        for item in merged:
            main = next(iter(item.values.values()), "")
            if not plausible(main, note.text, result.patient.get("name", "")):
                result.dropped_implausible += 1
                continue
            if item.grounding == "ungrounded":
                if ungrounded == "drop":
                    result.dropped_ungrounded += 1
                    continue
                result.kept_ungrounded += 1
            kept.append(item)
        result.groups[name] = kept
    return result


def merge_items(items: list[Item]) -> list[Item]:
    """One item per concept: same normalised main text (within or across chunks) merges, spans united.

    Conflicting values keep the first non-empty one, except status-like enums where the first chunk wins
    too: notes state the current status first more often than not; the rule is documented in README.
    """
    merged: dict[str, Item] = {}
    for item in items:
        existing = merged.get(item.key)
        if existing is None:
            merged[item.key] = item
            continue
        for k, v in item.values.items():
            if v and not existing.values.get(k):
                existing.values[k] = v
        for span in item.spans:
            _add_span(existing, span)
        if existing.grounding == "ungrounded" and item.grounding != "ungrounded":
            existing.grounding = item.grounding
    return list(merged.values())
