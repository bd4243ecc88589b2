"""A GGUF header reader for checks before llama.cpp sees the file: magic, version, truncation, KV-cache size.

llama.cpp detects most broken files too, but reports them in its own log (which softtiger silences) and only
as "failed to load". Reading the header here gives one precise line (not a GGUF, truncated at N of M bytes,
an unsupported version) and the numbers to refuse a context that cannot fit in memory *before* llama.cpp
tries to allocate it (an oversized allocation may succeed on Linux and then push the machine into swap or
the OOM killer). Only the header is read (a few MB at most, through mmap); tensor data is never touched.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
_MAX_COUNT = 1 << 24  # tensors, keys or array items: a larger count is a corrupt header

# value types: struct format for scalars (GGUF is little-endian)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_QK_K = 256
# ggml type id -> (block size, bytes per block), from gguf-py's GGML_QUANT_SIZES; unknown types are skipped.
_TYPE_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 2 + 2 + _QK_K // 16 + _QK_K // 4), 11: (256, 2 + _QK_K // 4 + _QK_K // 8 + 12),
    12: (256, 2 + 2 + _QK_K // 2 + 12), 13: (256, 2 + 2 + _QK_K // 2 + _QK_K // 8 + 12),
    14: (256, 2 + _QK_K // 2 + _QK_K // 4 + _QK_K // 16), 15: (256, 4 + _QK_K + _QK_K // 8),
    16: (256, 2 + _QK_K // 4), 17: (256, 2 + _QK_K // 4 + _QK_K // 32), 18: (256, 2 + _QK_K // 4 + _QK_K // 8),
    19: (256, 2 + _QK_K // 8 + _QK_K // 16), 20: (32, 18), 21: (256, 2 + _QK_K // 4 + _QK_K // 8 + _QK_K // 32 + 4),
    22: (256, 2 + _QK_K // 4 + _QK_K // 16), 23: (256, 2 + 2 + _QK_K // 2 + _QK_K // 64),
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, _QK_K // 8 + _QK_K // 16 + _QK_K // 32),
    30: (1, 2), 34: (256, 2 + 4 * 13), 35: (256, 2 + 64), 39: (32, 17),
}


class GGUFArray(int):
    """An array value, kept as its length only (never mistaken for a scalar: see GGUFInfo.arch_value)."""


class GGUFProblem(Exception):
    """The file is not a usable GGUF; the message is one line naming what is wrong (never file content)."""


@dataclass
class GGUFInfo:
    version: int
    file_size: int
    metadata: dict[str, Any] = field(default_factory=dict)  # scalars and strings; arrays as GGUFArray(length)
    tensor_count: int = 0
    data_offset: int = 0
    expected_size: int = 0  # where the last tensor's data ends (a smaller file is truncated)
    tensors: list[tuple[str, int, tuple[int, ...]]] = field(default_factory=list)  # name, ggml type, dims

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "?"))

    def arch_value(self, key: str, default: Any = None) -> Any:
        value = self.metadata.get(f"{self.architecture}.{key}", default)
        return None if isinstance(value, GGUFArray) else value

    @property
    def n_ctx_train(self) -> int | None:
        value = self.arch_value("context_length")
        return int(value) if isinstance(value, int) else None

    def kv_bytes_per_token(self) -> int | None:
        """f16 K and V for one token over all layers; None when the header lacks the numbers."""
        n_layer = self.arch_value("block_count")
        n_embd = self.arch_value("embedding_length")
        n_head = self.arch_value("attention.head_count")
        n_head_kv = self.arch_value("attention.head_count_kv", n_head)
        if not all(isinstance(v, int) and v > 0 for v in (n_layer, n_embd, n_head, n_head_kv)):
            return None
        key_len = self.arch_value("attention.key_length", n_embd // n_head)
        val_len = self.arch_value("attention.value_length", n_embd // n_head)
        if not isinstance(key_len, int) or not isinstance(val_len, int):
            return None
        return n_layer * n_head_kv * (key_len + val_len) * 2


class _Reader:
    def __init__(self, buf: mmap.mmap | bytes, size: int) -> None:
        self.buf = buf
        self.size = size
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise EOFError
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def scalar(self, fmt: str) -> Any:
        n = struct.calcsize(fmt)
        if self.pos + n > self.size:
            raise EOFError
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return value

    def string(self) -> bytes:
        n = self.scalar("<Q")
        if n > self.size:
            raise GGUFProblem("corrupt GGUF header (a string longer than the file)")
        return self.take(n)

    def skip_string(self) -> None:
        n = self.scalar("<Q")
        if self.pos + n > self.size:
            raise EOFError
        self.pos += n

    def value(self, vtype: int, keep: bool) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            if keep:
                return self.string().decode("utf-8", errors="replace")
            self.skip_string()
            return None
        if vtype == _ARRAY:
            etype = self.scalar("<I")
            count = self.scalar("<Q")
            if count > _MAX_COUNT * 16:
                raise GGUFProblem("corrupt GGUF header (an implausible array length)")
            if etype in _SCALARS:
                n = struct.calcsize(_SCALARS[etype]) * count
                if self.pos + n > self.size:
                    raise EOFError
                self.pos += n
            elif etype == _STRING:
                for _ in range(count):
                    self.skip_string()
            else:
                raise GGUFProblem(f"corrupt GGUF header (array of unknown type {etype})")
            return GGUFArray(count)
        raise GGUFProblem(f"corrupt GGUF header (unknown value type {vtype})")


def read_info(path: Path) -> GGUFInfo:
    """Read and check a GGUF header. Raises GGUFProblem (one line) or OSError."""
    size = os.path.getsize(path)
    if size < 4:
        raise GGUFProblem("not a GGUF file (too short)")
    with open(path, "rb") as fh:
        if fh.read(4) != MAGIC:
            raise GGUFProblem("not a GGUF file")
        if size < 24:
            raise GGUFProblem(f"truncated GGUF ({size} bytes; the header alone is longer)")
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return _parse(buf, size)
        finally:
            buf.close()


def _parse(buf: mmap.mmap, size: int) -> GGUFInfo:
    r = _Reader(buf, size)
    r.pos = 4
    version = r.scalar("<I")
    if version not in SUPPORTED_VERSIONS:
        if struct.unpack("<I", struct.pack(">I", version))[0] in SUPPORTED_VERSIONS:
            raise GGUFProblem("a big-endian GGUF; llama.cpp here reads little-endian files only")
        raise GGUFProblem(f"GGUF version {version} is not supported (2 or 3 expected)")
    info = GGUFInfo(version=version, file_size=size)
    try:
        n_tensors = r.scalar("<Q")
        n_kv = r.scalar("<Q")
        if n_tensors > _MAX_COUNT or n_kv > _MAX_COUNT:
            raise GGUFProblem("corrupt GGUF header (implausible tensor or key count)")
        info.tensor_count = n_tensors
        for _ in range(n_kv):
            key = r.string().decode("utf-8", errors="replace")
            vtype = r.scalar("<I")
            info.metadata[key] = r.value(vtype, True)
        tensors = []
        for _ in range(n_tensors):
            name = r.string().decode("utf-8", errors="replace")
            n_dims = r.scalar("<I")
            if n_dims > 8:
                raise GGUFProblem("corrupt GGUF header (a tensor with more than 8 dimensions)")
            dims = [r.scalar("<Q") for _ in range(n_dims)]
            ttype = r.scalar("<I")
            offset = r.scalar("<Q")
            tensors.append((dims, ttype, offset))
            info.tensors.append((name, ttype, tuple(dims)))
    except EOFError:
        raise GGUFProblem(f"truncated GGUF (the file ends inside its header, at {size} bytes)") from None
    align = info.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(align, int) or align <= 0:
        align = DEFAULT_ALIGNMENT
    info.data_offset = (r.pos + align - 1) // align * align
    end = info.data_offset
    for dims, ttype, offset in tensors:
        n = 1
        for d in dims:
            n *= d
        block, nbytes = _TYPE_SIZES.get(ttype, (1, 0))
        end = max(end, info.data_offset + offset + (n // block) * nbytes)
    info.expected_size = end
    if size < end:
        raise GGUFProblem(f"truncated GGUF ({size} bytes; its tensors need {end})")
    return info


def available_memory() -> int | None:
    """MemAvailable (Linux) in bytes, or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
