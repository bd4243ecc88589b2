"""A second backend: any OpenAI-compatible server that constrains each answer with a grammar or JSON schema.

`OpenAIEngine` offers what extract.py uses from `engine.Engine` (n_ctx, count_tokens, segments, generate,
stats, config.model_label), so the pipeline, grammars, grounding and validation are the same for both
backends. It renders the prompt exactly as the in-process engine would (the model's own prompt format,
from its GGUF read vocabulary-only, or TigerBot's turns), sends it to POST {base_url}/v1/completions with
the group's constraint, and checks every answer against the group's JSON schema: a server that ignored the
constraint is reported as such and its answer is never used.

Constraint dialects (`--constraint`):
  grammar      `grammar`: GBNF text (llama.cpp's llama-server, llama-cpp-python's server). These servers
               start the grammar at `root`, so the group's `<group>-root` rule becomes `root`.
  vllm         `structured_outputs: {"json": schema}` (vLLM >= 0.10.2; the only form since 0.12).
  vllm-legacy  `guided_json: schema` (vLLM before 0.12).
Only the standard library talks HTTP; no new runtime dependency.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from softtiger_cli.llm.base import EngineStats, Generation, Request
from softtiger_cli.core.errors import GenerationError, GrammarError, ModelError, UsageError
from softtiger_cli.llm.prompting import Segment, plain_text, render_chat_template, tigerbot

CONSTRAINTS = ("grammar", "vllm", "vllm-legacy")
DEFAULT_SERVER_CTX = 2048  # when neither the server nor a local GGUF tells the context size
_RETRIES = 4  # connection failures and 502/503/504 (a replica restarting behind a balancer): 1+2+4 s apart


class ServerUnavailable(ModelError):
    """The server cannot be reached (after retries): fatal for a batch, since every note would fail alike."""


class ConstraintIgnored(GenerationError):
    """The server's answer does not match the group's schema: it did not apply the constraint."""


# -- grammar and schema helpers -------------------------------------------------------------------

def rooted_grammar(gbnf: str, root: str) -> str:
    """The grammar with `root` standing for rule `root` (for servers that always start at `root`).

    The committed grammars have `root ::= task` for the whole task and one `<group>-root` rule per group;
    this drops the file's own `root ::=` line and puts `root ::= <group>-root` first.
    """
    if root == "root":
        return gbnf
    lines = [line for line in gbnf.splitlines() if not line.startswith("root ::=")]
    if not any(line.startswith(f"{root} ::=") for line in lines):
        raise GrammarError(f"the grammar has no rule {root!r}")
    return f"root ::= {root}\n" + "\n".join(lines) + "\n"


_PARTIAL_DATE = r"^([12][0-9]{3}(-[01][0-9](-[0-3][0-9])?)?)?$"


def portable_schema(node: Any) -> Any:
    """The schema without softtiger's annotations: `x-fhir` dropped, `partial-date` as a pattern."""
    if isinstance(node, list):
        return [portable_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: portable_schema(v) for k, v in node.items() if not k.startswith("x-") and k != "$schema"}
    if out.get("format") == "partial-date":
        del out["format"]
        out["pattern"] = _PARTIAL_DATE
    return out


def check_answer(text: str, schema: dict[str, Any]) -> str | None:
    """None when `text` is JSON that matches `schema`; else a short reason (never the text itself)."""
    import jsonschema

    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return "not JSON"
    validator = jsonschema.Draft202012Validator(portable_schema(schema))
    error = next(iter(validator.iter_errors(data)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the answer"
    return f"{where} breaks the schema ({error.validator})"


# Special-token text a server would parse inside note text (servers tokenize prompts with special tokens
# on). A zero-width space keeps the text readable to the model but no longer a control token.
_SPECIAL = re.compile(r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<<SYS>>|<</SYS>>|### (?:Instruction|Response):")


def defang(text: str) -> str:
    """Break special-token spellings inside content so a note cannot end its turn on a server."""
    return _SPECIAL.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], text)


def _scrub(message: str, prompt: str) -> str:
    """A server's error message, unless it quotes the prompt (which holds note text)."""
    message = " ".join(str(message).split())[:200]
    for i in range(max(0, len(message) - 15)):
        if message[i : i + 16] in prompt:
            return "(message withheld: it quotes the prompt)"
    return message


# -- the engine -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerConfig:
    base_url: str
    model_label: str
    constraint: str = "grammar"
    timeout: float = 600.0
    seed: int = 0


class _LocalVocab:
    """The model's tokenizer and metadata, loaded vocabulary-only (no weights): exact counts and template."""

    def __init__(self, path: Path) -> None:
        import llama_cpp
        from llama_cpp._internals import LlamaModel

        from softtiger_cli.llm.loading import quiet_llama_log

        quiet_llama_log()

        from softtiger_cli.models.cpu import apply_plan, plan_for

        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        self._cpu = apply_plan(params, plan_for(None))  # no weights load, but never the AMX buffer either
        try:
            self.model = LlamaModel(path_model=str(path), params=params, verbose=False)
        except (ValueError, RuntimeError, OSError):
            raise ModelError(f"llama.cpp could not read the vocabulary of {path.name}") from None
        self.metadata = dict(self.model.metadata())
        self.lock = threading.Lock()

    def tokenize(self, text: str, *, add_bos: bool = False, special: bool = False) -> list[int]:
        with self.lock:
            try:
                return self.model.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)
            except (RuntimeError, ValueError) as exc:  # its message quotes the text: never let it travel
                raise GenerationError(f"llama.cpp could not tokenize {len(text)} characters ({type(exc).__name__})") from None

    def context_length(self) -> int | None:
        arch = self.metadata.get("general.architecture", "")
        value = self.metadata.get(f"{arch}.context_length")
        return int(value) if value and str(value).isdigit() else None

    def close(self) -> None:
        self.model.close()


