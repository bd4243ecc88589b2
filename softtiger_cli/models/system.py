"""What this machine has: memory and GPU offload, for choosing a quant and a device."""

from __future__ import annotations

import os


def total_ram_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 10**9


def gpu_offload_supported() -> bool:
    try:
        import llama_cpp
    except ImportError:  # pragma: no cover
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def gpu_memory_bytes() -> int | None:
    """Total memory of the first NVIDIA GPU via nvidia-smi, when there is one."""
    import shutil
    import subprocess

    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
        return int(out.split()[0]) * 1024 * 1024
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def memory_budget() -> int:
    """Bytes a model may use: the GPU's memory when this build offloads to it, else 80% of RAM."""
    override = os.environ.get("SOFTTIGER_MEMORY_BUDGET")
    if override:
        return int(float(override))
    if gpu_offload_supported():
        gpu = gpu_memory_bytes()
        if gpu:
            return int(gpu * 0.95)
    return int(total_ram_bytes() * 0.8)
