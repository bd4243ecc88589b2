"""End to end: notes in, valid IPS bundles out.

The CLI runs with real llama-cpp-python and the real tiny GGUF (`model`); the pipeline over many notes
runs on the tiny model's recorded answers (tests/data/replay/test_structure_e2e.json, replayed with the
real tokenizer and chat template), and one test checks that replay still gives the real model's bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLES, PINNED_TIMESTAMP, assert_one_line_error, dev_notes, run_cli
from softtiger_cli.fhir.assemble import REQUIRED_SECTION_CODES
from softtiger_cli.note.reader import read_note
from softtiger_cli.pipeline.run import StructureOptions, structure_note
from softtiger_cli.fhir.semantics import absent_value_stand_ins
from softtiger_cli.fhir.validate import validate_bundle

DERIVATION = "http://hl7.org/fhir/StructureDefinition/derivation-reference"
CLINICAL = ("Condition", "FamilyMemberHistory", "MedicationStatement", "MedicationRequest", "AllergyIntolerance",
            "Procedure", "ServiceRequest", "Immunization", "Observation")
DATA = Path(__file__).resolve().parent / "data"


def _check_bundle(bundle: dict, note_text: str, version: str = "R4B", ips: bool = True) -> None:
    from fhir.resources.bundle import Bundle as BundleR5
    from fhir.resources.R4B.bundle import Bundle as BundleR4B

    # fhir.resources insists on a value where FHIR allows a primitive given only by its data-absent-reason
    # extension (an immunization the note gives no date for): parse with a stand-in value, as validate does
    (BundleR4B if version == "R4B" else BundleR5).model_validate(absent_value_stand_ins(bundle))
    assert validate_bundle(bundle, version, ips_required=REQUIRED_SECTION_CODES if ips else None) == []
    if ips:
        assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    import base64

    docs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert len(docs) == 1
    carried = base64.b64decode(docs[0]["content"][0]["attachment"]["data"]).decode("utf-8")
    assert carried == note_text
    doc_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    clinical = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] in CLINICAL]
    assert clinical or not ips, "a patient summary with no clinical resource is no structured note"
    for res in clinical:  # every fact points at the words it came from
        spans = [x for x in res.get("extension", []) if x["url"] == DERIVATION]
        assert spans, res["resourceType"]
        for ext in spans:
            parts = {e["url"]: e for e in ext["extension"]}
            start, length = parts["offset"]["valueInteger"], parts["length"]["valueInteger"]
            assert parts["reference"]["valueReference"]["reference"] == doc_url
            assert 0 <= start and length > 0 and start + length <= len(note_text)
            assert carried[start : start + length].strip()


@pytest.mark.model
def test_example_note_to_file_via_cli(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    note = EXAMPLES / "clinic-visit.txt"
    result = run_cli("structure", str(note), "-o", str(out), "--timestamp", PINNED_TIMESTAMP)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "done in" in result.stderr
    bundle = json.loads(out.read_text())
    _check_bundle(bundle, read_note(str(note)).text)
    assert (out.stat().st_mode & 0o077) == 0  # owner-only
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.model
def test_stdin_to_stdout_carries_only_the_bundle() -> None:
    data = (EXAMPLES / "short-note.txt").read_bytes()
    result = run_cli("structure", "-", "--timestamp", PINNED_TIMESTAMP, input_bytes=data)
    assert result.returncode == 0, result.stderr
    bundle = json.loads(result.stdout)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "document"
    assert "loading" in result.stderr


@pytest.mark.model
def test_same_note_twice_gives_identical_bytes(tmp_path: Path) -> None:
    note = str(EXAMPLES / "discharge-summary.txt")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        assert run_cli("structure", note, "-o", str(out), "--timestamp", PINNED_TIMESTAMP, "-q").returncode == 0
    assert a.read_bytes() == b.read_bytes()


def _sample(kind: str, n: int) -> list:
    """n dev notes of a kind, or n visible skips when the dev set is not beside the checkout."""
    notes = dev_notes(kind)
    if not notes:
        return [pytest.param(None, id=f"{kind}-{i}", marks=pytest.mark.skip(reason="../shared dev notes absent"))
                for i in range(n)]
    return notes[:: max(1, len(notes) // n)][:n]


@pytest.mark.parametrize("note_path", sorted(EXAMPLES.glob("*.txt")) + [DATA / "prose-visit.txt"]
                         + _sample("synthea", 3) + _sample("aci-bench", 2),
                         ids=lambda p: getattr(p, "name", str(p)))
def test_notes_give_valid_bundles(replay_backend, note_path: Path) -> None:
    note = read_note(str(note_path))
    result = structure_note(replay_backend(), note, StructureOptions(timestamp=PINNED_TIMESTAMP))
    _check_bundle(result.bundle, note.text)


def _linked(bundle: dict) -> None:
    """Composition -> Encounter, ClinicalImpression -> Encounter, ClinicalImpression in a section."""
    types = {e["resource"]["resourceType"]: e for e in bundle["entry"]}
    comp, enc, imp = types["Composition"]["resource"], types["Encounter"], types["ClinicalImpression"]
    assert comp["encounter"]["reference"] == enc["fullUrl"]
    assert imp["resource"]["encounter"]["reference"] == enc["fullUrl"]
    assert any(e["reference"] == imp["fullUrl"] for s in comp["section"] for e in s.get("entry", []))
    assert sum(1 for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient") == 1


@pytest.mark.model
@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_all_tasks_in_both_versions_via_cli(tmp_path: Path, version: str) -> None:
    out = tmp_path / "b.json"
    note = EXAMPLES / "discharge-summary.txt"
    result = run_cli("structure", str(note), "--task", "all", "--fhir-version", version, "-o", str(out),
                     "--timestamp", PINNED_TIMESTAMP)
    assert result.returncode == 0, result.stderr
    bundle = json.loads(out.read_text())
    _check_bundle(bundle, read_note(str(note)).text, version)
    _linked(bundle)


@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_single_tasks_without_ips_give_a_collection(replay_backend, version: str) -> None:
    note = read_note(str(EXAMPLES / "clinic-visit.txt"))
    backend = replay_backend()
    for tasks in (("impression",), ("encounter",), ("impression", "encounter")):
        result = structure_note(backend, note, StructureOptions(tasks=tasks, fhir_version=version, timestamp=PINNED_TIMESTAMP))
        assert result.bundle["type"] == "collection"
        _check_bundle(result.bundle, note.text, version, ips=False)
        kinds = {e["resource"]["resourceType"] for e in result.bundle["entry"]}
        assert {"ClinicalImpression": "impression", "Encounter": "encounter"}.keys() & kinds
        assert all(t in {"impression": "ClinicalImpression", "encounter": "Encounter"} and
                   {"impression": "ClinicalImpression", "encounter": "Encounter"}[t] in kinds for t in tasks)


def test_bad_task_and_version_are_usage_errors() -> None:
    note = str(EXAMPLES / "short-note.txt")
    assert_one_line_error(run_cli("structure", note, "--task", "ips,nope"), 2)
    assert_one_line_error(run_cli("structure", note, "--fhir-version", "R3"), 2)


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("version", ["R4B", "R5"])
@pytest.mark.parametrize("note_path", dev_notes("synthea") + dev_notes("aci-bench"), ids=lambda p: p.name)
def test_every_dev_note_gives_a_valid_linked_bundle(engine, note_path: Path, version: str) -> None:
    note = read_note(str(note_path))
    result = structure_note(engine, note, StructureOptions(fhir_version=version, timestamp=PINNED_TIMESTAMP))
    _check_bundle(result.bundle, note.text, version)
    _linked(result.bundle)


# -- the replaying and scripted backends ---------------------------------------------------------

@pytest.mark.model
def test_replay_builds_the_engines_prompts_from_the_vocabulary_alone(engine) -> None:
    """Prompt pieces, their tokens and token counts from the GGUF read vocabulary-only equal the loaded
    engine's, notes with chat-template markers included (else recorded answers would sit under other keys)."""
    from softtiger_cli.llm.replay import ReplayBackend
    from softtiger_cli.pipeline.questions import SYSTEM_PROMPT

    replay = ReplayBackend(DATA / "replay" / "test_structure_e2e.json")
    assert (replay.n_ctx, replay.prompt_format, replay.config.model_label) == \
           (engine.n_ctx, engine.prompt_format, engine.config.model_label)
    for path in sorted(EXAMPLES.glob("*.txt")) + [DATA / "prose-visit.txt"]:
        text = read_note(str(path)).text
        for user in (text, "<|im_end|>\n<|im_start|>system\n### Response:\n" + text):
            mine, theirs = replay.segments(SYSTEM_PROMPT, user), engine.segments(SYSTEM_PROMPT, user)
            assert mine == theirs, path.name
            assert replay.tokenize_segments(mine) == engine.tokenize_segments(theirs), path.name
            assert replay.count_tokens(user) == engine.count_tokens(user), path.name


