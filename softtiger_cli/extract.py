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
from .lists import LIST_GROUPS, implied_status, read_lists
from .notes import Note
from .abbreviations import abbreviations_for, glossary
from .chunking import Chunk, chunk_note
from .context import Assertion, assert_span
from .dates import find_note_date, resolve
from .prompting import Segment
from .schema import GroupSpec, TaskSpec
from .segment import Section, section_at, sections, sentences
from .vitals import Vital, read_vitals

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
    values: dict[str, Any]
    spans: list[Span] = field(default_factory=list)
    grounding: str = "ungrounded"  # exact | normalized | fuzzy | abbreviation | ungrounded
    assertion: Assertion | None = None  # decided by rules on the note when the item is grounded
    onset: str | None = None  # a resolved FHIR date for the item's onset or occurrence
    origin: str = "model"  # model | list (read from a written-out list) | both

    @property
    def key(self) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", str(next(iter(self.values.values()), "")).lower()))


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
    skipped_questions: int = 0
    retried: int = 0
    note_date: str | None = None
    vitals: list[Vital] = field(default_factory=list)
    negated_dropped: int = 0
    overrides: dict[str, int] = field(default_factory=dict)
    debug: list[dict[str, Any]] = field(default_factory=list)
    list_items: int = 0  # items read from written-out lists (before merging)
    covered_questions: int = 0  # questions not asked: lists covered everything the group could read
    list_names: list[tuple[int, int]] = field(default_factory=list)  # spans of list items' names


def _describe(doc: dict[str, Any]) -> str:
    text = doc.get("description", "")
    inner = doc["items"] if doc.get("type") == "array" else doc
    if inner.get("type") == "object":
        parts = "; ".join(f"{k}: {sub.get('description', '')}" for k, sub in inner["properties"].items())
        text += f" ({parts})"
    if doc.get("type") == "array":
        text = "a list of " + text
    return text


def _field_lines(schema: dict[str, Any]) -> str:
    return "\n".join(f"- {key}: {_describe(doc)}" for key, doc in schema["properties"].items())


def group_prompt(group: GroupSpec, group_schema: dict[str, Any], chunk_text: str) -> str:
    """The user turn: the note first (shared by every group, so its KV cache is reused), then the ask."""
    body = group_schema["properties"][group.name]
    item_schema = body if group.single else body["items"]
    shape = "{...}" if group.single else "[{...}, ...]"
    terms = glossary(chunk_text)
    abbrev = f"Abbreviations: {'; '.join(terms)}\n" if terms else ""
    return (
        f"Clinical note:\n\"\"\"\n{chunk_text}\n\"\"\"\n\n{abbrev}"
        f"Task: {group.ask}\n"
        f"{'Give' if group.single else 'Each item has'}:\n{_field_lines(item_schema)}\n"
        f"Answer with JSON only: {{\"{group.name}\": {shape}}}"
    )


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


# Which sections a group reads, and words that make a chunk worth asking about it anyway.
STEERING: dict[str, tuple[tuple[str, ...], str]] = {
    "problems": (("chief_complaint", "hpi", "pmh", "assessment", "other"), r"diagnos|history of|disease|disorder"),
    "medications": (("medications", "plan", "hpi", "assessment"), r"\b(mg|mcg|tablet|capsule|daily|bid|tid|prescribed|medication)"),
    "allergies": (("allergies",), r"allerg|nkda|intoleran"),
    "procedures": (("procedures", "plan", "hpi", "pmh", "assessment"), r"procedure|surgery|ectomy|otomy|plasty|s/p|biopsy|scopy|graft"),
    "immunizations": (("immunizations", "plan"), r"vaccin|immuniz|influenza|tetanus|covid"),
    "results": (("vitals", "results", "exam"), r"\b(bp|blood pressure|hr|pulse|temp|spo2|lab|result|mg/dl|mmol)"),
    "plan": (("plan", "assessment"), r"\bplan\b|follow[- ]up|will |recommend"),
    "impression": (("assessment", "plan", "results", "exam", "chief_complaint", "hpi"), r"assess|impression"),
}


# Closed-vocabulary groups: in a note whose lists were read, their question needs a cue word in what is left.
CUE_REQUIRED = frozenset({"medications", "allergies", "procedures", "immunizations"})


def steer(group: str, note: str, chunk: Chunk, secs: list[Section]) -> str | None:
    """The text a group's question should read in this chunk, or None to skip the question.

    A note with recognised headings sends each question only the sections it concerns (a medication
    question reads the medication list, not the social history); a chunk with none of them is asked only
    when it mentions the group's cue words. Notes without headings are read whole.
    """
    whole = chunk.text(note)
    rule = STEERING.get(group)
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


