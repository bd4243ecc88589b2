"""CPU weight placement (no AMX buffer unless asked, repacking kept), the native-crash line, doctor's probe."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from softtiger_cli.core.errors import ExitCode
from softtiger_cli.models import cpu
from softtiger_cli.models.cpu import BuildFeatures, Tensor, parse_system_info, plan_cpu_load

AMX_INFO = ("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | AMX_INT8 = 1 | OPENMP = 1 | "
            "REPACK = 1 | ")
PLAIN_INFO = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | OPENMP = 1 | REPACK = 1 | "
Q4_0, Q4_1, Q4_K, Q6_K, F32 = 2, 3, 12, 14, 0
TENSORS = [
    Tensor("token_embd.weight", Q4_0, (5120, 32000)),  # GET_ROWS: never moved
    Tensor("blk.0.attn_norm.weight", F32, (5120,)),
    Tensor("blk.0.attn_q.weight", Q4_0, (5120, 5120)),
    Tensor("blk.0.ffn_down.weight", Q6_K, (13824, 5120)),  # not repackable on x86
    Tensor("blk.1.attn_q.weight", Q4_0, (5120, 5120)),
    Tensor("blk.1.ffn_up.weight", Q4_K, (5120, 13824)),
    Tensor("blk.2.ffn_up.weight", Q4_K, (5120, 13820)),  # rows not a multiple of 8
    Tensor("blk.3.attn_k.weight", Q4_1, (5120, 5120)),
    Tensor("output.weight", Q4_0, (5120, 32000)),
]


def test_system_info_flags_are_parsed() -> None:
    f = parse_system_info(AMX_INFO)
    assert f.amx and f.repack and f.has("AVX512") and not f.has("F16C")
    assert not parse_system_info(PLAIN_INFO).amx


def test_without_amx_the_load_is_llama_cpp_default() -> None:
    plan = plan_cpu_load(parse_system_info(PLAIN_INFO), TENSORS)
    assert plan.use_extra_bufts and not plan.repack_patterns and not plan.amx_avoided


def test_with_amx_the_amx_buffer_is_off_and_repackable_matrices_are_repacked_by_name() -> None:
    import re

    plan = plan_cpu_load(parse_system_info(AMX_INFO), TENSORS)
    assert plan.use_extra_bufts is False and plan.amx_avoided
    moved = {t.name for t in TENSORS if any(re.search(p, t.name) for p in plan.repack_patterns)}
    assert moved == {"blk.0.attn_q.weight", "blk.1.attn_q.weight", "blk.1.ffn_up.weight", "output.weight"}
    assert plan.repacked == 4
    assert "SOFTTIGER_CPU_AMX=1" in plan.summary


def test_amx_opt_in_keeps_the_default_and_no_repack_feature_means_no_patterns() -> None:
    opted = plan_cpu_load(parse_system_info(AMX_INFO), TENSORS, amx_opt_in=True)
    assert opted.use_extra_bufts and opted.amx_opted_in
    assert not plan_cpu_load(parse_system_info(PLAIN_INFO), TENSORS, amx_opt_in=True).amx_opted_in
    no_repack = BuildFeatures(parse_system_info(AMX_INFO).flags - {"REPACK"})
    plan = plan_cpu_load(no_repack, TENSORS)
    assert plan.use_extra_bufts is False and plan.repack_patterns == ()


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_opt_in_variable(value: str, expected: bool) -> None:
    assert cpu.opted_in({cpu.AMX_ENV: value}) is expected


def test_model_params_applies_the_plan_and_restores_the_default() -> None:
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params
    plan = cpu.CpuLoadPlan(use_extra_bufts=False, repack_patterns=(r"^blk\.(0|1)\.attn_q\.weight$",),
                           amx_avoided=True)
    with cpu.model_params(plan) as applied:
        params = low.llama_model_default_params()
        assert params.use_extra_bufts is False
        if applied.plan.repack_patterns:  # the build has a CPU_REPACK buffer: the override list is NULL-ended
            first = ctypes.cast(params.tensor_buft_overrides, ctypes.POINTER(cpu._Override))
            assert first[0].pattern == plan.repack_patterns[0].encode() and first[0].buft
            assert first[1].pattern is None
    assert low.llama_model_default_params is original
    assert low.llama_model_default_params().use_extra_bufts is True


def test_guard_process_turns_the_amx_buffer_off_on_an_amx_build(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp.llama_cpp as low

    monkeypatch.setattr(low, "llama_model_default_params", low.llama_model_default_params)
    monkeypatch.setattr(cpu, "_GUARDED", False)
    monkeypatch.setattr(cpu, "build_features", lambda: parse_system_info(AMX_INFO))
    monkeypatch.delenv(cpu.AMX_ENV, raising=False)
    assert cpu.guard_process().amx_avoided
    assert low.llama_model_default_params().use_extra_bufts is False


def test_guard_process_changes_nothing_without_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params
    monkeypatch.setattr(cpu, "_GUARDED", False)
    monkeypatch.setattr(cpu, "build_features", lambda: parse_system_info(PLAIN_INFO))
    assert not cpu.guard_process().amx_avoided
    assert low.llama_model_default_params is original


# -- the native-crash line -------------------------------------------------------------------------

_CRASHER = """
import ctypes, ctypes.util, os, signal, sys, time
from softtiger_cli.core import crash
assert crash.install()
crash.set_context(model="tiny-model", step="reading a 600-token prompt")
how = sys.argv[1]
if how == "null":
    ctypes.string_at(0)  # a real fault in C code, on the main thread