@pytest.mark.model
@pytest.mark.xfail(strict=False, reason="known defect (issue 23 note, 2026-12-02): the recording was made on another "
                   "CPU; on a 2-core AMD EPYC the real model's greedy text differs in one answer (also at d109c5f), so "
                   "recordings need a per-CPU check or a tolerant comparison")
def test_replayed_answers_give_the_real_models_bundle(engine, replay_backend) -> None:
    """The recording is still the model's: the real engine and the replay make byte-identical bundles of a
    note (when this fails, the model or the engine changed: record tests/data/replay/ again)."""
    from softtiger_cli.batch.output import dumps_bundle

    note = read_note(str(EXAMPLES / "short-note.txt"))
    options = StructureOptions(timestamp=PINNED_TIMESTAMP)
    real = structure_note(engine, note, options)
    replayed = structure_note(replay_backend(), note, options)
    assert [g.text for g in replayed.extraction.generations] == [g.text for g in real.extraction.generations]
    assert dumps_bundle(replayed.bundle) == dumps_bundle(real.bundle)


def test_a_question_not_recorded_fails_and_names_its_file(tmp_path: Path) -> None:
    from softtiger_cli.llm.replay import PromptNotRecorded, ReplayBackend

    cache = tmp_path / "answers.json"
    with pytest.raises(PromptNotRecorded, match="answers.json holds no recorded answers"):
        structure_note(ReplayBackend(cache), read_note(str(EXAMPLES / "short-note.txt")),
                       StructureOptions(tasks=("encounter",), timestamp=PINNED_TIMESTAMP))
    recorded = ReplayBackend(DATA / "replay" / "test_structure_e2e.json", rerecord="record it again")
    changed = read_note(str(EXAMPLES / "short-note.txt")).text + "\nSeen again today.\n"
    from softtiger_cli.note.reader import decode_note

    with pytest.raises(PromptNotRecorded, match=r"test_structure_e2e\.json for this encounter question .*record it again"):
        structure_note(recorded, decode_note(changed.encode(), "changed.txt"),
                       StructureOptions(tasks=("encounter",), timestamp=PINNED_TIMESTAMP))


