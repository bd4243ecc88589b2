"""Raw llama.cpp speed, softtiger's serial loop and its parallel path, in one run (meaningful on a GPU).

    python bench/gpu.py [--model PATH|NAME] [--notes DIR] [--limit 20] [--parallel 1,4,16,64]
                        [--n-ctx N] [--device auto|cpu|gpu] [--flash-attn] [--kv-unified auto|on|off]
                        [--threads N] [--skip-raw] [--json OUT]

Measured in one process with one loaded model:
1. raw llama.cpp: prompt speed (a 512-token batch) and decode speed at batch 1, then S sequences decoded
   together (one token each per llama_decode, no grammar) for each S of --parallel: tokens/s in total;
2. softtiger's serial constrained loop: `structure_note` over the notes (--parallel 1): notes/min,
   generated tokens/s, and the share of time inside llama.cpp;
3. the parallel path at each N: the same notes with the chunk's questions decoded together (`--parallel
   N`); notes/min, tokens/s, and how many answers differ from the serial ones (token for token);
4. pooled: the first chunk's questions of all notes in one `generate_many` at each N, the throughput a
   batch that mixes notes would reach.
VRAM used comes from nvidia-smi where there is one. Ratios are printed against the same run's serial and
raw numbers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import note_files

STAMP = "2026-01-01T00:00:00Z"


def vram_used_mib() -> int | None:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=memory.used", "--format=csv,noheader,nounits"], capture_output=True,
                             text=True, timeout=10).stdout
        return int(out.split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def raw_speed(engine, seqs: list[int], unified: bool, steps: int = 64) -> dict:
    """Prompt and decode speed of llama.cpp itself, no grammar, no softtiger loop."""
    from softtiger_cli.llm.parallel import ParallelDecoder

    out: dict = {}
    llm = engine.llm
    prompt = [int(t) for t in np.random.default_rng(0).integers(100, engine.n_vocab - 100, 512)]
    llm.n_tokens = 0
    llm.eval(prompt[:8])  # warm
    llm.n_tokens = 0
    t = time.perf_counter()
    llm.eval(prompt)
    out["prompt_tok_s"] = len(prompt) / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(128):
        llm.eval([int(np.argmax(engine._logits()))])
    out["decode_tok_s"] = 128 / (time.perf_counter() - t)
    out["batched"] = {}
    for s in seqs:
        dec = ParallelDecoder(engine, s, unified=unified, n_ctx_seq=256)  # 64 prompt + `steps` tokens each
        try:
            entries = [(tok, k, seq, k == 63) for seq in range(s) for k, tok in enumerate(prompt[:64])]
            for start in range(0, len(entries), 512):
                dec._decode(entries[start:start + 512])
            t = time.perf_counter()
            for step in range(steps):
                dec._decode([(prompt[(step + seq) % 512], 64 + step, seq, True) for seq in range(s)])
            out["batched"][s] = s * steps / (time.perf_counter() - t)
            out.setdefault("vram_mib", {})[s] = vram_used_mib()
        finally:
            dec.close()
    return out


def run_notes(engine, notes: list[Path], options) -> tuple[float, list]:
    from softtiger_cli.note.reader import read_note
    from softtiger_cli.pipeline.run import structure_note

    results = []
    started = time.perf_counter()
    for path in notes:
        try:
            results.append(structure_note(engine, read_note(str(path)), options))
        except Exception as exc:  # noqa: BLE001 - a failed note is counted, not fatal
            results.append(exc)
    return time.perf_counter() - started, results


def set_parallel(engine, n: int) -> None:
    if engine._parallel_decoder is not None:
        engine._parallel_decoder.close()
        engine._parallel_decoder = None
    engine.parallel = n


def differing(a: list, b: list) -> tuple[int, int, int]:
    """(answers compared, answers whose text differs, bundles that differ) between two runs."""
    answers = diff = bundles = 0
    for x, y in zip(a, b):
        if isinstance(x, Exception) or isinstance(y, Exception):
            bundles += type(x) is not type(y)
            continue
        gx, gy = x.extraction.generations, y.extraction.generations
        answers += max(len(gx), len(gy))
        diff += sum(p.text != q.text for p, q in zip(gx, gy)) + abs(len(gx) - len(gy))
        bundles += json.dumps(x.bundle, sort_keys=True) != json.dumps(y.bundle, sort_keys=True)
    return answers, diff, bundles


def tokens(results: list) -> int:
    return sum(g.generated_tokens for r in results if not isinstance(r, Exception) for g in r.extraction.generations)


def pooled_requests(engine, notes: list[Path]):
    """The first chunk's questions of every note, as generate_many requests (asked through ask_many's
    own request builder), captured without decoding."""
    import softtiger_cli.pipeline.extract as extract_mod
    from softtiger_cli.note.reader import read_note
    from softtiger_cli.pipeline.ask import _request
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    captured = []

    class Stop(Exception):
        pass

    def capture(engine_, result, questions, ci, keep_debug, on_question=None):
        captured.extend(questions)
        raise Stop

    real = extract_mod.ask_many
    extract_mod.ask_many = capture
    try:
        for path in notes:
            try:
                structure_note(engine, read_note(str(path)), StructureOptions(timestamp=STAMP))
            except Stop:
                pass
    finally:
        extract_mod.ask_many = real
    return lambda: [_request(engine, q) for q in captured]


def loop_speed(engine, make) -> tuple[float, int]:
    """softtiger's serial constrained loop alone: each question's prompt cached first (a 1-token answer),
    then the full answer timed: generated tokens/s of grammar-checked greedy decoding."""
    total_t, total_n = 0.0, 0
    for r, again in zip(make(), make()):
        engine.generate(r.segments, r.gbnf, r.root, 1)
        t = time.perf_counter()
        gen = engine.generate(again.segments, again.gbnf, again.root, again.max_tokens, watch=again.watch)
        total_t += time.perf_counter() - t
        total_n += gen.generated_tokens
    return (total_n / total_t if total_t else 0.0), total_n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--notes", type=Path, default=None, help="folder of .txt notes (default: the dev notes)")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--parallel", default="1,4,16,64")
    ap.add_argument("--n-ctx", type=int, default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--flash-attn", action="store_true")
    ap.add_argument("--kv-unified", default="auto", choices=("auto", "on", "off"))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-raw", action="store_true")
    ap.add_argument("--skip-pooled", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from softtiger_cli.llm.engine import Engine, EngineConfig
    from softtiger_cli.models.registry import resolve_model
    from softtiger_cli.pipeline.run import StructureOptions

    ns = [int(x) for x in args.parallel.split(",") if x.strip()]
    notes = sorted(args.notes.glob("**/*.txt"))[: args.limit] if args.notes else note_files(args.limit)
    resolved = resolve_model(args.model)
    unified = None if args.kv_unified == "auto" else args.kv_unified == "on"
    t = time.perf_counter()
    engine = Engine(EngineConfig(model_path=resolved.path, n_ctx=args.n_ctx, device=args.device, n_threads=args.threads,
                                 prompt_format=resolved.prompt_format, model_label=resolved.label, parallel=1,
                                 flash_attn=args.flash_attn, kv_unified=unified))
    load_s = time.perf_counter() - t
    unified_eff = engine.gpu if unified is None else unified
    report: dict = {"model": resolved.label, "path": str(resolved.path), "gpu": engine.gpu, "n_ctx": engine.n_ctx,
                    "threads": engine.threads, "flash_attn": args.flash_attn, "kv_unified": unified_eff,
                    "notes": len(notes), "load_s": round(load_s, 2), "vram_after_load_mib": vram_used_mib()}
    print(f"model {resolved.label}  gpu {engine.gpu}  n_ctx {engine.n_ctx}  threads {engine.threads}  "
          f"flash_attn {args.flash_attn}  kv_unified {unified_eff}  notes {len(notes)}  load {load_s:.1f}s")
    sys.stdout.flush()

    if not args.skip_raw:
        raw = raw_speed(engine, [n for n in ns if n > 1], unified_eff)
        report["raw"] = raw
        print(f"raw llama.cpp: prompt {raw['prompt_tok_s']:.0f} tok/s, decode batch 1 {raw['decode_tok_s']:.1f} tok/s")
        for s, v in raw["batched"].items():
            print(f"  {s:>3} sequences together: {v:.1f} tok/s in total ({v / raw['decode_tok_s']:.2f}x batch 1)"
                  + (f", VRAM {raw['vram_mib'][s]} MiB" if raw.get("vram_mib", {}).get(s) else ""))
        sys.stdout.flush()

    make = pooled_requests(engine, notes[:1])
    set_parallel(engine, 1)
    speed, n_tok = loop_speed(engine, make)
    report["serial_loop_tok_s"] = round(speed, 1)
    print(f"serial constrained loop (prompt cached, {n_tok} tokens): {speed:.1f} tok/s"
          + (f" = {speed / report['raw']['decode_tok_s']:.2f} x raw decode" if "raw" in report else ""))
    options = StructureOptions(timestamp=STAMP)
    runs: dict = {}
    serial = None
    for n in ns:
        set_parallel(engine, n)
        before = engine.stats.llama_seconds
        seconds, results = run_notes(engine, notes, options)
        llama_s = engine.stats.llama_seconds - before
        gen = tokens(results)
        failed = sum(isinstance(r, Exception) for r in results)
        entry = {"seconds": round(seconds, 2), "notes_per_min": round(60 * len(notes) / seconds, 2),
                 "tok_s": round(gen / seconds, 1), "generated": gen, "failed": failed,
                 "llama_share": round(llama_s / seconds, 3) if n == 1 else None, "vram_mib": vram_used_mib()}
        if serial is None:
            serial = (seconds, results)
        else:
            answers, diff, bundles = differing(serial[1], results)
            entry.update(answers=answers, answers_differing=diff, bundles_differing=bundles,
                         speedup=round(serial[0] / seconds, 2))
        runs[n] = entry
        line = (f"structure --parallel {n}: {seconds:.1f}s, {entry['notes_per_min']} notes/min, {entry['tok_s']} tok/s"
                + (f", failed {failed}" if failed else ""))
        if n == 1 and entry["llama_share"] is not None:
            line += f", {entry['llama_share']:.0%} of the time in llama.cpp (prompts included)"
        if "speedup" in entry:
            line += (f"; {entry['speedup']}x serial; answers differing {entry['answers_differing']}/{entry['answers']},"
                     f" bundles differing {entry['bundles_differing']}")
        print(line)
        sys.stdout.flush()
    report["structure"] = runs

    if not args.skip_pooled:
        make = pooled_requests(engine, notes)
        pooled: dict = {}
        for n in ns:
            set_parallel(engine, n)
            requests = make()
            t = time.perf_counter()
            gens = engine.generate_many(requests)
            seconds = time.perf_counter() - t
            gen = sum(g.generated_tokens for g in gens)
            pooled[n] = {"questions": len(requests), "seconds": round(seconds, 2), "tok_s": round(gen / seconds, 1)}
            if n != ns[0]:
                pooled[n]["speedup"] = round(pooled[ns[0]]["seconds"] / seconds, 2)
            print(f"pooled first chunks ({len(requests)} questions) at N={n}: {seconds:.1f}s, {pooled[n]['tok_s']} tok/s"
                  + (f", {pooled[n]['speedup']}x N={ns[0]}" if "speedup" in pooled[n] else ""))
            sys.stdout.flush()
        report["pooled"] = pooled
    engine.close()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
