"""Running a batch under a person's eyes: signals that stop it cleanly, and what its progress reports to."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Protocol

class Interrupts:
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


class ProgressSink(Protocol):
    """What the runner tells a person as it goes; the CLI gives a bar or plain lines (cli/progress.py)."""

    def line(self, message: str) -> None: ...

    def note(self, label: str, outcome: str, failed: bool = False) -> None: ...

    def close(self) -> None: ...


class QuietProgress:
    """Says nothing: for --quiet and for library callers."""

    def line(self, message: str) -> None:
        pass

    def note(self, label: str, outcome: str, failed: bool = False) -> None:
        pass

    def close(self) -> None:
        pass
