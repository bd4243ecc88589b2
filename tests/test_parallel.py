"""Parallel decoding (--parallel N): the questions of a chunk decoded together give the serial answers.

On CPU each parallel sequence has its own KV stream, laid out as the serial context lays out its one
sequence, so llama.cpp computes bit-identical logits and greedy decoding picks the same tokens: the
tests ask for identical texts, counters and bundles.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import EXAMPLES, PINNED_TIMESTAMP, REPO, assert_one_line_error, run_cli

NOTES = [*sorted(EXAMPLES.glob("*.txt")), REPO / "tests" / "data" / "prose-visit.txt"]
QUICK = [EXAMPLES / "short-note.txt", EXAMPLES / "assertions.txt", REPO / "tests" / "data" / "prose-visit.txt"]


# -- sequence bookkeeping (no model) ------------------------------------------------------------------
def test_plan_shares_the_longest_earlier_prefix() -> None:
    from softtiger_cli.llm.parallel import Share, cells_needed, plan_sharing

    note = list(range(100, 160))
    prompts = [note + [1, 2, 3], note + [1, 2, 4, 5], note[:30] + [9], note + [1, 2, 4, 6], [7, 8]]
    plans = plan_sharing(prompts, held=[])
    assert plans[0] == Share(-1, 0, 0)  # nothing held: evaluated in full
    assert plans[1] == Share(0, 62, 1)  # note + [1, 2] from the first
    assert plans[2] == Share(0, 30, 1)
    assert plans[3] == Share(1, 63, 2)  # note + [1, 2, 4] from the second, which is evaluated first
    assert plans[4] == Share(-1, 0, 0)  # shares nothing: its own cells, evaluated with the first round
    assert cells_needed(prompts, plans, [10] * 5) == (63 + 2 + 1 + 1 + 2) + 0 + 50


def test_plan_reuses_what_sequence_zero_held_but_evaluates_a_last_token() -> None:
    from softtiger_cli.llm.parallel import plan_sharing

    prompt = [5, 6, 7, 8]
    assert plan_sharing([prompt], held=[5, 6, 7, 8, 40, 41])[0].shared == 3  # fresh logits need one token
    assert plan_sharing([prompt], held=[5, 6, 9])[0].shared == 2
    # a copy never covers a prompt's last token either
    plans = plan_sharing([[1, 2, 3], [1, 2, 3]], held=[])
    assert plans[1].source == 0 and plans[1].shared == 2


def test_parallel_choice_cpu_and_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from softtiger_cli.core.errors import ModelError, UsageError
    from softtiger_cli.llm import loading
    from softtiger_cli.models import doctor
    from softtiger_cli.models.doctor import GpuDevice

    class Info:  # 13B-shaped: 40 layers, 40 KV heads of 128 -> 800 KiB of f16 KV per token
        def kv_bytes_per_token(self) -> int:
            return 40 * 40 * 256 * 2

    assert loading.choose_parallel(None, False, Info(), 4096) == 1
    assert loading.choose_parallel(1, True, Info(), 4096) == 1
    with pytest.raises(UsageError):
        loading.choose_parallel(0, False, Info(), 4096)
    monkeypatch.setattr(doctor, "gpu_devices", lambda: [GpuDevice("CUDA0", "NVIDIA H200", "GPU", 120 * 2**30, 140 * 2**30)])
    per_seq = 40 * 40 * 256 * 2 * 4096  # 3.1 GiB per sequence of 4096 tokens
    assert loading.choose_parallel(None, True, Info(), 4096) == int(120 * 2**30 * 0.8 // per_seq) == 30
    assert loading.choose_parallel(None, True, Info(), 512) == loading.MAX_PARALLEL
    with pytest.raises(ModelError, match="free VRAM"):
        loading.choose_parallel(64, True, Info(), 4096)
    monkeypatch.setattr(doctor, "gpu_devices", lambda: [])
    assert loading.choose_parallel(None, True, Info(), 4096) == 1  # VRAM unknown: serial


class FakeBackend:
    """Answers by the question's group; cuts off the first answer of `cut` (so ask retries on halves)."""

    def __init__(self, parallel: int, cut: str) -> None:
        from softtiger_cli.llm.base import EngineStats

        self.parallel, self.cut, self.n_ctx, self.stats = parallel, cut, 4096, EngineStats()
        self.batches: list[int] = []

    def segments(self, system: str, user: str):
        from softtiger_cli.llm.base import Segment

        return [Segment(system + "\n" + user, False)]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, segments, gbnf, root, max_tokens, watch=None, schema=None):
        from softtiger_cli.llm.base import Generation

        group = root.removesuffix("-root").replace("-", "_")
        text = segments[0].text
        whole = "Clinical note" in text and "FIRST HALF" in text and "SECOND HALF" in text
        if group == self.cut and whole:
            return Generation('{"%s":[{"' % group, 10, 0, max_tokens, 0, 0.0, "max_tokens")
        half = "first" if "FIRST HALF" in text else "second"
        return Generation(json.dumps({group: [{"name": f"{group} {half}"}]}), 10, 0, 5, 0, 0.0, "complete")

    def generate_many(self, requests):
        self.batches.append(len(requests))
        return [self.generate(r.segments, r.gbnf, r.root, r.max_tokens, r.watch, r.schema) for r in requests]


def _questions():
    from softtiger_cli.fhir.grammars import load
    from softtiger_cli.fhir.schema import TASKS
    from softtiger_cli.pipeline.ask import Question

    schema = load("R4B", "ips").schema
    context = "FIRST HALF. " * 20 + "Middle sentence here. " + "SECOND HALF. " * 20
    return [Question(g, {"properties": {g.name: schema["properties"][g.name]}}, "gbnf", context, 64)
            for g in TASKS["ips"].groups if not g.single][:4]


