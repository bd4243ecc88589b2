"""`softtiger grammar build|check`: regenerate the committed grammars, or fail when they are stale."""

from __future__ import annotations

import typer

app = typer.Typer(help="Build or check the GBNF grammars derived from FHIR schemas.", no_args_is_help=True)


@app.command("build")
def build() -> None:
    """Regenerate grammars/<version>/<task>.schema.json and .gbnf from fhir.resources."""
    from softtiger_cli.cli.console import info
    from softtiger_cli.fhir.grammars import build_all

    for path in build_all():
        info(f"wrote {path}")


@app.command("check")
def check() -> None:
    """Exit non-zero when a committed grammar differs from what the code derives."""
    from softtiger_cli.cli.console import info
    from softtiger_cli.core.errors import GrammarError
    from softtiger_cli.fhir.grammars import check_all

    stale = check_all()
    if stale:
        raise GrammarError(f"{len(stale)} grammar file(s) stale: {stale[0]}; run `softtiger grammar build`")
    info("grammars are up to date")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="grammar")
