"""Writing results: atomically (temp file + rename), owner-readable only, never a partial file.

A regular file (or a new one) is written to a temp file beside it (mode 0600), fsynced, renamed over the
target and the folder fsynced, so a crash, a full disk or Ctrl-C leaves either the old file or the new one.
A symlink is followed (its target is replaced, the link kept). A character device or FIFO (`-o /dev/null`,
`-o /dev/stdout`, a named pipe) is written straight through: renaming over it would replace the device.
Standard output redirected to a regular file is truncated back to where it was if the write fails.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from softtiger_cli.core.errors import OutputError
from softtiger_cli.note.reader import is_input_file

_ERRNO_WORDS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this file system or limit",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENAMETOOLONG: "file name too long",
    errno.EIO: "input/output error",
}


def _words(exc: OSError) -> str:
    return _ERRNO_WORDS.get(exc.errno or 0) or exc.strerror or type(exc).__name__


def dumps_bundle(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def _target(out: Path) -> Path:
    """OUT, or the file a symlink OUT points to (so the link survives and its target gets the bundle)."""
    if out.is_symlink():
        try:
            os.stat(out)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise OutputError(f"{out}: {_words(exc)}") from None
        return Path(os.path.realpath(out))
    return out


def _is_stream(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def check_output_path(out: Path) -> None:
    """Fail before any model work when OUT cannot be written (missing folder, a directory, read-only)."""
    if not str(out).strip():
        raise OutputError("the output path is empty")
    target = _target(out)
    if target.is_dir():
        raise OutputError(f"{out}: is a directory; give a file name for the bundle")
    if _is_stream(target):
        if not os.access(target, os.W_OK):
            raise OutputError(f"{out}: not writable")
        return
    if target.exists() and not target.is_file():
        raise OutputError(f"{out}: exists and is not a regular file")
    if is_input_file(target):
        raise OutputError(f"{out}: is the note being read; refusing to overwrite it")
    parent = target.parent if str(target.parent) else Path(".")
    try:
        st = os.stat(parent)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise OutputError(f"{out}: folder {parent} does not exist") from None
        raise OutputError(f"{out}: folder {parent}: {_words(exc)}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{out}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: folder {parent} is not writable")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_through(out: Path, target: Path, text: str) -> None:
    try:
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write ({_words(exc)})") from None


def write_atomic(out: Path, text: str) -> None:
    """Write to a temp file beside OUT (mode 0600), fsync, then rename over OUT."""
    check_output_path(out)
    target = _target(out)
    if _is_stream(target):
        _write_through(out, target, text)
        return
    try:
        pending = AtomicLines(target)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write ({_words(exc)}); nothing was written") from None
    try:
        pending.write(text)
        pending.commit()
    except BaseException as exc:
        pending.abort()
        if isinstance(exc, OSError):
            raise OutputError(f"{out}: cannot write ({_words(exc)}); nothing was written") from None
        raise
    _fsync_dir(pending.path.parent if str(pending.path.parent) else Path("."))


def write_stdout(text: str) -> None:
    """The bundle as UTF-8 bytes on stdout (whatever the locale). A failed write to a regular file is
    truncated back to where it started, so `> bundle.json` on a full disk leaves no half bundle."""
    data = text.encode("utf-8")
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced sys.stdout (tests): no fd to write to
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    start = None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            start = os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        start = None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        except OSError:
            pass
        return
    except OSError as exc:
        restored = False
        if start is not None:
            try:
                os.ftruncate(fd, start)
                os.lseek(fd, start, os.SEEK_SET)
                restored = True
            except OSError:
                pass
        outcome = "nothing was written" if restored else "the output is incomplete"
        raise OutputError(f"standard output: cannot write ({_words(exc)}); {outcome}") from None


def check_debug_dir(debug_dir: Path) -> None:
    """Fail before any model work when --debug-dir cannot be created or written."""
    probe = debug_dir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"--debug-dir {debug_dir}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"--debug-dir {debug_dir}: folder {probe} is not writable")


def write_debug(debug_dir: Path, name: str, records: list[dict[str, Any]]) -> Path:
    """Prompts and raw outputs, only where the user asked; folders it creates are owner-only (0700), each
    file 0600, whatever the umask. An existing folder keeps its mode (it may be shared on purpose)."""
    missing = []
    probe = debug_dir
    while not probe.exists() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    try:
        for folder in reversed(missing):  # each folder it creates, parents included: 0700 whatever the umask
            folder.mkdir(mode=0o700, exist_ok=True)
            os.chmod(folder, 0o700)
        if not debug_dir.is_dir():
            raise OutputError(f"--debug-dir {debug_dir}: not a folder")
    except OSError as exc:
        raise OutputError(f"--debug-dir {debug_dir}: cannot create ({_words(exc)})") from None
    path = debug_dir / f"{name}.debug.jsonl"
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


class AtomicLines:
    """A file written (line by line, or at once) into a temp file beside it (mode 0600), renamed into place
    only on commit: readers see the old file or the whole new one, never half."""

    def __init__(self, path: Path) -> None:
        self.path = path
        parent = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
        self.tmp = Path(tmp)
        self.fh = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, line: str) -> None:
        self.fh.write(line)

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.chmod(self.tmp, 0o600)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass
        try:
            self.tmp.unlink()
        except OSError:
            pass
