"""Score the pipeline on a gold folder with the model's answers recorded once and replayed after.

Rules (assertions, statuses, candidates, assembly) change far more often than the model: the first run
asks the real model and stores every answer under a hash of its prompt and grammar; later runs with the
same cache replay them, so a rule change is scored in seconds instead of minutes. A prompt not in the
cache goes to the model (and is stored). Nothing here is used by softtiger itself.

    python bench/eval_replay.py ../shared/data/eval-dev/aci-annotated --cache /tmp/answers.json [--out DIR]
    python bench/eval_replay.py GOLD --model PATH.gguf --cache /tmp/qwen.json      # another model's answers
    python bench/eval_replay.py GOLD --rules-only      # every question answers "nothing found": the rules alone

`--rules-only` is what the model adds, measured: the same notes with every answer empty, so the difference
from a model's run is the items and statuses only its answers brought.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from softtiger_cli.eval.score import Report, load_gold  # noqa: E402
from softtiger_cli.llm.replay import AnswerFile, PromptNotRecorded, ReplayBackend, answer_key  # noqa: E402
from softtiger_cli.note.reader import read_note  # noqa: E402
from softtiger_cli.pipeline.run import StructureOptions, parse_tasks, structure_note  # noqa: E402


class Replay:
    """The engine, with answers replayed from a file of recorded answers (llm/replay.py's format) and the
    ones it lacks asked of the model and added to it."""

    def __init__(self, engine, cache: Path) -> None:
        self.engine, self.file = engine, AnswerFile.open(cache)
        self.hits = self.misses = 0
        self.n_ctx, self.config, self.stats = engine.n_ctx, engine.config, engine.stats

    def segments(self, system, user):
        return self.engine.segments(system, user)

    def count_tokens(self, text):
        return self.engine.count_tokens(text)

    def generate(self, segments, gbnf, root, max_tokens, watch=None, schema=None):
        key = answer_key(segments, gbnf, root, max_tokens)
        gen = self.file.get(key)
        if gen is not None:
            self.hits += 1
            return gen
        self.misses += 1
        gen = self.engine.generate(segments, gbnf, root, max_tokens, watch=watch)
        self.file.put(key, root, gen)
        return gen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/softtiger-answers.json"))
    parser.add_argument("--out", type=Path, help="also write each bundle to OUT/NAME.json")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--version", default="R4B")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--lang", default="auto", help="as structure --lang (default: auto)")
    parser.add_argument("--task", action="append", help="as structure --task (default: all)")
    parser.add_argument("--model", help="as structure --model (default: the embedded one)")
    parser.add_argument("--rules-only", action="store_true", help="no model: every question answers nothing found")
    parser.add_argument("--strict", action="store_true", help="never ask the model: a prompt not in the cache "
                        "is an error (rule changes that must not change prompts)")
    args = parser.parse_args()
    if args.rules_only:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from scripted import ScriptedBackend  # noqa: PLC0415  (a dev-only helper: nothing queued = nothing found)

        engine = ScriptedBackend(model_label="rules-only")
        engine.hits = engine.misses = 0
    elif args.strict:  # no weights at all: the tokenizer and template come from the GGUF's vocabulary
        from softtiger_cli.models.registry import load_registry, resolve_model

        path = resolve_model(args.model).path if args.model else None
        if args.model and path is None:
            raise SystemExit(f"--model {args.model}: not on disk (its tokenizer is needed to replay its answers)")
        engine = ReplayBackend(args.cache, model_path=path, model_label=args.model or load_registry().default,
                               rerecord="rerun without --strict to ask the model")
        engine.misses = 0
    else:
        from softtiger_cli.batch.single import open_engine

        engine = Replay(open_engine(args.model, device="auto", n_ctx=None, seed=0, threads=args.threads, offline=True,
                                    say=lambda m: None), args.cache)
    options = StructureOptions(tasks=parse_tasks(args.task or []), fhir_version=args.version, timestamp="2000-01-01T00:00:00Z",
                               lang=args.lang)
    report, started = Report(), time.perf_counter()
    for gold in load_gold(args.gold):
        report.notes += 1
        try:
            bundle = structure_note(engine, read_note(str(gold.note_path), args.lang), options).bundle
        except PromptNotRecorded as exc:
            raise SystemExit(f"{gold.name}: {exc}") from None
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{gold.name}.json").write_text(json.dumps(bundle, indent=1))
        report.add_bundle(gold, bundle)
    data = report.as_dict()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        from softtiger_cli.cli.commands.eval import _print

        _print(data)
    print(f"replayed {engine.hits}, asked {engine.misses}, {time.perf_counter() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
