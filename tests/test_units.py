"""Pure-logic units: note decoding, grounding, the JSON watch, chunking, the registry."""

from __future__ import annotations

import codecs

import pytest

from softtiger_cli.core.errors import InputError, ModelError
from softtiger_cli.note.chunking import chunk_note
from softtiger_cli.core.data import Item
from softtiger_cli.pipeline.ground import plausible
from softtiger_cli.pipeline.merge import merge_items
from softtiger_cli.pipeline.questions import steer
from softtiger_cli.note.sections import sections, sentences
from softtiger_cli.note.grounding import Grounder
from softtiger_cli.llm.jsonwatch import JsonWatch
from softtiger_cli.note.reader import decode_note
from softtiger_cli.models.registry import load_registry, parse_registry, pick_for_budget, resolve_model


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"  \n\t ", "empty"), (b"abc\xc3\x28", "UTF-8"), (b"\x00\x01binary", "binary"), (b"!!! ...", "no letters")],
)
def test_bad_note_bytes(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode_note(data, "n.txt")


def test_odd_but_legal_notes_decode() -> None:
    assert decode_note(codecs.BOM_UTF16_LE + "BP 120/80".encode("utf-16-le"), "n").text == "BP 120/80"
    assert decode_note(b"a\r\nb\rc", "n").text == "a\nb\nc"
    assert decode_note(codecs.BOM_UTF8 + b"HTN", "n").text == "HTN"


def test_grounding_exact_normalised_fuzzy() -> None:
    g = Grounder("PMH: Hypertension.\nMeds: metformin-500mg BID")
    assert g.find("Hypertension").method == "exact"
    assert g.find("hypertension").method == "normalized"
    span = g.find("metformin 500mg")
    assert span.method == "normalized" and g.note[span.start:span.end] == "metformin-500mg"
    assert g.find("metformine 500 mg").method == "fuzzy"
    assert g.find("aspirin") is None


def test_watch_stops_at_the_end_and_steers_repeats() -> None:
    w = JsonWatch()
    assert w.feed('{"plan":[{"description":"rest"}') is None
    assert w.preferred() == ()
    w.feed(',{"description":"rest"')
    assert w.closing
    assert w.preferred() == ("}",)
    assert w.cut('"},{"') is None  # already past the string: cut starts at the quote
    w.feed("}")
    assert w.preferred() == ("]",)
    assert w.feed("]}") == "stop"


def test_watch_cut_shortens_a_merged_token() -> None:
    w = JsonWatch()
    w.feed('{"p":[{"d":"x"},{"d":"x')
    assert w.cut('"},{"') == '"}'


def _words(s: str) -> int:  # a stand-in tokenizer for pure logic
    return len(s.split())


def _chunks(text: str, budget: int, count=_words):
    secs = sections(text)
    return chunk_note(text, budget, count, secs, [sentences(text, s.body_start, s.end) for s in secs])


def test_chunks_cover_the_note_in_order_within_budget() -> None:
    text = "".join(f"HEADING {i}\n" + "".join(f"Sentence {j} " + "word " * (j % 7) + ". " for j in range(12)) + "\n"
                   for i in range(30))
    chunks = _chunks(text, 120)
    assert len(chunks) > 3
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start <= a.end  # no gap; a small overlap is allowed
        assert a.end - b.start < (a.end - a.start) // 2
    assert all(_words(c.text(text)) <= 120 for c in chunks)
    mid = [c for c in chunks if c.heading]
    assert all(c.heading.startswith("HEADING") for c in mid)


def test_one_huge_line_is_cut_at_spaces() -> None:
    text = "word " * 5000
    chunks = _chunks(text, 300)
    assert chunks[-1].end == len(text) and all(_words(c.text(text)) <= 300 for c in chunks)


def test_sections_and_sentences_round_trip() -> None:
    note = "CHIEF COMPLAINT\nCough.\n\nMedications: lisinopril 10 mg daily. Metformin 500 mg BID.\nPlan:\nRest. Fluids."
    secs = sections(note)
    assert [s.kind for s in secs] == ["chief_complaint", "medications", "plan"]
    assert secs[0].start == 0 and secs[-1].end == len(note)
    for s in secs:
        for sent in sentences(note, s.body_start, s.end):
            assert note[sent.start:sent.end].strip() == note[sent.start:sent.end]
    chunk = _chunks(note, 1000)[0]
    assert "lisinopril" in steer("medications", note, chunk, secs)
    assert "Cough" not in steer("medications", note, chunk, secs)
    assert steer("allergies", note, chunk, secs) is None


def test_merge_and_plausibility() -> None:
    items = [Item("problems", {"code": "HTN"}, text_field="code"),
             Item("problems", {"code": "htn", "clinicalStatus": "active"}, text_field="code")]
    merged = merge_items(items)
    assert len(merged) == 1 and merged[0].values["clinicalStatus"] == "active"
    note = "CHIEF COMPLAINT\nKnee pain."
    assert not plausible("CHIEF COMPLAINT", note)
    assert plausible("Knee pain", note)
    assert not plausible("A1", note)


def test_registry_names_aliases_families() -> None:
    reg = load_registry()
    assert reg.lookup("tiny").name == reg.default
    assert reg.lookup("SoftTiger-13b-i1-Q4_K_M").files == ("SoftTiger-13b.i1-Q4_K_M.gguf",)
    split = reg.lookup("softtiger-70b-i1-q6_k")
    assert split.is_split and len(split.sha256) == 2
    assert all(s.n_ctx == 8192 and s.prompt_format == "tigerbot" for s in reg.models.values() if s.family.startswith("softtiger"))
    assert pick_for_budget(reg, "softtiger-13b", 16 * 10**9).name == "softtiger-13b-i1-q4_k_m"
    assert pick_for_budget(reg, "softtiger-13b", 64 * 10**9).name == "softtiger-13b-q8_0"
    assert resolve_model("softtiger-13b", memory_budget=16 * 10**9).spec.name == "softtiger-13b-i1-q4_k_m"


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ModelError) as info:
        resolve_model("gpt-17")
    assert "softtiger-13b" in info.value.one_line() and "models list" in info.value.one_line()


def test_registry_rejects_unknown_prompt_format() -> None:
    text = 'default = "a"\n[models.a]\nquant="Q"\nrepo="r/r"\nfiles=["a.gguf"]\nsize_bytes=1\nprompt_format="weird"\n'
    with pytest.raises(ModelError, match="prompt_format"):
        parse_registry(text)
