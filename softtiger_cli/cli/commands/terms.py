"""`softtiger terms build|check`: regenerate the shipped code-list lexicons, or fail when they are stale."""

from __future__ import annotations

import typer

app = typer.Typer(help="Build or check the terminology lexicons (ICD-10-CM, drug names, CVX).", no_args_is_help=True)


@app.command("build")
def build() -> None:
    """Regenerate softtiger_cli/terms/data from the source packages (pip install softtiger[terms])."""
    from softtiger_cli.cli.console import info
    from softtiger_cli.core.errors import UsageError
    from softtiger_cli.terms.build import DATA_DIR, build_terms, missing_sources

    missing = missing_sources()
    if missing:
        raise UsageError(f"the terminology sources are not installed ({', '.join(missing)}); "
                         "run pip install 'softtiger[terms]'")
    manifest = build_terms(DATA_DIR)
    counts = manifest.get("counts", {})
    info(f"wrote {DATA_DIR}" + (": " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else ""))


@app.command("check")
def check() -> None:
    """Exit non-zero when the shipped lexicons differ from a rebuild from the source packages."""
    from softtiger_cli.cli.console import info
    from softtiger_cli.core.errors import GrammarError
    from softtiger_cli.terms.build import DATA_DIR, check_terms

    problems = check_terms(DATA_DIR)
    if problems:
        raise GrammarError(f"terminology lexicons: {problems[0]}; run `softtiger terms build`")
    info("terms: up to date")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="terms")