class OpenAIEngine:
    """The `Engine` interface over HTTP. Thread-safe: several notes may be in flight at once."""

    def __init__(self, config: ServerConfig, *, model_path: Path | None, prompt_format: str, n_ctx: int | None,
                 say: Callable[[str], None] = lambda _m: None) -> None:
        if config.constraint not in CONSTRAINTS:
            raise UsageError(f"--constraint must be one of {', '.join(CONSTRAINTS)}, not {config.constraint!r}")
        self.config = config
        self.base = config.base_url.rstrip("/")
        if self.base.endswith("/v1"):
            self.base = self.base[: -len("/v1")]
        if not re.match(r"^https?://[^\s/]+", self.base):
            raise UsageError(f"--base-url must be an http(s) URL, not {config.base_url!r}")
        self._api_key = os.environ.get("SOFTTIGER_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self.stats = EngineStats()
        self._stats_lock = threading.Lock()
        self._count_cache: dict[str, int] = {}
        self.vocab = _LocalVocab(model_path) if model_path is not None else None
        models = self._get("/v1/models")
        data = models.get("data") or [{}]
        self.served_model = str(data[0].get("id") or "") or None
        self._template = self._chat_template()
        self.prompt_format = self._detect_format(prompt_format)
        reported = None if n_ctx else self._server_context(data[0])
        self.n_ctx = n_ctx or reported or (self.vocab.context_length() if self.vocab else None) or DEFAULT_SERVER_CTX
        if n_ctx is None and reported is None:
            say(f"the server does not report its context size; assuming the model's {self.n_ctx} tokens "
                "(set --n-ctx to the server's per-request context if it is smaller)")
        self._tokenize_route: str | None = None if self.vocab is None else "local"

    # -- HTTP -------------------------------------------------------------------------------------
    def _request(self, method: str, route: str, body: dict[str, Any] | None = None,
                 timeout: float | None = None) -> dict[str, Any]:
        url = self.base + route
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=timeout or self.config.timeout) as resp:  # noqa: S310 - http(s) only
            return json.loads(resp.read().decode("utf-8") or "{}")

    def _get(self, route: str) -> dict[str, Any]:
        try:
            return self._request("GET", route, timeout=30)
        except urllib.error.HTTPError as exc:
            raise ServerUnavailable(f"the server at {self.base} answered {route} with HTTP {exc.code}",
                                    hint="is it an OpenAI-compatible server?") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise ServerUnavailable(f"cannot reach the server at {self.base} ({reason})") from None

    def _probe(self, route: str, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return self._request("POST" if body else "GET", route, body or None, timeout=30)
        except (urllib.error.URLError, OSError, ValueError):
            return None

    # -- model facts ------------------------------------------------------------------------------
    def _detect_format(self, requested: str) -> str:
        if requested == "tigerbot":
            return "tigerbot"
        template = self._template
        if requested == "chat-template" and not template:
            raise ModelError("no chat template for the served model; pass --model with its GGUF or a SoftTiger model")
        if template:
            return "chat-template"
        return "tigerbot"

    def _chat_template(self) -> str | None:
        if self.vocab is not None:
            return self.vocab.metadata.get("tokenizer.chat_template")
        props = self._probe("/props", {})  # llama.cpp's llama-server
        if props and props.get("chat_template"):
            return str(props["chat_template"])
        return None

    def _server_context(self, model_entry: dict[str, Any]) -> int | None:
        if model_entry.get("max_model_len"):  # vLLM
            return int(model_entry["max_model_len"])
        props = self._probe("/props", {})  # llama-server: the per-slot context
        settings = (props or {}).get("default_generation_settings") or {}
        if settings.get("n_ctx"):
            return int(settings["n_ctx"])
        return None

    # -- the Engine interface ---------------------------------------------------------------------
    def segments(self, system: str, user: str) -> list[Segment]:
        if self.prompt_format == "tigerbot":
            segs = tigerbot(system, user)
        else:
            template = self._template or ""
            try:
                segs = render_chat_template(template, system, user)
            except Exception as exc:  # noqa: BLE001 - any template failure is one error
                raise ModelError(f"the model's chat template could not be rendered ({type(exc).__name__})") from None
        return [s if s.template else Segment(defang(s.text), False) for s in segs]

    def count_tokens(self, text: str) -> int:
        if self.vocab is not None:
            return len(self.vocab.tokenize(text))
        cached = self._count_cache.get(text)
        if cached is not None:
            return cached
        n = self._server_count(text)
        if n is None:  # no tokenizer anywhere: a cautious estimate (more tokens than most tokenizers make)
            n = len(text.encode("utf-8")) // 2 + 1
        if len(self._count_cache) < 100_000:
            self._count_cache[text] = n
        return n

    def _server_count(self, text: str) -> int | None:
        routes = [self._tokenize_route] if self._tokenize_route else ["/tokenize", "/extras/tokenize/count"]
        for route in routes:
            if route == "none":
                return None
            if route == "/tokenize":
                body = {"content": text, "prompt": text, "add_special": False}
                if self.served_model:
                    body["model"] = self.served_model
            else:
                body = {"input": text}
            answer = self._probe(route, body)
            if answer is None:
                continue
            self._tokenize_route = route
            if "count" in answer:
                return int(answer["count"])
            if "tokens" in answer:
                return len(answer["tokens"])
        self._tokenize_route = "none"
        return None

    def _body(self, prompt: str, gbnf: str, root: str, max_tokens: int, schema: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0, "top_k": 1,
            "min_p": 0.0, "repeat_penalty": 1.0, "repetition_penalty": 1.0, "seed": self.config.seed,
            "stream": False,
        }
        if self.served_model:
            body["model"] = self.served_model
        if self.config.constraint == "grammar":
            body["grammar"] = rooted_grammar(gbnf, root)
        elif self.config.constraint == "vllm":
            body["structured_outputs"] = {"json": portable_schema(schema)}
        else:
            body["guided_json"] = portable_schema(schema)
        return body

    def generate(self, segments: list[Segment], gbnf: str, root: str, max_tokens: int, watch: Any = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        """One completion under the group's constraint; the answer is checked against `schema`, the
        answer's JSON schema, which the caller gives with the grammar (vLLM is constrained by it)."""
        del watch  # a server decodes on its own; repeats are bounded by the grammar's list sizes
        if schema is None:
            raise GrammarError("the server backend needs the answer's JSON schema with its grammar")
        started = time.perf_counter()
        prompt = plain_text(segments)
        answer = self._complete(self._body(prompt, gbnf, root, max_tokens, schema), prompt)
        choice = (answer.get("choices") or [{}])[0]
        text = str(choice.get("text") or "").strip()
        finish = choice.get("finish_reason") or "stop"
        usage = answer.get("usage") or {}
        stop = "max_tokens" if finish == "length" else "complete"
        if stop == "complete":
            problem = check_answer(text, schema)
            if problem is not None:
                raise ConstraintIgnored(
                    f"the server at {self.base} did not apply the constraint: the answer for {root.removesuffix('-root')} is {problem}",
                    hint=f"does this server take --constraint {self.config.constraint}? nothing was written",
                )
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        gen = Generation(
            text=text, prompt_tokens=prompt_tokens, reused_tokens=0,
            generated_tokens=int(usage.get("completion_tokens") or 0), full_masks=0,
            seconds=time.perf_counter() - started, stop=stop,
        )
        with self._stats_lock:
            self.stats.add(gen)
        return gen

    def generate_many(self, requests: list[Request]) -> list[Generation]:
        """The questions one after another (a server batches across notes with its own parallel slots)."""
        return [self.generate(r.segments, r.gbnf, r.root, r.max_tokens, watch=r.watch, schema=r.schema)
                for r in requests]

    def _complete(self, body: dict[str, Any], prompt: str) -> dict[str, Any]:
        delay = 1.0
        last = ""
        for attempt in range(_RETRIES):
            try:
                return self._request("POST", "/v1/completions", body)
            except urllib.error.HTTPError as exc:
                try:
                    detail = json.loads(exc.read().decode("utf-8", "replace") or "{}")
                except (ValueError, OSError):
                    detail = {}
                err = detail.get("error", detail.get("detail", ""))
                message = err.get("message", "") if isinstance(err, dict) else str(err)
                if exc.code not in (502, 503, 504) or attempt == _RETRIES - 1:
                    raise GenerationError(
                        f"the server at {self.base} refused the request (HTTP {exc.code}: {_scrub(message, prompt)})"
                    ) from None
                last = f"HTTP {exc.code}"
            except (TimeoutError, urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
                    raise GenerationError(
                        f"no answer from the server at {self.base} within {self.config.timeout:.0f}s"
                    ) from None
                last = str(reason or type(exc).__name__)
            if attempt == _RETRIES - 1:
                break
            time.sleep(delay)
            delay *= 2
        raise ServerUnavailable(f"cannot reach the server at {self.base} ({_scrub(last, prompt)}) after {_RETRIES} tries")

    def close(self) -> None:
        if self.vocab is not None:
            self.vocab.close()
            self.vocab = None
