"""What every backend offers the pipeline, and the records it returns.

Two backends implement `Backend`: the in-process llama.cpp engine (engine.py) and the client of an
OpenAI-compatible server (openai.py). The pipeline only ever sees this interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Segment:
    text: str
    template: bool  # True: may hold special tokens; False: plain content


class Watcher(Protocol):
    def feed(self, piece: str) -> str | None: ...

    def preferred(self) -> tuple[str, ...]: ...

    def cut(self, piece: str) -> str | None: ...


@dataclass
class Request:
    """One question for `Backend.generate_many`: what `generate` takes, as a record."""

    segments: list[Segment]
    gbnf: str
    root: str
    max_tokens: int
    watch: Any = None
    schema: dict[str, Any] | None = None


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    reused_tokens: int
    generated_tokens: int
    full_masks: int
    seconds: float
    stop: str  # "complete" | "eog" | "max_tokens"
    forced_closes: int = 0
    model_seconds: float = 0.0  # inside llama.cpp's decode (prompt and tokens); the rest is our glue


@dataclass
class EngineStats:
    """Counters over the engine's life, for run summaries and benchmarks."""

    prompt_tokens: int = 0
    evaluated_prompt_tokens: int = 0
    generated_tokens: int = 0
    full_masks: int = 0
    calls: int = 0
    seconds: float = 0.0
    llama_seconds: float = 0.0

    def add(self, g: Generation) -> None:
        self.calls += 1
        self.prompt_tokens += g.prompt_tokens
        self.evaluated_prompt_tokens += g.prompt_tokens - g.reused_tokens
        self.generated_tokens += g.generated_tokens
        self.full_masks += g.full_masks
        self.seconds += g.seconds
        self.llama_seconds += g.model_seconds



class Backend(Protocol):
    """A model that answers prompts under grammars: one at a time (`generate`), or several together
    (`generate_many`, the same answers in the same order; a backend without parallel decoding loops)."""

    n_ctx: int
    stats: EngineStats

    def segments(self, system: str, user: str) -> list[Segment]: ...

    def count_tokens(self, text: str) -> int: ...

    def generate(self, segments: list[Segment], gbnf: str, root: str, max_tokens: int,
                 watch: Any = None, schema: dict[str, Any] | None = None) -> Generation: ...

    def generate_many(self, requests: list[Request]) -> list[Generation]: ...
