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

import datetime as dt
import hashlib
import json
import os
import posixpath
import queue
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator

from .errors import ExitCode, InputError, OutputError, SofttigerError, UsageError
from .notes import Note, read_note
from .output import check_output_path, dumps_bundle, write_atomic, write_debug

STATE_NAME = ".softtiger-state.jsonl"
DEFAULT_GLOB = "*.txt"
IGNORED_LIMIT = 3  # this many off-schema answers before any good one: the server ignores constraints, stop
STALE_TMP_SECONDS = 60  # a temp file this old belongs to a killed run (a write takes milliseconds)
_TMP = re.compile(r"^\..+\.tmp$")


class BatchIncomplete(SofttigerError):
    """Some notes failed; the others were written. Exit code PARTIAL."""

    exit_code = ExitCode.PARTIAL


# -- inputs ---------------------------------------------------------------------------------------

@dataclass
class Source:
    """One note to structure: where it is read from and the name its output gets under the store."""

    label: str  # the path as given (or found), or "<stdin>": what messages name
    path: Path | None  # None: standard input
    rel: PurePosixPath  # the input's name relative to its root; the output is this with a .json suffix
    note: Note | None = None  # standard input, read once

    @property
    def out_rel(self) -> str:
        name = self.rel.name
        stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
        return str(self.rel.with_name(f"{stem or name}.json"))


def safe_rel(name: str) -> PurePosixPath:
    """A relative output name that stays under the store: no root, no `.`; `..` becomes `__`."""
    parts = [p for p in PurePosixPath(posixpath.normpath(name)).parts if p not in ("/", "", ".")]
    parts = ["__" if p == ".." else p for p in parts]
    if not parts:
        raise InputError(f"{name!r}: cannot make an output name from this path")
    return PurePosixPath(*parts)


