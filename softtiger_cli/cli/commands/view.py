"""`softtiger view BUNDLE [-o view.html]`: the evidence page of a Bundle, offline, from the Bundle alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

HELP = "Write an evidence page: the note with every extracted fact highlighted (offline HTML)."


def view(
    bundle_path: Path = typer.Argument(..., metavar="BUNDLE", help="A FHIR Bundle (JSON) that carries its note."),
    out: Optional[str] = typer.Option(None, "-o", "--output", help="The HTML file (default: BUNDLE with .html; - for stdout)."),
) -> None:
    from softtiger_cli.batch.output import check_output_path, write_atomic, write_stdout
    from softtiger_cli.cli.console import info
    from softtiger_cli.core.errors import InputError
    from softtiger_cli.view import render_bundle

    try:
        bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{bundle_path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{bundle_path}: is a directory; give a Bundle file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{bundle_path}: cannot read ({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    except ValueError:
        raise InputError(f"{bundle_path}: not JSON; give a FHIR Bundle") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InputError(f"{bundle_path}: not a FHIR Bundle (resourceType is not Bundle)")
    page = render_bundle(bundle, title=bundle_path.name)
    if out == "-":
        write_stdout(page)
        return
    target = Path(out) if out else bundle_path.with_suffix(".html")
    check_output_path(target)
    write_atomic(target, page)
    info(f"wrote {target}")


def register(root: typer.Typer) -> None:
    root.command("view", help=HELP)(view)
