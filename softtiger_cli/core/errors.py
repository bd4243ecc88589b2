"""One error root with named exit codes, so the CLI can map any failure to one line and a code.

Messages never contain note text: they name files, options and models, never patient data.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes documented in README."""

    OK = 0
    FAILURE = 1  # unexpected internal error (a bug)
    USAGE = 2  # bad option or argument (Click uses 2 as well)
    INPUT = 3  # the note cannot be read or is empty
    MODEL = 4  # model unknown, missing, unloadable, or generation failed
    VALIDATION = 5  # the assembled bundle did not validate; nothing written
    OUTPUT = 6  # the output could not be written
    GRAMMAR = 7  # a grammar is stale, missing or does not parse
    DOWNLOAD = 8  # download or verification failed
    PARTIAL = 9  # a batch finished with some notes failed
    NATIVE_CRASH = 10  # llama.cpp crashed (SIGSEGV, SIGBUS, SIGILL, SIGFPE); see `softtiger doctor`
    INTERRUPTED = 130


class SofttigerError(Exception):
    """Root of every error softtiger reports to a user."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())


class UsageError(SofttigerError):
    exit_code = ExitCode.USAGE


class InputError(SofttigerError):
    exit_code = ExitCode.INPUT


class ModelError(SofttigerError):
    exit_code = ExitCode.MODEL


class ModelNotFoundError(ModelError):
    """A known model whose file is not on disk."""


class GenerationError(ModelError):
    """The model ran but its output could not be used."""


class ValidationFailed(SofttigerError):
    exit_code = ExitCode.VALIDATION

    def __init__(self, problems: list[str]) -> None:
        first = problems[0] if problems else "unknown problem"
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"bundle failed validation: {first}{more}; nothing was written")
        self.problems = problems


class OutputError(SofttigerError):
    exit_code = ExitCode.OUTPUT


class GrammarError(SofttigerError):
    exit_code = ExitCode.GRAMMAR


class DownloadError(SofttigerError):
    exit_code = ExitCode.DOWNLOAD
