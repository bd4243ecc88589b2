"""`softtiger doctor`: what this machine and this install can do, and what to do next.

Collected as plain data so the CLI can print it or emit JSON; every probe tolerates failure (a doctor that
crashes on a broken install is no help).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Callable
from pathlib import Path

from softtiger_cli import __version__
from softtiger_cli.models.cpu import ggml_function, ggml_libs, system_info_flags
from softtiger_cli.models.filecheck import human_bytes
from softtiger_cli.models.hub import endpoint, is_offline
from softtiger_cli.models.registry import hub_cache_dir, load_registry
from softtiger_cli.models.system import gpu_memory_bytes, memory_budget, total_ram_bytes

CUDA_REBUILD = 'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python'
METAL_REBUILD = 'CMAKE_ARGS="-DGGML_METAL=on" pip install --force-reinstall --no-cache-dir llama-cpp-python'
NATIVE_REBUILD = "pip install --force-reinstall --no-cache-dir llama-cpp-python"
# CPU flags worth showing: the ones llama.cpp's CPU kernels use.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni",
             "amx_tile", "asimd", "sve", "i8mm")
BACKEND_LIBS = {"cuda": "CUDA", "metal": "Metal", "vulkan": "Vulkan", "hip": "ROCm", "sycl": "SYCL",
                "blas": "BLAS", "opencl": "OpenCL"}


@dataclass
class LlamaBuild:
    version: str | None
    gpu_offload: bool
    backends: list[str]
    cpu_features: list[str]
    error: str | None = None


@dataclass
class DoctorReport:
    softtiger_version: str
    python: str
    platform: str
    llama: LlamaBuild
    cpu_model: str
    cpu_count: int
    cpu_flags: list[str]
    ram_bytes: int
    gpu: str | None
    gpu_memory_bytes: int | None
    memory_budget_bytes: int
    recommended: dict[str, str]
    cache_dir: str
    cache_writable: bool
    free_disk_bytes: int | None
    hf_endpoint: str
    offline: bool
    models_on_disk: list[dict]
    next_steps: list[str] = field(default_factory=list)
    gpu_devices: list[dict] = field(default_factory=list)  # GPU builds: what llama.cpp sees, with free VRAM
    gpu_offload_check: str | None = None  # GPU builds: "yes" when the tiny model ran with every layer offloaded
    cpu_placement: str = ""  # how weights are placed on the CPU (models/cpu.py: AMX buffer off on AMX builds)
    inference: dict | None = None  # the inference probe's result (llm/probe.py), None when not run

    def as_dict(self) -> dict:
        return asdict(self)


def llama_build() -> LlamaBuild:
    """Version, GPU offload and backends of the installed llama-cpp-python, from its libs and system info."""
    try:
        import llama_cpp
    except Exception as exc:  # noqa: BLE001 - a broken install is what doctor reports
        return LlamaBuild(None, False, [], [], error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    try:
        info = llama_cpp.llama_print_system_info()
        info = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    except Exception:  # noqa: BLE001
        info = ""
    backends = {"CPU"}
    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    names = [p.name.lower() for p in lib_dir.iterdir()] if lib_dir.is_dir() else []
    for key, label in BACKEND_LIBS.items():
        if any(f"ggml-{key}" in n for n in names) or f"{label.upper()} :" in info.upper():
            backends.add(label)
    features = system_info_flags(info)
    try:
        offload = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001
        offload = False
    ordered = [b for b in ("CUDA", "Metal", "ROCm", "Vulkan", "SYCL", "OpenCL", "BLAS", "CPU") if b in backends]
    return LlamaBuild(getattr(llama_cpp, "__version__", "?"), offload, ordered, features)


@dataclass
class GpuDevice:
    """A device llama.cpp's ggml backends registered: name, kind (GPU, IGPU, ACCEL, CPU), memory."""

    name: str
    description: str
    kind: str
    free: int
    total: int


_DEV_KINDS = {0: "CPU", 1: "GPU", 2: "IGPU", 3: "ACCEL"}


