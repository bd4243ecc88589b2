"""Prove that inference works on this machine: a model reads a few hundred tokens and writes a few, in a
child process, so a native crash is a finding (its signal and a fix), never a crash of `softtiger doctor`.

A one-token prompt is not enough: llama.cpp's AMX kernels, for one, crash only on the first matrix product
over more than a few tokens. The probe's text is fixed prose (no patient data).

    python -m softtiger_cli.llm.probe MODEL.gguf [--threads N] [--label NAME]   (prints one JSON line)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROMPT_TOKENS = 320
DECODE_TOKENS = 32
_TEXT = ("The quick brown fox jumps over the lazy dog while the patient reads a book about rivers, mountains "
         "and the weather of the coast in spring. ")


@dataclass
class ProbeResult:
    """What the probe measured, or why it failed (`signal` set when the child died by one)."""

    ok: bool
    model: str
    prompt_tokens: int = 0
    prompt_tok_s: float = 0.0
    decode_tokens: int = 0
    decode_tok_s: float = 0.0
    cpu_placement: str = ""
    amx_avoided: bool = False
    repacked: int = 0
    signal: str | None = None
    error: str | None = None
    fix: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


PLACEMENTS = ("auto", "default", "amx-off", "no-extra")


def placement_plan(path: Path, placement: str):
    """auto: softtiger's choice (models/cpu.plan_for); default: llama.cpp's own (AMX buffer where built);
    amx-off: the AMX-free placement with repacking by name, on any build; no-extra: extra buffers off,
    nothing repacked. The last three are for benches."""
    from softtiger_cli.models.cpu import CpuLoadPlan, plan_for

    if placement == "default":
        return CpuLoadPlan(summary="llama.cpp's default CPU buffers (forced)")
    if placement == "amx-off":
        return plan_for(path, force_avoid=True)
    if placement == "no-extra":
        return CpuLoadPlan(use_extra_bufts=False, amx_avoided=True, summary="extra buffers off, no repacking (forced)")
    return plan_for(path)


def _child(path: Path, threads: int | None, label: str, placement: str = "auto",
           prompt_tokens: int = PROMPT_TOKENS, decode_tokens: int = DECODE_TOKENS) -> ProbeResult:
    from softtiger_cli.core.privacy import no_core_dumps
    from softtiger_cli.llm.engine import Engine, EngineConfig

    no_core_dumps()
    engine = Engine(EngineConfig(model_path=path, n_ctx=max(1024, prompt_tokens + decode_tokens + 8),
                                 n_threads=threads, model_label=label, device="auto",
                                 cpu_plan=placement_plan(path, placement)))
    llm = engine.llm
    tokens: list[int] = []
    while len(tokens) < prompt_tokens:
        tokens += llm.tokenize(_TEXT.encode(), add_bos=False, special=False)
    tokens = tokens[:prompt_tokens]
    started = time.perf_counter()
    llm.eval(tokens)
    prompt_s = time.perf_counter() - started
    import numpy as np

    started = time.perf_counter()
    for _ in range(decode_tokens):
        logits = np.ctypeslib.as_array(engine._lib.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(engine.n_vocab,))
        llm.eval([int(np.argmax(logits))])
    decode_s = time.perf_counter() - started
    plan = engine.cpu_plan
    return ProbeResult(True, label, prompt_tokens, round(prompt_tokens / prompt_s, 1), decode_tokens,
                       round(decode_tokens / decode_s, 1), plan.summary, plan.amx_avoided, plan.repacked)


def crash_fix(signame: str, amx_in_build: bool, amx_opted_in: bool) -> str:
    """What to do after the probe died by a signal."""
    if amx_in_build and amx_opted_in:
        return (f"this CPU has AMX and SOFTTIGER_CPU_AMX=1 put the weights in llama.cpp's AMX buffer; its kernels "
                f"crashed ({signame}): unset SOFTTIGER_CPU_AMX")
    if amx_in_build:
        return (f"llama.cpp crashed ({signame}) on a build with AMX although softtiger kept the AMX buffer off; "
                "rebuild llama-cpp-python without AMX: CMAKE_ARGS=\"-DGGML_NATIVE=OFF -DGGML_AVX2=ON "
                "-DGGML_AVX512=ON\" pip install --force-reinstall --no-cache-dir llama-cpp-python")
    return (f"llama.cpp crashed ({signame}) while running the model; rebuild llama-cpp-python for this CPU "
            "(pip install --force-reinstall --no-cache-dir llama-cpp-python) and check the model file")


def run_probe(path: Path, *, label: str, threads: int | None = None, timeout: float = 300.0,
              placement: str = "auto", prompt_tokens: int = PROMPT_TOKENS,
              decode_tokens: int = DECODE_TOKENS) -> ProbeResult:
    """Run the probe in a child process and read its one JSON line; a signal or a timeout is a result."""
    cmd = [sys.executable, "-m", "softtiger_cli.llm.probe", str(path), "--label", label, "--placement", placement,
           "--prompt-tokens", str(prompt_tokens), "--decode-tokens", str(decode_tokens)]
    if threads:
        cmd += ["--threads", str(threads)]
    env = {k: v for k, v in os.environ.items() if k != "SOFTTIGER_DEBUG"}
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, label, error=f"no answer within {timeout:.0f} s",
                           fix="the machine is very slow or busy; rerun doctor when it is idle")
    except OSError as exc:
        return ProbeResult(False, label, error=f"could not start the probe ({exc.strerror or type(exc).__name__})")
    return interpret(proc.returncode, proc.stdout, proc.stderr, label)


def interpret(returncode: int, stdout: bytes, stderr: bytes, label: str) -> ProbeResult:
    """The probe child's result from its exit status and output: died by a signal -> the signal and a fix."""
    from softtiger_cli.models.cpu import build_features, opted_in

    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return ProbeResult(False, label, signal=name, error=f"the model process died by {name}",
                           fix=crash_fix(name, build_features().amx, opted_in()))
    lines = stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        return ProbeResult(**json.loads(lines[-1]))
    except (IndexError, ValueError, TypeError):
        tail = stderr.decode("utf-8", "replace").strip().splitlines()
        return ProbeResult(False, label, error=(tail[-1][:200] if tail else f"exit code {returncode}"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="softtiger's inference probe (used by `softtiger doctor`)")
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--label", default="")
    parser.add_argument("--placement", choices=PLACEMENTS, default="auto")
    parser.add_argument("--prompt-tokens", type=int, default=PROMPT_TOKENS)
    parser.add_argument("--decode-tokens", type=int, default=DECODE_TOKENS)
    args = parser.parse_args(argv)
    from softtiger_cli.core.errors import SofttigerError

    try:
        result = _child(args.model, args.threads, args.label or args.model.name, args.placement,
                        args.prompt_tokens, args.decode_tokens)
    except SofttigerError as exc:
        result = ProbeResult(False, args.label or args.model.name, error=exc.one_line())
    sys.stdout.write(json.dumps(result.as_dict()) + "\n")


if __name__ == "__main__":
    main()
