"""Put one question to the model under its group's grammar and parse the answer.

The backend is anything with `segments`, `generate` and `count_tokens` (llm/: the in-process engine or
an OpenAI-compatible server); this module never loads a model itself.
"""

from __future__ import annotations

import json
from typing import Any

from softtiger_cli.core.data import Extraction
from softtiger_cli.core.errors import GenerationError
from softtiger_cli.fhir.gbnf import group_root
from softtiger_cli.fhir.schema import GroupSpec
from softtiger_cli.llm.base import Backend
from softtiger_cli.llm.jsonwatch import JsonWatch
from softtiger_cli.note.sections import sentences
from softtiger_cli.pipeline.questions import SYSTEM_PROMPT, answer_schema, group_prompt


def _halves(text: str) -> list[str]:
    sents = sentences(text)
    if len(sents) < 2:
        mid = len(text) // 2
        return [text[:mid], text[mid:]]
    cut = sents[len(sents) // 2].start
    return [text[:cut], text[cut:]]


def ask(engine: Backend, result: Extraction, group: GroupSpec, group_schema: dict[str, Any], gbnf: str,
        context: str, limit: int, chunk_index: int, keep_debug: bool, retry: bool = True) -> list[Any]:
    """One question under the group's grammar. An answer cut off by the token limit is retried once on
    each half of its context (list groups); a second cut-off is an error."""
    prompt = group_prompt(group, group_schema, context)
    segments = engine.segments(SYSTEM_PROMPT, prompt)
    gen = engine.generate(segments, gbnf, group_root(group.name), limit, watch=JsonWatch(),
                          schema=answer_schema(group, group_schema))
    result.generations.append(gen)
    if keep_debug:
        result.debug.append({"chunk": chunk_index, "group": group.name, "prompt": "".join(s.text for s in segments),
                             "output": gen.text, "stop": gen.stop})
    if gen.stop == "max_tokens":
        if retry and not group.single and len(context) > 200:
            result.retried += 1
            out: list[Any] = []
            for half in _halves(context):
                out += ask(engine, result, group, group_schema, gbnf, half, limit, chunk_index, keep_debug, False)
            return out
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