def test_ask_many_keeps_order_debug_and_half_retry() -> None:
    from conftest import hand_extraction
    from softtiger_cli.core.data import Note
    from softtiger_cli.pipeline.ask import ask_many

    questions = _questions()
    outcomes = []
    for parallel in (1, 4):
        backend = FakeBackend(parallel, cut=questions[1].group.name)
        result, _ = hand_extraction(Note(text="x", source="t", sha256="0"))
        answers = ask_many(backend, result, questions, 0, True)
        outcomes.append((answers, [g.text for g in result.generations], result.debug, result.retried))
        assert backend.batches == ([] if parallel == 1 else [4])  # serial never batches; parallel once
    assert outcomes[0] == outcomes[1]
    answers, texts, debug, retried = outcomes[1]
    assert retried == 1 and len(texts) == 6  # 4 answers + the cut one's two halves, right after it
    assert texts[1].endswith('[{"') and [d["group"] for d in debug][1:4] == [questions[1].group.name] * 3
    assert [a["name"] for a in answers[1][0] + answers[1][1]] == [f"{questions[1].group.name} first",
                                                                  f"{questions[1].group.name} second"]


# -- the real tiny model ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def par_engine(tiny_model_path: Path):
    from softtiger_cli.llm.engine import Engine, EngineConfig

    eng = Engine(EngineConfig(model_path=tiny_model_path, model_label="smollm2-135m-instruct-q4_1", parallel=4))
    yield eng
    eng.close()


def _chunk_questions(engine, path: Path):
    """The questions extract() asks for the note's first chunk, captured before any decoding."""
    import softtiger_cli.pipeline.extract as extract_mod
    from softtiger_cli.note.reader import read_note
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    captured = []

    class Captured(Exception):
        pass

    def capture(_engine, _result, questions, *_args):
        captured.extend(questions)
        raise Captured

    real = extract_mod.ask_many
    extract_mod.ask_many = capture
    try:
        with pytest.raises(Captured):
            structure_note(engine, read_note(str(path)), StructureOptions(timestamp=PINNED_TIMESTAMP))
    finally:
        extract_mod.ask_many = real
    return captured


def _same_answers(engine, par_engine, notes: list[Path]) -> int:
    """Each note's first-chunk questions (answers capped at 24 tokens: the prompts cost the time): the
    parallel engine's answers equal the serial engine's in text, stop and every counter."""
    from softtiger_cli.pipeline.ask import _request

    assert engine.parallel == 1 and par_engine.parallel == 4
    compared = 0
    for path in notes:
        questions = _chunk_questions(engine, path)
        assert len(questions) >= 4, path.name
        questions = [replace(q, limit=24) for q in questions]
        serial = engine.generate_many([_request(engine, q) for q in questions])
        together = par_engine.generate_many([_request(par_engine, q) for q in questions])
        for q, a, b in zip(questions, serial, together):
            where = f"{path.name} {q.group.name}"
            assert (a.text, a.stop, a.generated_tokens, a.full_masks, a.forced_closes, a.prompt_tokens) == \
                   (b.text, b.stop, b.generated_tokens, b.full_masks, b.forced_closes, b.prompt_tokens), where
            compared += 1
        assert sum(g.reused_tokens for g in together) > 0  # the note prefix was shared, not re-evaluated
    return compared


@pytest.mark.model
def test_generate_many_equals_generate_token_for_token(engine, par_engine) -> None:
    assert _same_answers(engine, par_engine, QUICK) >= 3 * 4


@pytest.mark.model
@pytest.mark.slow
def test_generate_many_equals_generate_on_every_note(engine, par_engine) -> None:
    assert _same_answers(engine, par_engine, NOTES) >= 5 * 4


@pytest.mark.model
def test_parallel_bundle_is_byte_identical(engine, par_engine) -> None:
    from softtiger_cli.batch.output import dumps_bundle
    from softtiger_cli.note.reader import read_note
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    options = StructureOptions(timestamp=PINNED_TIMESTAMP, keep_debug=True)
    note = read_note(str(EXAMPLES / "discharge-summary.txt"))
    a = structure_note(engine, note, options)
    b = structure_note(par_engine, note, options)
    assert [g.text for g in a.extraction.generations] == [g.text for g in b.extraction.generations]
    assert a.extraction.debug == b.extraction.debug
    assert dumps_bundle(a.bundle) == dumps_bundle(b.bundle)


@pytest.mark.model
@pytest.mark.slow
def test_cli_parallel_bundles_equal_serial_on_every_note(tmp_path: Path) -> None:
    """The whole CLI, every note, --parallel 4 against 1 (minutes on CPU: not in the default run)."""
    outs = {}
    for n in (1, 4):
        out = tmp_path / f"p{n}"
        res = run_cli("structure", *map(str, NOTES), "-o", f"{out}/", "--timestamp", PINNED_TIMESTAMP, "-q",
                      "--parallel", str(n))
        assert res.returncode == 0, res.stderr
        outs[n] = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.json"))}
    assert len(outs[1]) >= len(NOTES) and outs[1] == outs[4]


def test_parallel_is_refused_for_a_server_backend() -> None:
    res = run_cli("structure", str(EXAMPLES / "short-note.txt"), "--backend", "openai", "--base-url",
                  "http://127.0.0.1:9", "--parallel", "4")
    assert_one_line_error(res, 2)
    assert "--parallel" in res.stderr

