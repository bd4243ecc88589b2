"""Streaming sha256 and small file facts for multi-gigabyte weights.

GGUF files are 5-75 GB: nothing here reads a whole file into memory, and hashing can run while a download
writes (HashingWriter) so a finished download is checked without reading it a second time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

BLOCK_SIZE = 4 * 1024 * 1024
GGUF_MAGIC = b"GGUF"

# (phase, label, done_bytes, total_bytes or None): the CLI layer turns these into a progress bar.
ProgressFn = Callable[[str, str, int, "int | None"], None]


def human_bytes(n: int | float | None) -> str:
    """Decimal units, as the Hugging Face file listing shows sizes."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def is_sha256(value: str | None) -> bool:
    """A 64-hex string: what the Hub's ETag is for LFS files (git blob ids are 40 hex)."""
    return bool(value) and len(value) == 64 and all(c in "0123456789abcdef" for c in value.lower())


def has_gguf_magic(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _hash_stream(fh: BinaryIO, length: int | None, on_block: Callable[[int], None] | None) -> str:
    digest = hashlib.sha256()
    left = length
    while left is None or left > 0:
        want = BLOCK_SIZE if left is None else min(BLOCK_SIZE, left)
        block = fh.read(want)
        if not block:
            break
        digest.update(block)
        if left is not None:
            left -= len(block)
        if on_block:
            on_block(len(block))
    return digest.hexdigest()


def sha256_file(path: Path, *, progress: ProgressFn | None = None, label: str | None = None) -> str:
    """The file's sha256, read in 4 MB blocks, reporting progress as phase "verify"."""
    return sha256_ranges(path, [None], progress=progress, label=label)[0]


def sha256_ranges(
    path: Path,
    lengths: Iterable[int | None],
    *,
    progress: ProgressFn | None = None,
    label: str | None = None,
) -> list[str]:
    """The sha256 of consecutive byte ranges of one file (split parts inside a joined file); None = to the end."""
    total = path.stat().st_size
    name = label or path.name
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("verify", name, done, total)

    if progress:
        progress("verify", name, 0, total)
    with path.open("rb") as fh:
        return [_hash_stream(fh, length, tick) for length in lengths]


class HashingWriter:
    """A binary file wrapper that hashes what is written, for hashing during a (resumed) download.

    Opened on a partial file it first hashes the bytes already there. huggingface_hub's http_get writes,
    and on a server that ignores Range it seeks back and truncates: the hash then restarts from the kept prefix.
    """

    def __init__(
        self,
        path: Path,
        *,
        on_write: Callable[[int], None] | None = None,
        on_rehash: Callable[[int, int], None] | None = None,
    ) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._fh = os.fdopen(fd, "r+b")
        self._on_write = on_write
        self._on_rehash = on_rehash
        self._digest = hashlib.sha256()
        self._rehash(self._fh.seek(0, os.SEEK_END))

    def _rehash(self, upto: int) -> None:
        self._fh.flush()
        self._fh.seek(0)
        digest = hashlib.sha256()
        left = upto
        while left > 0:
            block = self._fh.read(min(BLOCK_SIZE, left))
            if not block:
                break
            digest.update(block)
            left -= len(block)
            if self._on_rehash:
                self._on_rehash(upto - left, upto)
        self._digest = digest
        self._fh.seek(upto)

    def write(self, data: bytes) -> int:
        n = self._fh.write(data)
        self._digest.update(data)
        if self._on_write:
            self._on_write(self._fh.tell())
        return n

    def tell(self) -> int:
        return self._fh.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        pos = self._fh.tell() if size is None else size
        self._fh.truncate(pos)
        self._rehash(pos)
        return pos

    def flush(self) -> None:
        self._fh.flush()

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._fh.closed:
            self._fh.close()
