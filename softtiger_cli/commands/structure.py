"""`softtiger structure NOTE [-o OUT]`: one note in, one validated FHIR Bundle out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

HELP = "Structure a clinical note into a validated FHIR Bundle (IPS, ClinicalImpression, Encounter)."


def structure(
    note: str = typer.Argument(..., help="Note file, or - to read standard input.", show_default=False),
    out: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the Bundle here (default: stdout)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model name, alias, family or path to a .gguf."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | gpu"),
    n_ctx: Optional[int] = typer.Option(None, "--n-ctx", min=256, help="Context length (default: the model's)."),
    seed: int = typer.Option(0, "--seed", help="Seed for llama.cpp (decoding is greedy)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=16, help="Cap per answer (default: the grammar's worst case)."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="ips | impression | encounter | all (repeatable or comma list; default all)."),
    fhir_version: str = typer.Option("R4B", "--fhir-version", help="FHIR version of the output: R4B (default) or R5."),
    ungrounded: str = typer.Option("drop", "--ungrounded", help="drop | keep items not found in the note."),
    timestamp: Optional[str] = typer.Option(None, "--timestamp", help="Pin Bundle.timestamp (FHIR instant) for reproducible output."),
    debug_dir: Optional[Path] = typer.Option(None, "--debug-dir", help="Keep prompts and raw model output here (contains note text)."),
    offline: bool = typer.Option(False, "--offline", help="Never download; fail if the model is not on disk."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="CPU threads (default: all cores)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
) -> None:
    from ..console import info
    from ..errors import UsageError
    from ..pipeline import parse_tasks
    from ..workflow import run_structure

    if device not in ("auto", "cpu", "gpu"):
        raise UsageError(f"--device must be auto, cpu or gpu, not {device!r}")
    if ungrounded not in ("drop", "keep"):
        raise UsageError(f"--ungrounded must be drop or keep, not {ungrounded!r}")
    version = {"R4B": "R4B", "R4": "R4B", "R5": "R5"}.get(fhir_version.upper())
    if version is None:
        raise UsageError(f"--fhir-version must be R4B or R5, not {fhir_version!r}")
    tasks = parse_tasks(task or [])
    say = (lambda _m: None) if quiet else info
    run_structure(
        note_arg=note, out=out, model=model, device=device, n_ctx=n_ctx, seed=seed, max_tokens=max_tokens,
        tasks=tasks, fhir_version=version, ungrounded=ungrounded, timestamp=timestamp, debug_dir=debug_dir,
        offline=offline, threads=threads, say=say, interactive=sys.stderr.isatty() and not quiet,
    )


def register(app: typer.Typer) -> None:
    app.command("structure", help=HELP)(structure)
