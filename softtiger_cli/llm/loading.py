"""Checks before llama.cpp allocates anything (the file is a GGUF, the context fits in memory), and
llama.cpp's own logging kept quiet: one clear error instead of a crash or a page of C++ log lines."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from softtiger_cli.core import crash
from softtiger_cli.core.errors import ModelError, UsageError
from softtiger_cli.models.cpu import CpuLoadPlan, model_params
from softtiger_cli.models.gguf import GGUFInfo, GGUFProblem, available_memory
from softtiger_cli.models.gguf import read_info as read_gguf_info

MAX_N_CTX = 1 << 22  # beyond this llama.cpp's 32-bit context sizes overflow on most models
MAX_THREADS = 512  # GGML_MAX_N_THREADS


def check_gguf(path: Path) -> GGUFInfo:
    """Read the GGUF header: not a GGUF, truncated, unsupported version -> one ModelError line."""
    try:
        return read_gguf_info(path)
    except GGUFProblem as exc:
        raise ModelError(f"{exc}: {path}", hint="the file is incomplete; download it again"
                         if "truncated" in str(exc) else None) from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or type(exc).__name__}") from None


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_context(info: GGUFInfo, n_ctx: int | None, gpu: bool) -> list[str]:
    """Refuse a context whose KV cache (and attention scratch) cannot fit in free memory, before llama.cpp
    allocates it; returns notices (a context beyond the trained one)."""
    notices: list[str] = []
    if n_ctx is not None and n_ctx > MAX_N_CTX:
        raise UsageError(f"--n-ctx {n_ctx} is too large (at most {MAX_N_CTX})")
    ctx = n_ctx or info.n_ctx_train
    train = info.n_ctx_train
    if n_ctx and train and n_ctx > train:
        notices.append(f"--n-ctx {n_ctx} is beyond the model's trained context ({train}); answers may degrade")
    per_token = info.kv_bytes_per_token()
    if not ctx or per_token is None or gpu:
        return notices  # a GPU allocation that fails is reported by llama.cpp itself, cleanly
    heads = info.arch_value("attention.head_count", 1) or 1
    need = per_token * ctx + ctx * 512 * heads * 4  # f16 KV cache + one f32 KQ block per 512-token batch
    free = available_memory()
    if free is not None and need > free:
        what = f"--n-ctx {ctx}" if n_ctx else f"the model's own {ctx}-token context"
        raise ModelError(f"{what} needs about {gib(need)} of memory (KV cache), more than the {gib(free)} "
                         "available", hint="pass a smaller --n-ctx")
    return notices


_LLAMA_LOG: list[str] = []
_LLAMA_LOG_CB: object = None


def silence_llama_log(llama_cpp: object) -> None:
    """Route llama.cpp's log into a short in-memory tail instead of stderr (one line per error, nothing
    else on stderr); the tail explains load failures. SOFTTIGER_DEBUG=1 prints it as it comes."""
    global _LLAMA_LOG_CB
    if _LLAMA_LOG_CB is not None:
        return
    debug = bool(os.environ.get("SOFTTIGER_DEBUG"))

    def _log(level: int, text: bytes, _user: object) -> None:
        line = (text or b"").decode("utf-8", errors="replace")
        if debug:
            import sys

            sys.stderr.write(line)
        _LLAMA_LOG.append(line)
        del _LLAMA_LOG[:-40]

    _LLAMA_LOG_CB = llama_cpp.llama_log_callback(_log)
    llama_cpp.llama_log_set(_LLAMA_LOG_CB, ctypes.c_void_p(0))


def quiet_llama_log() -> None:
    """Silence llama.cpp's log for this process (for code that loads models without an Engine)."""
    import llama_cpp

    silence_llama_log(llama_cpp)


def clear_llama_log() -> None:
    """Forget earlier log lines, so llama_reason() speaks of the next load only."""
    _LLAMA_LOG.clear()


