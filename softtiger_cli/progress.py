"""CLI layer: turn the core's plain progress callback into a rich progress bar on stderr.

On a terminal: a live bar per file and phase (download, sha256 check, join). Elsewhere (a log file, CI): one
plain line per 10% so a long download still shows that it moves, without escape codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from .console import stderr
from .filecheck import ProgressFn, human_bytes

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
