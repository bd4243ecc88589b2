"""Batches: many notes in, one validated bundle per note out; resumable, atomic, with a summary and a report.

Inputs are note files, folders (walked recursively, `--glob`), `-` (stdin) and `--from-list` (one path per
line). Results go to a *store*: `-o DIR` (one bundle per note, mirroring the input's relative path) or, for
`--ndjson FILE` without `-o`, a hidden `.FILE.parts/` folder beside FILE. Each bundle is written atomically
(temp file + rename); then one line is appended to the store's journal, `.softtiger-state.jsonl`, with the
input's sha256 and the options key. A rerun skips every output whose journal line matches its input, its
options and the bytes on disk, so a run killed at note 7,000 resumes there. The NDJSON file and the per-type
`--split` files are views rebuilt from the store at the end of a run that was not interrupted, each
written atomically too, so a loader never sees half of one.

Only the main thread writes files; `--concurrency N` (server backend) runs N notes in worker threads.
Ctrl-C or SIGTERM abandons the notes in flight (a write already started is finished first) and exits 130.
Messages name files, never note text.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from softtiger_cli.batch.control import Interrupts, ProgressSink, QuietProgress
from softtiger_cli.batch.journal import Store
from softtiger_cli.batch.output import AtomicLines, check_output_path, dumps_bundle, write_atomic, write_debug
from softtiger_cli.batch.report import BatchResult, Failure, failure_of, report_data, summary
from softtiger_cli.batch.sources import Source, read_source, same_file
from softtiger_cli.core.data import Note
from softtiger_cli.core.errors import ExitCode, OutputError, SofttigerError, UsageError

IGNORED_LIMIT = 3  # this many off-schema answers before any good one: the server ignores constraints, stop
# Note text (characters) the plan keeps for structuring, so a note is read once; past it (a batch of many
# thousand notes), later notes are read again when their turn comes rather than all held in memory.
KEPT_NOTES_CHARS = 64 * 1024 * 1024


class BatchIncomplete(SofttigerError):
    """Some notes failed; the others were written. Exit code PARTIAL."""

    exit_code = ExitCode.PARTIAL


@dataclass
class BatchSpec:
    """Everything a batch needs, decided by the CLI layer."""

    sources: list[Source]
    options: Any  # pipeline.StructureOptions
    key: str  # the options key recorded per output (what must match for a skip)
    open_engine: Callable[[], Any]
    out_dir: Path | None = None
    ndjson: str | None = None  # a file path, "-" (stdout), or None
    split: bool = False
    force: bool = False
    report: Path | None = None
    concurrency: int = 1
    debug_dir: Path | None = None
    progress: Callable[[int], ProgressSink] = lambda total: QuietProgress()  # given the number of notes
    html_dir: Path | None = None  # evidence pages: one per note (the bundle's path, .html) and index.html


def _compact(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n"


def _debug_name(out_rel: str) -> str:
    return out_rel.removesuffix(".json").replace("/", "__")


def check_targets(spec: BatchSpec) -> tuple[Store | None, Path | None, Path | None]:
    """Validate outputs before any model work: the store, the NDJSON file, the split folder, the report."""
    ndjson_file = Path(spec.ndjson) if spec.ndjson not in (None, "-") else None
    if spec.report is not None:
        check_output_path(spec.report)
    if ndjson_file is not None:
        check_output_path(ndjson_file)
    store = None
    if spec.out_dir is not None:
        store = Store(spec.out_dir)
    elif ndjson_file is not None:
        parent = ndjson_file.parent if str(ndjson_file.parent) else Path(".")
        store = Store(parent / f".{ndjson_file.name}.parts")
    split_dir = None
    if spec.split:
        if spec.out_dir is not None:
            split_dir = spec.out_dir
        elif ndjson_file is not None:
            split_dir = ndjson_file.parent if str(ndjson_file.parent) else Path(".")
        else:
            raise UsageError("--split needs -o DIR or --ndjson FILE for its per-type files")
    return store, ndjson_file, split_dir


def run_batch(spec: BatchSpec) -> BatchResult:
    """Plan (read, hash, skip), structure what is left, write, summarise. Raises BatchIncomplete on failures."""
    started = time.perf_counter()
    store, ndjson_file, split_dir = check_targets(spec)
    if store is not None:
        store.clean_stale_temps()
    result = BatchResult(total=len(spec.sources))
    status: list[str] = ["todo"] * len(spec.sources)  # todo | done | skipped | failed
    out_names: dict[str, int] = {}
    todo: list[int] = []
    kept: dict[int, Note] = {}  # notes to structure as the plan read them
    kept_chars = 0

    def fail(i: int, code: int, reason: str, counted: bool = True) -> None:
        src = spec.sources[i]
        status[i] = "failed"
        result.failures.append(Failure(src.label, src.out_rel, code, reason))
        if counted:
            progress.note(src.label, f"failed: {reason}", failed=True)

    # plan: read every note (cheap), decide what is already done; keep what is left to structure, up to a limit
    early: list[tuple[int, int, str]] = []
    for i, src in enumerate(spec.sources):
        try:
            note = read_source(src, spec.options.lang)
        except SofttigerError as exc:
            early.append((i, *failure_of(exc)))
            continue
        other = out_names.setdefault(src.out_rel, i)
        if other != i:
            early.append((i, int(ExitCode.OUTPUT),
                          f"output name {src.out_rel} is already used by {spec.sources[other].label}"))
            continue
        if store is not None and src.path is not None and same_file(store.path(src.out_rel), src.path):
            early.append((i, int(ExitCode.OUTPUT), f"output {src.out_rel} would overwrite the input"))
            continue
        if store is not None and not spec.force and store.current(src.out_rel, note.sha256, spec.key):
            status[i] = "skipped"
            result.skipped += 1
        else:
            todo.append(i)
            if kept_chars + len(note.text) <= KEPT_NOTES_CHARS:
                kept[i], kept_chars = note, kept_chars + len(note.text)
    progress = spec.progress(len(todo) + len(early))
    if result.skipped:
        progress.line(f"skipping {result.skipped} note(s) already done with these options (--force redoes them)")
    for i, code, reason in early:
        fail(i, code, reason)

    emitter = _StdoutEmitter(spec.sources, status, store) if spec.ndjson == "-" else None
    interrupts = Interrupts()
    interrupts.install()
    engine = None
    fatal_exc: SofttigerError | None = None
    try:
        if emitter is not None:
            emitter.flush()
        if todo:
            engine = spec.open_engine()
            _process(spec, engine, todo, kept, store, status, result, progress, interrupts, emitter, fail)
        if emitter is not None:
            emitter.flush()
    except KeyboardInterrupt:
        result.interrupted = True
    except SofttigerError as exc:  # fatal for the whole batch (model cannot load, server gone)
        result.fatal = exc.one_line()
        fatal_exc = exc
    finally:
        progress.close()
        interrupts.restore()
    if engine is not None:
        stats = engine.stats
        result.generated_tokens = stats.generated_tokens
        result.prompt_tokens = stats.prompt_tokens
        result.evaluated_prompt_tokens = stats.evaluated_prompt_tokens
    views_ok = not result.interrupted and result.fatal is None
    if views_ok and store is not None and (ndjson_file is not None or split_dir is not None):
        _write_views(spec.sources, status, store, ndjson_file, split_dir)
    if store is not None and spec.html_dir is not None:
        _write_pages(spec.sources, status, store, spec.html_dir, {f.output: f.reason for f in result.failures})
    result.seconds = time.perf_counter() - started
    if spec.report is not None:
        write_atomic(spec.report, json.dumps(report_data(result), indent=2, ensure_ascii=False) + "\n")
    summary(result, progress.line)
    if result.interrupted:
        raise KeyboardInterrupt
    if fatal_exc is not None:
        raise fatal_exc
    if result.failures:
        where = f"; see {spec.report}" if spec.report is not None else ""
        raise BatchIncomplete(f"{len(result.failures)} of {result.total} notes failed{where}")
    return result


def _process(spec: BatchSpec, engine: Any, todo: list[int], kept: dict[int, Note], store: Store | None,
             status: list[str], result: BatchResult, progress: ProgressSink, interrupts: Interrupts,
             emitter: "_StdoutEmitter | None", fail: Callable[..., None]) -> None:
    from softtiger_cli.llm.openai import ConstraintIgnored, ServerUnavailable
    from softtiger_cli.core.errors import ModelError
    from softtiger_cli.pipeline.run import structure_note

    ignored = 0  # answers off the schema: a server that ignores the constraint would fail every note

    def work(i: int) -> tuple[str, int, Any]:
        src = spec.sources[i]
        t0 = time.perf_counter()
        try:
            note = kept.pop(i) if i in kept else read_source(src, spec.options.lang)  # popped: its memory goes once structured
            res = structure_note(engine, note, spec.options)
        except ServerUnavailable as exc:
            return "fatal", i, exc
        except SofttigerError as exc:
            debug = getattr(exc, "debug", None) if spec.debug_dir is not None else None  # set by structure_note
            return "failed", i, (exc, debug)
        except Exception as exc:  # noqa: BLE001 - one note's bug must not stop the batch
            if os.environ.get("SOFTTIGER_DEBUG"):
                import traceback

                traceback.print_exc()
            return "failed", i, (exc, None)
        return "ok", i, (note, res, time.perf_counter() - t0)

    def handle(kind: str, i: int, payload: Any) -> None:
        src = spec.sources[i]
        if kind == "fatal":
            raise payload
        if kind == "failed":
            nonlocal ignored
            exc, debug = payload
            if debug and spec.debug_dir is not None:
                write_debug(spec.debug_dir, _debug_name(src.out_rel), debug)
            fail(i, *failure_of(exc))
            ignored += isinstance(exc, ConstraintIgnored)
            if ignored >= IGNORED_LIMIT and result.done == 0:
                raise ModelError(f"stopping: {ignored} answers from the server broke the schema and none kept to it; "
                                 "the server does not apply the constraint (check --constraint)")
            return
        note, res, seconds = payload
        bundle = res.bundle
        try:
            with interrupts.writing():
                if spec.debug_dir is not None:
                    write_debug(spec.debug_dir, _debug_name(src.out_rel),
                                res.extraction.debug)
                if store is not None:
                    text = dumps_bundle(bundle)
                    write_atomic(store.prepare(src.out_rel), text)
                    store.record(src.out_rel, note.sha256, spec.key, text, note.lang)
                if emitter is not None:
                    emitter.ready[i] = _compact(bundle)
        except OutputError as exc:
            fail(i, *failure_of(exc))
            return
        status[i] = "done"
        result.done += 1
        kinds = Counter(e["resource"]["resourceType"] for e in bundle.get("entry", []))
        result.resources.update(kinds)
        progress.note(src.label, f"{sum(kinds.values())} resources, {seconds:.1f}s")
        if emitter is not None:
            emitter.flush()

    if spec.concurrency <= 1:
        for i in todo:
            handle(*work(i))
        return
    tasks: queue.Queue[int | None] = queue.Queue()
    results: queue.Queue[tuple[str, int, Any]] = queue.Queue()
    stop = threading.Event()
    for i in todo:
        tasks.put(i)

    def worker() -> None:
        while not stop.is_set():
            try:
                i = tasks.get_nowait()
            except queue.Empty:
                return
            results.put(work(i))

    threads = [threading.Thread(target=worker, daemon=True, name=f"softtiger-{n}")
               for n in range(min(spec.concurrency, len(todo)))]
    for t in threads:
        t.start()
    try:
        for _ in range(len(todo)):
            while True:
                try:
                    item = results.get(timeout=0.2)
                    break
                except queue.Empty:
                    continue
            handle(*item)
    finally:
        stop.set()  # workers finish their current request and take no more; results are dropped


class _StdoutEmitter:
    """NDJSON on stdout in input order: a note's line goes out once every earlier note is settled."""

    def __init__(self, sources: list[Source], status: list[str], store: Store | None) -> None:
        self.sources = sources
        self.status = status
        self.store = store
        self.ready: dict[int, str] = {}
        self.next = 0

    def flush(self) -> None:
        from softtiger_cli.batch.output import write_stdout

        out: list[str] = []
        while self.next < len(self.status):
            state = self.status[self.next]
            if state == "todo":
                break
            if state == "done" and self.next in self.ready:
                out.append(self.ready.pop(self.next))
            elif state == "skipped" and self.store is not None:
                bundle = _load(self.store, self.sources[self.next].out_rel)
                if bundle is not None:
                    out.append(_compact(bundle))
            self.next += 1
        if out:
            write_stdout("".join(out))


