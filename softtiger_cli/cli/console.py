"""Console output for the CLI layer: stdout is data only, everything human goes to stderr."""

from __future__ import annotations

from rich.console import Console

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def info(message: str) -> None:
    stderr.print(message, markup=False)


def warn(message: str) -> None:
    stderr.print(f"softtiger: warning: {message}", markup=False, style="yellow")
