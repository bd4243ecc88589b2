"""What a batch did: counts, failures with their one-line reasons, the summary and the --report JSON."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from softtiger_cli.batch.output import write_atomic
from softtiger_cli.core.errors import ExitCode, SofttigerError

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


def failure_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, SofttigerError):
        return int(exc.exit_code), exc.one_line()
    return int(ExitCode.FAILURE), f"internal error ({type(exc).__name__}); rerun with SOFTTIGER_DEBUG=1"


def report_data(result: BatchResult) -> dict[str, Any]:
    from softtiger_cli import __version__

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


def summary(result: BatchResult, say: Callable[[str], None]) -> None:
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
                  resources: Counter | None = None, tokens: tuple[int, int, int] = (0, 0, 0)) -> None:
    """--report for a one-note run, in the batch report's shape (tokens: generated, prompt, evaluated)."""
    result = BatchResult(total=1, seconds=seconds, resources=resources or Counter(), generated_tokens=tokens[0],
                         prompt_tokens=tokens[1], evaluated_prompt_tokens=tokens[2])
    if exc is None:
        result.done = 1
    elif isinstance(exc, KeyboardInterrupt):
        result.interrupted = True
    else:
        result.failures.append(Failure(label, out, *failure_of(exc)))
    write_atomic(report, json.dumps(report_data(result), indent=2, ensure_ascii=False) + "\n")
