"""`softtiger doctor`: a readable report of this machine and install (diagnose.py), or JSON with --json.

The report is the command's output, so it goes to stdout; nothing else is printed.
"""

from __future__ import annotations

import json
import sys

import typer
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from softtiger_cli.models.doctor import DoctorReport, collect
from softtiger_cli.models.filecheck import human_bytes
from softtiger_cli.cli.stdout import print_data


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _inference(result: dict | None) -> str:
    if result is None:
        return "not checked (--no-probe)"
    if not result.get("ok"):
        return f"FAILED with {result.get('model')}: {result.get('error')}"
    return (f"ok with {result['model']}: prompt {result['prompt_tok_s']:.0f} tok/s ({result['prompt_tokens']} "
            f"tokens), decode {result['decode_tok_s']:.0f} tok/s; {result['cpu_placement']}")


def _probe(model: str | None, threads: int | None):
    """The inference probe for --model (default: the embedded model), if its file is on disk."""
    from softtiger_cli.core.errors import SofttigerError
    from softtiger_cli.llm.probe import ProbeResult, run_probe
    from softtiger_cli.models.registry import resolve_model

    def run() -> dict:
        try:
            resolved = resolve_model(model)
        except SofttigerError as exc:
            return ProbeResult(False, model or "default", error=exc.one_line()).as_dict()
        if resolved.path is None:
            return ProbeResult(False, resolved.label, error="not on disk",
                               fix=f"`softtiger models pull {resolved.label}`, or probe another --model").as_dict()
        return run_probe(resolved.path, label=resolved.label, threads=threads).as_dict()

    return run


def render(report: DoctorReport) -> list[RenderableType]:
    """Sections as two-column tables, then the next steps, numbered."""
    llama = report.llama
    gpu = "none found"
    if report.gpu:
        gpu = report.gpu + (f", {human_bytes(report.gpu_memory_bytes)}" if report.gpu_memory_bytes else "")
    budget_from = "GPU memory" if llama.gpu_offload and report.gpu_memory_bytes else "80% of RAM"
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        ("install", [
            ("softtiger", report.softtiger_version),
            ("python", f"{report.python} on {report.platform}"),
            ("llama-cpp-python", llama.version or f"missing ({llama.error})"),
            ("GPU offload", f"{_yes_no(llama.gpu_offload)} (backends: {', '.join(llama.backends) or '-'})"),
            ("build CPU features", " ".join(llama.cpu_features) or "-"),
            ("CPU weights", report.cpu_placement or "-"),
            ("inference", _inference(report.inference)),
        ]),
        ("machine", [
            ("CPU", f"{report.cpu_model}, {report.cpu_count} threads"),
            ("CPU flags", " ".join(report.cpu_flags) or "-"),
            ("RAM", human_bytes(report.ram_bytes)),
            ("GPU", gpu),
            ("memory budget", f"{human_bytes(report.memory_budget_bytes)} ({budget_from}; "
                              "SOFTTIGER_MEMORY_BUDGET overrides)"),
        ]),
        ("models", [
            *[(f"--model {fam}", f"-> {name}") for fam, name in report.recommended.items()],
            ("cache", report.cache_dir + ("" if report.cache_writable else " (not writable)")),
            ("free disk", human_bytes(report.free_disk_bytes)),
            ("hub", report.hf_endpoint + (" (offline mode)" if report.offline else "")),
            *[(m["name"], f"{m['location']}: {m['path']}") for m in report.models_on_disk],
        ]),
    ]
    out: list[RenderableType] = []
    for title, rows in sections:
        table = Table(box=None, show_header=False, pad_edge=False, title=title, title_justify="left",
                      title_style="bold")
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        for key, value in rows:
            table.add_row(key, value)
        out += [table, Text("")]
    if report.next_steps:
        out.append(Text("next steps", style="bold"))
        out += [Text(f"{number}. {step}") for number, step in enumerate(report.next_steps, 1)]
    else:
        out.append(Text("everything needed is in place"))
    return out


def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    model: str = typer.Option(None, "--model", help="Model the inference probe runs (default: the embedded one)."),
    no_probe: bool = typer.Option(False, "--no-probe", help="Skip the inference probe."),
    threads: int = typer.Option(None, "--threads", help="CPU threads for the probe."),
) -> None:
    """Check this machine and install: versions, GPU offload, CPU, RAM, model cache, a real inference run
    (prompt and decode speed; a native crash is reported, not suffered), and what to do next."""
    report = collect(probe=None if no_probe else _probe(model, threads))
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    print_data(*render(report))


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
