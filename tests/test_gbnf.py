"""The GBNF converter and the committed grammars: llama.cpp must parse every one of them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from softtiger_cli.core.errors import GrammarError
from softtiger_cli.fhir.model import FHIR_VERSIONS
from softtiger_cli.fhir.gbnf import SchemaNotSupported, group_root, schema_to_gbnf
from softtiger_cli.fhir.grammars import build_all, check_all, derive, load
from softtiger_cli.core.paths import grammars_dir
from softtiger_cli.fhir.schema import TASKS


def _all_grammars():
    for version in FHIR_VERSIONS:
        for task in TASKS:
            yield version, task


@pytest.mark.model
@pytest.mark.parametrize(("version", "task"), list(_all_grammars()))
def test_every_committed_grammar_parses_in_llama_cpp_at_every_root(engine, version: str, task: str) -> None:
    files = load(version, task)
    roots = ["root"] + [group_root(g.name) for g in TASKS[task].groups]
    for root in roots:
        sampler = engine.grammar(files.gbnf_text, root)
        assert sampler.ptr, root


@pytest.mark.model
def test_unparsable_grammar_is_an_error_not_a_crash(engine) -> None:
    with pytest.raises(GrammarError):
        engine.grammar('root ::= [\\S]+ "x', "root")


def test_committed_grammars_are_fresh() -> None:
    assert check_all() == []


def test_build_is_reproducible(tmp_path: Path) -> None:
    build_all(tmp_path)
    for version, task in _all_grammars():
        for name in (f"{task}.schema.json", f"{task}.gbnf"):
            assert (tmp_path / version / name).read_text() == (grammars_dir() / version / name).read_text()
    assert derive("R4B", "ips") == derive("R4B", "ips")


def test_check_catches_a_hand_edited_grammar(tmp_path: Path) -> None:
    shutil.copytree(grammars_dir(), tmp_path / "g")
    gbnf = tmp_path / "g" / "R4B" / "ips.gbnf"
    gbnf.write_text(gbnf.read_text().replace("{0,5}", "{0,50}", 1))
    stale = check_all(tmp_path / "g")
    assert any("R4B/ips.gbnf" in s for s in stale)


def test_check_cli_fails_on_stale_grammars(tmp_path: Path) -> None:
    from conftest import run_cli

    shutil.copytree(grammars_dir(), tmp_path / "g")
    (tmp_path / "g" / "R5" / "ips.schema.json").write_text("{}\n")
    result = run_cli("grammar", "check", env={"SOFTTIGER_GRAMMARS_DIR": str(tmp_path / "g")})
    assert result.returncode == 7
    assert "stale" in result.stderr
    assert run_cli("grammar", "check").returncode == 0


def test_strings_exclude_control_characters_and_backslashes() -> None:
    gbnf = schema_to_gbnf({"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}},
                           "required": ["a"], "additionalProperties": False})
    assert r'[^"\\\x00-\x1F\x7F]{0,4}' in gbnf


def test_converter_refuses_what_it_cannot_bound() -> None:
    with pytest.raises(SchemaNotSupported):
        schema_to_gbnf({"type": "object", "properties": {"a": {"type": "string"}}, "required": [],
                        "additionalProperties": False})
    with pytest.raises(SchemaNotSupported):
        schema_to_gbnf({"type": "number"})


def test_schema_uses_fhir_names_and_value_sets() -> None:
    schema = json.loads(derive("R4B", "ips").schema_text)
    problem = schema["properties"]["problems"]["items"]["properties"]
    assert problem["clinicalStatus"]["enum"] == ["active", "recurrence", "relapse", "inactive", "remission", "resolved"]
    assert problem["code"]["x-fhir"]["path"] == "Condition.code"
    med = schema["properties"]["medications"]["items"]["properties"]
    assert "medicationCodeableConcept" in med
    assert "intended" in med["status"]["enum"]


def test_r5_schema_follows_r5_names() -> None:
    r4b = json.loads(derive("R4B", "ips").schema_text)["properties"]
    r5 = json.loads(derive("R5", "ips").schema_text)["properties"]
    assert "medicationCodeableConcept" in r4b["medications"]["items"]["properties"]
    assert "medication" in r5["medications"]["items"]["properties"]
    assert "performedString" in r4b["procedures"]["items"]["properties"]
    assert "occurrenceString" in r5["procedures"]["items"]["properties"]


@pytest.mark.model
@pytest.mark.parametrize("prefix", ["", '{"problems":[{"code":"', '{"problems":[{"code":"asthma","clinicalStatus":"'])
def test_near_best_check_picks_exactly_what_the_full_mask_picks(engine, prefix: str) -> None:
    """The decoding shortcut (grammar applied to the near-best tokens only) never picks another token than
    the full-vocabulary mask; when no near-best token is allowed it says so (-1) and the loop masks fully."""
    import numpy as np

    files = load("R4B", "ips")
    sampler = engine.grammar(files.gbnf_text, group_root("problems"))
    sampler.reset()
    for token in engine._tokenize(prefix, add_bos=False, special=False):
        engine._lib.llama_sampler_accept(sampler.ptr, token)
    rng = np.random.default_rng(7)
    found = 0
    for _ in range(100):
        logits = rng.normal(0, 3, engine.n_vocab).astype(np.float32)
        quick = engine._best_of_top(sampler, logits, float(logits.max()))
        full = engine._masked_argmax(sampler, logits.copy())
        assert quick in (-1, full)
        found += quick == full
    if prefix.endswith('"code":"'):
        assert found == 100  # free text: a near-best token is always allowed