def _load(store: Store, out_rel: str) -> dict[str, Any] | None:
    try:
        return json.loads(store.path(out_rel).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_views(sources: list[Source], status: list[str], store: Store, ndjson_file: Path | None,
                 split_dir: Path | None) -> None:
    """Rebuild the NDJSON file and the per-type files from the store, in input order, atomically."""
    files: dict[str, AtomicLines] = {}
    seen: set[tuple[str, str]] = set()
    try:
        if ndjson_file is not None:
            files[""] = AtomicLines(ndjson_file)
        for i, src in enumerate(sources):
            if status[i] not in ("done", "skipped"):
                continue
            bundle = _load(store, src.out_rel)
            if bundle is None:
                continue
            if ndjson_file is not None:
                files[""].write(_compact(bundle))
            if split_dir is None:
                continue
            for entry in bundle.get("entry", []):
                res = entry.get("resource") or {}
                rtype, rid = str(res.get("resourceType", "")), str(res.get("id", ""))
                if not re.fullmatch(r"[A-Za-z]+", rtype) or (rtype, rid) in seen:
                    continue
                seen.add((rtype, rid))
                if rtype not in files:
                    files[rtype] = AtomicLines(split_dir / f"{rtype}.ndjson")
                files[rtype].write(json.dumps(res, ensure_ascii=False, separators=(",", ":")) + "\n")
        for lines in files.values():
            lines.commit()
    except OSError as exc:
        for lines in files.values():
            lines.abort()
        raise OutputError(f"cannot write the NDJSON files ({exc.strerror or type(exc).__name__})") from None
    except BaseException:
        for lines in files.values():
            lines.abort()
        raise


__all__ = ["BatchIncomplete", "BatchSpec", "run_batch"]


def _write_pages(sources: list[Source], status: list[str], store: Store, html_dir: Path,
                 failed: dict[str, str]) -> None:
    """One evidence page per note written (or kept) in this run, and an index of the batch with counts."""
    from softtiger_cli.view import IndexRow, index_row, render_bundle, render_index

    rows: list[IndexRow] = []
    for i, src in enumerate(sources):
        page_rel = src.out_rel.removesuffix(".json") + ".html"
        bundle = _load(store, src.out_rel) if status[i] in ("done", "skipped") else None
        if bundle is None:
            rows.append(IndexRow(src.label, None, error=failed.get(src.out_rel, "not structured")))
            continue
        target = html_dir.joinpath(*PurePosixPath(page_rel).parts)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(target, render_bundle(bundle, title=src.label))
        rows.append(index_row(src.label, page_rel, bundle))
    html_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(html_dir / "index.html", render_index(rows))