def llama_reason() -> str | None:
    """The last error llama.cpp logged while loading, cleaned to a short line (paths and names, no note)."""
    lines = "".join(_LLAMA_LOG).splitlines()
    picked = next((ln.split("error loading model:", 1)[1] for ln in reversed(lines) if "error loading model:" in ln),
                  None)
    if picked is None:
        picked = next((ln for ln in reversed(lines) if "error" in ln.lower() or "failed" in ln.lower()), None)
    if picked is None:
        return None
    text = "".join(ch for ch in picked if ch.isprintable()).strip(" :")
    return text[:160] or None


def open_llama(llama_cpp: object, path: Path, plan: CpuLoadPlan, *, label: str, n_ctx: int | None, gpu: bool,
               seed: int, threads: int, flash_attn: bool) -> tuple[object, CpuLoadPlan]:
    """`llama_cpp.Llama` for the file, its weights placed by the CPU plan (never the AMX buffer unless asked);
    llama.cpp's refusals become one ModelError line. Returns the model and the plan the load used."""
    clear_llama_log()
    hint = "llama.cpp's AMX kernels are on (SOFTTIGER_CPU_AMX=1): unset it" if plan.amx_opted_in else ""
    crash.set_context(model=label, step="loading the model", hint=hint)
    try:
        with model_params(plan) as applied:
            llm = llama_cpp.Llama(  # type: ignore[attr-defined]
                model_path=str(path), n_ctx=n_ctx or 0, n_gpu_layers=-1 if gpu else 0, seed=seed,
                n_threads=threads, n_threads_batch=threads, n_batch=512, flash_attn=flash_attn,
                logits_all=False, verbose=False,
            )
    except (ValueError, RuntimeError, OSError) as exc:
        reason = llama_reason()
        if "llama_context" in str(exc):  # the weights loaded; the context (KV cache, buffers) did not
            raise ModelError(f"llama.cpp could not create a {n_ctx or 'default'}-token context for "
                             f"{path.name}" + (f": {reason}" if reason else ""),
                             hint="out of memory? pass a smaller --n-ctx") from None
        raise ModelError(f"llama.cpp could not load {path.name}: {reason or type(exc).__name__}",
                         hint=None if reason else "the file may be truncated or of an unsupported architecture"
                         ) from None
    return llm, applied.plan


MAX_PARALLEL = 64  # the most sequences chosen on a GPU by default (throughput saturates well before)


def sequence_bytes(info: GGUFInfo, n_ctx: int) -> int | None:
    """KV cache of one parallel sequence: f16 K and V for every token of the context, over all layers."""
    per_token = info.kv_bytes_per_token()
    return None if per_token is None else per_token * n_ctx


def choose_parallel(requested: int | None, gpu: bool, info: GGUFInfo, n_ctx: int) -> int:
    """How many questions to decode together. CPU: 1 unless asked. GPU: asked, or as many sequences of the
    full context as fit in 80% of the free VRAM after loading (at most MAX_PARALLEL)."""
    if requested is not None and requested < 1:
        raise UsageError(f"--parallel must be at least 1, not {requested}")
    if requested == 1 or (requested is None and not gpu):
        return 1
    per_seq = sequence_bytes(info, n_ctx)
    if not gpu:
        free = available_memory()
        if per_seq is not None and free is not None and per_seq * requested > free:
            raise ModelError(f"--parallel {requested} needs about {gib(per_seq * requested)} of KV cache "
                             f"({gib(per_seq)} per sequence of {n_ctx} tokens), more than the {gib(free)} available",
                             hint="pass a smaller --parallel or --n-ctx")
        return int(requested)
    from softtiger_cli.models.doctor import gpu_devices

    free = sum(d.free for d in gpu_devices() if d.kind == "GPU") or None
    if requested is None:
        if free is None or per_seq is None:
            return 1
        return max(1, min(MAX_PARALLEL, int(free * 0.8 // per_seq)))
    if free is not None and per_seq is not None and per_seq * requested > free:
        raise ModelError(f"--parallel {requested} needs about {gib(per_seq * requested)} of KV cache "
                         f"({gib(per_seq)} per sequence of {n_ctx} tokens), more than the {gib(free)} of free VRAM",
                         hint="pass a smaller --parallel or --n-ctx")
    return int(requested)
