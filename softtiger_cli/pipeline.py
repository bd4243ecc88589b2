"""The whole job for one note: read, extract, assemble, validate. No I/O beyond what is asked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from .assemble import REQUIRED_SECTION_CODES, AssemblyOptions, assemble_ips
from .engine import Engine
from .errors import ValidationFailed
from .extract import Extraction, extract
from .grammars import load
from .notes import Note
from .schema import TASKS
from .validate import validate_bundle


@dataclass(frozen=True)
class StructureOptions:
    task: str = "ips"
    fhir_version: str = "R4B"
    max_tokens: int | None = None
    ungrounded: str = "drop"
    timestamp: str | None = None
    keep_debug: bool = False

    def key(self) -> str:
        """Options that change the bundle's content, folded into its ids."""
        return f"{self.task}|{self.fhir_version}|{self.max_tokens}|{self.ungrounded}"


@dataclass
class StructureResult:
    bundle: dict[str, Any]
    extraction: Extraction
    problems: list[str] = field(default_factory=list)


def now_instant() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def structure_note(
    engine: Engine,
    note: Note,
    options: StructureOptions,
    on_progress: Callable[[str], None] | None = None,
) -> StructureResult:
    """Note in, validated Bundle out; raises ValidationFailed rather than return an invalid bundle."""
    grammar = load(options.fhir_version, options.task)
    ex = extract(
        engine, note, TASKS[options.task], options.fhir_version, grammar.schema, grammar.gbnf_text,
        max_tokens=options.max_tokens, ungrounded=options.ungrounded, keep_debug=options.keep_debug,
        on_progress=on_progress,
    )
    bundle = assemble_ips(ex, AssemblyOptions(timestamp=options.timestamp or now_instant(), options_key=options.key()))
    problems = validate_bundle(bundle, options.fhir_version, ips_required=REQUIRED_SECTION_CODES)
    result = StructureResult(bundle=bundle, extraction=ex, problems=problems)
    if problems:
        raise ValidationFailed(problems)
    return result
