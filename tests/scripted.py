"""ScriptedBackend: answers a test queues per group, in the style of simonw/llm's MockModel, through the same
prompt side as the replay backend (softtiger_cli/llm/replay.py), so grounding, decision and assembly run as
with a model. A test helper: it needs the task table (fhir/), which the llm stage must not import."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from softtiger_cli.fhir.schema import TASKS
from softtiger_cli.llm.base import Generation, Segment
from softtiger_cli.llm.replay import _group_of, _PromptSide


def _groups() -> dict[str, bool]:
    """Every group of every task: name -> whether its answer is one object (else a list)."""
    return {g.name: g.single for t in TASKS.values() for g in t.groups}


@dataclass
class _Scripted:
    text: str
    stop: str


class ScriptedBackend(_PromptSide):
    """Answers the test queued, per group, in order; a group with nothing queued answers "nothing found"
    (an empty list, or an empty object for a single group).

        backend = ScriptedBackend()
        backend.enqueue("problems", [{"code": "asthma", "status": "active"}])
        structure_note(backend, note, options)
        assert backend.asked[0] == "patient" and "asthma" in backend.history[1].prompt

    `enqueue(group, answer)`: `answer` is the group's value (wrapped as {group: answer}) or, as a str, the
    model's whole text verbatim. Answers are checked against the question's JSON schema, since the real
    engine's grammar allows nothing else (`check_schema=False` to feed answers no grammar would give).
    """

    def __init__(self, *, model_path: Path | str | None = None, model_label: str = "scripted",
                 n_ctx: int | None = None, prompt_format: str = "auto", check_schema: bool = True) -> None:
        super().__init__(model_path=model_path, model_label=model_label, n_ctx=n_ctx, prompt_format=prompt_format)
        self.check_schema = check_schema
        self._queue: dict[str, deque[_Scripted]] = defaultdict(deque)
        self._single = _groups()

    def enqueue(self, group_or_root: str, answer: Any, stop: str = "complete") -> "ScriptedBackend":
        group = _group_of(group_or_root)
        if group not in self._single:
            raise ValueError(f"no group {group!r}; groups: {', '.join(sorted(self._single))}")
        if stop not in ("complete", "eog", "max_tokens"):
            raise ValueError(f"stop must be complete, eog or max_tokens, not {stop!r}")
        text = answer if isinstance(answer, str) else json.dumps({group: answer})
        self._queue[group].append(_Scripted(text, stop))
        return self

    def pending(self) -> dict[str, int]:
        """Groups with answers still queued (a test can assert that every answer was used)."""
        return {g: len(q) for g, q in self._queue.items() if q}

    def generate(self, segments: list[Segment], gbnf: str, root: str, max_tokens: int, watch: Any = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        del gbnf, watch
        self._note(segments, root, max_tokens)
        group = _group_of(root)
        queued = self._queue[group]
        scripted = bool(queued)
        if scripted:
            answer = queued.popleft()
        else:  # nothing found: no item, or no field of a single group's object
            answer = _Scripted(json.dumps({group: {} if self._single.get(group) else []}), "complete")
        if scripted and self.check_schema and schema is not None and answer.stop != "max_tokens":
            from softtiger_cli.llm.openai import check_answer

            problem = check_answer(answer.text, schema)
            if problem is not None:
                raise ValueError(f"the scripted answer for {group} is one no grammar allows: {problem}")
        gen = Generation(text=answer.text, prompt_tokens=len(self.tokenize_segments(segments)), reused_tokens=0,
                         generated_tokens=self.count_tokens(answer.text), full_masks=0, seconds=0.0,
                         stop=answer.stop)
        self.stats.add(gen)
        return gen