elif how == "thread":  # a real fault on a thread Python did not start (llama.cpp's OpenMP workers are such)
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    tid = ctypes.c_ulong()
    libc.pthread_create(ctypes.byref(tid), None, ctypes.c_void_p(ctypes.cast(libc.strlen, ctypes.c_void_p).value), None)
    time.sleep(10)
else:
    os.kill(os.getpid(), getattr(signal, how))
print("survived")
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("how", ["null", "thread", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE"])
def test_a_native_crash_is_one_line_and_a_named_exit_code(how: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _CRASHER, how], capture_output=True, timeout=60, env=env)
    stderr = proc.stderr.decode()
    assert proc.returncode == ExitCode.NATIVE_CRASH == 10, (proc.returncode, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    name = "SIGSEGV" if how in ("null", "thread") else how
    assert lines[0].startswith(f"softtiger: llama.cpp crashed ({name}) while reading a 600-token prompt "
                               "with model tiny-model;"), lines[0]
    assert "softtiger doctor" in lines[0] and "Traceback" not in stderr
    assert proc.stdout == b""


_CRASH_ON_LOAD = """
import ctypes
import llama_cpp

def crash(self, *args, **kwargs):
    ctypes.string_at(0)  # a fault inside llama.cpp's load, as the AMX kernels give one inside a product

llama_cpp.Llama.__init__ = crash
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("debug", [False, True], ids=["default", "SOFTTIGER_DEBUG"])
def test_the_cli_turns_a_crash_in_llama_cpp_into_one_line(tmp_path: Path, debug: bool) -> None:
    """`softtiger structure` whose model load faults in C: one line naming the step and model, exit 10, no
    output file; with SOFTTIGER_DEBUG=1 Python's faulthandler shows the stacks and the signal ends it."""
    (tmp_path / "sitecustomize.py").write_text(_CRASH_ON_LOAD)
    (tmp_path / "n.txt").write_text("Seen for a cough.\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    env.pop("SOFTTIGER_DEBUG", None)
    if debug:
        env["SOFTTIGER_DEBUG"] = "1"
    proc = subprocess.run([sys.executable, "-m", "softtiger_cli", "structure", "n.txt", "-o", "o.json"],
                          cwd=tmp_path, capture_output=True, timeout=120, env=env)
    stderr = proc.stderr.decode()
    assert not (tmp_path / "o.json").exists()
    if debug:
        assert proc.returncode == -signal.SIGSEGV and "Fatal Python error: Segmentation fault" in stderr
        return
    assert proc.returncode == ExitCode.NATIVE_CRASH, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("softtiger: llama.cpp crashed (SIGSEGV) while loading the model with model "
                                "smollm2-135m-instruct-q4_1;"), stderr
    assert "Traceback" not in stderr and "Seen for a cough" not in stderr


# -- doctor's inference probe ----------------------------------------------------------------------

def test_a_probe_that_died_by_a_signal_is_a_finding_with_a_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from softtiger_cli.llm import probe

    monkeypatch.setattr(cpu, "build_features", lambda: parse_system_info(AMX_INFO))
    monkeypatch.setenv(cpu.AMX_ENV, "1")
    result = probe.interpret(-signal.SIGSEGV, b"", b"", "tiny")
    assert not result.ok and result.signal == "SIGSEGV"
    assert "AMX" in result.fix and "unset SOFTTIGER_CPU_AMX" in result.fix
    monkeypatch.delenv(cpu.AMX_ENV)
    assert "rebuild llama-cpp-python without AMX" in probe.interpret(-signal.SIGSEGV, b"", b"", "tiny").fix
    monkeypatch.setattr(cpu, "build_features", lambda: parse_system_info(PLAIN_INFO))
    assert "AMX" not in probe.interpret(-signal.SIGILL, b"", b"", "tiny").fix


def test_doctor_reports_a_crashed_probe_in_its_next_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    from softtiger_cli.models import doctor

    bad = {"ok": False, "model": "tiny", "error": "the model process died by SIGSEGV", "fix": "do this"}
    report = doctor.collect(probe=lambda: bad)
    assert report.inference == bad
    assert report.next_steps[0] == "inference failed with tiny: the model process died by SIGSEGV; do this"


@pytest.mark.model
def test_doctor_runs_the_model_and_reports_its_speed() -> None:
    run = run_cli("doctor", "--json", "--threads", "1")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    inf = report["inference"]
    assert inf["ok"] is True and inf["prompt_tokens"] >= 300 and inf["decode_tokens"] >= 16, inf
    assert inf["prompt_tok_s"] > 0 and inf["decode_tok_s"] > 0
    assert report["cpu_placement"] and report["llama"]["cpu_features"]


@pytest.mark.model
def test_repacking_by_name_gives_llama_cpp_default_answers(tmp_path: Path, tiny_model_path: Path) -> None:
    """The AMX-free placement, forced on this machine, on a Q4_0 file (repackable): the same weights land in
    CPU_REPACK as with llama.cpp's defaults, so greedy tokens are identical."""
    import llama_cpp
    import numpy as np

    q4 = tmp_path / "tiny-q4_0.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.nthread, params.allow_requantize = 2, 1, True
    assert llama_cpp.llama_model_quantize(str(tiny_model_path).encode(), str(q4).encode(), params) == 0
    plan = cpu.plan_for(q4, force_avoid=True)
    if not cpu.build_features().repack:
        pytest.skip("this llama.cpp build has no CPU repacking")
    assert plan.repacked > 0 and not plan.use_extra_bufts

    def greedy(p: cpu.CpuLoadPlan) -> list[int]:
        with cpu.model_params(p):
            llm = llama_cpp.Llama(model_path=str(q4), n_ctx=256, n_threads=1, verbose=False)
        try:
            llm.eval(llm.tokenize(b"The patient has a cough and a fever since Monday. Plan:", add_bos=True))
            out = []
            for _ in range(12):
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))
                out.append(int(np.argmax(logits)))
                llm.eval([out[-1]])
            return out
        finally:
            llm.close()

    assert greedy(plan) == greedy(cpu.CpuLoadPlan())
