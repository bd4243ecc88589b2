"""Long notes: chunks fit every model's context, spans index the note, distant chunks are all read.

The tiny model's tokenizer is read vocabulary-only and its answers are replayed (tests/data/replay/
test_long_notes.json): chunk budgets, chunks and prompts are the real engine's, without its weights."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from conftest import DEV_DIR, EXAMPLES, PINNED_TIMESTAMP, dev_notes
from softtiger_cli.fhir.grammars import load
from softtiger_cli.pipeline.analyse import analyse, chunk
from softtiger_cli.pipeline.extract import TaskGrammar, chunk_budget
from softtiger_cli.pipeline.questions import SYSTEM_PROMPT, group_prompt, output_bound
from softtiger_cli.note.reader import decode_note
from softtiger_cli.pipeline.run import StructureOptions, structure_note
from softtiger_cli.models.registry import load_registry
from softtiger_cli.fhir.schema import TASKS
from softtiger_cli.note.sections import sections, sentences


def _joined(paths: list[Path], times: int = 1) -> str:
    return "\n\n".join(p.read_text(encoding="utf-8").replace("\r\n", "\n").strip() for p in paths * times) + "\n"


@pytest.mark.parametrize("note_path", dev_notes("synthea") + dev_notes("aci-bench") or sorted(EXAMPLES.glob("*.txt")),
                         ids=lambda p: p.name)
def test_segmentation_offsets_round_trip(note_path: Path) -> None:
    text = decode_note(note_path.read_bytes(), note_path.name).text
    secs = sections(text)
    assert secs[0].start == 0 and secs[-1].end == len(text)
    assert all(a.end == b.start for a, b in zip(secs, secs[1:]))
    for s in secs:
        assert text[s.start:s.body_start].strip().strip("#").strip().rstrip(":").strip().startswith(s.heading.strip("#").strip()) or not s.heading
        for sent in sentences(text, s.body_start, s.end):
            piece = text[sent.start:sent.end]
            assert piece and piece == piece.strip()


def test_chunk_budgets_fit_every_registered_model(replay_backend) -> None:
    """Budgets as extract() computes them (every task shares the chunks), counted with the tiny model's
    tokenizer (the only one on disk): question + chunk + worst answer fit each model's context."""
    engine = replay_backend()  # only its tokenizer is used
    text = _joined(dev_notes("synthea")[:20] or sorted(EXAMPLES.glob("*.txt")), times=1 if DEV_DIR.is_dir() else 20)
    tasks = [TaskGrammar(TASKS[t], load("R4B", t).schema, "") for t in ("ips", "impression", "encounter")]
    groups = [(tg, g) for tg in tasks for g in tg.task.groups]
    schemas = {g.name: {"properties": {g.name: tg.schema["properties"][g.name]}} for tg, g in groups}
    ask = max(engine.count_tokens(SYSTEM_PROMPT + group_prompt(g, schemas[g.name], "")) for _, g in groups)
    reserve = max(output_bound(g, schemas[g.name]) for _, g in groups)
    analysis = analyse(decode_note(text.encode(), "joined.txt"))
    checked = 0
    for spec in load_registry().models.values():
        budget = chunk_budget(engine.count_tokens, spec.n_ctx, tasks)
        assert budget == spec.n_ctx - ask - reserve - 32
        for piece in chunk(analysis, budget, engine.count_tokens):
            total = ask + engine.count_tokens(piece.text(text)) + reserve + 32
            assert total <= spec.n_ctx, (spec.name, total)
            checked += 1
    assert checked >= len(load_registry().models)


def _check_spans(bundle: dict, text: str) -> set[int]:
    doc = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    assert base64.b64decode(doc["content"][0]["attachment"]["data"]).decode() == text
    starts = set()
    for entry in bundle["entry"]:
        for ext in entry["resource"].get("extension", []):
            parts = {e["url"]: e for e in ext["extension"]}
            start, length = parts["offset"]["valueInteger"], parts["length"]["valueInteger"]
            assert 0 <= start and start + length <= len(text) and text[start:start + length].strip()
            starts.add(start)
    return starts


def test_a_note_over_several_chunks_is_read_to_the_end(replay_backend) -> None:
    """Examples repeated past a small context: every chunk is read and items come from far apart."""
    text = _joined(sorted(EXAMPLES.glob("*.txt")), times=3)
    small = replay_backend(n_ctx=3072)
    note = decode_note(text.encode(), "long.txt")
    result = structure_note(small, note, StructureOptions(tasks=("ips",), timestamp=PINNED_TIMESTAMP))
    ex = result.extraction
    assert len(ex.chunks) >= 2
    assert ex.chunks[0][0] == 0 and ex.chunks[-1][1] == len(text)
    starts = _check_spans(result.bundle, text)
    assert starts and max(starts) > len(text) // 2  # something was grounded in the second half


@pytest.mark.slow
@pytest.mark.model
def test_forty_dev_notes_joined(engine) -> None:
    files = (dev_notes("synthea")[:20] + dev_notes("aci-bench")[:20])
    if len(files) < 40:
        pytest.skip("needs the eval-dev notes")
    text = _joined(files)
    assert len(text) > 100_000
    note = decode_note(text.encode(), "forty.txt")
    result = structure_note(engine, note, StructureOptions(tasks=("ips",), timestamp=PINNED_TIMESTAMP))
    ex = result.extraction
    starts = _check_spans(result.bundle, text)
    chunks_with_items = {i for i, (s, e) in enumerate(ex.chunks) for p in starts if s <= p < e}
    assert len(ex.chunks) >= 3 and len(chunks_with_items) >= 3
