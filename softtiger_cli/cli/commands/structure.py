"""`softtiger structure NOTE... [-o OUT]`: notes in, validated FHIR Bundles out.

One note (a file or `-`) with `-o FILE` or no `-o` is the single-note run (workflow.run_structure). Several
notes, a folder, `--from-list`, `-o DIR` (an existing folder or a path ending in /), `--ndjson` or
`--split` make a batch (batch.run_batch): one bundle per note, resumable, with a summary and a report.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer

HELP = "Structure clinical notes into validated FHIR Bundles (IPS, ClinicalImpression, Encounter)."


def structure(
    notes: Optional[list[str]] = typer.Argument(
        None, help="Note files, folders (walked recursively, see --glob), or - for standard input.", show_default=False),
    out: Optional[str] = typer.Option(
        None, "-o", "--output",
        help="One note: the Bundle file (default: stdout). Several notes: a folder, one Bundle per note."),
    from_list: Optional[str] = typer.Option(None, "--from-list", help="Read note paths from FILE (or - for stdin), one per line."),
    glob: str = typer.Option("*.txt", "--glob", help="Which files to take from folders (on the name, or the relative path if it has a /)."),
    ndjson: Optional[str] = typer.Option(None, "--ndjson", help="Also write every Bundle as one line of FILE (or - for stdout)."),
    split: bool = typer.Option(False, "--split", help="Also write one NDJSON per resource type (Patient.ndjson, ...)."),
    force: bool = typer.Option(False, "--force", help="Redo notes whose output is already up to date."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a JSON report of the run (failures with reasons)."),
    backend: str = typer.Option("local", "--backend", help="local (in-process llama.cpp) | openai (a server)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="The OpenAI-compatible server, e.g. http://127.0.0.1:8080."),
    constraint: str = typer.Option("grammar", "--constraint", help="How the server takes the constraint: grammar | vllm | vllm-legacy."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=256, help="Notes sent to the server at once."),
    server_timeout: float = typer.Option(600.0, "--server-timeout", min=1.0, help="Seconds to wait for one answer from the server."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model name, alias, family or path to a .gguf."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | gpu"),
    n_ctx: Optional[int] = typer.Option(None, "--n-ctx", min=256, help="Context length (default: the model's)."),
    seed: int = typer.Option(0, "--seed", help="Seed for llama.cpp (decoding is greedy)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=16, help="Cap per answer (default: the grammar's worst case)."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="ips | impression | encounter | all (repeatable or comma list; default all)."),
    fhir_version: str = typer.Option("R4B", "--fhir-version", help="FHIR version of the output: R4B (default) or R5."),
    ungrounded: str = typer.Option("drop", "--ungrounded", help="drop | keep items not found in the note."),
    lists: bool = typer.Option(True, "--lists/--no-lists", help="Read written-out lists (bullets, 'history of A, B') by rule; --no-lists leaves all reading to the model."),
    timestamp: Optional[str] = typer.Option(None, "--timestamp", help="Pin Bundle.timestamp (FHIR instant) for reproducible output."),
    note_date: Optional[str] = typer.Option(None, "--note-date", help="The date the note was written (YYYY-MM-DD), for relative dates; default: found in the note."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the evidence page: one note: FILE; several: DIR (one page per note + index.html)."),
    debug_dir: Optional[Path] = typer.Option(None, "--debug-dir", help="Keep prompts and raw model output here (contains note text)."),
    offline: bool = typer.Option(False, "--offline", help="Never download; fail if the model is not on disk."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads (default: all cores)."),
    parallel: Optional[int] = typer.Option(
        None, "--parallel", min=1, max=256,
        help="Questions of a chunk decoded together in one llama.cpp batch (default: 1 on CPU; on a GPU, as "
             "many as fit in free VRAM at one context of KV cache each)."),
    lang: str = typer.Option("auto", "--lang", help="The notes' language: auto (each note's own, by its share of Han characters) | en | zh."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
) -> None:
    from softtiger_cli.cli.console import info
    from softtiger_cli.core.errors import UsageError
    from softtiger_cli.pipeline.run import parse_tasks
    from softtiger_cli.batch.single import BackendChoice

    if device not in ("auto", "cpu", "gpu"):
        raise UsageError(f"--device must be auto, cpu or gpu, not {device!r}")
    if ungrounded not in ("drop", "keep"):
        raise UsageError(f"--ungrounded must be drop or keep, not {ungrounded!r}")
    version = {"R4B": "R4B", "R4": "R4B", "R5": "R5"}.get(fhir_version.upper())
    if version is None:
        raise UsageError(f"--fhir-version must be R4B or R5, not {fhir_version!r}")
    tasks = parse_tasks(task or [])
    from softtiger_cli.lang.text import AUTO, LANGUAGES

    if lang not in (AUTO, *LANGUAGES):
        raise UsageError(f"--lang must be auto, {', '.join(LANGUAGES)}, not {lang!r}")
    if note_date is not None:
        import datetime as _dt

        try:
            note_date = _dt.date.fromisoformat(note_date).isoformat()
        except ValueError:
            raise UsageError(f"--note-date {note_date!r} is not a date like 2026-03-14") from None
    if backend not in ("local", "openai"):
        raise UsageError(f"--backend must be local or openai, not {backend!r}")
    if backend == "openai" and not base_url:
        raise UsageError("--backend openai needs --base-url URL (the server, e.g. http://127.0.0.1:8080)")
    if backend == "local" and base_url:
        raise UsageError("--base-url is for --backend openai")
    if backend == "local" and concurrency > 1:
        raise UsageError("--concurrency is for --backend openai; the in-process engine runs one note at a time")
    if constraint not in ("grammar", "vllm", "vllm-legacy"):
        raise UsageError(f"--constraint must be grammar, vllm or vllm-legacy, not {constraint!r}")
    chosen = BackendChoice(name=backend, base_url=base_url, constraint=constraint, timeout=server_timeout)
    say = (lambda _m: None) if quiet else info
    note_args = list(notes or [])
    if not note_args and from_list is None:
        raise UsageError("give a NOTE (a file, a folder or -) or --from-list FILE")

    single = (
        from_list is None and len(note_args) == 1 and ndjson is None and not split
        and (note_args[0] in ("-", "") or not Path(note_args[0]).is_dir())
        and (out is None or not _names_folder(out))
    )
    common = dict(model=model, device=device, n_ctx=n_ctx, seed=seed, max_tokens=max_tokens, tasks=tasks,
                  fhir_version=version, ungrounded=ungrounded, timestamp=timestamp, debug_dir=debug_dir,
                  offline=offline, threads=threads, note_date=note_date, use_lists=lists, parallel=parallel,
                  lang=lang)
    if single:
        _single(note_args[0], None if out is None else Path(out), report, chosen, say, quiet, {**common, "html": html})
        return
    if html is not None and html.exists() and not html.is_dir():
        raise UsageError(f"--html {html}: with several notes --html names a folder, and this is a file")
    _batch(note_args, from_list, glob, out, ndjson, split, force, report, chosen, concurrency, say, quiet,
           {**common, "html": html})


def _names_folder(out: str) -> bool:
    return out.endswith(("/", os.sep)) or Path(out).is_dir()


def _single(note: str, out: Path | None, report: Path | None, backend, say, quiet: bool, common: dict) -> None:
    from collections import Counter

    from softtiger_cli.batch.output import check_output_path
    from softtiger_cli.batch.single import run_structure

    if report is None:
        run_structure(note_arg=note, out=out, say=say, interactive=sys.stderr.isatty() and not quiet,
                      backend=backend, **common)
        return
    from softtiger_cli.batch.report import single_report

    check_output_path(report)
    started = time.perf_counter()
    label = "<stdin>" if note == "-" else note
    try:
        result = run_structure(note_arg=note, out=out, say=say, interactive=sys.stderr.isatty() and not quiet,
                               backend=backend, **common)
    except BaseException as exc:
        if isinstance(exc, (Exception, KeyboardInterrupt)):
            single_report(report, label, str(out or "-"), exc, time.perf_counter() - started)
        raise
    kinds = Counter(e["resource"]["resourceType"] for e in result.bundle["entry"])
    single_report(report, label, str(out or "-"), None, time.perf_counter() - started, kinds, result.tokens)


def _batch(note_args: list[str], from_list: str | None, glob: str, out: str | None, ndjson: str | None, split: bool,
           force: bool, report: Path | None, backend, concurrency: int, say, quiet: bool, common: dict) -> None:
    from softtiger_cli.batch.runner import BatchSpec, run_batch
    from softtiger_cli.cli.progress import NoteProgress
    from softtiger_cli.batch.sources import collect_sources
    from softtiger_cli.core.errors import InputError, UsageError
    from softtiger_cli.pipeline.run import StructureOptions
    from softtiger_cli.models.registry import resolve_model
    from softtiger_cli.batch.single import check_timestamp, open_backend

    check_timestamp(common["timestamp"])
    if out is None and ndjson is None:
        raise UsageError("several notes need -o DIR (one Bundle per note) or --ndjson FILE|- (one per line)")
    out_dir = None if out is None else Path(out)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"-o {out}: with several notes -o names a folder, and this is a file")
    if common.get("html") is not None and out_dir is None and ndjson == "-":
        raise UsageError("--html with several notes needs -o DIR or --ndjson FILE (the pages are made from the bundles)")
    if ndjson == "-" and out_dir is None and split:
        raise UsageError("--split needs -o DIR or --ndjson FILE for its per-type files")
    exclude = [out_dir] if out_dir is not None else []
    if ndjson not in (None, "-"):
        nd = Path(ndjson)
        exclude.append((nd.parent if str(nd.parent) else Path(".")) / f".{nd.name}.parts")
    sources = collect_sources(note_args, from_list, glob, exclude)
    if not sources:
        where = ", ".join(note_args) or f"--from-list {from_list}"
        raise InputError(f"{where}: no notes found (folders are searched for --glob {glob!r})")
    if common["offline"]:
        os.environ["HF_HUB_OFFLINE"] = "1"
    options = StructureOptions(tasks=common["tasks"], fhir_version=common["fhir_version"],
                               max_tokens=common["max_tokens"], ungrounded=common["ungrounded"],
                               timestamp=common["timestamp"], keep_debug=common["debug_dir"] is not None,
                               note_date=common["note_date"], use_lists=common["use_lists"], lang=common["lang"])
    label = resolve_model(common["model"]).label
    key = "|".join([options.key(), f"note_date={common['note_date'] or ''}", f"model={label}", f"backend={backend.name}", f"n_ctx={common['n_ctx']}",
                    f"timestamp={common['timestamp'] or ''}"])

    def engine():
        return open_backend(common["model"], backend, device=common["device"], n_ctx=common["n_ctx"],
                            seed=common["seed"], threads=common["threads"], offline=common["offline"], say=say,
                            parallel=common["parallel"])

    interactive = not quiet and sys.stderr.isatty()
    spec = BatchSpec(sources=sources, options=options, key=key, open_engine=engine, out_dir=out_dir, ndjson=ndjson,
                     split=split, force=force, report=report, concurrency=concurrency, debug_dir=common["debug_dir"],
                     html_dir=common["html"],
                     progress=lambda total: NoteProgress("quiet" if quiet else ("bar" if interactive else "lines"), total))
    run_batch(spec)


def register(app: typer.Typer) -> None:
    app.command("structure", help=HELP)(structure)
