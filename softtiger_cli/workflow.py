"""Glue between the CLI and the core for `structure`: resolve, load, run, write. No typer here."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Callable

from .errors import ModelNotFoundError, UsageError
from .notes import read_note
from .output import check_output_path, dumps_bundle, write_atomic, write_debug, write_stdout


def _check_timestamp(value: str | None) -> None:
    if value is None:
        return
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--timestamp {value!r} is not an ISO 8601 instant like 2026-01-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        raise UsageError("--timestamp needs a time zone, e.g. 2026-01-31T12:00:00Z")


def open_engine(model: str | None, *, device: str, n_ctx: int | None, seed: int, threads: int | None,
                offline: bool, say: Callable[[str], None]):
    """Resolve --model, make sure the file is on disk (pulling when allowed), load it once."""
    from .engine import Engine, EngineConfig
    from .registry import resolve_model

    resolved = resolve_model(model)
    path = resolved.path
    if path is None and resolved.spec is not None:
        try:
            from .hub import ensure_local
        except ImportError:  # pragma: no cover - hub ships with the package
            raise ModelNotFoundError(
                f"model {resolved.label} is not on disk", hint=f"run `softtiger models pull {resolved.label}`"
            ) from None
        path = ensure_local(resolved.spec, offline=True if offline else None, say=say)
    say(f"loading {resolved.label}")
    config = EngineConfig(model_path=path, n_ctx=n_ctx, device=device, seed=seed, n_threads=threads,
                          prompt_format=resolved.prompt_format, model_label=resolved.label)
    return Engine(config)


def run_structure(*, note_arg: str, out: Path | None, model: str | None, device: str, n_ctx: int | None,
                  tasks: tuple[str, ...],
                  seed: int, max_tokens: int | None, fhir_version: str, ungrounded: str, timestamp: str | None,
                  debug_dir: Path | None, offline: bool, threads: int | None, say: Callable[[str], None],
                  interactive: bool) -> None:
    """Read, check the output path, load the model, structure, validate, then write once."""
    from .errors import SofttigerError
    from .pipeline import StructureOptions, structure_note

    _check_timestamp(timestamp)
    note = read_note(note_arg)
    if out is not None:
        check_output_path(out)
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    started = time.perf_counter()
    engine = open_engine(model, device=device, n_ctx=n_ctx, seed=seed, threads=threads, offline=offline, say=say)
    options = StructureOptions(tasks=tasks, fhir_version=fhir_version, max_tokens=max_tokens, ungrounded=ungrounded,
                               timestamp=timestamp, keep_debug=debug_dir is not None)
    debug_name = Path(note.source).stem if note.source != "<stdin>" else "stdin"
    result = None
    try:
        result = structure_note(engine, note, options, on_progress=say if interactive else None)
    except SofttigerError:
        if debug_dir is not None:
            partial = getattr(engine, "last_debug", None)
            if partial:
                write_debug(debug_dir, debug_name, partial)
        raise
    finally:
        if debug_dir is not None and result is not None:
            write_debug(debug_dir, debug_name, [d for ex in result.extractions for d in ex.debug])
    text = dumps_bundle(result.bundle)
    if out is None:
        write_stdout(text)
    else:
        write_atomic(out, text)
    exs = result.extractions
    n_res = len(result.bundle["entry"])
    stats = engine.stats
    dropped = sum(e.dropped_ungrounded for e in exs)
    kept = sum(e.kept_ungrounded for e in exs)
    say(
        f"done in {time.perf_counter() - started:.1f}s: {n_res} resources, {len(exs[0].chunks)} chunk(s), "
        f"{stats.generated_tokens} tokens generated, prompt tokens evaluated {stats.evaluated_prompt_tokens}"
        f"/{stats.prompt_tokens}, ungrounded items dropped {dropped}" + (f" (kept {kept})" if kept else "")
    )
