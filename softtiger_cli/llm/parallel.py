"""Several questions decoded together: one llama.cpp batch, one sequence per question.

The questions of a chunk share the note at the front of their prompts. The decoder evaluates each shared
prefix once and lets the other sequences reuse its KV cells (`llama_memory_seq_cp` in a unified KV cache:
the cells are shared, not copied), then evaluates every prompt's own rest and decodes one token of every
unfinished answer per `llama_decode`. Each sequence keeps its own grammar sampler, watch, stop and token
budget, and every decision goes through `Engine.step`, the serial path's own code: greedy decoding picks
the same tokens as the serial path wherever llama.cpp's batched arithmetic gives the same logits.

Memory: the context holds `n_seq` sequences of the engine's full context each (`n_seq * n_ctx` cells of
`kv_bytes_per_token`), so any mix of prompts and answers fits; the shared prefixes make the real use lower.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from softtiger_cli.core import crash
from softtiger_cli.core.errors import GenerationError, ModelError
from softtiger_cli.llm.base import Generation, Request, Segment

N_BATCH = 512  # tokens per llama_decode call (prompt rests are split across calls)


class DecodeFailed(Exception):
    """llama_decode returned non-zero (no free KV cells, out of memory): the engine reports it."""

    def __init__(self, code: int) -> None:
        super().__init__(f"llama_decode returned {code}")
        self.code = code


@dataclass
class Answer:
    """One answer being decoded: its grammar sampler and watch, and what it has produced so far."""

    sampler: Any
    watch: Any
    budget: int
    out: bytearray = field(default_factory=bytearray)
    prev_tokens: list[int] = field(default_factory=list)
    generated: int = 0
    full_masks: int = 0
    forced: int = 0
    stop: str = "max_tokens"
    model_seconds: float = 0.0

    def generation(self, prompt_tokens: int, reused: int, seconds: float) -> Generation:
        return Generation(
            text=self.out.decode("utf-8", errors="replace"), prompt_tokens=prompt_tokens, reused_tokens=reused,
            generated_tokens=self.generated, full_masks=self.full_masks, seconds=seconds, stop=self.stop,
            forced_closes=self.forced, model_seconds=self.model_seconds,
        )


class DecodingEngine(Protocol):
    """What the decoder uses of llm/engine.Engine (which imports this module): its llama.cpp handles and
    sizes, its tokenizer and grammars, and its greedy step."""

    _lib: Any  # the llama_cpp module
    _vocab: Any
    llm: Any  # llama_cpp.Llama
    config: Any  # EngineConfig (flash_attn)
    n_ctx: int
    n_vocab: int
    threads: int

    def tokenize_segments(self, segments: list[Segment]) -> list[int]: ...

    def grammar(self, gbnf: str, root: str = "root") -> Any: ...

    def step(self, answer: Answer, logits: np.ndarray) -> int: ...


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.nonzero(np.asarray(a[:n], dtype=np.int64) != np.asarray(b[:n], dtype=np.int64))[0]
    return int(diff[0]) if diff.size else n


@dataclass(frozen=True)
class Share:
    """Where sequence i's first `shared` prompt tokens come from: `source` -1 is its own cells (what the
    cache already held for sequence 0, or nothing), else the earlier sequence it copies them from.
    `depth` orders the evaluation: a source is evaluated before the sequences that copy from it."""

    source: int
    shared: int
    depth: int


def plan_sharing(prompts: list[list[int]], held: list[int]) -> list[Share]:
    """For each prompt, the earlier prompt it shares the longest prefix with. At least the last token of
    every prompt is evaluated in its own sequence (for fresh logits). Sequence 0 reuses what the cache
    held from the previous call (`held`), as the serial path reuses its previous prompt."""
    plans: list[Share] = []
    for i, tokens in enumerate(prompts):
        if i == 0:
            plans.append(Share(-1, min(common_prefix(held, tokens), len(tokens) - 1), 0))
            continue
        best, source = 0, -1
        for j in range(i):
            n = common_prefix(prompts[j], tokens)
            if n > best:
                best, source = n, j
        shared = min(best, len(tokens) - 1)
        if shared <= 0:
            plans.append(Share(-1, 0, 0))
        else:
            plans.append(Share(source, shared, plans[source].depth + 1))
    return plans


def cells_needed(prompts: list[list[int]], plans: list[Share], budgets: list[int]) -> int:
    """KV cells the batch can use at most: every prompt's own rest, the reused prefix of sequence 0, and
    every answer's full budget (copied prefixes share their cells)."""
    own = sum(len(p) - s.shared for p, s in zip(prompts, plans))
    return own + (plans[0].shared if plans else 0) + sum(budgets)