def gpu_devices() -> list[GpuDevice]:
    """The non-CPU devices of this llama-cpp-python build, with their free and total memory, read through
    ggml's backend-device API (works for CUDA, Metal, Vulkan alike). Empty on a CPU build or on failure."""
    try:
        import ctypes

        import llama_cpp

        if not llama_cpp.llama_supports_gpu_offload():
            return []
        llama_cpp.llama_backend_init()
        libs = ggml_libs(("ggml", "ggml-base"))
        if not libs:
            return []

        def fn(name: str, restype: object, argtypes: list[object]):
            return ggml_function(libs, name, restype, argtypes)

        count = fn("ggml_backend_dev_count", ctypes.c_size_t, [])
        get = fn("ggml_backend_dev_get", ctypes.c_void_p, [ctypes.c_size_t])
        dname = fn("ggml_backend_dev_name", ctypes.c_char_p, [ctypes.c_void_p])
        ddesc = fn("ggml_backend_dev_description", ctypes.c_char_p, [ctypes.c_void_p])
        dtype = fn("ggml_backend_dev_type", ctypes.c_int, [ctypes.c_void_p])
        dmem = fn("ggml_backend_dev_memory", None, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
                                                     ctypes.POINTER(ctypes.c_size_t)])
        found = []
        for i in range(int(count())):
            dev = get(i)
            kind = _DEV_KINDS.get(int(dtype(dev)), "?")
            if kind == "CPU":
                continue
            free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
            dmem(dev, ctypes.byref(free), ctypes.byref(total))
            found.append(GpuDevice((dname(dev) or b"?").decode("utf-8", "replace"),
                                   (ddesc(dev) or b"").decode("utf-8", "replace"), kind, int(free.value),
                                   int(total.value)))
        return found
    except Exception:  # noqa: BLE001 - doctor and the engine's defaults must survive any build
        return []


def gpu_offload_check() -> str | None:
    """Whether a tiny offload works on a GPU build: the embedded tiny model loaded with every layer on the
    GPU, one token evaluated. "yes", or "failed: REASON"; None on a CPU build (nothing to try)."""
    try:
        import llama_cpp

        if not llama_cpp.llama_supports_gpu_offload():
            return None
    except Exception:  # noqa: BLE001
        return None
    try:
        from softtiger_cli.models.registry import embedded_path

        registry = load_registry()
        path = embedded_path(registry.models[registry.default])
        if path is None:
            return "not tried (the embedded tiny model is not installed)"
        from softtiger_cli.models.cpu import model_params, plan_for

        with model_params(plan_for(path)):
            llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_gpu_layers=-1, n_batch=32, verbose=False)
        try:
            llm.eval(llm.tokenize(b"Hello", add_bos=True))
        finally:
            llm.close()
        return "yes"
    except Exception as exc:  # noqa: BLE001
        return f"failed: {type(exc).__name__}: {exc}".splitlines()[0][:160]


def cpu_info() -> tuple[str, list[str]]:
    """CPU model name and the SIMD flags llama.cpp cares about (Linux /proc/cpuinfo; platform elsewhere)."""
    model = platform.processor() or platform.machine()
    flags: set[str] = set()
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and value.strip():
            model = value.strip()
        elif key in ("flags", "features"):
            flags.update(value.split())
    if sys.platform == "darwin":
        model = _sysctl("machdep.cpu.brand_string") or model
    return model, [f for f in CPU_FLAGS if f in flags]


def _sysctl(name: str) -> str | None:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def nvidia_gpu() -> str | None:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else None
    except (OSError, subprocess.SubprocessError):
        return None


def _apple_silicon() -> bool:
    return sys.platform == "darwin" and platform.machine() == "arm64"


