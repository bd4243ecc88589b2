"""Put one question to the model under its group's grammar and parse the answer.

The backend is anything with `segments`, `generate` and `count_tokens` (llm/: the in-process engine or
an OpenAI-compatible server); this module never loads a model itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from softtiger_cli.core.data import Extraction
from softtiger_cli.core.errors import GenerationError
from softtiger_cli.fhir.gbnf import group_root
from softtiger_cli.fhir.schema import GroupSpec
from softtiger_cli.llm.base import Backend, Generation, Request, Segment
from softtiger_cli.llm.jsonwatch import JsonWatch
from softtiger_cli.core.text import Language
from softtiger_cli.note.sections import sentences
from softtiger_cli.pipeline.questions import answer_schema, group_prompt, system_prompt


def _halves(text: str, lang: Language) -> list[str]:
    sents = sentences(text, lang=lang)
    if len(sents) < 2:
        mid = len(text) // 2
        return [text[:mid], text[mid:]]
    cut = sents[len(sents) // 2].start
    return [text[:cut], text[cut:]]


@dataclass(frozen=True)
class Question:
    """One question of a chunk: the group, its grammar, what it reads and its answer's token limit."""

    group: GroupSpec
    group_schema: dict[str, Any]
    gbnf: str
    context: str
    limit: int
    own_limit: bool = False  # the limit is softtiger's own (no --max-tokens): a single object's cut-off is dropped
    lang: str = "en"  # the note's language: the prompt's words (lang/<code>/prompts.toml)


def _request(engine: Backend, q: Question) -> Request:
    segments = engine.segments(system_prompt(q.lang), group_prompt(q.group, q.group_schema, q.context, q.lang))
    return Request(segments, q.gbnf, group_root(q.group.name), q.limit, watch=JsonWatch(),
                   schema=answer_schema(q.group, q.group_schema))


def ask_many(engine: Backend, result: Extraction, questions: list[Question], chunk_index: int,
             keep_debug: bool, on_question: Callable[[Question], None] | None = None) -> list[list[Any]]:
    """The questions of one chunk, each one's answers in order, as `ask` gives them one by one.

    With an engine that decodes several sequences at once (--parallel N > 1) the questions go to the model
    together (`generate_many`); the answers are then recorded and parsed in the questions' order, and a
    cut-off answer is retried on the halves of its context one question at a time, as `ask` does.
    Otherwise each question is asked in turn (`ask`), exactly as before. `on_question` hears of each
    question as it is put (all of them at once when they go together).
    """
    tell = on_question or (lambda _q: None)
    many = getattr(engine, "generate_many", None)
    if many is None or getattr(engine, "parallel", 1) <= 1 or len(questions) <= 1:
        out = []
        for q in questions:
            tell(q)
            out.append(ask(engine, result, q.group, q.group_schema, q.gbnf, q.context, q.limit, chunk_index,
                           keep_debug, own_limit=q.own_limit))
        return out
    for q in questions:
        tell(q)
    requests = [_request(engine, q) for q in questions]
    gens = many(requests)
    return [_take(engine, result, q, r.segments, gen, chunk_index, keep_debug, True)
            for q, r, gen in zip(questions, requests, gens)]


def ask(engine: Backend, result: Extraction, group: GroupSpec, group_schema: dict[str, Any], gbnf: str,
        context: str, limit: int, chunk_index: int, keep_debug: bool, retry: bool = True,
        own_limit: bool = False) -> list[Any]:
    """One question under the group's grammar. An answer cut off by the token limit is retried once on
    each half of its context (list groups); a second cut-off is an error."""
    q = Question(group, group_schema, gbnf, context, limit, own_limit)
    r = _request(engine, q)
    gen = engine.generate(r.segments, r.gbnf, r.root, r.max_tokens, watch=r.watch, schema=r.schema)
    return _take(engine, result, q, r.segments, gen, chunk_index, keep_debug, retry)


def _take(engine: Backend, result: Extraction, q: Question, segments: list[Segment], gen: Generation,
          chunk_index: int, keep_debug: bool, retry: bool) -> list[Any]:
    """Record one answer (and its debug record), retry it on halves if cut off, parse it."""
    group, group_schema, gbnf, context, limit = q.group, q.group_schema, q.gbnf, q.context, q.limit
    result.generations.append(gen)
    if keep_debug:
        result.debug.append({"chunk": chunk_index, "group": group.name, "prompt": "".join(s.text for s in segments),
                             "output": gen.text, "stop": gen.stop})
    if gen.stop == "max_tokens":
        if retry and not group.single and len(context) > 200:
            result.retried += 1
            out: list[Any] = []
            for half in _halves(context, result.note.lang):
                out += ask(engine, result, group, group_schema, gbnf, half, limit, chunk_index, keep_debug, False)
            return out
        if group.single and q.own_limit:
            # one object (patient, encounter, impression) the model did not close under softtiger's own limit:
            # its answer is not used and the rules' reading stands (a missing fact, never a guessed one)
            result.count(f"{group.name} answer cut off at the token limit, not used")
            return [None]
        after = ", also after a retry on half the text" if not retry else ""
        raise GenerationError(
            f"the answer for {group.name} hit the {limit}-token limit before its JSON closed{after}; "
            "raise --max-tokens or leave it unset"
        )
    return [parse_answer(gen.text, group.name)]


def parse_answer(text: str, group: str) -> Any:
    """The group's value from the model's JSON answer; incomplete JSON is an error, never guessed at."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise GenerationError(f"the model's answer for {group} is not complete JSON") from None
    return data.get(group)
