"""A native crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE in llama.cpp) ends with one line and a named exit code.

Python cannot catch a fault in C code: by the time the interpreter would run a `signal` handler the process
is gone. So the handler is a C-level one (`sigaction` through ctypes): it writes one prepared line to stderr,
naming the signal, the model and the step (never note text), and leaves with ExitCode.NATIVE_CRASH. The
line is formatted whenever the context changes (`set_context`), so the handler itself only writes bytes
and exits. A second fault inside the handler gets the default action (SA_RESETHAND): the process dies by
the signal as it would have without us.

A batch that dies this way is like one killed with SIGKILL: its journal and atomic writes make the rerun
resume where it stopped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

from softtiger_cli.core.errors import ExitCode

FATAL = {getattr(signal, name): name for name in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE") if hasattr(signal, name)}
_SA_RESETHAND = 0x80000000 if sys.platform.startswith("linux") else 0x0004
_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int)

_context = {"model": "", "step": "starting", "hint": ""}
_lines: dict[int, bytes] = {}
_installed: list[object] = []  # the ctypes callback and structs: alive for the life of the process


def _format() -> None:
    model = _context["model"]
    for signum, name in FATAL.items():
        where = f" while {_context['step']}" + (f" with model {model}" if model else "")
        hint = f"; {_context['hint']}" if _context["hint"] else ""
        _lines[int(signum)] = (f"softtiger: llama.cpp crashed ({name}){where}{hint}; nothing partial was "
                               "written; run `softtiger doctor` to check this machine and build\n").encode()


def set_context(*, model: str | None = None, step: str | None = None, hint: str | None = None) -> None:
    """Say what runs now (a model label, a step such as "reading the prompt", a likely cause): names only,
    never note text."""
    for key, value in (("model", model), ("step", step), ("hint", hint)):
        if value is not None:
            _context[key] = value
    if _installed:
        _format()


def _handle(signum: int) -> None:
    try:
        os.write(2, _lines.get(signum, b"softtiger: llama.cpp crashed; run `softtiger doctor`\n"))
    finally:
        os._exit(int(ExitCode.NATIVE_CRASH))


class _SigAction(ctypes.Structure):
    """glibc's struct sigaction on Linux: handler, 1024-bit mask, flags, restorer."""

    _fields_ = [("sa_handler", _HANDLER_TYPE), ("sa_mask", ctypes.c_ulong * 16), ("sa_flags", ctypes.c_int),
                ("sa_restorer", ctypes.c_void_p)]


class _SigActionBSD(ctypes.Structure):
    """macOS / BSD: handler, 32-bit mask, flags."""

    _fields_ = [("sa_handler", _HANDLER_TYPE), ("sa_mask", ctypes.c_uint32), ("sa_flags", ctypes.c_int)]


def install() -> bool:
    """Install the handler for the fatal signals, once per process; False where it cannot be (then a crash
    is the platform's own: the shell prints the signal)."""
    if _installed:
        return True
    if os.name != "posix":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        callback = _HANDLER_TYPE(_handle)
        struct = _SigAction if sys.platform.startswith("linux") else _SigActionBSD
        action = struct()
        action.sa_handler = callback
        action.sa_flags = _SA_RESETHAND
        libc.sigaction.argtypes = [ctypes.c_int, ctypes.POINTER(struct), ctypes.c_void_p]
        for signum in FATAL:
            if libc.sigaction(int(signum), ctypes.byref(action), None) != 0:
                return False
    except (OSError, AttributeError, TypeError):
        return False
    _installed.extend([libc, callback, action])
    _format()
    return True
