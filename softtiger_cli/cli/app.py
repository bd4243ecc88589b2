"""The Typer root: registers one sub-app per command group and maps errors to one line + exit code."""

from __future__ import annotations

import os
import sys

import typer

from softtiger_cli import __version__
from softtiger_cli.cli.commands import doctor, eval as eval_cmd, grammar, models, structure, terms, view
from softtiger_cli.core.errors import ExitCode, SofttigerError

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
eval_cmd.register(app)
view.register(app)
terms.register(app)


def _printable(text: str) -> str:
    """One line, no terminal escapes: whitespace runs become one space, other control characters (and
    undecodable bytes from file names) are shown escaped."""
    text = " ".join(str(text).split())
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for ch in text)


def _say(line: str) -> None:
    try:
        sys.stderr.write(f"softtiger: error: {_printable(line)}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or gone: the exit code still tells
        pass


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(ClickException, NoArgsIsHelpError, Abort, Exit) classes of the Click Typer uses (vendored or not)."""
    mods = [typer]
    for name in ("typer.exceptions", "typer._click.exceptions", "click.exceptions"):
        try:
            mods.append(__import__(name, fromlist=["ClickException"]))
        except ImportError:
            continue

    def found(name: str) -> tuple[type, ...]:
        return tuple({c for c in (getattr(m, name, None) for m in mods) if isinstance(c, type)})

    return found("ClickException"), found("NoArgsIsHelpError"), found("Abort"), found("Exit")


def _show_warnings_without_text() -> None:
    """Python warnings can quote values (pydantic serialisation warnings quote the field's value, which
    may be note text): print only the category and where it came from, unless SOFTTIGER_DEBUG is set."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        try:
            sys.stderr.write(f"softtiger: warning: {category.__name__} from {os.path.basename(str(filename))}:"
                             f"{lineno} (details hidden; SOFTTIGER_DEBUG=1 shows them)\n")
        except (OSError, ValueError, AttributeError):
            pass

    warnings.showwarning = show


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a batch scheduler, `kill`) ends the run like Ctrl-C: temp files removed, one line, 130."""
    import signal

    def handler(signum, frame):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError, AttributeError):  # not the main thread, or no SIGTERM here
        pass


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Every failure is one line on stderr and an exit code; no traceback reaches the
    user unless SOFTTIGER_DEBUG is set. Click's usage errors are one line too (`--help` still shows usage).

    The command is invoked directly (not through Typer's standalone main) so that Ctrl-C reaches this
    function as KeyboardInterrupt, while a command that handles it and exits 130 itself keeps its own words.
    """
    from typer.main import get_command

    from softtiger_cli.core import crash
    from softtiger_cli.core.privacy import no_core_dumps

    debug = bool(os.environ.get("SOFTTIGER_DEBUG"))
    no_core_dumps()
    if debug:  # a fault in llama.cpp: Python's traceback of every thread, then the signal
        import faulthandler

        faulthandler.enable()
    else:  # one line and ExitCode.NATIVE_CRASH, not "Segmentation fault"
        crash.install()
    _sigterm_as_interrupt()
    if not debug:
        _show_warnings_without_text()
    click_exc, no_args, aborts, exits = _click_exceptions()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        command = get_command(app)
        with command.make_context("softtiger", args) as ctx:
            command.invoke(ctx)
    except SofttigerError as exc:
        _say(exc.one_line())
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        _say("interrupted; nothing partial was written")
        sys.exit(int(ExitCode.INTERRUPTED))
    except exits as exc:  # --help, --version, typer.Exit(code) from a command
        sys.exit(int(getattr(exc, "exit_code", 0) or 0))
    except no_args as exc:  # `softtiger` or `softtiger models` alone: the help, as Click shows it
        exc.show()
        sys.exit(exc.exit_code)
    except click_exc as exc:
        message = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None and exc.exit_code == 2 else ""
        _say(f"{message}{where}")
        sys.exit(exc.exit_code)
    except (aborts + (EOFError,)):
        _say("aborted")
        sys.exit(int(ExitCode.FAILURE))
    except BrokenPipeError:  # stdout closed early (`softtiger --help | head -1`)
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        except OSError:
            pass
        sys.exit(int(ExitCode.FAILURE))
    except Exception as exc:  # noqa: BLE001 - last line of defence, no locals, no message text
        if debug:
            raise
        _say(f"internal error ({type(exc).__name__}); rerun with SOFTTIGER_DEBUG=1 for a traceback")
        sys.exit(int(ExitCode.FAILURE))
    sys.exit(0)
