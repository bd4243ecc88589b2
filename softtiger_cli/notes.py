"""Reading a note: bytes in, text out, or one clear error. Messages name the file, never its content."""

from __future__ import annotations

import codecs
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

MAX_NOTE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Note:
    """A note's text (line endings normalised to \\n) and where it came from. Offsets index `text`."""

    text: str
    source: str  # a path, or "<stdin>"
    sha256: str


def decode_note(data: bytes, source: str) -> Note:
    """Decode UTF-8 (with or without BOM) or UTF-16 with BOM; reject binary and invalid UTF-8."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{source}: invalid UTF-16 text") from None
    else:
        if b"\x00" in data:
            raise InputError(f"{source}: looks like a binary file (contains NUL bytes), not a text note")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not valid UTF-8 (bad byte at offset {exc.start}); save the note as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise InputError(f"{source}: contains NUL characters, not a text note")
    if not text.strip():
        raise InputError(f"{source}: the note is empty")
    if not any(ch.isalnum() for ch in text):
        raise InputError(f"{source}: the note has no letters or digits")
    return Note(text=text, source=source, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def read_note(arg: str) -> Note:
    """Read NOTE: a path, or "-" for standard input."""
    if arg == "-":
        data = sys.stdin.buffer.read(MAX_NOTE_BYTES + 1)
        source = "<stdin>"
    else:
        path = Path(arg)
        try:
            if path.is_dir():
                raise InputError(f"{arg}: is a directory; give a note file (or - for stdin)")
            if not path.exists():
                raise InputError(f"{arg}: no such file")
            with path.open("rb") as fh:
                data = fh.read(MAX_NOTE_BYTES + 1)
        except InputError:
            raise
        except OSError as exc:
            raise InputError(f"{arg}: cannot read ({exc.strerror or type(exc).__name__})") from None
        source = arg
    if len(data) > MAX_NOTE_BYTES:
        raise InputError(f"{source}: larger than {MAX_NOTE_BYTES // (1024 * 1024)} MB; split it first")
    return decode_note(data, source)
