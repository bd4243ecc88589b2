"""The llama-cpp-python engine: one model per process, prompt-prefix reuse, grammar-checked greedy decoding.

Decoding checks only the model's top token against the grammar and builds the full grammar mask only when
that token is rejected (llama.cpp's own sampler does the same). Greedy with a mask equals greedy with a
check-then-mask, so outputs are those of full masking, at close to unconstrained speed.

`generate_many` decodes several questions together as the sequences of one llama.cpp batch (--parallel N,
llm/parallel.py); every decision still goes through `step`, so each answer is decided as `generate` decides.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from softtiger_cli.core import crash
from softtiger_cli.core.errors import GenerationError, GrammarError, ModelError, UsageError
from softtiger_cli.llm.base import EngineStats, Generation, Request, Watcher
from softtiger_cli.llm.loading import (MAX_THREADS, check_context, check_gguf, choose_parallel, open_llama,
                                       silence_llama_log)
from softtiger_cli.llm.parallel import Answer, DecodeFailed, ParallelDecoder
from softtiger_cli.llm.prompting import Segment, render_chat_template, tigerbot
from softtiger_cli.models.cpu import CpuLoadPlan, plan_for

DEVICES = ("auto", "cpu", "gpu")
_TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])


@dataclass(frozen=True)
class EngineConfig:
    model_path: Path
    n_ctx: int | None = None
    device: str = "auto"
    seed: int = 0
    n_threads: int | None = None
    prompt_format: str = "auto"  # "tigerbot" | "chat-template" | "auto"
    model_label: str = ""
    parallel: int | None = 1  # questions decoded together; None: 1 on CPU, from free VRAM on a GPU
    flash_attn: bool = False
    kv_unified: bool | None = None  # parallel KV cache: None = a stream per sequence on CPU, unified on GPU
    cpu_plan: CpuLoadPlan | None = None  # CPU weight placement; None: models/cpu.plan_for (AMX off unless asked)


class _GrammarSampler:
    """A parsed grammar at one root; parsing happens once here, never on an unchecked string."""

    def __init__(self, llama_cpp: object, vocab: object, gbnf: str, root: str) -> None:
        self._lib = llama_cpp
        self.ptr = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), root.encode("utf-8"))
        if not self.ptr:  # ctypes NULL pointer is falsy, never None
            raise GrammarError(f"llama.cpp could not parse the grammar (root {root!r})")

    def reset(self) -> None:
        self._lib.llama_sampler_reset(self.ptr)

    def close(self) -> None:
        if self.ptr:
            self._lib.llama_sampler_free(self.ptr)
            self.ptr = None


class Engine:
    """A loaded GGUF model. Load once per process and reuse across chunks, tasks and notes."""

    def __init__(self, config: EngineConfig) -> None:
        if config.device not in DEVICES:
            raise UsageError(f"--device must be one of {', '.join(DEVICES)}, not {config.device!r}")
        path = Path(config.model_path)
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        info = check_gguf(path)
        import llama_cpp

        self._lib = llama_cpp
        silence_llama_log(llama_cpp)
        gpu_ok = bool(llama_cpp.llama_supports_gpu_offload())
        if config.device == "gpu" and not gpu_ok:
            raise ModelError(
                "--device gpu asked, but this llama-cpp-python build has no GPU support",
                hint='rebuild it: CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python',
            )
        self.gpu = gpu_ok and config.device in ("auto", "gpu")
        self.notices: list[str] = check_context(info, config.n_ctx, self.gpu)
        threads = config.n_threads or int(os.environ.get("SOFTTIGER_THREADS", "0") or 0) or max(1, os.cpu_count() or 1)
        if threads > MAX_THREADS:
            raise UsageError(f"--threads {threads} is more than llama.cpp supports ({MAX_THREADS})")
        self.llm, plan = open_llama(llama_cpp, path, config.cpu_plan or plan_for(path),
                                    label=config.model_label or path.name, n_ctx=config.n_ctx, gpu=self.gpu,
                                    seed=config.seed, threads=threads, flash_attn=config.flash_attn)
        self.config = config
        self.path = path
        self.cpu_plan = plan  # what the load used (doctor and verbose output say it)
        if self.cpu_plan.amx_avoided:
            self.notices.append(f"CPU: {self.cpu_plan.summary}")
        self.n_ctx = self.llm.n_ctx()
        self.n_vocab = self.llm.n_vocab()
        self.metadata = dict(self.llm.metadata)
        self.architecture = self.metadata.get("general.architecture", "?")
        try:
            self.prompt_format = self._detect_format(config.prompt_format)
        except BaseException:
            self.llm.close()  # a model refused after loading: free it now, not at interpreter exit
            raise
        self._vocab = self.llm._model.vocab
        self._grammars: dict[tuple[str, str], _GrammarSampler] = {}
        self._cand = np.zeros(self.n_vocab, dtype=_TOKEN_DATA)
        self._ids = np.arange(self.n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=_TOKEN_DATA)
        # one llama_token_data_array view per buffer, built once: the hot loop only refills the buffers
        self._views = {id(buf): self._array_view(buf) for buf in (self._cand, self._one)}
        self._logits_view: tuple[int, np.ndarray] | None = None  # (buffer address, view), set on first use
        self.stats = EngineStats()
        self._token_cache: dict[str, int | None] = {}
        self.threads = threads
        self._parallel_decoder: ParallelDecoder | None = None
        try:
            self.parallel = choose_parallel(config.parallel, self.gpu, info, self.n_ctx)
        except BaseException:
            self.llm.close()
            raise
        if self.parallel > 1 and not self.gpu:
            self.notices.append(f"--parallel {self.parallel} on CPU gives the serial answers at about the serial speed "
                                "(a CPU gains little from batching; see docs/benchmarks.md)")

    # -- prompt -----------------------------------------------------------------------------------
    def _detect_format(self, requested: str) -> str:
        if requested in ("tigerbot", "chat-template"):
            if requested == "chat-template" and not self.metadata.get("tokenizer.chat_template"):
                raise ModelError("this GGUF carries no chat template; use a model with one or a SoftTiger model")
            return requested
        probe = self.llm.tokenize(b"\n\n### Instruction:\n", add_bos=False, special=True)
        if len(probe) == 1:
            return "tigerbot"
        if self.metadata.get("tokenizer.chat_template"):
            return "chat-template"
        self.notices.append(f"{self.path.name} has no chat template and no TigerBot marker token; "
                            "using the TigerBot (### Instruction / ### Response) prompt format")
        return "tigerbot"

    def segments(self, system: str, user: str) -> list[Segment]:
        if self.prompt_format == "tigerbot":
            return tigerbot(system, user)
        template = self.metadata["tokenizer.chat_template"]
        try:
            return render_chat_template(template, system, user)
        except Exception as exc:  # noqa: BLE001 - any template failure (sandbox included) is one error
            raise ModelError(f"the model's chat template could not be rendered ({type(exc).__name__})") from None

    def tokenize_segments(self, segments: list[Segment]) -> list[int]:
        add_bos = self.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
        tokens: list[int] = []
        for i, seg in enumerate(segments):
            tokens += self._tokenize(seg.text, add_bos=add_bos and i == 0, special=seg.template)
        return tokens

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text, add_bos=False, special=False))

    def _tokenize(self, text: str, *, add_bos: bool, special: bool) -> list[int]:
        """llama-cpp-python's tokenize error quotes the whole text: never let that message travel."""
        try:
            return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)
        except (RuntimeError, ValueError) as exc:
            raise GenerationError(f"llama.cpp could not tokenize {len(text)} characters ({type(exc).__name__})") from None

    def _single_token(self, text: str) -> int | None:
        if text not in self._token_cache:
            toks = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
            self._token_cache[text] = toks[0] if len(toks) == 1 else None
        return self._token_cache[text]

    # -- grammar ----------------------------------------------------------------------------------
    def grammar(self, gbnf: str, root: str = "root") -> _GrammarSampler:
        key = (gbnf, root)
        sampler = self._grammars.get(key)
        if sampler is None:
            sampler = _GrammarSampler(self._lib, self._vocab, gbnf, root)
            self._grammars[key] = sampler
        return sampler

    # -- decoding ---------------------------------------------------------------------------------
    def _eval_prompt(self, tokens: list[int]) -> int:
        llm = self.llm
        held = llm.n_tokens
        common = 0
        if held:
            prev = llm.input_ids[:held]
            limit = min(held, len(tokens))
            arr = np.asarray(tokens[:limit], dtype=prev.dtype)
            diff = np.nonzero(prev[:limit] != arr)[0]
            common = int(diff[0]) if diff.size else limit
        common = min(common, len(tokens) - 1)  # re-evaluate at least one token to get fresh logits
        llm.n_tokens = common
        llm.eval(tokens[common:])
        return common

    def _logits(self) -> np.ndarray:
        """The last position's logits, viewed in place (no copy); the view is rebuilt only if llama.cpp
        moved its buffer."""
        ptr = self._lib.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        view = self._logits_view
        if view is None or view[0] != ctypes.addressof(ptr.contents):
            view = self._logits_view = (ctypes.addressof(ptr.contents), np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)))
        return view[1]

    def _array_view(self, buf: np.ndarray) -> tuple[object, object]:
        arr = self._lib.llama_token_data_array(
            data=buf.ctypes.data_as(ctypes.POINTER(self._lib.llama_token_data)), size=len(buf), selected=-1,
            sorted=False,
        )
        return arr, ctypes.byref(arr)

    def _grammar_best(self, sampler: _GrammarSampler, buf: np.ndarray, ids: np.ndarray, logits: np.ndarray) -> int:
        """Apply the grammar to the candidates (ids with their logits, written to the front of one of the
        preallocated buffers); the best allowed token, or -1."""
        n = int(np.size(ids))
        cand = buf[:n]
        cand["id"] = ids
        cand["logit"] = logits
        arr, ref = self._views[id(buf)]
        arr.size = n
        arr.selected = -1
        arr.sorted = False
        self._lib.llama_sampler_apply(sampler.ptr, ref)
        best = int(np.argmax(cand["logit"]))
        return int(cand["id"][best]) if np.isfinite(cand["logit"][best]) else -1

    def _allowed(self, sampler: _GrammarSampler, token: int, logit: float) -> bool:
        return self._grammar_best(sampler, self._one, np.int32(token), np.float32(logit)) >= 0

    def _best_of_top(self, sampler: _GrammarSampler, logits: np.ndarray, best: float, k: int = 32) -> int:
        """The highest-logit token the grammar allows among the near-best ones, or -1.

        The candidates are every token within a margin of the best logit (at most k of them, the highest):
        every token left out scores lower than every candidate, so the best allowed candidate, if any, is
        the masked argmax, found without masking the whole vocabulary. A threshold pass costs ~10 us where
        a top-k partition of a 49k vocabulary costs ~500 us.
        """
        for margin in (4.0, 16.0):
            ids = np.flatnonzero(logits >= best - margin)
            if ids.size > k:
                ids = ids[np.argpartition(-logits[ids], k)[:k]]
            token = self._grammar_best(sampler, self._cand, ids, logits[ids])
            if token >= 0 or ids.size >= k:
                return token
        return -1

    def _masked_argmax(self, sampler: _GrammarSampler, logits: np.ndarray) -> int:
        token = self._grammar_best(sampler, self._cand, self._ids, logits)
        if token >= 0:
            return token
        if np.isnan(logits).any():
            raise GenerationError("the model produced NaN logits (a corrupt or incompatible GGUF)")
        raise GenerationError("the grammar allows no token here (grammar and model disagree)")

    def generate(
        self,
        segments: list[Segment],
        gbnf: str,
        root: str,
        max_tokens: int,
        watch: "Watcher | None" = None,
        schema: dict | None = None,
    ) -> Generation:
        """`_generate`, with llama.cpp's evaluation failures (llama_decode != 0: out of memory, KV cache full)
        reported as one GenerationError line instead of an internal error. The grammar alone constrains
        in-process decoding; `schema` (the answer's JSON schema) is for backends that need one."""
        del schema
        try:
            return self._generate(segments, gbnf, root, max_tokens, watch)
        except RuntimeError as exc:
            code = str(exc).rsplit(" ", 1)[-1] if str(exc).startswith("llama_decode returned") else "?"
            raise GenerationError(f"llama.cpp failed while evaluating the prompt or answer (llama_decode {code})",
                                  hint="out of memory? pass a smaller --n-ctx") from None

    def _generate(
        self,
        segments: list[Segment],
        gbnf: str,
        root: str,
        max_tokens: int,
        watch: "Watcher | None" = None,
    ) -> Generation:
        """Greedy decoding under the grammar.

        `watch` sees each new piece of text: it answers "stop" when the answer is complete (skipping the
        end-of-generation step) and may name text to force next (to end a list the model repeats); forced
        text is used only where the grammar allows it.
        """
        started = time.perf_counter()
        tokens = self.tokenize_segments(segments)
        if len(tokens) >= self.n_ctx:
            raise GenerationError(f"prompt of {len(tokens)} tokens does not fit the {self.n_ctx}-token context")
        sampler = self.grammar(gbnf, root)
        sampler.reset()
        t_model = time.perf_counter()
        crash.set_context(step=f"reading a {len(tokens)}-token prompt")
        reused = self._eval_prompt(tokens)
        crash.set_context(step="generating an answer")
        answer = Answer(sampler, watch, min(max_tokens, self.n_ctx - len(tokens)))
        answer.model_seconds = time.perf_counter() - t_model
        while answer.generated < answer.budget:
            token = self.step(answer, self._logits())
            if token < 0:
                break
            t_model = time.perf_counter()
            self.llm.eval([token])
            answer.model_seconds += time.perf_counter() - t_model
        gen = answer.generation(len(tokens), reused, time.perf_counter() - started)
        self.stats.add(gen)
        return gen

    def step(self, answer: Answer, logits: np.ndarray) -> int:
        """One greedy decision for one answer, from the logits of its last position: the near-best check
        against the grammar (a full mask only when no near-best token is allowed), the watch's forced text
        and cuts. Returns the token to evaluate next, or -1 when the answer ended (answer.stop says why).
        The serial and the parallel decoders both decide here, so they decide alike."""
        sampler, watch = answer.sampler, answer.watch
        token = -1
        step_forced = False
        for text in watch.preferred() if watch is not None else ():
            forced_id = self._single_token(text)
            if forced_id is not None and self._allowed(sampler, forced_id, 0.0):
                token = forced_id
                step_forced = True
                answer.forced += 1
                break
        if token < 0:
            top = int(np.argmax(logits))
            if self._allowed(sampler, top, float(logits[top])):
                token = top
            else:
                token = self._best_of_top(sampler, logits, float(logits[top]))
                if token < 0:
                    answer.full_masks += 1
                    token = self._masked_argmax(sampler, logits)
        if self._lib.llama_vocab_is_eog(self._vocab, token):
            answer.stop = "eog"
            return -1
        piece = self.llm.detokenize([token], prev_tokens=answer.prev_tokens[-4:] or None)
        if watch is not None and not step_forced:
            shorter = watch.cut(piece.decode("utf-8", errors="ignore"))
            if shorter is not None:
                for text in (shorter, shorter[:-1]):
                    alt = self._single_token(text) if text else None
                    if alt is not None and self._allowed(sampler, alt, 0.0):
                        token, piece = alt, text.encode("utf-8")
                        answer.forced += 1
                        break
        self._lib.llama_sampler_accept(sampler.ptr, token)
        answer.prev_tokens.append(token)
        answer.out += piece
        answer.generated += 1
        if watch is not None and watch.feed(piece.decode("utf-8", errors="ignore")) == "stop":
            answer.stop = "complete"
            return -1
        return token

    # -- several questions at once ----------------------------------------------------------------
    def generate_many(self, requests: list[Request]) -> list[Generation]:
        """The answers to several questions, in order, as `generate` gives them one by one.

        With --parallel N > 1, up to N questions are decoded together as the sequences of one llama.cpp
        batch (llm/parallel.py); with 1, or a single question, they are asked one after another.
        """
        if self.parallel <= 1 or len(requests) <= 1:
            return [self.generate(r.segments, r.gbnf, r.root, r.max_tokens, watch=r.watch) for r in requests]
        out: list[Generation] = []
        for start in range(0, len(requests), self.parallel):
            try:
                gens = self._decoder().run(requests[start:start + self.parallel])
            except DecodeFailed as exc:
                raise GenerationError(f"llama.cpp failed while evaluating the prompts or answers (llama_decode "
                                      f"{exc.code})", hint="out of memory? pass a smaller --n-ctx or --parallel"
                                      ) from None
            for gen in gens:
                self.stats.add(gen)
            out += gens
        return out

    def _decoder(self) -> ParallelDecoder:
        if self._parallel_decoder is None:
            unified = self.gpu if self.config.kv_unified is None else self.config.kv_unified
            self._parallel_decoder = ParallelDecoder(self, self.parallel, unified=unified)
        return self._parallel_decoder

    def close(self) -> None:
        if self._parallel_decoder is not None:
            self._parallel_decoder.close()
            self._parallel_decoder = None
        for sampler in self._grammars.values():
            sampler.close()
        self._grammars.clear()
        self.llm.close()
