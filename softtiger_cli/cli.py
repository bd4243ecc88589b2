"""The Typer root: registers one sub-app per command group and maps errors to one line + exit code."""

from __future__ import annotations

import os
import sys

import typer

from . import __version__
from .commands import doctor, grammar, models, structure
from .errors import ExitCode, SofttigerError

app = typer.Typer(
    name="softtiger",
    help="Turn free-text clinical notes into validated FHIR bundles with a local GGUF model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"softtiger {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """softtiger: clinical note -> FHIR (IPS, ClinicalImpression, Encounter)."""


structure.register(app)
grammar.register(app)
models.register(app)
doctor.register(app)


def _say(line: str) -> None:
    sys.stderr.write(f"softtiger: error: {line}\n")
    sys.stderr.flush()


def main() -> None:
    """Console entry point. No traceback reaches the user unless SOFTTIGER_DEBUG is set."""
    try:
        app()
    except SofttigerError as exc:
        _say(exc.one_line())
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        _say("interrupted; nothing partial was written")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # noqa: BLE001 - last line of defence, no locals, no message text
        if os.environ.get("SOFTTIGER_DEBUG"):
            raise
        _say(f"internal error ({type(exc).__name__}); rerun with SOFTTIGER_DEBUG=1 for a traceback")
        sys.exit(int(ExitCode.FAILURE))
