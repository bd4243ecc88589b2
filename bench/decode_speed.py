"""Constrained vs free decoding speed, per task grammar, in one process on the same prompt.

    python bench/decode_speed.py [--model PATH|NAME] [--reps 3]

For every group root of every task grammar: decode greedily under the grammar with softtiger's
check-then-mask loop (T tokens, until the JSON closes), then decode exactly T tokens from the same
prompt with an identical loop that applies no grammar, and print tokens/s of both and their ratio.
The prompt is cached before timing; both sides time the same prompt step (tokenize, reuse the cached
prefix, evaluate its last token) and then decoding. A reference line gives
llama-cpp-python's own grammar path (full mask on every token) for the same grammar and token count.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import note_files


def free_decode(engine, segments, n: int) -> float:
    """The same loop as Engine.generate without any grammar work: the same prompt step (tokenize, reuse
    the cached prefix, evaluate the last prompt token), then argmax, detokenize, eval."""
    llm = engine.llm
    started = time.perf_counter()
    engine._eval_prompt(engine.tokenize_segments(segments))
    prev: list[int] = []
    for i in range(n):
        logits = engine._logits()
        token = int(np.argmax(logits))
        llm.detokenize([token], prev_tokens=prev[-4:] or None)
        prev.append(token)
        if i < n - 1:  # like generate: the token that completes the answer is not evaluated
            llm.eval([token])
    return time.perf_counter() - started


def constrained_decode(engine, segments, gbnf: str, root: str, bound: int):
    from softtiger_cli.llm.jsonwatch import JsonWatch

    engine.generate(segments, gbnf, root, 1)  # warm the prompt cache and the grammar parse
    started = time.perf_counter()
    gen = engine.generate(segments, gbnf, root, bound, watch=JsonWatch())
    return time.perf_counter() - started, gen


def llama_cpp_python_grammar(engine, prompt_text: str, gbnf: str, root: str, n: int) -> float:
    import llama_cpp

    grammar = llama_cpp.LlamaGrammar.from_string(gbnf.replace("root ::= task", f"root ::= {root}", 1))
    engine.llm.create_completion(prompt_text, max_tokens=1, temperature=0.0, grammar=grammar)
    started = time.perf_counter()
    out = engine.llm.create_completion(prompt_text, max_tokens=n, temperature=0.0, grammar=grammar)
    elapsed = time.perf_counter() - started
    return elapsed, out["usage"]["completion_tokens"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--reference", action="store_true", help="also time llama-cpp-python's full-mask grammar path")
    args = ap.parse_args()

    from softtiger_cli.pipeline.questions import SYSTEM_PROMPT, group_prompt, output_bound
    from softtiger_cli.fhir.gbnf import group_root
    from softtiger_cli.fhir.grammars import load
    from softtiger_cli.llm.prompting import plain_text
    from softtiger_cli.fhir.schema import TASKS
    from softtiger_cli.batch.single import open_engine

    engine = open_engine(args.model, device="auto", n_ctx=None, seed=0, threads=None, offline=True, say=lambda m: None)
    note = note_files()[0].read_text(encoding="utf-8")
    print(f"model {engine.config.model_label}  threads {engine.llm.n_threads}  note {note_files()[0].name}")
    print(f"{'task/group':<26}{'tokens':>7}{'free tok/s':>12}{'grammar tok/s':>15}{'ratio':>8}{'masks':>7}")
    worst = 1.0
    for task in TASKS.values():
        files = load("R4B", task.name)
        for group in task.groups:
            gschema = {"properties": {group.name: files.schema["properties"][group.name]}}
            segments = engine.segments(SYSTEM_PROMPT, group_prompt(group, gschema, note))
            root = group_root(group.name)
            bound = output_bound(group, gschema)
            c_time = f_time = 0.0
            n_total = masks = 0
            for _ in range(args.reps):
                elapsed, gen = constrained_decode(engine, segments, files.gbnf_text, root, bound)
                n = gen.generated_tokens
                c_time += elapsed
                f_time += free_decode(engine, segments, n)
                n_total += n
                masks += gen.full_masks
            ratio = (n_total / c_time) / (n_total / f_time)
            worst = min(worst, ratio)
            print(f"{task.name + '/' + group.name:<26}{n_total:>7}{n_total / f_time:>12.1f}{n_total / c_time:>15.1f}"
                  f"{ratio:>8.3f}{masks:>7}")
            if args.reference:
                r_time, r_n = llama_cpp_python_grammar(engine, plain_text(segments), files.gbnf_text, root, bound)
                print(f"{'  llama-cpp-python grammar':<26}{r_n:>7}{'':>12}{r_n / r_time:>15.1f}"
                      f"{(r_n / r_time) / (n_total / f_time):>8.3f}")
    print(f"worst constrained/free ratio {worst:.3f}")


if __name__ == "__main__":
    main()
