"""Glue between the CLI and the core for `structure`: resolve, load, run, write. No typer here.

One note goes through `run_structure`; several (folders, lists, NDJSON) through batch.py, which uses
`open_backend` and `check_timestamp` from here.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from softtiger_cli.core.errors import ModelNotFoundError, UsageError
from softtiger_cli.core.privacy import go_offline
from softtiger_cli.note.reader import read_note
from softtiger_cli.batch.output import check_debug_dir, check_output_path, dumps_bundle, write_atomic, write_debug, write_stdout


def check_timestamp(value: str | None) -> None:
    if value is None:
        return
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--timestamp {value!r} is not an ISO 8601 instant like 2026-01-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        raise UsageError("--timestamp needs a time zone, e.g. 2026-01-31T12:00:00Z")


def open_engine(model: str | None, *, device: str, n_ctx: int | None, seed: int, threads: int | None,
                offline: bool, say: Callable[[str], None], parallel: int | None = None):
    """Resolve --model, make sure the file is on disk (pulling when allowed), load it once."""
    from softtiger_cli.llm.engine import Engine, EngineConfig
    from softtiger_cli.models.registry import resolve_model

    resolved = resolve_model(model)
    path = resolved.path
    if path is None and resolved.spec is not None:
        try:
            from softtiger_cli.models.hub import ensure_local
        except ImportError:  # pragma: no cover - hub ships with the package
            raise ModelNotFoundError(
                f"model {resolved.label} is not on disk", hint=f"run `softtiger models pull {resolved.label}`"
            ) from None
        path = ensure_local(resolved.spec, offline=True if offline else None, say=say)
    say(f"loading {resolved.label}")
    config = EngineConfig(model_path=path, n_ctx=n_ctx, device=device, seed=seed, n_threads=threads,
                          prompt_format=resolved.prompt_format, model_label=resolved.label, parallel=parallel)
    engine = Engine(config)
    if (getattr(engine, "parallel", 1) or 1) > 1:
        say(f"decoding up to {engine.parallel} questions together (--parallel)")
    for notice in getattr(engine, "notices", ()):
        say(f"softtiger: note: {notice}")
    return engine


@dataclass(frozen=True)
class BackendChoice:
    """Where answers come from: the in-process engine (`local`) or an OpenAI-compatible server."""

    name: str = "local"  # "local" | "openai"
    base_url: str | None = None
    constraint: str = "grammar"
    timeout: float = 600.0


LOCAL = BackendChoice()


def open_server_engine(model: str | None, backend: BackendChoice, *, n_ctx: int | None, seed: int,
                       say: Callable[[str], None]):
    """An OpenAIEngine for --backend openai: the prompt format and tokenizer come from --model (read
    vocabulary-only when its GGUF is on disk; no weights are loaded), the answers from the server."""
    from softtiger_cli.llm.openai import OpenAIEngine, ServerConfig
    from softtiger_cli.models.registry import resolve_model

    resolved = resolve_model(model)
    say(f"using the server at {backend.base_url} ({backend.constraint} constraint) for {resolved.label}")
    config = ServerConfig(base_url=backend.base_url or "", model_label=resolved.label, constraint=backend.constraint,
                          timeout=backend.timeout, seed=seed)
    return OpenAIEngine(config, model_path=resolved.path, prompt_format=resolved.prompt_format, n_ctx=n_ctx, say=say)


def open_backend(model: str | None, backend: BackendChoice, *, device: str, n_ctx: int | None, seed: int,
                 threads: int | None, offline: bool, say: Callable[[str], None], parallel: int | None = None):
    if backend.name == "openai":
        if parallel is not None and parallel > 1:
            raise UsageError("--parallel is for the in-process engine; a server has its own parallel slots "
                             "(use --concurrency)")
        return open_server_engine(model, backend, n_ctx=n_ctx, seed=seed, say=say)
    return open_engine(model, device=device, n_ctx=n_ctx, seed=seed, threads=threads, offline=offline, say=say,
                       parallel=parallel)


def run_structure(*, note_arg: str, out: Path | None, model: str | None, device: str, n_ctx: int | None,
                  tasks: tuple[str, ...],
                  seed: int, max_tokens: int | None, fhir_version: str, ungrounded: str, timestamp: str | None,
                  debug_dir: Path | None, offline: bool, threads: int | None, say: Callable[[str], None],
                  interactive: bool, backend: BackendChoice = LOCAL, note_date: str | None = None,
                  use_lists: bool = True, html: Path | None = None, parallel: int | None = None,
                  lang: str = "auto") -> Any:
    """Read, check the output path, load the model, structure, validate, then write once."""
    from softtiger_cli.core.errors import SofttigerError
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    check_timestamp(timestamp)
    note = read_note(note_arg, lang)
    if note.encoding != "utf-8":  # never a silent guess: say how the bytes were read
        say(f"read {note.source} as {note.encoding.upper()}")
    if out is not None:
        check_output_path(out)
    if html is not None:
        check_output_path(html)
    if debug_dir is not None:
        check_debug_dir(debug_dir)
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    started = time.perf_counter()
    engine = open_backend(model, backend, device=device, n_ctx=n_ctx, seed=seed, threads=threads, offline=offline,
                          say=say, parallel=parallel)
    if backend == LOCAL:
        go_offline()  # the model is on disk and loaded: nothing below may use the network
    options = StructureOptions(tasks=tasks, fhir_version=fhir_version, max_tokens=max_tokens, ungrounded=ungrounded,
                               timestamp=timestamp, keep_debug=debug_dir is not None, note_date=note_date,
                               use_lists=use_lists, lang=lang)
    debug_name = Path(note.source).stem if note.source != "<stdin>" else "stdin"
    result = None
    try:
        result = structure_note(engine, note, options, on_progress=say if interactive else None)
    except SofttigerError as exc:
        records = getattr(exc, "debug", None)
        if debug_dir is not None and records:
            write_debug(debug_dir, debug_name, records)
        raise
    finally:
        if debug_dir is not None and result is not None:
            write_debug(debug_dir, debug_name, result.extraction.debug)
    text = dumps_bundle(result.bundle)
    if out is None:
        write_stdout(text)
    else:
        write_atomic(out, text)
    if html is not None:
        from softtiger_cli.view import render_bundle

        write_atomic(html, render_bundle(result.bundle, title=Path(note.source).name))
    ex = result.extraction
    n_res = len(result.bundle["entry"])
    stats = engine.stats
    result.tokens = (stats.generated_tokens, stats.prompt_tokens, stats.evaluated_prompt_tokens)
    dropped, kept = ex.dropped_ungrounded, ex.kept_ungrounded
    say(
        f"done in {time.perf_counter() - started:.1f}s: {n_res} resources, {len(ex.chunks)} chunk(s), "
        f"{stats.generated_tokens} tokens generated, prompt tokens evaluated {stats.evaluated_prompt_tokens}"
        f"/{stats.prompt_tokens}, items read from lists {ex.list_items}, "
        f"ungrounded items dropped {dropped}" + (f" (kept {kept})" if kept else "")
    )
    return result
