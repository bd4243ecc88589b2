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


def doctor(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Check this machine and install: versions, GPU offload, CPU, RAM, model cache, and what to do next."""
    report = collect()
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    print_data(*render(report))


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
