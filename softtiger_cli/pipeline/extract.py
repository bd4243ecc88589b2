"""Ask, ground, merge and decide for every task in one pass over the analysed note.

Per chunk, every group of every task asked (IPS groups, the impression, the encounter) shares the note
prefix of the prompt; the items of all tasks are pooled, grounded, merged per group and put through the
one assertion step (decide.py). The model only reads the note and fills FHIR-named fields; ids,
references, fixed codes and the Composition are built in code by fhir/assemble.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from softtiger_cli.clinical.lists import LIST_GROUPS, implied_status
from softtiger_cli.clinical.vitals import vital_words
from softtiger_cli.core.data import Extraction, Item, Span
from softtiger_cli.core.errors import GenerationError
from softtiger_cli.fhir.schema import GroupSpec, TaskSpec
from softtiger_cli.llm.base import Backend
from softtiger_cli.pipeline.analyse import NoteAnalysis, chunk
from softtiger_cli.pipeline.ask import Question, ask_many
from softtiger_cli.pipeline.candidates import code_items, combine, side_words
from softtiger_cli.pipeline.decide import decide, link_conditions, settle_single
from softtiger_cli.pipeline.ground import check_patient, ground_item, plausible
from softtiger_cli.pipeline.merge import fold_unsided, merge_items
from softtiger_cli.pipeline.questions import group_prompt, system_prompt, output_bound, settled_by_lists, steer

@dataclass(frozen=True)
class TaskGrammar:
    """A task with its extraction schema and GBNF grammar for the FHIR version asked."""

    task: TaskSpec
    schema: dict[str, Any]
    gbnf: str


def _group_schema(tg: TaskGrammar, group: GroupSpec) -> dict[str, Any]:
    return {"properties": {group.name: tg.schema["properties"][group.name]}}


def chunk_budget(count_tokens: Callable[[str], int], n_ctx: int, tasks: list[TaskGrammar],
                 max_tokens: int | None = None, lang: str = "en") -> int:
    """Tokens of note one chunk may hold: the context less the longest question and the longest answer of
    every group asked (all tasks share the chunks), less a margin."""
    asked = [(tg, g) for tg in tasks for g in tg.task.groups]
    schemas = {g.name: _group_schema(tg, g) for tg, g in asked}
    longest_ask = max(count_tokens(system_prompt(lang) + group_prompt(g, schemas[g.name], "", lang)) for _, g in asked)
    longest_answer = max(output_bound(g, schemas[g.name]) for _, g in asked)
    reserve = longest_answer if max_tokens is None else min(max_tokens, longest_answer)
    budget = n_ctx - longest_ask - reserve - 32
    if budget < 64:
        raise GenerationError(f"the {n_ctx}-token context leaves no room for the note; raise --n-ctx")
    return budget


def add_list_items(analysis: NoteAnalysis, result: Extraction, schemas: dict[str, dict[str, Any]]) -> None:
    """Items the list reader found, for the groups asked: exact spans, statuses their list implies."""
    for li in analysis.list_items:
        if li.group not in result.groups:
            continue
        props = schemas[li.group]["items"]["properties"]
        first = next(iter(props))
        values: dict[str, Any] = {first: li.text}
        reaction = re.match(r"(.*\S)\s*\(([^()]+)\)$", li.text) if li.group == "allergies" else None
        if reaction and "reaction" in props:  # "Penicillin (hives)": the substance, and its reaction
            values = {first: reaction.group(1), "reaction": reaction.group(2)}
        if "enum" in props.get("status", {}):
            values["status"] = implied_status(li.group, props["status"]["enum"]) or ""
        result.groups[li.group].append(Item(group=li.group, values=values, text_field=first,
                                            spans=[Span(li.start, li.end, "exact")], grounding="exact", origin="list"))
        result.list_items += 1


def answer_item(group: str, values: dict[str, Any], node: dict[str, Any]) -> Item:
    """An item of one model answer's values; `node` is the schema of the group's item.

    Its main text is the answer's first key. The grammar writes every field in schema order, so that is the
    schema's first field; a server held to the JSON schema alone may order them otherwise, and its first key
    stays the main text, as it always has. An empty answer's fields are filled in schema order when it is
    grounded, so its main text is the schema's first field.
    """
    values = {k: _unwrapped(v) if isinstance(v, str) else v for k, v in values.items()}
    return Item(group=group, values=values, text_field=next(iter(values), next(iter(node["properties"]))))


_WRAPPED = re.compile(r"\s*\{(.*)\}[\s,]*", re.S)
_PAIR = re.compile(r"""(?:\w+|"[^"]*"|'[^']*')\s*:\s*(?:"([^"]*)"|'((?:[^']|'(?=\w))*)'|([^,}]+))""")


def _unwrapped(text: str) -> str:
    """A string a code-trained model wrote as an object inside the string ("{name: '秋水仙碱片', strength:
    '0.5mg'}", "{COPD}"): its values, as the note would write them (keys left out); anything else as it is."""
    m = _WRAPPED.fullmatch(text)
    if not m:
        return text
    inner = m.group(1).strip()
    pairs = [next(g for g in p.groups() if g is not None).strip() for p in _PAIR.finditer(inner)]
    if pairs:
        return " ".join(v for v in pairs if v)
    return inner.strip("'\" ")


