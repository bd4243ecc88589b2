"""The whole job for one note: read, extract, assemble, validate. No I/O beyond what is asked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from softtiger_cli.core.data import Extraction, Note
from softtiger_cli.core.errors import ValidationFailed
from softtiger_cli.fhir.assemble import REQUIRED_SECTION_CODES, AssemblyOptions, assemble
from softtiger_cli.fhir.grammars import load
from softtiger_cli.fhir.schema import TASKS
from softtiger_cli.fhir.validate import validate_bundle
from softtiger_cli.llm.base import Backend
from softtiger_cli.pipeline.analyse import analyse
from softtiger_cli.pipeline.extract import TaskGrammar, extract

TASK_ORDER = ("ips", "impression", "encounter")


def parse_tasks(values: list[str]) -> tuple[str, ...]:
    """--task values (repeatable, comma lists, `all`) -> tasks in a fixed order; unknown names raise."""
    from softtiger_cli.core.errors import UsageError

    wanted: set[str] = set()
    for value in values or ["all"]:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name == "all":
                wanted.update(TASK_ORDER)
            elif name in TASK_ORDER:
                wanted.add(name)
            else:
                raise UsageError(f"--task {name!r} is not a task; use ips, impression, encounter or all")
    if not wanted:
        raise UsageError("--task names no task; use ips, impression, encounter or all")
    return tuple(t for t in TASK_ORDER if t in wanted)


@dataclass(frozen=True)
class StructureOptions:
    tasks: tuple[str, ...] = ("ips", "impression", "encounter")
    fhir_version: str = "R4B"
    max_tokens: int | None = None
    ungrounded: str = "drop"
    timestamp: str | None = None
    keep_debug: bool = False
    note_date: str | None = None  # ISO date the note was written; found in the note when not given
    use_lists: bool = True  # read written-out lists by rule before asking the model (lists.py)
    lang: str = "auto"  # --lang: auto (each note's own, by its Han share) or a language code (lang/text.py)

    def key(self) -> str:
        """Options that change the bundle's content, folded into its ids (an auto language is the text's own,
        which the note's hash already covers)."""
        lists = "" if self.use_lists else "|no-lists"
        lang = "" if self.lang == "auto" else f"|lang={self.lang}"
        return f"{'+'.join(self.tasks)}|{self.fhir_version}|{self.max_tokens}|{self.ungrounded}{lists}{lang}"


@dataclass
class StructureResult:
    bundle: dict[str, Any]
    extraction: Extraction
    problems: list[str] = field(default_factory=list)
    tokens: tuple[int, int, int] = (0, 0, 0)  # this note's (generated, prompt, prompt evaluated), set by the runner


def now_instant() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def structure_note(
    engine: Backend,
    note: Note,
    options: StructureOptions,
    on_progress: Callable[[str], None] | None = None,
) -> StructureResult:
    """Note in, validated Bundle out; raises ValidationFailed rather than return an invalid bundle.

    The note is analysed once; every task is asked in one pass over its chunks; assembly maps the
    decided items to FHIR; validation checks syntax, codes and meaning before anything is returned.
    """
    grammars = [load(options.fhir_version, task) for task in options.tasks]
    tasks = [TaskGrammar(TASKS[task], g.schema, g.gbnf_text) for task, g in zip(options.tasks, grammars)]
    analysis = analyse(note, note_date=options.note_date, use_lists=options.use_lists)
    extraction = extract(engine, analysis, tasks, options.fhir_version, engine.config.model_label,
                         max_tokens=options.max_tokens, ungrounded=options.ungrounded,
                         keep_debug=options.keep_debug, on_progress=on_progress)
    stamp = options.timestamp or now_instant()
    schemas = {tg.task.name: tg.schema for tg in tasks}
    if "ips" in extraction.group_task.values() and "ips" not in schemas:  # Conditions the impression names
        schemas["ips"] = load(options.fhir_version, "ips").schema
    bundle = assemble(extraction, AssemblyOptions(timestamp=stamp, options_key=options.key()), schemas)
    ips = "ips" in options.tasks
    problems = validate_bundle(bundle, options.fhir_version, ips_required=REQUIRED_SECTION_CODES if ips else None)
    if problems:
        failure = ValidationFailed(problems)
        failure.debug = extraction.debug  # for --debug-dir, never printed
        raise failure
    return StructureResult(bundle=bundle, extraction=extraction, problems=problems)
