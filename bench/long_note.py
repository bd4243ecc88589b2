"""Long-note benchmark: chunks, prompt tokens evaluated vs submitted, wall time, peak RSS.

    python bench/long_note.py [--chars 200000] [--model PATH|NAME] [--task ips]

Prints one line per measure. Peak RSS is compared with the RSS right after the model loaded and its whole
context was filled once (weights, KV cache and compute buffers resident): the difference is what the
pipeline adds for the note, which must not grow with the note (compare `--chars 5000`).
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

    from softtiger_cli.note.reader import decode_note
    from softtiger_cli.pipeline.run import StructureOptions, parse_tasks, structure_note
    from softtiger_cli.batch.single import open_engine

    text = long_note(args.chars)
    note = decode_note(text.encode(), "long-note")
    engine = open_engine(args.model, device="auto", n_ctx=args.n_ctx, seed=0, threads=None, offline=True, say=lambda m: None)
    # Fill the whole context once, so "after load" counts every page of the KV cache and llama.cpp's
    # compute buffers (allocated up front, but resident only once written).
    filler = engine.llm.tokenize(b" note", add_bos=False)[:1] * (engine.n_ctx - 8)
    engine.llm.eval(filler)
    engine.llm.n_tokens = 0
    rss_loaded = current_rss_mb()
    started = time.perf_counter()
    result = structure_note(engine, note, StructureOptions(tasks=parse_tasks([args.task]), timestamp="2000-01-01T00:00:00Z"))
    wall = time.perf_counter() - started
    stats = engine.stats
    ex = result.extraction
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
    covered, pos = True, 0
    for lo, hi in sorted(ex.chunks):
        covered = covered and lo <= pos
        pos = max(pos, hi)
    covered = covered and pos >= len(note.text.rstrip())
    span_exts = [s for e in result.bundle["entry"] for s in e["resource"].get("extension", [])
                 if s.get("url", "").endswith("derivation-reference")]
    in_bounds = 0
    for ext in span_exts:
        fields = {f["url"]: list(f.values())[1] for f in ext["extension"]}
        lo, n = fields["offset"], fields["length"]
        in_bounds += 0 <= lo and n > 0 and lo + n <= len(note.text) and bool(note.text[lo:lo + n].strip())
    clinical = [e["resource"] for e in result.bundle["entry"] if e["resource"]["resourceType"] in
                ("Condition", "MedicationStatement", "AllergyIntolerance", "Procedure", "Immunization")]
    unspanned = sum(1 for r in clinical if not r.get("extension"))
    print(f"chunks_cover_note     {'yes' if covered else 'NO'} (no truncation)")
    print(f"spans_in_note         {in_bounds}/{len(span_exts)} index non-blank note text; items without a span {unspanned}")
    print(f"list_items            {ex.list_items}, questions settled by lists "
          f"{ex.covered_questions}")
    print(f"wall_seconds          {wall:.1f}")
    print(f"rss_after_load_mb     {rss_loaded:.0f}  (model, full KV cache and buffers)")
    print(f"peak_rss_mb           {peak_rss_mb():.0f}")
    print(f"pipeline_extra_mb     {peak_rss_mb() - rss_loaded:.0f}  (note itself: {len(text.encode()) / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
