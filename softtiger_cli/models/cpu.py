"""How weights are placed on the CPU: never in llama.cpp's AMX buffer unless asked, CPU repacking kept.

pip builds llama-cpp-python with -march=native, so on a CPU with AMX (Intel Sapphire Rapids and later) the
build carries llama.cpp's AMX backend, and its matrix product crashes (SIGSEGV in ggml_backend_amx_mul_mat)
on the first prompt longer than a few tokens. llama.cpp puts weights in the AMX buffer whenever
`llama_model_params.use_extra_bufts` is on; turning it off also turns off CPU weight repacking, which
speeds up Q4_0/Q4_K/IQ4_NL matrices. So on an AMX build softtiger loads with extra buffers off and puts
each repackable weight matrix in the CPU_REPACK buffer by name (`tensor_buft_overrides`): repacking kept,
AMX never used. `SOFTTIGER_CPU_AMX=1` opts back in (for builds where AMX works).

Everything that loads a model goes through `model_params()` (the engine, the parallel decoder shares the
engine's model, vocabulary-only loads, doctor's probe, the benches); `guard_process()` covers code that
constructs `llama_cpp.Llama` itself (a llama_cpp.server started by the tests).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

AMX_ENV = "SOFTTIGER_CPU_AMX"

# ggml type ids (ggml.h) of the matrices llama.cpp 0.3.36's CPU repack buffer can hold on x86
# (ggml-cpu/repack.cpp ggml_repack_get_optimal_repack_type), with the SIMD feature each needs. Every one
# also needs its row count (ne[1]) to be a multiple of 8. Types not listed stay in the plain CPU buffer.
REPACK_X86: dict[int, tuple[str, str]] = {
    2: ("Q4_0", "AVX2"),
    12: ("Q4_K", "AVX2"),
    20: ("IQ4_NL", "AVX2"),
    10: ("Q2_K", "AVX512"),
}
# weights used only by matrix products (token_embd is read by GET_ROWS and must stay where llama.cpp puts it)
_MATMUL_WEIGHT = re.compile(r"^(blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_qkv|attn_output|ffn_gate|ffn_up|ffn_down)"
                            r"|output)\.weight$")


@dataclass(frozen=True)
class BuildFeatures:
    """What the installed llama.cpp was compiled with, from `llama_print_system_info()` (NAME = 1 pairs)."""

    flags: frozenset[str] = frozenset()

    @property
    def amx(self) -> bool:
        return "AMX_INT8" in self.flags

    @property
    def repack(self) -> bool:
        return "REPACK" in self.flags

    def has(self, name: str) -> bool:
        return name in self.flags


def system_info_flags(info: str) -> list[str]:
    """`CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 1 | REPACK = 1 |` -> the names set to 1, in order."""
    flags = []
    for chunk in info.split("|"):
        name, _, value = chunk.partition("=")
        name = name.split(":")[-1].strip()
        if name and value.strip() == "1":
            flags.append(name)
    return flags


def parse_system_info(info: str) -> BuildFeatures:
    return BuildFeatures(frozenset(system_info_flags(info)))


def build_features() -> BuildFeatures:
    """The installed build's CPU features (empty when llama_cpp does not import)."""
    try:
        import llama_cpp

        raw = llama_cpp.llama_print_system_info()
    except Exception:  # noqa: BLE001 - a broken install is reported elsewhere (doctor)
        return BuildFeatures()
    return parse_system_info(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))


@dataclass(frozen=True)
class Tensor:
    """One weight of a GGUF: its name, ggml type id and shape (ne order)."""

    name: str
    type: int
    dims: tuple[int, ...]


@dataclass(frozen=True)
class CpuLoadPlan:
    """How to load: `use_extra_bufts` for llama_model_params, tensor-name patterns to put in CPU_REPACK."""

    use_extra_bufts: bool = True
    repack_patterns: tuple[str, ...] = ()
    amx_avoided: bool = False
    summary: str = "llama.cpp's default CPU buffers"
    repacked: int = 0  # matrices placed in CPU_REPACK by name
    amx_opted_in: bool = False  # the build has AMX and SOFTTIGER_CPU_AMX=1 keeps its buffer on


