"""Writing results: atomically (temp file + rename), owner-readable only, never a partial file."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from .errors import OutputError


def dumps_bundle(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def check_output_path(out: Path) -> None:
    """Fail before any model work when OUT cannot be written (missing folder, a directory, read-only)."""
    if out.is_dir():
        raise OutputError(f"{out}: is a directory; give a file name for the bundle")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: folder {parent} is not writable")


def write_atomic(out: Path, text: str) -> None:
    """Write to a temp file beside OUT (mode 0600), fsync, then rename over OUT."""
    check_output_path(out)
    parent = out.parent if str(out.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"{out}: cannot write ({exc.strerror or type(exc).__name__}); nothing was written") from None
        raise


def write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        except OSError:
            pass


def write_debug(debug_dir: Path, name: str, records: list[dict[str, Any]]) -> Path:
    """Prompts and raw outputs, only where the user asked; the folder is created owner-only."""
    debug_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = debug_dir / f"{name}.debug.jsonl"
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path
