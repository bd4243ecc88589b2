"""Long-note benchmark: chunks, prompt tokens evaluated vs submitted, wall time, peak RSS.

    python bench/long_note.py [--chars 200000] [--model PATH|NAME] [--task ips]

Prints one line per measure. Peak RSS is compared with the RSS right after the model loaded (weights and
KV cache): the difference is what the pipeline adds for the note, which must not grow with the note.
"""

from __future__ import annotations

import argparse
import time

from _common import current_rss_mb, long_note, peak_rss_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chars", type=int, default=200_000)
    ap.add_argument("--model", default=None)
    ap.add_argument("--task", default="ips")
    ap.add_argument("--n-ctx", type=int, default=None)
    args = ap.parse_args()

    from softtiger_cli.notes import decode_note
    from softtiger_cli.pipeline import StructureOptions, parse_tasks, structure_note
    from softtiger_cli.workflow import open_engine

    text = long_note(args.chars)
    note = decode_note(text.encode(), "long-note")
    engine = open_engine(args.model, device="auto", n_ctx=args.n_ctx, seed=0, threads=None, offline=True, say=lambda m: None)
    # Touch the whole KV cache once so "after load" includes it.
    engine.llm.eval(engine.llm.tokenize(b"warm up", add_bos=False))
    rss_loaded = current_rss_mb()
    started = time.perf_counter()
    result = structure_note(engine, note, StructureOptions(tasks=parse_tasks([args.task]), timestamp="2000-01-01T00:00:00Z"))
    wall = time.perf_counter() - started
    stats = engine.stats
    ex = result.extractions[0]
    spans = sum(len(e["resource"].get("extension", [])) for e in result.bundle["entry"])
    chunk_starts = sorted({c[0] for c in ex.chunks})
    print(f"note_chars            {len(text)}")
    print(f"note_tokens           {engine.count_tokens(text)}")
    print(f"n_ctx                 {engine.n_ctx}")
    print(f"chunks                {len(ex.chunks)}")
    print(f"questions_asked       {stats.calls} (skipped by section steering: {ex.skipped_questions})")
    print(f"prompt_tokens_total   {stats.prompt_tokens}")
    print(f"prompt_tokens_eval    {stats.evaluated_prompt_tokens}  ratio {stats.evaluated_prompt_tokens / max(1, stats.prompt_tokens):.3f}")
    print(f"generated_tokens      {stats.generated_tokens}")
    print(f"resources             {len(result.bundle['entry'])}, spans {spans}, first chunk starts {chunk_starts[:3]}...")
    print(f"wall_seconds          {wall:.1f}")
    print(f"rss_after_load_mb     {rss_loaded:.0f}")
    print(f"peak_rss_mb           {peak_rss_mb():.0f}")
    print(f"pipeline_extra_mb     {peak_rss_mb() - rss_loaded:.0f}  (note itself: {len(text.encode()) / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