def opted_in(env: dict[str, str] | os._Environ[str] | None = None) -> bool:
    value = (env if env is not None else os.environ).get(AMX_ENV, "").strip().lower()
    return value in ("1", "true", "yes", "on")


def plan_cpu_load(features: BuildFeatures, tensors: list[Tensor] | None, *, amx_opt_in: bool = False,
                  force_avoid: bool = False) -> CpuLoadPlan:
    """Decide the CPU placement. Without AMX in the build (or with the opt-in): llama.cpp's defaults,
    unchanged. With AMX: extra buffers off, repackable matrices by name into CPU_REPACK.
    `force_avoid` plans the AMX-free placement on any build (the benches measure it on non-AMX CPUs)."""
    if not force_avoid and (not features.amx or amx_opt_in):
        why = "AMX buffer on (SOFTTIGER_CPU_AMX=1)" if features.amx else "no AMX in this build"
        return CpuLoadPlan(amx_opted_in=features.amx, summary=f"llama.cpp's default CPU buffers ({why}"
                                   + ("; CPU repacking on" if features.repack else "") + ")")
    names: dict[str, list[str]] = {}
    count = 0
    if features.repack:
        for t in tensors or []:
            match = _MATMUL_WEIGHT.match(t.name)
            need = REPACK_X86.get(t.type)
            if not match or need is None or not features.has(need[1]):
                continue
            if len(t.dims) != 2 or t.dims[1] % 8:
                continue
            kind = match.group(3) or "output"
            names.setdefault(kind, []).append(match.group(2) or "")
            count += 1
    patterns = []
    for kind, layers in sorted(names.items()):
        if kind == "output":
            patterns.append(r"^output\.weight$")
        else:
            patterns.append(rf"^blk\.({'|'.join(sorted(set(layers), key=int))})\.{kind}\.weight$")
    why = "this llama.cpp build has AMX, whose kernels crash; AMX buffer off" if features.amx else "AMX buffer off"
    what = f", {count} matrices repacked" if count else ", no weight repacking"
    return CpuLoadPlan(use_extra_bufts=False, repack_patterns=tuple(patterns), amx_avoided=True,
                       summary=why + what + (f" (set {AMX_ENV}=1 to use AMX)" if features.amx else ""),
                       repacked=count)


def gguf_tensors(path: Path) -> list[Tensor]:
    """The weights of a GGUF file (names, types, shapes) from its header; [] when it cannot be read."""
    from softtiger_cli.models.gguf import GGUFProblem, read_info

    try:
        return [Tensor(n, t, tuple(d)) for n, t, d in read_info(path).tensors]
    except (GGUFProblem, OSError):
        return []


class _Override(ctypes.Structure):
    # llama.h: struct llama_model_tensor_buft_override { const char * pattern; ggml_backend_buffer_type_t buft; }
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


def ggml_libs(names: tuple[str, ...] = ("ggml", "ggml-base", "ggml-cpu")) -> list[ctypes.CDLL]:
    """llama-cpp-python's ggml libraries, for ggml functions it does not bind (backend devices, buffers)."""
    import llama_cpp

    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    libs = []
    for name in names:
        for p in sorted(lib_dir.glob(f"lib{name}.*"))[:1]:
            libs.append(ctypes.CDLL(str(p)))
    return libs


def ggml_function(libs: list[ctypes.CDLL], name: str, restype: object, argtypes: list[object]):
    """The first of `libs` that exports `name`, typed."""
    for lib in libs:
        f = getattr(lib, name, None)
        if f is not None:
            f.restype, f.argtypes = restype, argtypes
            return f
    raise AttributeError(name)