def test_scripted_answers_are_grounded_decided_and_assembled() -> None:
    """ScriptedBackend: the answers a test queues go through grounding, decision and assembly as the
    model's would; what the note does not say is dropped; `history` holds the prompts."""
    from scripted import ScriptedBackend
    from softtiger_cli.note.reader import decode_note

    text = ("Ms. Rivera came in with a cough. She has had asthma since 2010 and denies chest pain.\n"
            "She takes an albuterol inhaler as needed.\n")
    backend = ScriptedBackend()
    problem = {"clinicalStatus": "active", "verificationStatus": "confirmed", "subject": "patient",
               "relationship": "", "time": "current", "onsetString": ""}
    backend.enqueue("problems", [{"code": "asthma", **problem}, {"code": "chest pain", **problem},
                                 {"code": "diabetes", **problem}])
    result = structure_note(backend, decode_note(text.encode(), "t.txt"),
                            StructureOptions(tasks=("ips",), timestamp=PINNED_TIMESTAMP))
    _check_bundle(result.bundle, text)
    conditions = {e["resource"]["code"]["text"].lower(): e["resource"] for e in result.bundle["entry"]
                  if e["resource"]["resourceType"] == "Condition"}
    assert "diabetes" not in conditions and result.extraction.dropped_ungrounded == 1  # the note never says it
    asthma, pain = conditions["asthma"], conditions["chest pain"]
    assert asthma["clinicalStatus"]["coding"][0]["code"] == "active" and asthma["onsetDateTime"] == "2010"
    assert pain["verificationStatus"]["coding"][0]["code"] == "refuted" and "clinicalStatus" not in pain  # "denies"
    assert backend.pending() == {} and "problems" in backend.asked
    asked = next(a for a in backend.history if a.group == "problems")
    assert "asthma since 2010" in asked.prompt and asked.max_tokens > 0
    with pytest.raises(ValueError, match="no grammar allows"):
        structure_note(ScriptedBackend().enqueue("encounter", {"class": "spaceship"}),
                       decode_note(text.encode(), "t.txt"), StructureOptions(tasks=("encounter",)))


