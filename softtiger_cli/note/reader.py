"""Reading a note: bytes in, text out, or one clear error. Messages name the file, never its content.

Accepted: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK when the bytes are not UTF-8 and decode
cleanly into Chinese text (`Note.encoding` says which was used); CRLF and lone CR become LF. Refused, with one line
and exit 3: missing paths, directories, sockets, symlink loops, unreadable files, empty or whitespace-only
notes, notes without a letter or digit, NUL bytes (binary files), invalid UTF-8/UTF-16, UTF-32, and notes
larger than MAX_NOTE_BYTES (2 MiB: a clinical note is rarely over 100 KB, and structuring 2 MiB already
takes hours on a CPU; SOFTTIGER_MAX_NOTE_MB raises the cap). Only cap + 1 bytes are ever read.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
import sys
import unicodedata

from softtiger_cli.core.data import Note
from softtiger_cli.core.errors import InputError, UsageError
from softtiger_cli.core.text import han_count
from softtiger_cli.lang.text import AUTO, choose_language, detect_language

MAX_NOTE_BYTES = 2 * 1024 * 1024

_ERRNO_WORDS = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENAMETOOLONG: "file name too long",
    errno.EISDIR: "is a directory; give a note file (or - for stdin)",
    errno.EIO: "input/output error",
}


_INPUTS: set[tuple[int, int]] = set()  # (device, inode) of every note file this process has read


def is_input_file(path: str | os.PathLike[str]) -> bool:
    """True when PATH is a note this process has read: output code refuses to overwrite it."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) in _INPUTS



def max_note_bytes() -> int:
    """The size cap: MAX_NOTE_BYTES, or SOFTTIGER_MAX_NOTE_MB when set to a positive number."""
    value = os.environ.get("SOFTTIGER_MAX_NOTE_MB", "").strip()
    try:
        mb = float(value) if value else 0.0
    except ValueError:
        mb = 0.0
    return int(mb * 1024 * 1024) if mb > 0 else MAX_NOTE_BYTES


def _size_words(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def decode_note(data: bytes, source: str, lang: str = AUTO) -> Note:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (GBK's superset, common in Chinese
    record exports) when the bytes are not UTF-8 but decode cleanly as GB18030 into Chinese text. Reject
    binary and anything else. `lang` is --lang: auto detects the note's language from its text."""
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF32_LE) or data.startswith(codecs.BOM_UTF32_BE):
        raise InputError(f"{source}: UTF-32 text is not supported; save the note as UTF-8")
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(f"{source}: invalid UTF-16 text; save the note as UTF-8") from None
    else:
        if b"\x00" in data:
            raise InputError(f"{source}: looks like a binary file (contains NUL bytes), not a text note")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text, encoding = _gb18030(data), "gb18030"
            if not text:
                raise InputError(f"{source}: not valid UTF-8 (bad byte at offset {exc.start}) nor GB18030 Chinese "
                                 "text; save the note as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise InputError(f"{source}: contains NUL characters, not a text note")
    if not text.strip():
        raise InputError(f"{source}: the note is empty")
    if not any(ch.isalnum() for ch in text):
        raise InputError(f"{source}: the note has no letters or digits")
    try:
        language = choose_language(text, lang)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Note(text=text, source=source, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), lang=language,
                encoding=encoding)


def _gb18030(data: bytes) -> str:
    """The text of GB18030 bytes that decode cleanly and read as Chinese, else "" (never a silent guess:
    Latin-1 or Windows-1252 bytes decode as GB18030 too, but into few Han characters and stray symbols)."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return ""
    han = han_count(text)
    odd = sum(1 for ch in text if not (ch.isascii() or ch.isalnum() or ch.isspace() or
                                       unicodedata.category(ch).startswith("P")))
    return text if han >= 2 and detect_language(text) == "zh" and odd <= han // 10 else ""


def _os_problem(arg: str, exc: OSError) -> InputError:
    words = _ERRNO_WORDS.get(exc.errno or 0) or f"cannot read ({exc.strerror or type(exc).__name__})"
    return InputError(f"{arg}: {words}")


def _read_stdin(limit: int) -> bytes:
    stream = sys.stdin
    if stream is None:
        raise InputError("<stdin>: standard input is closed; give a note file")
    try:
        return stream.buffer.read(limit + 1)
    except (OSError, ValueError) as exc:
        raise InputError(f"<stdin>: cannot read ({getattr(exc, 'strerror', None) or type(exc).__name__})") from None


def _read_path(arg: str, limit: int) -> bytes:
    if not arg or not arg.strip():
        raise InputError("the note path is empty; give a note file (or - for stdin)")
    if "\x00" in arg:
        raise InputError("the note path contains a NUL character")
    try:
        st = os.stat(arg)  # follows symlinks: a loop or a dangling link fails here, with its own words
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(arg):
            raise InputError(f"{arg}: a symbolic link to a missing file") from None
        raise _os_problem(arg, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{arg}: is a directory; give a note file (or - for stdin)")
    if stat.S_ISSOCK(st.st_mode) or stat.S_ISBLK(st.st_mode):
        raise InputError(f"{arg}: is a {'socket' if stat.S_ISSOCK(st.st_mode) else 'block device'}, not a note file")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise InputError(f"{arg}: {_size_words(st.st_size)} is larger than the {_size_words(limit)} limit for a "
                         "note; split it first")
    try:
        with open(arg, "rb") as fh:  # regular files, and pipes such as <(cat note.txt)
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode):
                _INPUTS.add((st.st_dev, st.st_ino))
            return fh.read(limit + 1)
    except OSError as exc:
        raise _os_problem(arg, exc) from None


def read_note(arg: str, lang: str = AUTO) -> Note:
    """Read NOTE: a path, or "-" for standard input; `lang` as decode_note."""
    if arg == "":
        raise InputError("the note path is empty")
    limit = max_note_bytes()
    if arg == "-":
        data, source = _read_stdin(limit), "<stdin>"
    else:
        data, source = _read_path(arg, limit), arg
    if len(data) > limit:
        raise InputError(f"{source}: larger than the {_size_words(limit)} limit for a note; split it first")
    return decode_note(data, source, lang)
