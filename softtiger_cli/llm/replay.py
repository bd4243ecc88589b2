"""Backends without a model, for tests: answers replayed from a recording, or scripted by the test.

Rules (assertions, statuses, grounding, assembly, validation) change far more often than the model, and
the tests of the pipeline only need the model's answers. Three backends give the pipeline what the
in-process engine gives (`Backend`, plus `config.model_label`, `parallel` and `notices`); a third,
tests/scripted.py's ScriptedBackend, answers what a test queues per group on the same prompt side:

  ReplayBackend     answers read from a JSON file, keyed by a hash of the prompt, grammar root, token limit
                    and grammar (the key of bench/eval_replay.py). A prompt that is not in the file is an
                    error naming the file: it never falls back to a model.
  RecordingBackend  a real engine that writes every answer it gives into such a file (run once, with the
                    model, to make or refresh the file).

Prompts must be the real engine's byte for byte, or the keys would not match. So the replaying and the
scripted backends read the model's GGUF *vocabulary only* (no weights: a fraction of a second) for its
tokenizer and chat template, and build prompts with the engine's own code (llm/prompting.py): token
counts, chunk budgets, chunks and prompts are the engine's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from softtiger_cli.core.errors import ModelError
from softtiger_cli.llm.base import EngineStats, Generation, Request, Segment
from softtiger_cli.llm.prompting import plain_text, render_chat_template, tigerbot

FORMAT = "softtiger-replay/1"
_GENERATION_FIELDS = {f.name for f in dataclasses.fields(Generation)}
# what depends on the run rather than the prompt (timings; prefix reuse follows the order of questions):
# stored as 0, so that recording the same answers twice writes the same file
_RUN_DEPENDENT = ("seconds", "model_seconds", "reused_tokens")


def answer_key(segments: list[Segment], gbnf: str, root: str, max_tokens: int) -> str:
    """The key of one question: a hash of its prompt pieces, grammar root, token limit and grammar."""
    return hashlib.sha256(json.dumps([[s.text for s in segments], root, max_tokens, gbnf]).encode()).hexdigest()


class PromptNotRecorded(LookupError):
    """A question the recording does not hold: the change altered what the model is asked."""


@dataclass(frozen=True)
class ReplayConfig:
    """What the pipeline and reports read from `backend.config` (the engine's EngineConfig has more)."""

    model_path: Path
    model_label: str
    n_ctx: int | None = None
    prompt_format: str = "auto"


@dataclass(frozen=True)
class Asked:
    """One question as a backend received it."""

    group: str
    root: str
    prompt: str
    segments: tuple[Segment, ...]
    max_tokens: int


def default_model_path() -> Path:
    """The GGUF of the registry's default model (the embedded tiny one), whose vocabulary gives prompts."""
    from softtiger_cli.models.registry import embedded_path, load_registry, local_path

    registry = load_registry()
    spec = registry.models[registry.default]
    path = embedded_path(spec) or local_path(spec)
    if path is None:
        raise ModelError(f"the default model ({spec.name}) is not on disk: its vocabulary gives the prompts")
    return path


_VOCABS: dict[Path, Any] = {}
_VOCABS_LOCK = threading.Lock()


def _vocab(path: Path) -> Any:
    """The GGUF's tokenizer and metadata, loaded vocabulary-only once per process and file."""
    from softtiger_cli.llm.openai import _LocalVocab

    key = path.resolve()
    with _VOCABS_LOCK:
        if key not in _VOCABS:
            _VOCABS[key] = _LocalVocab(key)
        return _VOCABS[key]


def _group_of(root: str) -> str:
    return root.removesuffix("-root") if root != "root" else "root"


class _PromptSide:
    """The engine's prompt side, from the vocabulary: prompt format, segments, token counts."""

    parallel: int = 1  # questions are answered one at a time
    n_ctx: int
    stats: EngineStats
    config: ReplayConfig
    notices: list[str]

    def __init__(self, *, model_path: Path | str | None, model_label: str, n_ctx: int | None,
                 prompt_format: str) -> None:
        path = Path(model_path) if model_path is not None else default_model_path()
        self.vocab = _vocab(path)
        self.metadata: dict[str, str] = dict(self.vocab.metadata)
        self.notices = []
        self.n_ctx = int(n_ctx or self.vocab.context_length() or 2048)  # the engine: the trained context
        self.config = ReplayConfig(model_path=path, model_label=model_label, n_ctx=n_ctx, prompt_format=prompt_format)
        self.prompt_format = self._detect_format(prompt_format)
        self.stats = EngineStats()
        self.history: list[Asked] = []

    def _detect_format(self, requested: str) -> str:  # as Engine._detect_format
        if requested in ("tigerbot", "chat-template"):
            if requested == "chat-template" and not self.metadata.get("tokenizer.chat_template"):
                raise ModelError("this GGUF carries no chat template; use a model with one or a SoftTiger model")
            return requested
        if len(self.vocab.tokenize("\n\n### Instruction:\n", add_bos=False, special=True)) == 1:
            return "tigerbot"
        if self.metadata.get("tokenizer.chat_template"):
            return "chat-template"
        self.notices.append(f"{self.config.model_path.name} has no chat template and no TigerBot marker token; "
                            "using the TigerBot (### Instruction / ### Response) prompt format")
        return "tigerbot"

    def segments(self, system: str, user: str) -> list[Segment]:
        if self.prompt_format == "tigerbot":
            return tigerbot(system, user)
        try:
            return render_chat_template(self.metadata["tokenizer.chat_template"], system, user)
        except Exception as exc:  # noqa: BLE001 - as the engine: any template failure is one error
            raise ModelError(f"the model's chat template could not be rendered ({type(exc).__name__})") from None

    def count_tokens(self, text: str) -> int:
        return len(self.vocab.tokenize(text, add_bos=False, special=False))

    def tokenize_segments(self, segments: list[Segment]) -> list[int]:
        add_bos = self.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true"
        tokens: list[int] = []
        for i, seg in enumerate(segments):
            tokens += self.vocab.tokenize(seg.text, add_bos=add_bos and i == 0, special=seg.template)
        return tokens

    def _note(self, segments: list[Segment], root: str, max_tokens: int) -> None:
        self.history.append(Asked(_group_of(root), root, plain_text(segments), tuple(segments), max_tokens))

    def generate(self, segments: list[Segment], gbnf: str, root: str, max_tokens: int, watch: Any = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        raise NotImplementedError

    def generate_many(self, requests: list[Request]) -> list[Generation]:
        return [self.generate(r.segments, r.gbnf, r.root, r.max_tokens, watch=r.watch, schema=r.schema)
                for r in requests]

    @property
    def asked(self) -> list[str]:
        """The groups asked, in order."""
        return [a.group for a in self.history]

    def close(self) -> None:
        """Nothing to free: the vocabulary is shared by every backend of the process."""

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the recorded answers ---------------------------------------------------------------------------------

class AnswerFile:
    """One JSON file of recorded answers, shared by every backend of the process that names it.

    {"format": "softtiger-replay/1", "model": {...}, "answers": {key: {"root": ..., <Generation fields>}}}.
    A bare {key: Generation fields} mapping (bench/eval_replay.py's cache) is read as well.
    """

    _open: dict[Path, "AnswerFile"] = {}
    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.model: dict[str, Any] = {}
        self.answers: dict[str, dict[str, Any]] = {}
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == FORMAT:
                self.model, self.answers = dict(data.get("model") or {}), dict(data["answers"])
            elif isinstance(data, dict):
                self.answers = data
            else:
                raise ValueError(f"{path} is not a file of recorded answers")
        self.write_lock = threading.Lock()

    @classmethod
    def open(cls, path: Path | str) -> "AnswerFile":
        key = Path(path).resolve()
        with cls._lock:
            if key not in cls._open:
                cls._open[key] = cls(key)
            return cls._open[key]

    def get(self, key: str) -> Generation | None:
        entry = self.answers.get(key)
        if entry is None:
            return None
        return Generation(**{k: v for k, v in entry.items() if k in _GENERATION_FIELDS})

    def put(self, key: str, root: str, gen: Generation) -> None:
        entry = {"root": root, **dataclasses.asdict(gen)}
        for name in _RUN_DEPENDENT:
            entry[name] = type(entry[name])(0)
        with self.write_lock:
            self.answers[key] = entry
            self.save()

    def save(self) -> None:
        """Write atomically (a recording cut short leaves the previous file, never half of one)."""
        data = {"format": FORMAT, "model": self.model, "answers": self.answers}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True, ensure_ascii=False)
            fh.write("\n")
        os.chmod(tmp, 0o644)  # test data, committed with the tests (mkstemp makes it owner-only)
        os.replace(tmp, self.path)


class ReplayBackend(_PromptSide):
    """The engine's answers, replayed from `cache_path`; a question not recorded raises PromptNotRecorded.

    `model_path`: the GGUF whose vocabulary builds the prompts (default: the registry's default model).
    `n_ctx`: as the engine's (None: the model's trained context). `rerecord`: how to refresh the file, for
    the error message (the tests name their pytest command).
    """

    def __init__(self, cache_path: Path | str, *, model_path: Path | str | None = None,
                 model_label: str | None = None, n_ctx: int | None = None, prompt_format: str = "auto",
                 rerecord: str | None = None) -> None:
        self.file = AnswerFile.open(cache_path)
        label = model_label or self.file.model.get("label") or "replay"
        super().__init__(model_path=model_path, model_label=label, n_ctx=n_ctx, prompt_format=prompt_format)
        self.rerecord = rerecord or f"record it again with RecordingBackend(<real engine>, {str(self.file.path)!r})"
        self.hits = 0

    def generate(self, segments: list[Segment], gbnf: str, root: str, max_tokens: int, watch: Any = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        del watch, schema  # the recorded answer was decided under them
        self._note(segments, root, max_tokens)
        key = answer_key(segments, gbnf, root, max_tokens)
        gen = self.file.get(key)
        if gen is None:
            raise PromptNotRecorded(self._miss(root, key))
        self.hits += 1
        self.stats.add(gen)
        return gen

    def _miss(self, root: str, key: str) -> str:
        where = self.file.path
        if not self.file.answers:
            what = f"{where} holds no recorded answers" + ("" if where.exists() else " (no such file)")
        else:
            what = (f"no recorded answer in {where} for this {_group_of(root)} question (key {key[:12]}): "
                    "the prompt, grammar or token limit has changed since it was recorded")
        recorded = self.file.model.get("file")
        if recorded and recorded != self.config.model_path.name:
            what += f"; it was recorded with {recorded}, prompts here come from {self.config.model_path.name}"
        return f"{what}; {self.rerecord}"


class RecordingBackend:
    """A real backend whose every answer is also written to `cache_path` (for ReplayBackend).

    Everything but the answers' recording is the real engine's: prompts, counts, context, statistics.
    Answers are added to those the file already holds (a question asked again is overwritten); to drop
    answers no test asks any more, delete the file and record every test that uses it.
    """

    def __init__(self, engine: Any, cache_path: Path | str) -> None:
        self.engine = engine
        self.file = AnswerFile.open(cache_path)
        config = engine.config
        self.file.model = {"label": getattr(config, "model_label", ""),
                           "file": Path(getattr(engine, "path", getattr(config, "model_path", ""))).name,
                           "prompt_format": getattr(engine, "prompt_format", "")}
        self.history: list[Asked] = []

    @property
    def n_ctx(self) -> int:
        return self.engine.n_ctx

    @property
    def stats(self) -> EngineStats:
        return self.engine.stats

    @property
    def config(self) -> Any:
        return self.engine.config

    @property
    def parallel(self) -> int:
        return getattr(self.engine, "parallel", 1)

    @property
    def notices(self) -> list[str]:
        return list(getattr(self.engine, "notices", ()))

    @property
    def asked(self) -> list[str]:
        return [a.group for a in self.history]

    def segments(self, system: str, user: str) -> list[Segment]:
        return self.engine.segments(system, user)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def generate(self, segments: list[Segment], gbnf: str, root: str, max_tokens: int, watch: Any = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        self.history.append(Asked(_group_of(root), root, plain_text(segments), tuple(segments), max_tokens))
        gen = self.engine.generate(segments, gbnf, root, max_tokens, watch=watch, schema=schema)
        self.file.put(answer_key(segments, gbnf, root, max_tokens), root, gen)
        return gen

    def generate_many(self, requests: list[Request]) -> list[Generation]:
        gens = self.engine.generate_many(requests)
        for r, gen in zip(requests, gens):
            self.history.append(Asked(_group_of(r.root), r.root, plain_text(r.segments), tuple(r.segments),
                                      r.max_tokens))
            self.file.put(answer_key(r.segments, r.gbnf, r.root, r.max_tokens), r.root, gen)
        return gens

    def close(self) -> None:
        """The engine belongs to whoever opened it."""