def repack_buffer_type() -> int | None:
    """The CPU backend's CPU_REPACK buffer type (a ggml pointer), from its extra buffer types; None if absent."""
    try:
        import llama_cpp

        llama_cpp.llama_backend_init()
        libs = ggml_libs()
        by_type = ggml_function(libs, "ggml_backend_dev_by_type", ctypes.c_void_p, [ctypes.c_int])
        dev_reg = ggml_function(libs, "ggml_backend_dev_backend_reg", ctypes.c_void_p, [ctypes.c_void_p])
        proc = ggml_function(libs, "ggml_backend_reg_get_proc_address", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p])
        buft_name = ggml_function(libs, "ggml_backend_buft_name", ctypes.c_char_p, [ctypes.c_void_p])
        dev = by_type(0)  # GGML_BACKEND_DEVICE_TYPE_CPU
        if not dev:
            return None
        addr = proc(dev_reg(dev), b"ggml_backend_dev_get_extra_bufts")
        if not addr:
            return None
        get_extra = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)(addr)
        array = get_extra(dev)
        i = 0
        while array and array[i]:
            if buft_name(array[i]) == b"CPU_REPACK":
                return int(array[i])
            i += 1
    except Exception:  # noqa: BLE001 - without it the plan loads without repacking, still AMX-free
        return None
    return None


@dataclass
class AppliedPlan:
    """A plan written into llama_model_params, with the ctypes objects the params point into (kept alive
    for as long as the model loads)."""

    plan: CpuLoadPlan
    keep: list[object] = field(default_factory=list)


def apply_plan(params: object, plan: CpuLoadPlan) -> AppliedPlan:
    """Write the plan into a llama_model_params struct."""
    applied = AppliedPlan(plan)
    params.use_extra_bufts = plan.use_extra_bufts  # type: ignore[attr-defined]
    if plan.repack_patterns:
        buft = repack_buffer_type()
        if buft is None:
            applied.plan = CpuLoadPlan(use_extra_bufts=False, amx_avoided=plan.amx_avoided,
                                       summary=plan.summary.split(",")[0] + ", no weight repacking "
                                       "(CPU_REPACK buffer not found)")
            return applied
        patterns = [p.encode() for p in plan.repack_patterns]
        array = (_Override * (len(patterns) + 1))()
        for i, pat in enumerate(patterns):
            array[i].pattern, array[i].buft = pat, buft
        array[len(patterns)].pattern, array[len(patterns)].buft = None, None
        applied.keep += [patterns, array]
        params.tensor_buft_overrides = ctypes.cast(array, ctypes.c_void_p).value  # type: ignore[attr-defined]
    return applied


def plan_for(path: Path | None, *, force_avoid: bool = False, amx_opt_in: bool | None = None) -> CpuLoadPlan:
    """The plan for loading this file on this build (tensor names are read only when AMX is avoided)."""
    features = build_features()
    opt = opted_in() if amx_opt_in is None else amx_opt_in
    avoid = force_avoid or (features.amx and not opt)
    tensors = gguf_tensors(path) if (avoid and path is not None) else None
    return plan_cpu_load(features, tensors, amx_opt_in=opt, force_avoid=force_avoid)


@contextlib.contextmanager
def model_params(plan: CpuLoadPlan) -> Iterator[AppliedPlan]:
    """While open, every `llama_cpp.Llama(...)` (and `llama_model_default_params()`) gets the plan's CPU
    placement: llama-cpp-python's `Llama()` has no argument for it, and builds its params from this call."""
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params
    applied = AppliedPlan(plan)

    def patched():  # noqa: ANN202 - returns llama_model_params
        params = original()
        result = apply_plan(params, plan)
        applied.plan = result.plan
        applied.keep += result.keep
        return params

    low.llama_model_default_params = patched
    try:
        yield applied
    finally:
        low.llama_model_default_params = original


_GUARDED = False


def guard_process() -> CpuLoadPlan:
    """For code that constructs `llama_cpp.Llama` itself: from now on in this process every model loads
    without the AMX buffer when the build has AMX (no repacking by name: the file is not known here)."""
    global _GUARDED
    plan = plan_cpu_load(build_features(), None, amx_opt_in=opted_in())
    if _GUARDED or not plan.amx_avoided:
        return plan
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params

    def patched():  # noqa: ANN202
        params = original()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = patched
    _GUARDED = True
    return plan
