"""CLI layer: turn the core's plain progress callback into a rich progress bar on stderr.

On a terminal: a live bar per file and phase (download, sha256 check, join). Elsewhere (a log file, CI): one
plain line per 10% so a long download still shows that it moves, without escape codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import time

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from softtiger_cli.cli.console import info, stderr
from softtiger_cli.models.filecheck import ProgressFn, human_bytes

PHASES = {"download": "downloading", "verify": "checking sha256 of", "join": "joining"}


@contextmanager
def progress_bar() -> Iterator[ProgressFn]:
    """Yields a callback (phase, label, done, total) for the core; the bar ends with the block."""
    if not stderr.is_terminal:
        yield _plain_lines()
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr,
    )
    tasks: dict[tuple[str, str], int] = {}

    def update(phase: str, label: str, done: int, total: int | None) -> None:
        key = (phase, label)
        if key not in tasks:
            tasks[key] = bar.add_task(f"{PHASES.get(phase, phase)} {label}", total=total, completed=done)
        else:
            bar.update(tasks[key], completed=done, total=total)

    with bar:
        yield update


def _plain_lines() -> ProgressFn:
    shown: dict[tuple[str, str], int] = {}

    def update(phase: str, label: str, done: int, total: int | None) -> None:
        key = (phase, label)
        step = int(done * 10 / total) if total else 0
        if key in shown and step <= shown[key]:
            return
        shown[key] = step
        pct = f"{step * 10:3d}%" if total else "   "
        stderr.print(f"{pct} {PHASES.get(phase, phase)} {label} ({human_bytes(done)} of {human_bytes(total)})",
                     markup=False, highlight=False)

    return update


class NoteProgress:
    """A rich bar with notes/s and ETA on a terminal; one plain line per note elsewhere; nothing when quiet."""

    def __init__(self, mode: str, total: int) -> None:
        self.mode = mode  # "bar" | "lines" | "quiet"
        self.total = total
        self.count = 0
        self.started = time.perf_counter()
        self.bar = None
        if mode == "bar" and total:
            self.bar = Progress(TextColumn("structuring"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]} notes/s  ETA {task.fields[eta]}"),
                                TextColumn("{task.fields[failed]}"), console=stderr, transient=False)
            self.task = self.bar.add_task("notes", total=total, rate="-", eta="-", failed="")
            self.failed = 0
            self.bar.start()

    def line(self, message: str) -> None:
        if self.mode != "quiet":
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
            self.bar.update(self.task, advance=1, rate=f"{rate:.2f}", eta=clock(eta),
                            failed=f"{self.failed} failed" if self.failed else "")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