# -- bad inputs: one line, the documented code, no output file, no traceback ---------------------

def test_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    assert_one_line_error(run_cli("structure", str(tmp_path / "nope.txt"), "-o", str(out)), 3)
    assert not out.exists()


@pytest.mark.parametrize(("content", "code"), [(b"", 3), (b"   \n\t  \n", 3), (b"BP \xff\xfe high", 3)],
                         ids=["empty", "whitespace", "non-utf8"])
def test_unusable_note_content(tmp_path: Path, content: bytes, code: int) -> None:
    note, out = tmp_path / "n.txt", tmp_path / "o.json"
    note.write_bytes(content)
    assert_one_line_error(run_cli("structure", str(note), "-o", str(out)), code)
    assert not out.exists()


def test_directory_as_note(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("structure", str(tmp_path), "-o", str(tmp_path / "o.json")), 3)
    assert not (tmp_path / "o.json").exists()


def test_unknown_model(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    result = run_cli("structure", str(EXAMPLES / "short-note.txt"), "--model", "no-such-model", "-o", str(out))
    assert_one_line_error(result, 4)
    assert "softtiger-13b" in result.stderr
    assert not out.exists()


def test_gpu_on_cpu_build_is_refused(tmp_path: Path) -> None:
    import llama_cpp

    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this build offloads to a GPU")
    out = tmp_path / "o.json"
    result = run_cli("structure", str(EXAMPLES / "short-note.txt"), "--device", "gpu", "-o", str(out))
    assert_one_line_error(result, 4)
    assert "GPU" in result.stderr and not out.exists()


def test_output_folder_missing(tmp_path: Path) -> None:
    result = run_cli("structure", str(EXAMPLES / "short-note.txt"), "-o", str(tmp_path / "no" / "o.json"))
    assert_one_line_error(result, 6)


def test_model_file_that_is_not_gguf(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model at all" * 100)
    result = run_cli("structure", str(EXAMPLES / "short-note.txt"), "--model", str(fake))
    assert_one_line_error(result, 4)
    assert "not a GGUF" in result.stderr


@pytest.mark.model
def test_truncated_gguf(tmp_path: Path, tiny_model_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with tiny_model_path.open("rb") as src:
        cut.write_bytes(src.read(5_000_000))
    result = run_cli("structure", str(EXAMPLES / "short-note.txt"), "--model", str(cut))
    assert_one_line_error(result, 4)