def _walk(root: Path, pattern: str, exclude: list[Path]) -> list[Path]:
    """Note files under `root` matching `pattern` (on the name, or on the relative path when it has a /).

    Hidden files and folders are skipped, symbolic links to folders are not followed, and the store
    itself (when it lies inside an input folder) is left out. Sorted, so runs and shards are stable.
    """
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(
            n for n in dirnames
            if not n.startswith(".") and not any(_same(here / n, ex) for ex in exclude)
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            rel = path.relative_to(root).as_posix()
            if fnmatchcase(rel if "/" in pattern else name, pattern):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def read_list(spec: str) -> list[str]:
    """`--from-list FILE|-`: one path per line; blank lines are skipped, line ends stripped."""
    try:
        if spec == "-":
            raw = sys.stdin.buffer.read()
        else:
            raw = Path(spec).read_bytes()
    except OSError as exc:
        raise InputError(f"--from-list {spec}: cannot read ({exc.strerror or type(exc).__name__})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--from-list {spec}: not UTF-8 text") from None
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def collect_sources(notes: list[str], from_list: str | None, glob: str = DEFAULT_GLOB,
                    exclude: list[Path] | None = None) -> list[Source]:
    """Every note named by the arguments and the list, in order, without repeats."""
    exclude = exclude or []
    if notes.count("-") + (from_list == "-") > 1:
        raise UsageError("standard input can be read once: give `-` as a NOTE or as --from-list, not both")
    names = list(notes) + (read_list(from_list) if from_list is not None else [])
    sources: list[Source] = []
    seen: set[str] = set()
    for name in names:
        if name == "-":
            if name in seen:
                continue
            seen.add(name)
            sources.append(Source(label="<stdin>", path=None, rel=PurePosixPath("stdin")))
            continue
        path = Path(name)
        if path.is_dir():
            found = _walk(path, glob, exclude)
            for file in found:
                key = os.path.realpath(file)
                if key not in seen:
                    seen.add(key)
                    sources.append(Source(label=str(file), path=file,
                                          rel=safe_rel(file.relative_to(path).as_posix())))
            continue
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        sources.append(Source(label=name, path=path, rel=safe_rel(name)))
    return sources


def read_source(src: Source) -> Note:
    if src.path is None:
        if src.note is None:
            src.note = read_note("-")
        return src.note
    return read_note(str(src.path))


# -- the store ------------------------------------------------------------------------------------

class Store:
    """A folder of bundles plus an append-only journal of what was written from which input and options."""

    def __init__(self, root: Path) -> None:
        if root.exists() and not root.is_dir():
            raise OutputError(f"{root}: exists and is not a folder")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{root}: cannot create the folder ({exc.strerror or type(exc).__name__})") from None
        if not os.access(root, os.W_OK | os.X_OK):
            raise OutputError(f"{root}: folder is not writable")
        self.root = root
        self.state = root / STATE_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        try:
            text = self.state.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise OutputError(f"{self.state}: cannot read ({exc.strerror or type(exc).__name__})") from None
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            if isinstance(entry, dict) and isinstance(entry.get("output"), str):
                self.entries[entry["output"]] = entry

    def path(self, out_rel: str) -> Path:
        return self.root.joinpath(*PurePosixPath(out_rel).parts)

    def current(self, out_rel: str, input_sha: str, key: str) -> bool:
        """The output exists, was made from this input with these options, and is byte for byte intact."""
        entry = self.entries.get(out_rel)
        if not entry or entry.get("input_sha256") != input_sha or entry.get("options") != key:
            return False
        try:
            data = self.path(out_rel).read_bytes()
        except OSError:
            return False
        return hashlib.sha256(data).hexdigest() == entry.get("bundle_sha256")

    def prepare(self, out_rel: str) -> Path:
        """Create the output's folders under the root, refusing to pass through a symbolic link."""
        parts = PurePosixPath(out_rel).parts
        cur = self.root
        for part in parts[:-1]:
            cur = cur / part
            if cur.is_symlink():
                raise OutputError(f"{out_rel}: folder {part} in the output folder is a symbolic link; not writing through it")
            if not cur.exists():
                try:
                    cur.mkdir(mode=0o700)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise OutputError(f"{out_rel}: cannot create folder ({exc.strerror or type(exc).__name__})") from None
            elif not cur.is_dir():
                raise OutputError(f"{out_rel}: {part} in the output folder is a file, not a folder")
        final = cur / parts[-1]
        if final.is_symlink():  # write_atomic would follow it, possibly out of the folder
            raise OutputError(f"{out_rel}: is a symbolic link in the output folder; not writing through it")
        if final.exists() and not final.is_file():
            raise OutputError(f"{out_rel}: exists in the output folder and is not a regular file")
        return final

    def record(self, out_rel: str, input_sha: str, key: str, text: str) -> None:
        entry = {"output": out_rel, "input_sha256": input_sha, "options": key,
                 "bundle_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                 "written": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            fd = os.open(self.state, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # the last line was cut short by a kill: start a fresh one
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise OutputError(f"{self.state}: cannot write ({exc.strerror or type(exc).__name__})") from None
        self.entries[out_rel] = entry

    def clean_stale_temps(self) -> int:
        """Remove temp files a killed run left behind (never a fresh one: another worker may own it)."""
        removed = 0
        cutoff = time.time() - STALE_TMP_SECONDS
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            for name in filenames:
                if _TMP.match(name):
                    path = Path(dirpath) / name
                    try:
                        if path.lstat().st_mtime < cutoff:
                            path.unlink()
                            removed += 1
                    except OSError:
                        pass
        return removed


class AtomicLines:
    """A file written line by line into a temp file beside it, renamed into place only on commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        parent = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
        self.tmp = Path(tmp)
        self.fh = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, line: str) -> None:
        self.fh.write(line)

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.chmod(self.tmp, 0o600)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass
        try:
            self.tmp.unlink()
        except OSError:
            pass


# -- signals --------------------------------------------------------------------------------------

class _Interrupts:
    """SIGINT/SIGTERM raise KeyboardInterrupt, except inside a write, which finishes first."""

    def __init__(self) -> None:
        self.depth = 0
        self.pending = False
        self.previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.depth:
            self.pending = True
            return
        raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self._handler)

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()

    @contextmanager
    def writing(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if not self.depth and self.pending:
                self.pending = False
                raise KeyboardInterrupt


# -- progress -------------------------------------------------------------------------------------

class _Progress:
    """A rich bar with notes/s and ETA on a terminal; one plain line per note elsewhere; nothing when quiet."""

    def __init__(self, mode: str, total: int) -> None:
        self.mode = mode  # "bar" | "lines" | "quiet"
        self.total = total
        self.count = 0
        self.started = time.perf_counter()
        self.bar = None
        if mode == "bar" and total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            from .console import stderr

            self.bar = Progress(TextColumn("structuring"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]} notes/s  ETA {task.fields[eta]}"),
                                TextColumn("{task.fields[failed]}"), console=stderr, transient=False)
            self.task = self.bar.add_task("notes", total=total, rate="-", eta="-", failed="")
            self.failed = 0
            self.bar.start()

    def line(self, message: str) -> None:
        if self.mode != "quiet":
            from .console import info

            if self.bar is not None:
                self.bar.console.print(message, markup=False, highlight=False)
            else:
                info(message)

    def note(self, label: str, outcome: str, failed: bool = False) -> None:
        self.count += 1
        if self.mode == "lines":
            self.line(f"[{self.count}/{self.total}] {label}: {outcome}")
        elif self.bar is not None:
            elapsed = time.perf_counter() - self.started
            rate = self.count / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.count) / rate if rate > 0 else 0.0
            if failed:
                self.failed += 1
            self.bar.update(self.task, advance=1, rate=f"{rate:.2f}", eta=_clock(eta),
                            failed=f"{self.failed} failed" if self.failed else "")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# -- the run --------------------------------------------------------------------------------------

@dataclass
class Failure:
    label: str
    output: str
    code: int
    reason: str


@dataclass
class BatchResult:
    total: int = 0
    done: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    resources: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    interrupted: bool = False
    fatal: str | None = None
    generated_tokens: int = 0
    prompt_tokens: int = 0
    evaluated_prompt_tokens: int = 0


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
    progress: str = "lines"  # "bar" | "lines" | "quiet"


def _compact(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n"


def _failure_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, SofttigerError):
        return int(exc.exit_code), exc.one_line()
    return int(ExitCode.FAILURE), f"internal error ({type(exc).__name__}); rerun with SOFTTIGER_DEBUG=1"


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

    def fail(i: int, code: int, reason: str, counted: bool = True) -> None:
        src = spec.sources[i]
        status[i] = "failed"
        result.failures.append(Failure(src.label, src.out_rel, code, reason))
        if counted:
            progress.note(src.label, f"failed: {reason}", failed=True)

    # plan: read every note once (cheap), decide what is already done
    early: list[tuple[int, int, str]] = []
    for i, src in enumerate(spec.sources):
        try:
            note = read_source(src)
        except SofttigerError as exc:
            early.append((i, *_failure_of(exc)))
            continue
        other = out_names.setdefault(src.out_rel, i)
        if other != i:
            early.append((i, int(ExitCode.OUTPUT),
                          f"output name {src.out_rel} is already used by {spec.sources[other].label}"))
            continue
        if store is not None and src.path is not None and _same(store.path(src.out_rel), src.path):
            early.append((i, int(ExitCode.OUTPUT), f"output {src.out_rel} would overwrite the input"))
            continue
        if store is not None and not spec.force and store.current(src.out_rel, note.sha256, spec.key):
            status[i] = "skipped"
            result.skipped += 1
        else:
            todo.append(i)
    progress = _Progress(spec.progress, len(todo) + len(early))
    if result.skipped:
        progress.line(f"skipping {result.skipped} note(s) already done with these options (--force redoes them)")
    for i, code, reason in early:
        fail(i, code, reason)

    emitter = _StdoutEmitter(spec.sources, status, store) if spec.ndjson == "-" else None
    interrupts = _Interrupts()
    interrupts.install()
    engine = None
    fatal_exc: SofttigerError | None = None
    try:
        if emitter is not None:
            emitter.flush()
        if todo:
            engine = spec.open_engine()
            _process(spec, engine, todo, store, status, result, progress, interrupts, emitter, fail)
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
    result.seconds = time.perf_counter() - started
    if spec.report is not None:
        write_atomic(spec.report, json.dumps(report_data(result), indent=2, ensure_ascii=False) + "\n")
    if spec.progress != "quiet":
        _summary(result, progress.line)
    if result.interrupted:
        raise KeyboardInterrupt
    if fatal_exc is not None:
        raise fatal_exc
    if result.failures:
        where = f"; see {spec.report}" if spec.report is not None else ""
        raise BatchIncomplete(f"{len(result.failures)} of {result.total} notes failed{where}")
    return result


def _process(spec: BatchSpec, engine: Any, todo: list[int], store: Store | None,
             status: list[str], result: BatchResult, progress: _Progress, interrupts: _Interrupts,
             emitter: "_StdoutEmitter | None", fail: Callable[..., None]) -> None:
    from .backends import ConstraintIgnored, ServerUnavailable
    from .errors import ModelError
    from .pipeline import structure_note

    ignored = 0  # answers off the schema: a server that ignores the constraint would fail every note

    def work(i: int) -> tuple[str, int, Any]:
        src = spec.sources[i]
        t0 = time.perf_counter()
        try:
            note = read_source(src)
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
            fail(i, *_failure_of(exc))
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
                                [d for ex in res.extractions for d in ex.debug])
                if store is not None:
                    text = dumps_bundle(bundle)
                    write_atomic(store.prepare(src.out_rel), text)
                    store.record(src.out_rel, note.sha256, spec.key, text)
                if emitter is not None:
                    emitter.ready[i] = _compact(bundle)
        except OutputError as exc:
            fail(i, *_failure_of(exc))
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
        from .output import write_stdout

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


def report_data(result: BatchResult) -> dict[str, Any]:
    from . import __version__

    return {
        "softtiger": __version__,
        "notes": result.total, "done": result.done, "skipped": result.skipped, "failed": len(result.failures),
        "interrupted": result.interrupted, "fatal": result.fatal,
        "seconds": round(result.seconds, 3),
        "resources": dict(sorted(result.resources.items())),
        "tokens": {"generated": result.generated_tokens, "prompt": result.prompt_tokens,
                   "prompt_evaluated": result.evaluated_prompt_tokens},
        "failures": [{"input": f.label, "output": f.output, "code": f.code, "reason": f.reason}
                     for f in result.failures],
    }


def _summary(result: BatchResult, say: Callable[[str], None]) -> None:
    rate = result.done / result.seconds if result.seconds > 0 else 0.0
    state = " (interrupted; rerun to resume)" if result.interrupted else ""
    if result.fatal:
        state = " (stopped: see the error below; rerun to resume)"
    speed = f" ({rate:.2f} notes/s)" if result.done else ""
    say(f"{result.total} notes: {result.done} done, {result.skipped} skipped, {len(result.failures)} failed "
        f"in {result.seconds:.1f}s{speed}{state}")
    if result.resources:
        say("resources: " + ", ".join(f"{k} {v}" for k, v in sorted(result.resources.items())))
    if result.generated_tokens or result.prompt_tokens:
        say(f"tokens: {result.generated_tokens} generated, {result.prompt_tokens} prompt "
            f"({result.evaluated_prompt_tokens} evaluated)")
    for f in result.failures[:5]:
        say(f"failed: {f.label}: {f.reason}")
    if len(result.failures) > 5:
        say(f"... and {len(result.failures) - 5} more (--report FILE lists them all)")


def single_report(report: Path, label: str, out: str, exc: BaseException | None, seconds: float,
                  resources: Counter | None = None) -> None:
    """--report for a one-note run, in the batch report's shape."""
    result = BatchResult(total=1, seconds=seconds, resources=resources or Counter())
    if exc is None:
        result.done = 1
    elif isinstance(exc, KeyboardInterrupt):
        result.interrupted = True
    else:
        result.failures.append(Failure(label, out, *_failure_of(exc)))
    write_atomic(report, json.dumps(report_data(result), indent=2, ensure_ascii=False) + "\n")


__all__ = ["BatchIncomplete", "BatchSpec", "Source", "Store", "collect_sources", "run_batch", "safe_rel"]
