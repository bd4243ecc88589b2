"""Prompt-lookup (speculative) decoding under the grammar vs the plain constrained loop, same outputs.

    python bench/prompt_lookup.py [--model PATH|NAME] [--ngram 2] [--draft 8] [--reps 2]

Extraction copies spans of the note, so the tokens after the last few generated ones can often be found
in the prompt and proposed as a draft; one batched decode then verifies the whole draft (greedy under the
grammar, token by token), and the KV cache is rolled back past the first mismatch. The script checks that
both loops produce the same tokens and prints tokens/s of each and their ratio, per task group.
"""

from __future__ import annotations

import argparse
import ctypes
import time

import numpy as np
from _common import note_files


def choose(engine, sampler, logits) -> int:
    top = int(np.argmax(logits))
    if engine._allowed(sampler, top, float(logits[top])):
        return top
    token = engine._best_of_top(sampler, logits, float(logits[top]))
    return token if token >= 0 else engine._masked_argmax(sampler, logits)


def plain(engine, tokens, gbnf, root, bound) -> tuple[list[int], float]:
    lib, llm = engine._lib, engine.llm
    engine._eval_prompt(tokens)
    sampler = engine.grammar(gbnf, root)
    sampler.reset()
    out: list[int] = []
    started = time.perf_counter()
    while len(out) < bound:
        token = choose(engine, sampler, engine._logits())
        if lib.llama_vocab_is_eog(engine._vocab, token):
            break
        lib.llama_sampler_accept(sampler.ptr, token)
        out.append(token)
        llm.eval([token])
    return out, time.perf_counter() - started


def lookup(engine, tokens, gbnf, root, bound, ngram: int, draft_len: int) -> tuple[list[int], float, int]:
    lib, llm = engine._lib, engine.llm
    engine._eval_prompt(tokens)
    sampler = engine.grammar(gbnf, root)
    sampler.reset()
    out: list[int] = []
    drafted = 0
    started = time.perf_counter()
    logits = engine._logits().copy()
    while len(out) < bound:
        token = choose(engine, sampler, logits)
        if lib.llama_vocab_is_eog(engine._vocab, token):
            break
        lib.llama_sampler_accept(sampler.ptr, token)
        out.append(token)
        history = tokens + out
        draft: list[int] = []
        if len(history) >= ngram:
            key = history[-ngram:]
            for i in range(len(tokens) - ngram - 1, -1, -1):  # latest occurrence in the prompt
                if tokens[i : i + ngram] == key:
                    draft = tokens[i + ngram : i + ngram + draft_len]
                    break
        draft = draft[: max(0, bound - len(out))]
        batch = [token] + draft
        n_past = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(batch)] = batch
        llm.n_tokens = n_past + len(batch)
        accepted = 0
        for i, d in enumerate(draft):
            lg = np.ctypeslib.as_array(lib.llama_get_logits_ith(llm._ctx.ctx, i), shape=(engine.n_vocab,))
            if choose(engine, sampler, lg) != d or lib.llama_vocab_is_eog(engine._vocab, d):
                break
            lib.llama_sampler_accept(sampler.ptr, d)
            out.append(d)
            accepted += 1
        drafted += accepted
        keep = n_past + 1 + accepted
        llm._ctx.kv_cache_seq_rm(-1, keep, -1)
        llm.n_tokens = keep
        logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(llm._ctx.ctx, accepted), shape=(engine.n_vocab,)).copy()
    return out, time.perf_counter() - started, drafted


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--ngram", type=int, default=2)
    ap.add_argument("--draft", type=int, default=8)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()

    from softtiger_cli.pipeline.questions import SYSTEM_PROMPT, group_prompt, output_bound
    from softtiger_cli.fhir.gbnf import group_root
    from softtiger_cli.fhir.grammars import load
    from softtiger_cli.fhir.schema import TASKS
    from softtiger_cli.batch.single import open_engine

    engine = open_engine(args.model, device="auto", n_ctx=None, seed=0, threads=None, offline=True, say=lambda m: None)
    note = note_files()[0].read_text(encoding="utf-8")
    print(f"{'task/group':<26}{'tokens':>7}{'plain tok/s':>13}{'lookup tok/s':>14}{'ratio':>8}{'drafted':>9}{'same':>6}")
    total_plain = total_lookup = 0.0
    total_tokens = 0
    for task in TASKS.values():
        files = load("R4B", task.name)
        for group in task.groups:
            gschema = {"properties": {group.name: files.schema["properties"][group.name]}}
            tokens = engine.tokenize_segments(engine.segments(SYSTEM_PROMPT, group_prompt(group, gschema, note)))
            root, bound = group_root(group.name), min(output_bound(group, gschema), 400)
            p_time = l_time = 0.0
            n = drafted = 0
            same = True
            for _ in range(args.reps):
                a, ta = plain(engine, tokens, files.gbnf_text, root, bound)
                b, tb, d = lookup(engine, tokens, files.gbnf_text, root, bound, args.ngram, args.draft)
                same &= a == b
                p_time += ta
                l_time += tb
                n += len(a)
                drafted += d
            total_plain += p_time
            total_lookup += l_time
            total_tokens += n
            print(f"{task.name + '/' + group.name:<26}{n:>7}{n / p_time:>13.1f}{n / l_time:>14.1f}"
                  f"{p_time / l_time:>8.3f}{drafted:>9}{str(same):>6}")
    print(f"overall lookup/plain speed ratio {total_plain / total_lookup:.3f} over {total_tokens} tokens")


if __name__ == "__main__":
    main()
