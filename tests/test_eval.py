"""`softtiger eval` scoring: matching rules, both gold formats, and the CLI's JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from softtiger_cli.eval.score import Concept, load_gold, matches, normalise, score

DATA = Path(__file__).parent / "data"


def test_matching_rules() -> None:
    assert normalise("Acute viral pharyngitis (disorder)") == "acute viral pharyngitis"
    assert matches(Concept("medication", "lisinopril 10 mg"), Concept("medication", "lisinopril 10 mg oral tablet"))
    assert not matches(Concept("condition", "lisinopril"), Concept("medication", "lisinopril"))
    assert matches(Concept("condition", "x", "http://snomed.info/sct", "1"), Concept("condition", "y", "http://snomed.info/sct", "1"))
    assert not matches(Concept("condition", "htn", "http://snomed.info/sct", "1"),
                       Concept("condition", "htn", "http://snomed.info/sct", "2"))
    counts = score([Concept("condition", "stress"), Concept("condition", "cough")],
                   [Concept("condition", "stress (finding)"), Concept("condition", "fever")])
    assert (counts["condition"].tp, counts["condition"].fp, counts["condition"].fn) == (1, 1, 1)


def test_gold_fhir_bundles_are_read() -> None:
    golds = load_gold(DATA / "gold-fhir")
    assert [g.name for g in golds] == ["visit"]
    kinds = sorted(c.kind for c in golds[0].concepts)
    assert kinds == ["allergy", "condition", "condition", "medication"]


def test_eval_cli_on_existing_bundles() -> None:
    result = run_cli("eval", str(DATA / "gold-fhir"), "--bundles", str(DATA / "gold-fhir-bundles"), "--json", "-q")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["validity_rate"] == 1.0 and report["notes"] == 1
    overall = report["overall"]
    assert (overall["tp"], overall["fp"], overall["fn"]) == (2, 1, 2)
    assert report["per_kind"]["condition"]["precision"] == 0.5
    assert report["grounding_rate"] == round(1 / 3, 3)


def test_eval_cli_reports_a_missing_bundle(tmp_path: Path) -> None:
    result = run_cli("eval", str(DATA / "gold-fhir"), "--bundles", str(tmp_path), "--json", "-q")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["unparsable_or_failed"] == 1 and "missing" in report["failures"][0]["reason"]


@pytest.mark.parametrize(("pred", "gold", "same"), [
    ("高血压病2级", "高血压", True),
    ("阿司匹林肠溶片 100mg", "阿司匹林肠溶片", True),
    ("肺癌伴炎症", "肺炎", False),  # the characters in order, but not the word
    ("胸闷气促", "胸痛", False),
    ("2型糖尿病", "糖尿病", True),
])
def test_chinese_text_matches_by_characters_and_their_bigrams(pred: str, gold: str, same: bool) -> None:
    assert matches(Concept("condition", pred), Concept("condition", gold)) is same