def extract(
    engine: Backend,
    analysis: NoteAnalysis,
    tasks: list[TaskGrammar],
    version: str,
    model_label: str,
    *,
    max_tokens: int | None = None,
    ungrounded: str = "drop",
    keep_debug: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> Extraction:
    """Run every group of every task over every chunk of the note; ground, merge, decide; return the items.

    Written-out lists were read by rule in the analysis; the model reads what they leave: a question whose
    text is all covered by lists of its group, bar cue-less prose, is not asked.
    """
    asked = [(tg, g) for tg in tasks for g in tg.task.groups]
    group_schemas = {g.name: _group_schema(tg, g) for tg, g in asked}
    bounds = {g.name: output_bound(g, group_schemas[g.name]) for _, g in asked}
    budget = chunk_budget(engine.count_tokens, engine.n_ctx, tasks, max_tokens, analysis.lang)
    chunks = chunk(analysis, budget, engine.count_tokens)
    note, secs = analysis.text, analysis.sections
    result = Extraction(note=analysis.note, tasks=tuple(tg.task.name for tg in tasks), version=version,
                        model_label=model_label, groups={g.name: [] for _, g in asked},
                        group_task={g.name: tg.task.name for tg, g in asked}, patient={},
                        chunks=[(c.start, c.end) for c in chunks], note_date=analysis.note_date)
    item_schemas = {g.name: tg.schema["properties"][g.name] for tg, g in asked}
    if analysis.list_items or analysis.list_regions:
        add_list_items(analysis, result, item_schemas)
    patient_votes: dict[str, str] = {}
    for ci, piece in enumerate(chunks):
        # a list's items are of its kind: no question of a list group reads another group's list either
        in_chunk = [g for lo, hi, g in analysis.list_regions if lo < piece.end and hi > piece.start]
        questions: list[Question] = []
        for tg, group in asked:
            if group.resource == "Patient" and ci > 0:
                continue
            covered = bool(in_chunk) and group.name in LIST_GROUPS
            context = steer(group.name, analysis.masked if covered else note, piece, secs, analysis.lang)
            if context is not None and covered:
                context = re.sub(r"\n\s*\n\s*", "\n\n", re.sub(r"[ \t]{2,}", " ", context)).strip()
                if settled_by_lists(group.name, context, secs, own=group.name in in_chunk, lang=analysis.lang):
                    result.covered_questions += 1
                    continue
            if context is None:
                result.skipped_questions += 1
                continue
            limit = bounds[group.name] if max_tokens is None else max_tokens
            questions.append(Question(group, group_schemas[group.name], tg.gbnf, context, limit,
                                      own_limit=max_tokens is None, lang=analysis.lang))
        # the chunk's questions go to the model together (--parallel), their answers are taken in order
        progress = None if on_progress is None else \
            (lambda q, ci=ci: on_progress(f"chunk {ci + 1}/{len(chunks)}: {q.group.name}"))
        for question, answers in zip(questions, ask_many(engine, result, questions, ci, keep_debug, progress)):
            group = question.group
            for data in answers:
                if group.resource == "Patient":
                    for k, v in (data or {}).items():
                        if v and k not in patient_votes:
                            patient_votes[k] = v
                    continue
                node = item_schemas[group.name] if group.single else item_schemas[group.name]["items"]
                for values in ([data or {}] if group.single else data or []):
                    item = answer_item(group.name, values, node)
                    if not group.single and not item.key:
                        continue
                    ground_item(item, analysis.grounder, node, group.single, (piece.start, piece.end))
                    result.groups[group.name].append(item)
    result.patient = check_patient(patient_votes, analysis.grounder, analysis.lang)
    settle(result, analysis, item_schemas, {g.name for _, g in asked if g.single}, ungrounded)
    return result


def settle(result: Extraction, analysis: NoteAnalysis, item_schemas: dict[str, dict[str, Any]], singles: set[str],
           ungrounded: str) -> None:
    """From proposals to decided items: keep what the note supports, add what code finds in the note,
    merge one item per concept, decide each item's meaning, link the impression's and the encounter's
    problems to the patient's Conditions."""
    proposed: list[Item] = []
    for name, items in result.groups.items():
        proposed += _supported(merge_items(items, single=name in singles), name in singles, result, analysis,
                               ungrounded)
    lists = {g: s for g, s in item_schemas.items() if g not in singles}
    found = code_items(analysis, result, lists)
    pooled = combine(found, [i for i in proposed if i.group not in singles], analysis)
    for name in result.groups:
        if name in singles:
            result.groups[name] = [settle_single(i, result, analysis) for i in proposed if i.group == name]
            continue
        decided = [d for item in merge_items([i for i in pooled if i.group == name]) for d in decide(item, result, analysis)]
        result.groups[name] = merge_items(decided)
        if name == "procedures":
            result.groups[name] = fold_unsided(result.groups[name], side_words(analysis.lang))
    link_conditions(result, analysis)
    if "results" in result.groups:  # vital signs come from the pattern reader only, with numbers and units
        result.vitals = analysis.vitals
        before = len(result.groups["results"])
        result.groups["results"] = [i for i in result.groups["results"] if not vital_words(result.note.lang).search(i.key)]
        if before > len(result.groups["results"]):
            result.count("vital sign read by pattern", before - len(result.groups["results"]))


def _supported(merged: list[Item], single: bool, result: Extraction, analysis: NoteAnalysis,
               ungrounded: str) -> list[Item]:
    """The proposals worth deciding: plausible and grounded (or kept by policy)."""
    kept = []
    for item in merged:
        if not single and not plausible(item.text, analysis.text, result.patient.get("name", ""), analysis.lang):
            result.dropped_implausible += 1
            continue
        if item.grounding == "ungrounded":
            if ungrounded == "drop":
                result.dropped_ungrounded += 1
                continue
            result.kept_ungrounded += 1
        kept.append(item)
    return kept
