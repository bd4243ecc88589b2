"""What each question reads and how it is put: the prompt, the answer's token bound, and steering
(which sections of a chunk a group's question reads, and when lists have already settled it). What each
question reads and its cue words are data: lang/<code>/steering.toml.
"""

from __future__ import annotations

import json
import re
from typing import Any

from softtiger_cli.clinical.abbreviations import glossary
from softtiger_cli.fhir.schema import GroupSpec
from softtiger_cli.lang import per_language
from softtiger_cli.lang.prompts import Prompts, load_prompts
from softtiger_cli.lang.vocab import SteeringRule, Vocab, alternation, load_vocab
from softtiger_cli.note.chunking import Chunk
from softtiger_cli.note.sections import Section

def system_prompt(lang: str = "en") -> str:
    """The system turn, in the note's language (lang/<code>/prompts.toml)."""
    return load_prompts(lang).system


SYSTEM_PROMPT = system_prompt("en")


def _describe(doc: dict[str, Any], list_of: str) -> str:
    text = doc.get("description", "")
    inner = doc["items"] if doc.get("type") == "array" else doc
    if inner.get("type") == "object":
        parts = "; ".join(f"{k}: {sub.get('description', '')}" for k, sub in inner["properties"].items())
        text += f" ({parts})"
    if doc.get("type") == "array":
        text = list_of + text
    return text


def _field_lines(group: str, schema: dict[str, Any], words: Prompts) -> str:
    lines = []
    for key, doc in schema["properties"].items():
        hint = words.hint(group, key, "")
        lines.append(f"- {key}: {_describe(dict(doc, description=hint) if hint else doc, words.list_of)}")
    return "\n".join(lines)


def group_prompt(group: GroupSpec, group_schema: dict[str, Any], chunk_text: str, lang: str = "en") -> str:
    """The user turn: the note first (shared by every group, so its KV cache is reused), then the ask, in
    the note's language (the JSON keys and codes are the grammar's, the same in every language)."""
    words = load_prompts(lang)
    body = group_schema["properties"][group.name]
    item_schema = body if group.single else body["items"]
    shape = "{...}" if group.single else "[{...}, ...]"
    terms = glossary(chunk_text)
    abbrev = f"{words.abbreviations}{'; '.join(terms)}\n" if terms else ""
    return (
        f"{words.note}\n\"\"\"\n{chunk_text}\n\"\"\"\n\n{abbrev}"
        f"{words.task}{words.ask(group.name, group.ask)}\n"
        f"{words.give if group.single else words.item_has}\n{_field_lines(group.name, item_schema, words)}\n"
        f"{words.answer}{{\"{group.name}\": {shape}}}"
    )


def answer_schema(group: GroupSpec, group_schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of one group's answer: {"<group>": ...}, nothing else (checked by backends that
    cannot apply the grammar themselves)."""
    return {"type": "object", "properties": group_schema["properties"], "required": [group.name],
            "additionalProperties": False}


def _worst_chars(node: dict[str, Any]) -> int:
    if "enum" in node:
        return max(len(json.dumps(v)) for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return 2 + node.get("maxItems", 8) * (_worst_chars(node["items"]) + 1)
    if kind == "object":
        return 2 + sum(len(json.dumps(k)) + 2 + _worst_chars(v) for k, v in node["properties"].items())
    if node.get("format") == "partial-date":
        return 12
    return node.get("maxLength", 60) + 2


def output_bound(group: GroupSpec, group_schema: dict[str, Any]) -> int:
    """Worst-case answer length in tokens (one token per character at worst): a complete answer fits."""
    return _worst_chars(group_schema["properties"][group.name]) + len(group.name) + 8


def _cues(rule: SteeringRule) -> str:
    """A question's cue words as one pattern, searched case-insensitively: cues matched inside words, at the
    start of a word, and as whole words."""
    parts = [alternation(rule.inside)] if rule.inside else []
    parts += [r"\b(?:" + alternation(rule.starts) + ")"] if rule.starts else []
    parts += [r"\b(?:" + alternation(rule.words) + r")\b"] if rule.words else []
    return "|".join(parts)


def _steering(vocab: Vocab) -> dict[str, tuple[tuple[str, ...], str]]:
    """group -> (the section kinds its question reads, its cue pattern), from lang/<code>/steering.toml."""
    return {group: (rule.reads, _cues(rule)) for group, rule in vocab.steering.items()}


# Which sections a group reads, and words that make a chunk worth asking about it anyway, per language
# (lang/<code>/steering.toml; a language without its own file reads English's).
steering = per_language(load_vocab, _steering)
STEERING: dict[str, tuple[tuple[str, ...], str]] = steering("en")

# Closed-vocabulary groups: in a note whose lists were read, their question needs a cue word in what is left.
CUE_REQUIRED = frozenset({"medications", "allergies", "procedures", "immunizations"})


def steer(group: str, note: str, chunk: Chunk, secs: list[Section], lang: str = "en") -> str | None:
    """The text a group's question should read in this chunk, or None to skip the question.

    A note with recognised headings sends each question only the sections it concerns (a medication
    question reads the medication list, not the social history); a chunk with none of them is asked only
    when it mentions the group's cue words. Notes without headings are read whole.
    """
    whole = chunk.text(note)
    rule = steering(lang).get(group)
    if rule is None or not any(s.kind != "other" for s in secs):
        return whole
    kinds, cues = rule
    parts = []
    for s in secs:
        lo, hi = max(s.start, chunk.start), min(s.end, chunk.end)
        if lo < hi and s.kind in kinds and note[lo:hi].strip():
            text = note[lo:hi].strip()
            if lo > s.start and s.heading:
                text = f"{s.heading} (continued):\n{text}"
            parts.append(text)
    if parts:
        return "\n\n".join(parts)
    if re.search(cues, note[chunk.start : chunk.end], re.I):
        return whole
    return None


def settled_by_lists(group: str, context: str, secs: list[Section], own: bool, lang: str = "en") -> bool:
    """After list text is blanked out: nothing left to read, or (for a closed-vocabulary group, or one
    whose own lists were read) none of the group's cue words left."""
    probe = context
    for s in secs:  # a heading ("Medications") is no cue that prose below it holds more
        probe = probe.replace(s.heading, " ") if s.heading else probe
    if sum(ch.isalpha() for ch in probe) < 3:
        return True
    rule = steering(lang).get(group)
    return (own or group in CUE_REQUIRED) and (rule is None or not re.search(rule[1], probe, re.I))