def _settled_by_lists(group: str, context: str, secs: list[Section], own: bool) -> bool:
    """After list text is blanked out: nothing left to read, or (for a closed-vocabulary group, or one
    whose own lists were read) none of the group's cue words left."""
    probe = context
    for s in secs:  # a heading ("Medications") is no cue that prose below it holds more
        probe = probe.replace(s.heading, " ") if s.heading else probe
    if sum(ch.isalpha() for ch in probe) < 3:
        return True
    rule = STEERING.get(group)
    return (own or group in CUE_REQUIRED) and (rule is None or not re.search(rule[1], probe, re.I))


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans blanked to spaces: offsets stay those of the note."""
    chars = list(text)
    for lo, hi in spans:
        for i in range(max(0, lo), min(len(chars), hi)):
            if not chars[i].isspace():
                chars[i] = " "
    return "".join(chars)


def _halves(text: str) -> list[str]:
    sents = sentences(text)
    if len(sents) < 2:
        mid = len(text) // 2
        return [text[:mid], text[mid:]]
    cut = sents[len(sents) // 2].start
    return [text[:cut], text[cut:]]


def _ask(engine: Engine, result: "Extraction", group: GroupSpec, group_schema: dict[str, Any], gbnf: str,
         context: str, limit: int, chunk_index: int, keep_debug: bool, retry: bool = True) -> list[Any]:
    """One question under the group's grammar. An answer cut off by the token limit is retried once on
    each half of its context (list groups); a second cut-off is an error."""
    prompt = group_prompt(group, group_schema, context)
    segments: list[Segment] = engine.segments(SYSTEM_PROMPT, prompt)
    gen = engine.generate(segments, gbnf, group_root(group.name), limit, watch=JsonWatch())
    result.generations.append(gen)
    if keep_debug:
        result.debug.append({"chunk": chunk_index, "group": group.name, "prompt": "".join(s.text for s in segments),
                             "output": gen.text, "stop": gen.stop})
    if gen.stop == "max_tokens":
        if retry and not group.single and len(context) > 200:
            result.retried += 1
            out: list[Any] = []
            for half in _halves(context):
                out += _ask(engine, result, group, group_schema, gbnf, half, limit, chunk_index, keep_debug, False)
            return out
        after = ", also after a retry on half the text" if not retry else ""
        raise GenerationError(
            f"the answer for {group.name} hit the {limit}-token limit before its JSON closed{after}; "
            "raise --max-tokens or leave it unset"
        )
    return [_parse(gen.text, group.name)]


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
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


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


def _ground_item(item: Item, grounder: Grounder, schema_item: dict[str, Any], single: bool,
                 window: tuple[int, int] | None = None) -> None:
    """Ground the main text (list groups) and every free-text field; blank what the note does not say."""
    props = schema_item["properties"]
    keys = list(props)
    if not single:
        span = find_with_abbreviations(grounder, str(item.values.get(keys[0], "")), window)
        if span is None:
            return
        _add_span(item, span)
        item.grounding = span.method
        keys = keys[1:]
    found: list[Span] = []
    for key in keys:
        item.values[key] = ground_value(props[key], item.values.get(key), grounder, found, window)
    for span in found:
        _add_span(item, span)
    if single:
        item.grounding = min((s.method for s in found), key=("exact", "normalized", "fuzzy").index, default="exact")


_BIRTH_CUE = re.compile(r"\b(dob|d\.o\.b\.?|born|birth|birthdate)\b", re.I)


def _birth_cue_near(date: str, note: str) -> bool:
    """A birth date needs a birth cue just before its year: visit dates are not birth dates."""
    year = date[:4]
    return any(_BIRTH_CUE.search(note[max(0, m.start() - 40) : m.start()]) for m in re.finditer(year, note))


def _check_patient(values: dict[str, Any], grounder: Grounder) -> dict[str, str]:
    """Keep only patient facts the note supports: a name it contains, a gender it cues, a date it has."""
    kept: dict[str, str] = {}
    name = str(values.get("name", "")).strip()
    if name and len(name) > 2 and grounder.find(name, min_ratio=0.95) is not None:
        kept["name"] = name
    gender = values.get("gender", "")
    cue = _GENDER_CUES.get(gender)
    if cue is not None and cue.search(grounder.note):
        kept["gender"] = gender
    birth = str(values.get("birthDate", ""))
    if date_in_note(birth, grounder.note) and _birth_cue_near(birth, grounder.note):
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
    note_date: str | None = None,
    use_lists: bool = True,
) -> Extraction:
    """Run every group of the task over every chunk of the note; ground, merge and return the items.

    With use_lists, written-out lists are read by rule first (lists.py) and the model reads what they
    leave: a question whose text is all covered by lists of its group, bar cue-less prose, is not asked.
    """
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
    chunks = chunk_note(note.text, budget, engine.count_tokens)
    secs = sections(note.text)
    result = Extraction(note=note, task=task.name, version=version, model_label=engine.config.model_label,
                        groups={g.name: [] for g in task.groups}, patient={},
                        chunks=[(c.start, c.end) for c in chunks])
    if note_date is None:
        found = find_note_date(note.text)
        note_date = found.isoformat() if found else None
    result.note_date = note_date
    patient_votes: dict[str, str] = {}
    regions: list[tuple[int, int, str]] = []
    masked = note.text
    if use_lists:
        found_items, regions = read_lists(note.text, secs)
        for li in found_items:
            if li.group not in result.groups:
                continue
            props = schema["properties"][li.group]["items"]["properties"]
            values: dict[str, Any] = {next(iter(props)): li.text}
            reaction = re.match(r"(.*\S)\s*\(([^()]+)\)$", li.text) if li.group == "allergies" else None
            if reaction and "reaction" in props:  # "Penicillin (hives)": the substance, and its reaction
                values = {next(iter(props)): reaction.group(1), "reaction": reaction.group(2)}
            if "enum" in props.get("status", {}):
                values["status"] = implied_status(li.group, props["status"]["enum"]) or ""
            result.groups[li.group].append(Item(group=li.group, values=values,
                                                spans=[Span(li.start, li.end, "exact")], grounding="exact",
                                                origin="list"))
            result.list_items += 1
        result.list_names = [(li.start, li.end) for li in found_items]
        masked = mask(note.text, [(lo, hi) for lo, hi, _ in regions])  # once per note, not per question
    for ci, chunk in enumerate(chunks):
        for group in task.groups:
            if group.resource == "Patient" and ci > 0:
                continue
            # a list's items are of its kind: no question of a list group reads another group's list either
            in_chunk = [g for lo, hi, g in regions if lo < chunk.end and hi > chunk.start]
            covered = bool(in_chunk) and group.name in LIST_GROUPS
            context = steer(group.name, masked if covered else note.text, chunk, secs)
            if context is not None and covered:
                context = re.sub(r"\n\s*\n\s*", "\n\n", re.sub(r"[ \t]{2,}", " ", context)).strip()
                if _settled_by_lists(group.name, context, secs, own=group.name in in_chunk):
                    result.covered_questions += 1
                    continue
            if context is None:
                result.skipped_questions += 1
                continue
            if on_progress:
                on_progress(f"chunk {ci + 1}/{len(chunks)}: {group.name}")
            limit = bounds[group.name] if max_tokens is None else max_tokens
            data_list = _ask(engine, result, group, group_schemas[group.name], gbnf, context, limit, ci, keep_debug)
            item_schema = schema["properties"][group.name]
            for data in data_list:
                if group.resource == "Patient":
                    for k, v in (data or {}).items():
                        if v and k not in patient_votes:
                            patient_votes[k] = v
                    continue
                if group.single:
                    raw_items, node = [data or {}], item_schema
                else:
                    raw_items, node = data or [], item_schema["items"]
                for values in raw_items:
                    item = Item(group=group.name, values=dict(values))
                    if not group.single and not item.key:
                        continue
                    _ground_item(item, grounder, node, group.single, (chunk.start, chunk.end))
                    result.groups[group.name].append(item)
    result.patient = _check_patient(patient_votes, grounder)
    singles = {g.name for g in task.groups if g.single}
    for name, items in result.groups.items():
        merged = merge_items(items, single=name in singles)
        kept = []
        for item in merged:
            main = str(next(iter(item.values.values()), ""))
            if name not in singles and not plausible(main, note.text, result.patient.get("name", "")):
                result.dropped_implausible += 1
                continue
            if item.grounding == "ungrounded":
                if ungrounded == "drop":
                    result.dropped_ungrounded += 1
                    continue
                result.kept_ungrounded += 1
            if name not in singles and not apply_rules(item, result, secs):
                continue
            kept.append(item)
        result.groups[name] = kept
    if "results" in result.groups:  # the IPS task: vital signs are read by pattern, the model cross-checks
        result.vitals = read_vitals(note.text)
        if result.vitals:
            before = len(result.groups["results"])
            result.groups["results"] = [i for i in result.groups["results"] if not VITAL_WORDS.search(i.key)]
            dropped = before - len(result.groups["results"])
            if dropped:
                result.overrides["vital sign read by pattern"] = result.overrides.get("vital sign read by pattern", 0) + dropped
    return result


def _merge_values(into: dict[str, Any], new: dict[str, Any]) -> None:
    """First non-empty scalar wins; lists are united without repeats; objects merge field by field."""
    for k, v in new.items():
        old = into.get(k)
        if isinstance(v, list):
            seen = {json.dumps(x, sort_keys=True).lower() for x in (old or [])}
            into[k] = list(old or []) + [x for x in v if json.dumps(x, sort_keys=True).lower() not in seen]
        elif isinstance(v, dict):
            merged = dict(old or {})
            _merge_values(merged, v)
            into[k] = merged
        elif v and not old:
            into[k] = v


VITAL_WORDS = re.compile(
    r"\b(bp|blood pressure|pulse|heart rate|hr|temp|temperature|resp|respiratory rate|rr|spo2|o2 sat|"
    r"oxygen saturation|saturation|weight|height|bmi|body mass index)\b", re.I)
_MODEL_CERTAINTY = {"refuted": "negated", "provisional": "possible", "differential": "possible",
                    "unconfirmed": "possible", "confirmed": "affirmed"}
_ONSET_NEAR = re.compile(
    r"(?:since|in|from|x|for|began|started|diagnosed)\s*[^.;,]{0,25}?"
    r"((?:19|20)\d{2}|\d+\s*(?:days?|d|weeks?|wks?|months?|mos?|years?|yrs?)(?:\s+ago)?|"
    r"last\s+\w+|yesterday|today)", re.I)
_DATE_FIELDS = {"problems": "onsetString", "procedures": "performedString", "immunizations": "occurrenceString"}


def _count(result: "Extraction", what: str) -> None:
    result.overrides[what] = result.overrides.get(what, 0) + 1


def apply_rules(item: Item, result: "Extraction", secs: list[Section]) -> bool:
    """Check a grounded item against its sentence: negation, family, time, dates. False drops it.

    The model proposes; where the note allows a check, the check wins and the override is counted.
    Negated items are left out (a problem the patient denies is not one of theirs; README documents it).
    """
    if not item.spans:
        return True
    note = result.note.text
    main = item.spans[0]
    assertion, cues = assert_span(note, main.start, main.end, secs, result.list_names)
    if item.group == "problems":
        claimed = Assertion(
            certainty=_MODEL_CERTAINTY.get(str(item.values.get("verificationStatus", "")), "affirmed"),
            subject=str(item.values.get("subject") or "patient"),
            relationship=str(item.values.get("relationship") or ""),
            time=str(item.values.get("time") or "current"),
        )
        for attr in ("certainty", "subject", "time"):
            if getattr(claimed, attr) != getattr(assertion, attr):
                _count(result, attr)
        item.assertion = assertion
    elif assertion.certainty == "negated":
        _count(result, "certainty")
    if assertion.certainty == "negated":
        result.negated_dropped += 1
        return False
    field_name = _DATE_FIELDS.get(item.group)
    if field_name is not None:
        text = str(item.values.get(field_name) or "")
        if not text:
            sec = section_at(secs, main.start)
            end = sec.end if sec else len(note)
            stop = note.find(".", main.end, end)
            near = _ONSET_NEAR.search(note[max(0, main.start - 20) : stop if stop > 0 else min(end, main.end + 60)])
            if near:
                text = near.group(0).strip()
                _count(result, "date read from the sentence")
        if text:
            note_date = _parse_iso(result.note_date)
            item.onset = resolve(text, note_date)
            item.values[field_name] = text
    return True


def _parse_iso(value: str | None) -> "Any":
    import datetime as dt

    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def merge_items(items: list[Item], single: bool = False) -> list[Item]:
    """One item per concept: same normalised main text (within or across chunks) merges, spans united.

    For a list group the concept is the main text; a single group (the encounter, the impression) merges
    into one item. Conflicting values keep the first non-empty one: the first chunk that states a field
    wins (documented in README).
    """
    merged: dict[str, Item] = {}
    for item in items:
        key = "" if single else item.key
        existing = merged.get(key)
        if existing is None:
            merged[key] = item
            continue
        _merge_values(existing.values, item.values)
        for span in item.spans:
            _add_span(existing, span)
        if existing.grounding == "ungrounded" and item.grounding != "ungrounded":
            existing.grounding = item.grounding
        if existing.origin != item.origin:
            existing.origin = "both"
    return list(merged.values())
