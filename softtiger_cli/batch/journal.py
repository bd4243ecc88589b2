"""The store: a folder of bundles plus an append-only journal (`.softtiger-state.jsonl`) of what was
written from which input with which options, so a rerun skips what is done and intact."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
from pathlib import Path, PurePosixPath
from typing import Any

from softtiger_cli.core.errors import OutputError

STATE_NAME = ".softtiger-state.jsonl"
STALE_TMP_SECONDS = 60  # a temp file this old belongs to a killed run (a write takes milliseconds)
_TMP = re.compile(r"^\..+\.tmp$")

class Store:
    """A folder of bundles plus an append-only journal of what was written from which input and options."""

    def __init__(self, root: Path) -> None:
        if root.exists() and not root.is_dir():
            raise OutputError(f"{root}: exists and is not a folder")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{root}: cannot create the folder ({exc.strerror or type(exc).__name__})") from None
        if not os.access(root, os.W_OK | os.X_OK):
            raise OutputError(f"{root}: folder is not writable")
        self.root = root
        self.state = root / STATE_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        try:
            text = self.state.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise OutputError(f"{self.state}: cannot read ({exc.strerror or type(exc).__name__})") from None
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            if isinstance(entry, dict) and isinstance(entry.get("output"), str):
                self.entries[entry["output"]] = entry

    def path(self, out_rel: str) -> Path:
        return self.root.joinpath(*PurePosixPath(out_rel).parts)

    def current(self, out_rel: str, input_sha: str, key: str) -> bool:
        """The output exists, was made from this input with these options, and is byte for byte intact."""
        entry = self.entries.get(out_rel)
        if not entry or entry.get("input_sha256") != input_sha or entry.get("options") != key:
            return False
        try:
            data = self.path(out_rel).read_bytes()
        except OSError:
            return False
        return hashlib.sha256(data).hexdigest() == entry.get("bundle_sha256")

    def prepare(self, out_rel: str) -> Path:
        """Create the output's folders under the root, refusing to pass through a symbolic link."""
        parts = PurePosixPath(out_rel).parts
        cur = self.root
        for part in parts[:-1]:
            cur = cur / part
            if cur.is_symlink():
                raise OutputError(f"{out_rel}: folder {part} in the output folder is a symbolic link; not writing through it")
            if not cur.exists():
                try:
                    cur.mkdir(mode=0o700)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise OutputError(f"{out_rel}: cannot create folder ({exc.strerror or type(exc).__name__})") from None
            elif not cur.is_dir():
                raise OutputError(f"{out_rel}: {part} in the output folder is a file, not a folder")
        final = cur / parts[-1]
        if final.is_symlink():  # write_atomic would follow it, possibly out of the folder
            raise OutputError(f"{out_rel}: is a symbolic link in the output folder; not writing through it")
        if final.exists() and not final.is_file():
            raise OutputError(f"{out_rel}: exists in the output folder and is not a regular file")
        return final

    def record(self, out_rel: str, input_sha: str, key: str, text: str, lang: str = "") -> None:
        """Journal one written output; `lang` is the language the note was read in (--lang, or detected)."""
        entry = {"output": out_rel, "input_sha256": input_sha, "options": key, **({"lang": lang} if lang else {}),
                 "bundle_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                 "written": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            fd = os.open(self.state, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # the last line was cut short by a kill: start a fresh one
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise OutputError(f"{self.state}: cannot write ({exc.strerror or type(exc).__name__})") from None
        self.entries[out_rel] = entry

    def clean_stale_temps(self) -> int:
        """Remove temp files a killed run left behind (never a fresh one: another worker may own it)."""
        removed = 0
        cutoff = time.time() - STALE_TMP_SECONDS
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            for name in filenames:
                if _TMP.match(name):
                    path = Path(dirpath) / name
                    try:
                        if path.lstat().st_mtime < cutoff:
                            path.unlink()
                            removed += 1
                    except OSError:
                        pass
        return removed
