"""`softtiger models list|pull|path|verify|rm`: thin wrappers over hub.py and modelstore.py.

stdout carries data only (the table or JSON of `list`, the path of `path` and `pull`, JSON of `verify --json`);
progress and messages go to stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.table import Table

from softtiger_cli.models import hub
from softtiger_cli.models import store as modelstore
from softtiger_cli.cli.console import info, warn
from softtiger_cli.core.errors import DownloadError, ModelNotFoundError, UsageError
from softtiger_cli.models.filecheck import human_bytes
from softtiger_cli.cli.progress import progress_bar
from softtiger_cli.models.registry import ModelSpec, load_registry
from softtiger_cli.cli.stdout import print_data

models_app = typer.Typer(
    name="models",
    help="List, download (pull), locate, verify and remove GGUF weights in the Hugging Face cache.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

NAME_HELP = "A model name or alias, or a family (resolved to the quant that fits this machine)."
WHERE = {"cache": "cache", "joined": "cache (joined)", "embedded": "embedded", None: "-"}


def _resolve(name: str) -> ModelSpec:
    spec = modelstore.find_spec(name)
    if name.strip().lower() != spec.name and name.strip().lower() not in spec.aliases:
        info(f"{name} -> {spec.name} (the best quant of {name} for this machine's memory)")
    return spec


@models_app.command("list")
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    family: Optional[str] = typer.Option(None, "--family", help="Only this family, e.g. softtiger-13b."),
    downloaded: bool = typer.Option(False, "--on-disk", help="Only models that are on disk."),
) -> None:
    """Every known model: size, quant, whether it is on disk, and which quant fits this machine."""
    data = modelstore.list_models()
    rows = [r for r in data["models"] if (not family or r["family"] == family) and (not downloaded or r["on_disk"])]
    if as_json:
        sys.stdout.write(json.dumps({**data, "models": rows}, indent=2) + "\n")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("NAME", "QUANT", "SIZE", "ON DISK", "NOTE"):
        table.add_column(column, justify="right" if column == "SIZE" else "left")
    for row in rows:
        marks = []
        if row["default"]:
            marks.append("default")
        if row["recommended"]:
            marks.append(f"best fit for --model {row['family']}")
        if not row["fits"]:
            marks.append("too big for this machine")
        where = WHERE.get(row["location"], row["location"])
        if not row["on_disk"] and row["partial_bytes"]:
            where = f"partial {human_bytes(row['partial_bytes'])}"
        table.add_row(row["name"], row["quant"], human_bytes(row["size_bytes"]), where, ", ".join(marks))
    print_data(table)
    info(f"cache: {data['cache_dir']}; memory budget {human_bytes(data['memory_budget_bytes'])}")


@models_app.command("pull")
def pull_cmd(
    name: str = typer.Argument(..., help=NAME_HELP),
    force: bool = typer.Option(False, "--force", help="Download again even if the file is in the cache."),
    keep_parts: bool = typer.Option(False, "--keep-parts", help="Split quants: keep the parts after joining."),
) -> None:
    """Download a model into the Hugging Face cache (resumable), check its sha256, join split parts."""
    spec = _resolve(name)
    try:
        with progress_bar() as progress:
            result = hub.pull(spec, force=force, keep_parts=keep_parts, progress=progress, say=info)
    except KeyboardInterrupt:
        info(f"interrupted; what was downloaded is kept: run `softtiger models pull {spec.name}` to resume")
        raise typer.Exit(130) from None
    if not result.downloaded:
        info(f"{spec.name} is already in the cache (check it with `softtiger models verify {spec.name}`)")
    else:
        for note in result.notes:
            info(note)
        info(f"pulled {spec.name} ({human_bytes(result.path.stat().st_size)}), sha256 checked")
    sys.stdout.write(f"{result.path}\n")


@models_app.command("path")
def path_cmd(name: str = typer.Argument(..., help=NAME_HELP)) -> None:
    """Print where the model's GGUF is on disk (for scripts and other llama.cpp tools)."""
    spec = _resolve(name)
    state = modelstore.on_disk(spec)
    if state.path is None:
        raise ModelNotFoundError(
            f"model {spec.name} is not on disk; run `softtiger models pull {spec.name}`"
        )
    sys.stdout.write(f"{state.path}\n")


@models_app.command("verify")
def verify_cmd(
    name: Optional[str] = typer.Argument(None, help=NAME_HELP + " Default: every model on disk."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Re-hash models on disk (streaming) against models.toml, or the Hub's sha256 when models.toml has none."""
    if name:
        specs = [_resolve(name)]
    else:
        specs = [s for s in load_registry().models.values() if modelstore.on_disk(s).present]
        if not specs:
            info("no models on disk; nothing to verify")
    reports = []
    with progress_bar() as progress:
        for spec in specs:
            reports.append(modelstore.verify(spec, progress=progress))
    bad = [r for r in reports if r.status in ("mismatch", "not-gguf")]
    for report in reports:
        line = f"{report.status:9} {report.spec.name}  {report.path}"
        (warn if report in bad else info)(line)
        for check in report.checks:
            if not check.ok:
                warn(f"  {check.file}: expected {check.expected} ({check.source}), found {check.found}")
            elif check.expected is None:
                info(f"  {check.file}: sha256 {check.found} (no known hash to compare with)")
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in reports], indent=2) + "\n")
    if bad:
        first = bad[0]
        raise DownloadError(
            f"{len(bad)} model(s) failed verification, first {first.spec.name} ({first.status}); nothing was "
            f"deleted: `softtiger models rm {first.spec.name}` then pull it again"
        )


@models_app.command("rm")
def rm_cmd(name: str = typer.Argument(..., help=NAME_HELP)) -> None:
    """Delete a model's files from the Hugging Face cache (never the copy embedded in a package)."""
    registry = load_registry()
    if registry.lookup(name) is None and name.strip().lower() in registry.families:
        present = [s.name for s in registry.family_members(name.strip().lower()) if modelstore.on_disk(s).present]
        raise UsageError(
            f"{name} is a family; name the quant to remove (on disk: {', '.join(present) or 'none'})"
        )
    spec = _resolve(name)
    report = modelstore.remove(spec)
    for path in report.removed:
        info(f"removed {path}")
    if report.removed:
        info(f"{spec.name}: {human_bytes(report.freed_bytes)} freed")
    if report.embedded_kept is not None:
        package = (spec.embedded_package or "").replace("_", "-")
        lead = f"{spec.name} also ships" if report.removed else f"{spec.name} is not in the cache; it ships"
        info(
            f"{lead} inside the installed package {package} ({report.embedded_kept}); softtiger never deletes "
            f"that copy (`pip uninstall {package}` would)"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
