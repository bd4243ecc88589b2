"""Keeping patient data on the machine: no network once the model is on disk, no core dumps.

`offline()` (a context manager) or `go_offline()` is for `structure` once the model file is local: it turns
the Hugging Face client's network and telemetry switches off (and DO_NOT_TRACK on) for the run and its
children, so nothing a library does later can phone home; the previous values come back afterwards.
`no_core_dumps()` is called by the CLI at start. SECURITY.md lists the promises and the tests that hold them.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # huggingface_hub: no HTTP at all (reads the env on each call)
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",  # the cross-tool opt-out convention
}


def go_offline() -> Callable[[], None]:
    """No network from here on: set the offline and no-telemetry switches for this process and its
    children. Returns a function that puts the previous values back (for in-process callers and tests)."""
    saved_env = {k: os.environ.get(k) for k in OFFLINE_ENV}
    os.environ.update(OFFLINE_ENV)
    saved_consts: dict[str, object] = {}
    constants = sys.modules.get("huggingface_hub.constants")  # it reads some switches once, at import
    if constants is not None:
        for name in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_DISABLE_IMPLICIT_TOKEN"):
            if hasattr(constants, name):
                saved_consts[name] = getattr(constants, name)
                setattr(constants, name, True)

    def restore() -> None:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for name, value in saved_consts.items():
            setattr(constants, name, value)

    return restore


@contextmanager
def offline() -> Iterator[None]:
    """`with offline():` the block runs with every network switch off; the previous values come back after."""
    restore = go_offline()
    try:
        yield
    finally:
        restore()


def no_core_dumps() -> None:
    """A crash must not write the process memory (note text included) to a core file."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # not on this platform, or not allowed
        pass
