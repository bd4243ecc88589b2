"""End-to-end `structure` time vs time inside llama.cpp, and prompt-prefix reuse, over a dev-note batch.

    python bench/overhead.py [--notes 10] [--model PATH|NAME] [--task all]

Overhead = everything outside llama.cpp's decode calls (Python sampling glue, grammar checks, parsing,
grounding, assembly, fhir.resources validation, JSON writing) as a share of the time inside them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import note_files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=10)
    ap.add_argument("--model", default=None)
    ap.add_argument("--task", default="all")
    args = ap.parse_args()

    from softtiger_cli.note.reader import read_note
    from softtiger_cli.batch.output import dumps_bundle, write_atomic
    from softtiger_cli.pipeline.run import StructureOptions, parse_tasks, structure_note
    from softtiger_cli.batch.single import open_engine

    files = note_files()
    step = max(1, len(files) // args.notes)
    files = files[::step][: args.notes]
    engine = open_engine(args.model, device="auto", n_ctx=None, seed=0, threads=None, offline=True, say=lambda m: None)
    options = StructureOptions(tasks=parse_tasks([args.task]))
    out_dir = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    for f in files:
        note = read_note(str(f))
        result = structure_note(engine, note, options)
        write_atomic(out_dir / (f.stem + ".json"), dumps_bundle(result.bundle))
    wall = time.perf_counter() - started
    s = engine.stats
    model = s.llama_seconds
    print(f"notes                 {len(files)} (task {args.task})")
    print(f"wall_seconds          {wall:.2f}")
    print(f"llama_decode_seconds  {model:.2f}")
    print(f"overhead_seconds      {wall - model:.2f}")
    print(f"overhead_ratio        {(wall - model) / model:.3f}  (target <= 0.05)")
    print(f"generated_tokens      {s.generated_tokens}  ({s.generated_tokens / wall:.1f} tok/s end to end)")
    print(f"prompt_tokens         submitted {s.prompt_tokens}, evaluated {s.evaluated_prompt_tokens}, "
          f"reused {1 - s.evaluated_prompt_tokens / max(1, s.prompt_tokens):.1%}")
    print(f"questions             {s.calls}, full grammar masks {s.full_masks}")
    print(json.dumps({"wall": round(wall, 2), "llama": round(model, 2), "overhead_ratio": round((wall - model) / model, 4)}))


if __name__ == "__main__":
    main()
