"""Helpers shared by the bench scripts: dev notes when present, example notes otherwise, RSS."""

from __future__ import annotations

import resource
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEV = REPO.parent / "shared" / "data" / "eval-dev"


def note_files(limit: int | None = None) -> list[Path]:
    files = sorted(DEV.glob("*/*.txt")) if DEV.is_dir() else []
    files = files or sorted((REPO / "examples").glob("*.txt"))
    return files[:limit] if limit else files


def long_note(min_chars: int) -> str:
    """Notes joined with blank lines (repeating the set if needed) until at least min_chars long."""
    parts: list[str] = []
    total = 0
    files = note_files()
    i = 0
    while total < min_chars:
        text = files[i % len(files)].read_text(encoding="utf-8").replace("\r\n", "\n").strip()
        parts.append(text)
        total += len(text) + 2
        i += 1
    return "\n\n".join(parts) + "\n"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
