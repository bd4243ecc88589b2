"""Prompt and decode speed by CPU weight placement, measured in one run: llama.cpp's default (the AMX buffer
where the build has AMX, CPU repacking otherwise), softtiger's AMX-free placement (extra buffers off,
repackable matrices put in CPU_REPACK by name), and extra buffers off with nothing repacked.

Each placement runs in its own child process (softtiger_cli/llm/probe.py), one after another; a placement
that crashes is reported with its signal. Ratios are against softtiger's placement.

    python bench/cpu_buffers.py MODEL.gguf [MODEL.gguf ...] [--threads 2] [--prompt 256] [--decode 32]
    python bench/cpu_buffers.py --quantize SRC.gguf DST.gguf [--type q4_0]   # make a Q4_0/Q4_K file first

For a 13B-shaped file: ../shared/tools/shape_gguf.py VOCAB.gguf shape-f16.gguf [--layers 8], then
--quantize it to Q4_0 (the shape's speed per layer is a 13B model's; fewer layers keep the run short).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from softtiger_cli.llm.probe import run_probe  # noqa: E402
from softtiger_cli.models.cpu import build_features  # noqa: E402

PLACEMENTS = (("amx-off", "softtiger: AMX buffer off, repack by name"),
              ("default", "llama.cpp default (AMX buffer where built)"),
              ("no-extra", "extra buffers off, no repacking"))
FTYPES = {"q4_0": 2, "q4_1": 3, "q8_0": 7, "q4_k_m": 15, "q4_k_s": 14}


def quantize(src: Path, dst: Path, kind: str, threads: int) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[kind]
    params.nthread = threads
    params.allow_requantize = True
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise SystemExit(f"quantize failed ({rc})")
    print(f"wrote {dst} ({dst.stat().st_size / 2**30:.2f} GiB, {kind})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=256)
    ap.add_argument("--decode", type=int, default=32)
    ap.add_argument("--quantize", nargs=2, type=Path, metavar=("SRC", "DST"))
    ap.add_argument("--type", default="q4_0", choices=sorted(FTYPES))
    args = ap.parse_args()
    if args.quantize:
        quantize(*args.quantize, args.type, args.threads)
        return
    features = build_features()
    print(f"CPU: {platform.processor() or platform.machine()}; build: AMX_INT8={int(features.amx)} "
          f"AVX512={int(features.has('AVX512'))} AVX2={int(features.has('AVX2'))} REPACK={int(features.repack)}; "
          f"{args.threads} threads; prompt {args.prompt} tokens, decode {args.decode} tokens")
    for model in args.models:
        print(f"\n{model.name} ({model.stat().st_size / 2**30:.2f} GiB)")
        base = None
        for placement, words in PLACEMENTS:
            r = run_probe(model, label=model.name, threads=args.threads, placement=placement,
                          prompt_tokens=args.prompt, decode_tokens=args.decode, timeout=1800)
            if not r.ok:
                print(f"  {words:46s} FAILED: {r.error}")
                continue
            if base is None:
                base = r
            print(f"  {words:46s} prompt {r.prompt_tok_s:8.1f} tok/s ({r.prompt_tok_s / base.prompt_tok_s:4.2f}x)"
                  f"   decode {r.decode_tok_s:6.1f} tok/s ({r.decode_tok_s / base.decode_tok_s:4.2f}x)"
                  f"   repacked by name: {r.repacked}")


if __name__ == "__main__":
    main()