class ParallelDecoder:
    """A second llama.cpp context on the engine's model, with `n_seq` sequences in a unified KV cache."""

    def __init__(self, engine: DecodingEngine, n_seq: int, unified: bool = False, n_ctx_seq: int | None = None) -> None:
        lib = engine._lib
        self.engine = engine
        self._lib = lib
        limit = int(lib.llama_max_parallel_sequences())
        if n_seq > limit:
            raise ModelError(f"--parallel {n_seq} is more than llama.cpp supports ({limit})")
        params = lib.llama_context_default_params()
        params.n_ctx = n_seq * (n_ctx_seq or engine.n_ctx)
        params.n_batch = N_BATCH
        params.n_ubatch = N_BATCH
        params.n_seq_max = n_seq
        params.kv_unified = unified
        params.n_threads = engine.threads
        params.n_threads_batch = engine.threads
        params.flash_attn_type = (lib.LLAMA_FLASH_ATTN_TYPE_ENABLED if engine.config.flash_attn
                                  else lib.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        params.no_perf = True
        params.embeddings = False
        self.ctx = lib.llama_init_from_model(engine.llm._model.model, params)
        if not self.ctx:
            raise ModelError(f"llama.cpp could not create a context for --parallel {n_seq} "
                             f"({n_seq} x {n_ctx_seq or engine.n_ctx} tokens of KV cache)",
                             hint="out of memory? pass a smaller --parallel or --n-ctx")
        self.n_seq = n_seq
        self.unified = unified
        self.n_cells = int(lib.llama_n_ctx(self.ctx))
        self.mem = lib.llama_get_memory(self.ctx)
        self.batch = lib.llama_batch_init(N_BATCH, 0, 1)
        self.held: list[int] = []  # tokens in sequence 0's cells, positions 0..len-1
        self.n_vocab = engine.n_vocab

    def close(self) -> None:
        if self.ctx:
            self._lib.llama_batch_free(self.batch)
            self._lib.llama_free(self.ctx)
            self.ctx = None

    # -- llama.cpp calls --------------------------------------------------------------------------
    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> float:
        """Evaluate (token, position, sequence, wants logits) entries in one llama_decode; its seconds."""
        b = self.batch
        for k, (tok, pos, seq, want) in enumerate(entries):
            b.token[k] = tok
            b.pos[k] = pos
            b.n_seq_id[k] = 1
            b.seq_id[k][0] = seq
            b.logits[k] = want
        b.n_tokens = len(entries)
        t = time.perf_counter()
        rc = self._lib.llama_decode(self.ctx, b)
        if rc != 0:
            raise DecodeFailed(rc)
        return time.perf_counter() - t

    def _logits(self, k: int) -> np.ndarray:
        """The logits of the k-th token of the last batch (one that asked for them), viewed in place."""
        ptr = self._lib.llama_get_logits_ith(self.ctx, k)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    # -- one batch of questions -------------------------------------------------------------------
    def run(self, requests: list[Request]) -> list[Generation]:
        """Decode the requests together (at most n_seq); the Generations in the requests' order."""
        engine = self.engine
        prompts = [engine.tokenize_segments(r.segments) for r in requests]
        for tokens in prompts:
            if len(tokens) >= engine.n_ctx:
                raise GenerationError(f"prompt of {len(tokens)} tokens does not fit the {engine.n_ctx}-token context")
        budgets = [min(r.max_tokens, engine.n_ctx - len(p)) for r, p in zip(requests, prompts)]
        plans = plan_sharing(prompts, self.held)
        if len(requests) > 1 and cells_needed(prompts, plans, budgets) > self.n_cells:
            half = len(requests) // 2
            return self.run(requests[:half]) + self.run(requests[half:])
        started = time.perf_counter()
        extra = []  # a grammar asked twice in one batch needs a second sampler (each holds its own state)
        answers: list[Answer] = []
        used: set[tuple[str, str]] = set()
        try:
            for r, budget in zip(requests, budgets):
                key = (r.gbnf, r.root)
                if key in used:
                    sampler = type(engine.grammar(r.gbnf, r.root))(self._lib, engine._vocab, r.gbnf, r.root)
                    extra.append(sampler)
                else:
                    sampler = engine.grammar(r.gbnf, r.root)
                    used.add(key)
                sampler.reset()
                answers.append(Answer(sampler, r.watch, budget))
            try:
                crash.set_context(step=f"decoding {len(requests)} answers together")
                model_seconds = self._decode_all(prompts, plans, answers)
            except BaseException:
                self._lib.llama_memory_clear(self.mem, True)  # a failed batch leaves cells unknown
                self.held = []
                raise
        finally:
            for sampler in extra:
                sampler.close()
        wall = time.perf_counter() - started
        n = len(requests)
        gens = []
        for tokens, plan, answer in zip(prompts, plans, answers):
            answer.model_seconds = model_seconds / n  # the batch's llama.cpp time, shared evenly
            gens.append(answer.generation(len(tokens), plan.shared, wall / n))
        return gens

    def _decode_all(self, prompts: list[list[int]], plans: list[Share], answers: list[Answer]) -> float:
        lib, mem = self._lib, self.mem
        for seq in range(1, self.n_seq):
            lib.llama_memory_seq_rm(mem, seq, -1, -1)
        lib.llama_memory_seq_rm(mem, 0, plans[0].shared, -1)
        self.held = list(prompts[0][: plans[0].shared])
        seconds = 0.0
        logits: dict[int, np.ndarray] = {}
        # the prompts, shallowest first: a sequence copies its prefix once its source is evaluated
        for depth in sorted({p.depth for p in plans}):
            members = [i for i, p in enumerate(plans) if p.depth == depth]
            entries: list[tuple[int, int, int, bool]] = []
            for i in members:
                plan = plans[i]
                if plan.source >= 0 and self.unified:
                    lib.llama_memory_seq_cp(mem, plan.source, i, 0, plan.shared)  # the cells are shared
                elif plan.source >= 0:  # a stream per sequence: copy the source's, keep the shared prefix
                    lib.llama_memory_seq_cp(mem, plan.source, i, -1, -1)
                    lib.llama_memory_seq_rm(mem, i, plan.shared, -1)
                rest = prompts[i][plan.shared:]
                entries += [(tok, plan.shared + k, i, k == len(rest) - 1) for k, tok in enumerate(rest)]
            for start in range(0, len(entries), N_BATCH):
                part = entries[start:start + N_BATCH]
                seconds += self._decode(part)
                for k, (_tok, _pos, seq, want) in enumerate(part):
                    if want:  # by the token's index in the batch; the next call overwrites the buffer
                        logits[seq] = self._logits(k).copy()
        self.held = list(prompts[0])
        positions = [len(p) for p in prompts]
        active = [i for i, a in enumerate(answers) if a.budget > 0]
        engine = self.engine
        while active:
            entries = []
            for i in active:
                answer = answers[i]
                token = engine.step(answer, logits[i])
                if token < 0 or answer.generated >= answer.budget:
                    continue  # ended, or at its budget: the serial loop would stop here too
                entries.append((token, positions[i], i, True))
                positions[i] += 1
            if not entries:
                break
            seconds += self._decode(entries)
            for k, (token, _pos, seq, _want) in enumerate(entries):
                logits[seq] = self._logits(k)
                if seq == 0:
                    self.held.append(token)
            active = [e[2] for e in entries]
        return seconds