def _writable(folder: Path) -> tuple[bool, int | None]:
    """Whether the cache folder (or the nearest existing parent) can be written, and the free space there."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        free = None
    return os.access(probe, os.W_OK), free


def cpu_placement() -> str:
    """How this build places weights on the CPU, in words (models/cpu.py decides)."""
    from softtiger_cli.models.cpu import AMX_ENV, build_features, opted_in

    features = build_features()
    if features.amx and not opted_in():
        return (f"AMX in this build: weights kept out of llama.cpp's AMX buffer (its kernels crash), Q4_0/Q4_K "
                f"matrices still repacked; {AMX_ENV}=1 uses AMX")
    if features.amx:
        return f"AMX buffer on ({AMX_ENV}=1)" + (", weights repacked" if features.repack else "")
    return "no AMX in this build; " + ("weights repacked for this CPU" if features.repack else "no repacking")


def collect(probe: Callable[[], dict | None] | None = None) -> DoctorReport:
    """Probe everything; never raises for a missing piece, reports it instead. `probe` runs the inference
    probe (a model on a few hundred tokens, in a child process) and returns its result."""
    from softtiger_cli.models.store import list_models

    llama = llama_build()
    cpu_model, flags = cpu_info()
    gpu = nvidia_gpu()
    devices = gpu_devices() if llama.gpu_offload else []
    offload = gpu_offload_check() if llama.gpu_offload else None
    if devices:
        first = devices[0]
        backend = next((b for b in llama.backends if b != "CPU"), "GPU")
        gpu = (f"{first.description or first.name} ({first.name}, {backend}; {human_bytes(first.free)} free"
               + (f"; tiny offload {offload}" if offload else "") + ")"
               + (f" + {len(devices) - 1} more" if len(devices) > 1 else ""))
    if gpu is None and _apple_silicon():
        gpu = "Apple Silicon (unified memory)"
    budget = memory_budget()
    listing = list_models(budget=budget)
    cache = hub_cache_dir()
    writable, free = _writable(cache)
    on_disk = [
        {"name": m["name"], "location": m["location"], "path": m["path"], "size_bytes": m["size_bytes"]}
        for m in listing["models"] if m["on_disk"]
    ]
    report = DoctorReport(
        softtiger_version=__version__,
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()} {platform.machine()}",
        llama=llama,
        cpu_model=cpu_model,
        cpu_count=os.cpu_count() or 1,
        cpu_flags=flags,
        ram_bytes=total_ram_bytes(),
        gpu=gpu,
        gpu_memory_bytes=(devices[0].total if devices else
                          gpu_memory_bytes() if gpu and not _apple_silicon() else None),
        memory_budget_bytes=budget,
        recommended=listing["recommended"],
        cache_dir=str(cache),
        cache_writable=writable,
        free_disk_bytes=free,
        hf_endpoint=endpoint(),
        offline=is_offline(),
        models_on_disk=on_disk,
        gpu_devices=[asdict(d) for d in devices],
        gpu_offload_check=offload,
        cpu_placement=cpu_placement(),
        inference=probe() if probe is not None else None,
    )
    report.next_steps = next_steps(report)
    return report


def next_steps(report: DoctorReport) -> list[str]:
    """What to do about what is missing, most important first."""
    steps: list[str] = []
    llama = report.llama
    if llama.version is None:
        steps.append(f"llama-cpp-python does not import ({llama.error}): pip install llama-cpp-python")
    elif report.inference is not None and not report.inference.get("ok"):
        inf = report.inference
        steps.append(f"inference failed with {inf.get('model')}: {inf.get('error')}"
                     + (f"; {inf['fix']}" if inf.get("fix") else ""))
    elif llama.gpu_offload and report.gpu_offload_check and report.gpu_offload_check.startswith("failed"):
        steps.append(f"this build offloads to the GPU but the tiny model failed there ({report.gpu_offload_check}); "
                     "check the CUDA/Metal runtime libraries (LD_LIBRARY_PATH) and the driver")
    elif not llama.gpu_offload:
        if report.gpu and "Apple" in report.gpu:
            steps.append(f"this llama-cpp-python build cannot use the GPU; rebuild it with Metal: {METAL_REBUILD}")
        elif report.gpu:
            steps.append(f"{report.gpu} found but this llama-cpp-python build cannot use it; rebuild it with "
                         f"CUDA: {CUDA_REBUILD}")
        else:
            steps.append("no GPU found: models run on the CPU (slow for 13B/70B). With an NVIDIA GPU: "
                         f"{CUDA_REBUILD}; on Apple Silicon: {METAL_REBUILD}")
    wanted = {f.upper().replace("_", "") for f in report.cpu_flags}
    built = {f.upper().replace("_", "") for f in llama.cpu_features}
    if llama.version and built and "AVX2" in wanted and "AVX2" not in built:
        steps.append(f"this CPU has AVX2 but the llama-cpp-python build does not use it; rebuild: {NATIVE_REBUILD}")
    if not report.cache_writable:
        steps.append(f"the model cache {report.cache_dir} is not writable: set HF_HOME to a folder you own")
    registry = load_registry()
    names_on_disk = {m["name"] for m in report.models_on_disk}
    for family, name in report.recommended.items():
        spec = registry.models[name]
        if spec.family.startswith("smollm2") or any(registry.models[n].family == family for n in names_on_disk):
            continue
        size = human_bytes(spec.size_bytes)
        line = f"no {family} model on disk: `softtiger models pull {family}` gets {name} ({size}), " \
               "the best quant for this machine's memory"
        if spec.memory_needed() > report.memory_budget_bytes:
            line += (f"; even it needs ~{human_bytes(spec.memory_needed())} of memory, more than the "
                     f"{human_bytes(report.memory_budget_bytes)} budget here")
        if report.free_disk_bytes is not None and report.free_disk_bytes < spec.size_bytes:
            line += f"; only {human_bytes(report.free_disk_bytes)} free there: free space or set HF_HOME"
        if report.offline:
            line += "; offline mode is on (HF_HUB_OFFLINE), so pull on a connected machine or unset it"
        steps.append(line)
        break  # one family (the registry's first, the 13B) is enough advice
    return steps
