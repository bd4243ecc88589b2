"""The Chinese pack (lang/zh) through the real assertion step and section reader, with the zh text model.

Every rule's example must be decided by that rule (without it, the example reads differently), as for English
(tests/test_lang.py); each family word, heading shape, relative and sentence end has its own case. Sentences
here are written for the tests.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from softtiger_cli.clinical.assertions import relation_code
from softtiger_cli.core.data import Assertion
from softtiger_cli.fhir.semantics import ROLE_CODES
from softtiger_cli.lang import ContextRule, load_pack
from softtiger_cli.lang.text import CHINESE, choose_language, detect_language
from softtiger_cli.note.sections import sections, sentences
from test_lang import FIELD, _shows
from test_lang import _assert as assert_chinese
from test_lang_measures import _show
from test_lang_status import _reads, _use, _without

PACK = load_pack("zh")


def _assert(note: str, target: str) -> Assertion:
    return assert_chinese(note, target, "zh")


@pytest.mark.parametrize("rule", PACK.rules, ids=lambda r: f"{r.category}-{r.direction}-{r.literal}")
def test_each_chinese_rule_decides_its_example(rule: ContextRule, monkeypatch: pytest.MonkeyPatch) -> None:
    if rule.unreachable:
        pytest.skip(f"unreachable: {rule.unreachable}")
    without = replace(PACK, rules=tuple(r for r in PACK.rules if r is not rule))
    _shows(monkeypatch, without, rule.example, rule.target, FIELD[rule.expect], rule.expect)


_FAMILY = [("links", w, f"父亲{w}糖尿病。", "family") for w in PACK.family.links] + [
    ("leads", w, f"{w}糖尿病。", "family") for w in PACK.family.leads] + [
    ("informant_after", w, f"母亲{w}既往有糖尿病。", "patient") for w in PACK.family.informant_after] + [
    ("informant_before", w, f"{w}母亲带来就诊，有糖尿病。", "patient") for w in PACK.family.informant_before] + [
    ("after", w, f"糖尿病{w}。", "family") for w in PACK.family.after] + [
    ("breaks", w, f"母亲患感冒，{w}有糖尿病。", "patient") for w in PACK.family.breaks]


@pytest.mark.parametrize(("key", "word", "note", "subject"), _FAMILY, ids=[f"{k}-{w}" for k, w, _, _ in _FAMILY])
def test_each_chinese_family_word_decides(key: str, word: str, note: str, subject: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    words = tuple(w for w in getattr(PACK.family, key) if w != word)
    without = replace(PACK, family=replace(PACK.family, **{key: words}))
    if not words:  # the only word of its list: the list cannot be emptied, so check the reading alone
        assert _assert(note, "糖尿病").subject == subject
        return
    _shows(monkeypatch, without, note, "糖尿病", "subject", subject)


@pytest.mark.parametrize(("word", "code", "display"), [(w, c, d) for w, (c, d) in PACK.relatives.items()])
def test_each_chinese_relative_is_named_with_its_role(word: str, code: str, display: str) -> None:
    a = _assert(f"{word}患糖尿病。", "糖尿病")
    assert (a.subject, a.relationship) == ("family", display)
    assert code in ROLE_CODES and relation_code(display) == code


@pytest.mark.parametrize(("kind", "heading"), [(k, h) for k, names in PACK.headings.items() for h in names
                                               if not h.isascii()])
def test_each_chinese_heading_names_its_section_in_every_shape(kind: str, heading: str) -> None:
    other, other_kind = ("诊疗计划", "plan") if kind != "plan" else ("过敏史", "allergies")
    for note in (f"{heading}：\n第一段。\n{other}：\n第二段。\n", f"【{heading}】第一段。\n【{other}】第二段。\n",
                 f"一、{heading}\n第一段。\n二、{other}\n第二段。\n", f"{heading}:第一段。\n{other}: 第二段。\n"):
        assert [s.kind for s in sections(note, "zh")] == [kind, other_kind], note


def test_chinese_sentences_end_at_full_width_marks_without_spaces() -> None:
    text = "患者咳嗽3天。无发热！是否胸痛？否认；BP 130/80mmHg。Plan: rest."
    got = [text[s.start:s.end] for s in sentences(text, lang="zh")]
    assert got == ["患者咳嗽3天。", "无发热！", "是否胸痛？", "否认；BP 130/80mmHg。", "Plan: rest."]


def test_the_language_is_chosen_by_the_share_of_han_characters() -> None:
    chinese = "主诉：咳嗽、咳痰3天。现病史：患者3天前受凉后出现咳嗽，BP 130/80 mmHg，SpO2 98%。"
    english = "Chief complaint: cough for 3 days. The patient, 王伟, reports a dry cough and no fever at home."
    assert detect_language(chinese) == "zh" and detect_language(english) == "en"
    assert choose_language(english, "zh") == "zh" and choose_language(chinese, "auto") == "zh"
    with pytest.raises(ValueError, match="--lang 'fr'"):
        choose_language(chinese, "fr")


def test_chinese_words_and_scopes() -> None:
    assert CHINESE.plausible("胸痛") and not CHINESE.plausible("痛") and CHINESE.plausible("COPD")
    assert CHINESE.word_count("无明显发热") == 3 and CHINESE.last_words("患者无明显发热", 2) == "显发热"
    # a Latin cue never matches inside a Latin word; a Han cue may touch Han characters
    import re
    assert re.findall(CHINESE.bounded("无|no"), "无发热 nonsense no") == ["无", "no"]


def test_a_missing_chinese_file_falls_back_to_english() -> None:
    from softtiger_cli.lang.pack import shipped

    folder, code = shipped("zh", "abbreviations.toml")  # lang/zh has none yet
    assert code == "en" and (folder / "abbreviations.toml").is_file()
    assert shipped("zh", "context.toml")[1] == "zh"


def test_each_chinese_vital_entry_reads_its_example() -> None:
    from softtiger_cli.clinical.vitals import read_vitals
    from softtiger_cli.lang.measures import load_measures

    entries = load_measures("zh").vitals.entries
    assert {e.kind for e in entries} >= {"bp", "hr", "rr", "temp", "spo2", "weight", "height"}
    for entry in entries:
        assert [_show(v) for v in read_vitals(entry.example, "zh")] == [entry.expect], entry.example


def test_a_chinese_exam_line_gives_every_vital_sign_once() -> None:
    from softtiger_cli.clinical.vitals import read_vitals

    line = "查体：T 36.8℃ P 80次/分 R 18次/分 BP 130/80mmHg，SpO2 98%。体重 65kg，身高 170cm。"
    assert [_show(v) for v in read_vitals(line, "zh")] == [
        "temp 36.8 Cel", "hr 80 /min", "rr 18 /min", "bp 130/80", "spo2 98 %", "weight 65 kg", "height 170 cm"]
    assert read_vitals("患者3天前出现咳嗽，P2亢进。", "zh") == []


def test_each_chinese_list_lead_reads_its_example() -> None:
    from softtiger_cli.clinical.lists import read_lists
    from softtiger_cli.lang.lists import load_lists

    leads = load_lists("zh").leads
    assert leads
    for lead in leads:
        items, _ = read_lists(lead.example, sections(lead.example, "zh"), (), "zh")
        assert (lead.expect, lead.target) in {(i.group, i.text) for i in items}, lead.example


def test_a_chinese_diagnosis_list_is_the_patients_problems_in_every_numbering() -> None:
    from softtiger_cli.clinical.lists import read_lists

    note = "初步诊断：\n1. 慢性阻塞性肺疾病急性加重\n2、高血压病2级\n（3）2型糖尿病\n4．冠心病\n诊疗计划：\n予头孢曲松2g 静滴。\n"
    items, _ = read_lists(note, sections(note, "zh"), (), "zh")
    assert [(i.group, i.text) for i in items] == [("problems", "慢性阻塞性肺疾病急性加重"), ("problems", "高血压病2级"),
                                                  ("problems", "2型糖尿病"), ("problems", "冠心病")]
    prose = "现病史：患者既往有高血压、糖尿病病史，规律服用氨氯地平、二甲双胍。"
    items, _ = read_lists(prose, sections(prose, "zh"), (), "zh")
    assert [(i.group, i.text) for i in items] == [("problems", "高血压"), ("problems", "糖尿病"),
                                                  ("medications", "氨氯地平"), ("medications", "二甲双胍")]


# ---- status cues (lang/zh/status.toml, visit.toml) --------------------------------------------------------

def _status_cases() -> list:
    from softtiger_cli.lang.status import load_status

    pack = load_status("zh")
    own = ("not-taken", "stopped", "intended", "active", "ordered", "done", "inpatient", "emergency", "switch", "monitoring")
    return [pytest.param(pack, cue, id=f"{cue.category}-{cue.text}") for name in own for cue in pack[name].cues]


@pytest.mark.parametrize(("pack", "cue"), _status_cases())
def test_each_chinese_status_cue_decides_its_example(pack, cue, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    assert _reads(cue, "zh") == cue.expect, cue.example
    _use(monkeypatch, _without(cue, pack))
    assert _reads(cue, "zh") != cue.expect, f"{cue.example!r} reads the same without it: it does not decide"


@pytest.mark.parametrize("word", ["高血压", "2型糖尿病", "慢性阻塞性肺疾病", "冠心病"])
def test_a_chronic_chinese_disease_stays_active_under_a_past_history(word: str) -> None:
    from softtiger_cli.clinical.status import Mention, condition_status

    text = f"既往有{word}病史"
    m = Mention(3, 3 + len(word), Assertion(time="history"), "pmh", text, 3, "zh")
    assert condition_status(word, m) == "active"
    assert condition_status("阑尾炎", Mention(0, 3, Assertion(), "pmh", "阑尾炎", 0, "zh")) == "history"


# ---- whole Chinese notes through the pipeline, rules only (every question answers "nothing found") -------

ZH_NOTES = Path(__file__).parent / "data" / "zh"


def _structure_zh(name: str, encoding: str = "utf-8") -> dict:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from scripted import ScriptedBackend
    from softtiger_cli.note.reader import decode_note
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    note = decode_note((ZH_NOTES / name).read_text(encoding="utf-8").encode(encoding), name)
    assert note.lang == "zh" and note.encoding == encoding
    return structure_note(ScriptedBackend(), note, StructureOptions(timestamp="2026-01-01T00:00:00Z")).bundle


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _status(r: dict, field: str) -> str:
    return (r.get(field) or {}).get("coding", [{}])[0].get("code", "")


def test_a_chinese_admission_note_gives_its_diagnoses_drugs_and_vitals_by_rule() -> None:
    bundle = _structure_zh("admission.txt")
    assert bundle["language"] == "zh-CN"
    conditions = {r["code"]["text"]: r for r in _resources(bundle, "Condition")}
    for name in ("慢性阻塞性肺疾病急性加重", "社区获得性肺炎", "2型糖尿病", "高血压"):
        assert _status(conditions[name], "clinicalStatus") == "active", name  # 既往有高血压: chronic, ongoing
    # 初步诊断's "高血压病2级" (a grade) and 既往史's 高血压 are one problem, one Condition
    hypertension = [r for r in _resources(bundle, "Condition") if "I10" in json.dumps(r)]
    assert len(hypertension) == 1 and "高血压病2级" not in conditions
    assert len(conditions) == len(_resources(bundle, "Condition"))  # each diagnosis once
    drugs = {r["medicationCodeableConcept"]["text"]: (r["status"], r["dosage"][0]["text"])
             for r in _resources(bundle, "MedicationStatement")}
    # the Chinese lexicon names each drug; its strength is the product's, the frequency its dosage
    assert drugs == {"氨氯地平5mg": ("active", "5mg qd"), "二甲双胍0.5g": ("active", "0.5g bid")}
    vitals = {c["code"]: r for r in _resources(bundle, "Observation") for c in r["code"]["coding"]}
    assert vitals["8310-5"]["valueQuantity"]["value"] == 36.9 and vitals["8867-4"]["valueQuantity"]["value"] == 96
    assert "85354-9" in vitals and vitals["59408-5"]["valueQuantity"]["value"] == 91
    encounter = _resources(bundle, "Encounter")[0]
    assert encounter["class"]["code"] == "IMP"  # 入院记录


def test_a_chinese_note_in_gb18030_gives_the_same_bundle() -> None:
    assert _structure_zh("outpatient.txt", "gb18030") == _structure_zh("outpatient.txt")


def test_a_chinese_discharge_note_keeps_its_diagnoses_and_plans() -> None:
    bundle = _structure_zh("discharge.txt")
    names = {r["code"]["text"] for r in _resources(bundle, "Condition")}
    assert {"急性化脓性阑尾炎", "高血压病1级"} <= names
    assert _resources(bundle, "Encounter")[0]["class"]["code"] == "IMP"


@pytest.mark.parametrize(("text", "kinds"), [
    ("体温最高39.2℃，现体温37.5℃。", ["temp 37.5 Cel"]),  # a history's highest is no reading of this visit
    ("平素血压控制在130/80mmHg，最高血压180/100mmHg，入院血压150/90mmHg。", ["bp 150/90"]),
    ("近半年体重下降5kg。", []), ("出生体重3.2kg。", []), ("血磷 P 2.35mmol/L。", []),
    ("自测血压140/90mmHg。", []),
])
def test_a_chinese_vital_sign_is_only_this_visits_reading(text: str, kinds: list[str]) -> None:
    from softtiger_cli.clinical.vitals import read_vitals

    assert [_show(v) for v in read_vitals(text, "zh")] == kinds


def test_denied_findings_are_each_their_own_refuted_item_and_denial_words_inside_words_are_not() -> None:
    from softtiger_cli.clinical.lists import read_lists

    text = ("现病史：患者无明显诱因出现咳嗽，无发热，无明显胸痛、气促。否认高血压、糖尿病病史。不伴恶心、呕吐。"
            "四肢无力，无法行走。")
    items, _ = read_lists(text, sections(text, "zh"), (), "zh")
    assert [i.text for i in items] == ["发热", "胸痛", "气促", "高血压", "糖尿病", "恶心", "呕吐"]


def test_a_numbered_line_is_an_item_of_its_section_not_a_heading() -> None:
    note = "出院医嘱：\n1. 出院带药：氨氯地平5mg qd。\n2. 1周后复查血常规。\n"
    assert [s.kind for s in sections(note, "zh")] == ["plan"]
    bundle_note = "一、出院医嘱：\n出院带药：氨氯地平5mg qd。\n"
    assert [s.kind for s in sections(bundle_note, "zh")] == ["plan", "medications"]


def test_the_discharge_notes_drugs_to_take_home_are_taken_and_the_hospital_course_is_over() -> None:
    bundle = _structure_zh("discharge.txt")
    drugs = {r["medicationCodeableConcept"]["text"]: r["status"] for r in _resources(bundle, "MedicationStatement")}
    # 诊疗经过：术后予头孢呋辛 is a course given in hospital and over by discharge, not an order for home
    assert drugs == {"氨氯地平5mg": "active", "头孢呋辛": "stopped"}
    assert not _resources(bundle, "MedicationRequest")
    refuted = {r["code"]["text"] for r in _resources(bundle, "Condition") if _status(r, "verificationStatus") == "refuted"}
    assert refuted == {"发热"}  # 出院情况：无发热


def test_a_full_width_bracket_keeps_its_reactions_with_the_allergy() -> None:
    from softtiger_cli.clinical.lists import read_lists

    note = "过敏史：对碘造影剂过敏（全身荨麻疹、喉头水肿）。\n"
    items, _ = read_lists(note, sections(note, "zh"), (), "zh")
    assert [(i.group, i.text) for i in items] == [("allergies", "对碘造影剂过敏（全身荨麻疹、喉头水肿）")]


@pytest.mark.parametrize(("text", "names"), [
    ("入院后行腹腔镜阑尾切除术，术后予头孢呋辛抗感染。", ["腹腔镜阑尾切除术"]),  # after the verb, not the whole run
    ("既往史：阑尾切除术后10年。", ["阑尾切除术"]),
    ("2015年行胆囊切除术。", ["胆囊切除术"]),
    ("胸部CT示双肺气肿，头颅MRI未见异常。", ["胸部CT", "头颅MRI"]),
    ("完善痰培养、肺功能检查。", ["痰培养", "肺功能"]),
    ("拟行冠脉造影，必要时行PCI术。", ["冠脉造影", "PCI术"]),
    ("患者术后恢复好。", []),  # 术 alone names no operation
])
def test_chinese_tests_and_operations_are_found_with_their_names(text: str, names: list[str]) -> None:
    from softtiger_cli.clinical.procedures import find_procedures

    assert [text[a:b] for a, b in find_procedures(text, lang="zh")] == names


def test_a_chinese_operation_done_and_a_test_ordered_have_their_status() -> None:
    bundle = _structure_zh("discharge.txt")
    assert [(r["code"]["text"], r["status"]) for r in _resources(bundle, "Procedure")] == [("腹腔镜阑尾切除术", "completed")]
    assert "血常规" in {r["code"]["text"] for r in _resources(bundle, "ServiceRequest")}  # 1周后门诊复查血常规


def test_the_evidence_view_marks_a_chinese_note_in_its_language() -> None:
    import re

    from softtiger_cli.view.render import render_bundle

    page = render_bundle(_structure_zh("admission.txt"))
    assert '<div class="note" id="note" lang="zh-CN">' in page and "Noto Sans CJK SC" in page
    marked = re.findall(r"<mark [^>]*>([^<]+)</mark>", page)
    assert "社区获得性肺炎" in marked and "高血压病2级" in marked


def test_the_language_is_in_the_journal_and_a_forced_one_in_the_options_key(tmp_path: Path) -> None:
    import json

    from softtiger_cli.batch.journal import Store
    from softtiger_cli.pipeline.run import StructureOptions

    assert StructureOptions().key() == StructureOptions(lang="auto").key()  # auto: the text's own, in its hash
    assert StructureOptions(lang="zh").key().endswith("|lang=zh")
    store = Store(tmp_path)
    store.record("a.json", "0" * 64, "key", "{}", "zh")
    entries = [json.loads(line) for line in store.state.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert entries[-1]["lang"] == "zh" and entries[-1]["options"] == "key"


def _structure_text(text: str) -> dict:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from scripted import ScriptedBackend
    from softtiger_cli.note.reader import decode_note
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    note = decode_note(text.encode("utf-8"), "note.txt")
    return structure_note(ScriptedBackend(), note, StructureOptions(timestamp="2026-01-01T00:00:00Z")).bundle


def test_chinese_vaccines_given_and_advised_are_immunizations_and_no_disease_inside_their_names() -> None:
    note = ("门诊病历\n\n主诉：咳嗽3天。\n现病史：患者3天前受凉后出现咳嗽，无发热。\n"
            "既往史：高血压病史5年。2022年9月已接种流感疫苗。幼时已接种卡介苗、乙肝疫苗。破伤风疫苗接种史不详。\n"
            "诊断：急性支气管炎\n处理：建议接种23价肺炎球菌多糖疫苗。\n")
    bundle = _structure_text(note)
    shots = {r["vaccineCode"]["text"]: (r["status"], r["vaccineCode"].get("coding", [{}])[0].get("code"))
             for r in _resources(bundle, "Immunization")}
    assert shots == {"流感疫苗": ("completed", "88"), "卡介苗": ("completed", "19"), "乙肝疫苗": ("completed", "45")}
    planned = [r for r in _resources(bundle, "ImmunizationRecommendation")] + \
        [r for r in _resources(bundle, "ServiceRequest") if "疫苗" in r["code"]["text"]]
    assert planned, "建议接种… is a vaccine to give"
    conditions = {r["code"]["text"] for r in _resources(bundle, "Condition")}
    assert not conditions & {"肺炎", "流感", "乙肝", "破伤风"}  # names inside a vaccine's name are no diseases
    assert not [r for r in _resources(bundle, "MedicationStatement") if "疫苗" in r["medicationCodeableConcept"]["text"]]


@pytest.mark.parametrize(("text", "code"), [("流感疫苗", "88"), ("23价肺炎球菌多糖疫苗", "33"), ("HPV疫苗", "137"),
                                            ("百白破疫苗", "107"), ("麻腮风疫苗", "03"), ("吸附破伤风疫苗", None)])
def test_chinese_vaccine_names_are_coded_only_by_their_exact_name(text: str, code: str | None) -> None:
    from softtiger_cli.terms import code_vaccine, find_mentions

    got = code_vaccine(text)
    assert (got.code if got else None) == code
    assert [(m.kind, m.text) for m in find_mentions(f"已接种{text}。", lang="zh")] == [("vaccine", text)]


def test_chinese_notes_are_asked_in_chinese_with_every_key_and_code_the_grammars() -> None:
    import json

    from softtiger_cli.fhir.grammars import FHIR_VERSIONS, load
    from softtiger_cli.fhir.schema import TASKS
    from softtiger_cli.lang.prompts import load_prompts
    from softtiger_cli.pipeline.questions import group_prompt, system_prompt

    zh, fields = load_prompts("zh"), set()
    groups = {g.name: (t, g) for t in TASKS for g in TASKS[t].groups}
    assert set(zh.asks) == set(groups)  # every question has its Chinese task
    for version in FHIR_VERSIONS:
        for name, (task, group) in groups.items():
            schema = load(version, task).schema
            body = schema["properties"][name]
            item = body if group.single else body["items"]
            fields |= {f"{name}.{k}" for k in item["properties"]}
            prompt = group_prompt(group, {"properties": {name: body}}, "患者咳嗽3天。", "zh")
            assert zh.asks[name] in prompt and f'{{"{name}": ' in prompt
            for key in item["properties"]:  # the JSON keys stay the grammar's
                assert f"- {key}: " in prompt
    assert set(zh.hints) <= fields, set(zh.hints) - fields  # no hint for a field no schema has
    assert "病历" in system_prompt("zh") and json.dumps(system_prompt("zh"), ensure_ascii=False)
    assert system_prompt("en").startswith("You extract facts")


@pytest.mark.parametrize(("sentence", "drug", "section", "status"), [
    ("将氨氯地平改为硝苯地平，二甲双胍继续服用。", "二甲双胍", "plan", "active"),  # a switch stays in its clause
    ("阿司匹林，氨氯地平改为硝苯地平。", "阿司匹林", "plan", "intended"),
    ("改为硝苯地平，未服用阿司匹林。", "阿司匹林", "hpi", "not-taken"),
    ("将氨氯地平改为硝苯地平。", "硝苯地平", "plan", "intended"),
    ("将氨氯地平改为硝苯地平。", "氨氯地平", "plan", "stopped"),
    ("入院后予头孢曲松抗感染，出院继续口服。", "头孢曲松", "course", "active"),  # continued after the stay
    ("入院后予头孢曲松抗感染。", "头孢曲松", "course", "stopped"),  # given in hospital, over by discharge
    ("患者长期自服阿司匹林。", "阿司匹林", "pmh", "active"),
])
def test_chinese_drug_status_in_its_clause(sentence: str, drug: str, section: str, status: str) -> None:
    from softtiger_cli.clinical.status import medication_status
    from test_lang_status import _mention

    m = _mention(sentence, sentence.find(drug), len(drug), section, lang="zh")
    assert medication_status(m, False)[0] == status


@pytest.mark.parametrize(("text", "shaped"), [("肺小结节", True), ("甲状腺小结节", True), ("心血管内科门诊病历", False),
                                              ("骨科出院小结", False), ("入院记录（产科）", False)])
def test_the_records_own_title_is_no_condition_but_a_nodule_is(text: str, shaped: bool) -> None:
    from softtiger_cli.pipeline.candidates import condition_shaped

    assert condition_shaped(text, "zh") is shaped


def test_a_cue_after_the_finding_speaks_of_its_own_clause_only() -> None:
    note = "胸部CT示双肺气肿，右下肺感染可能。"
    assert _assert(note, "肺气肿").certainty == "affirmed"
    assert _assert(note, "右下肺感染").certainty == "possible"
    assert _assert("否认高血压、糖尿病，冠心病病史。", "冠心病").certainty == "negated"  # a denial runs on
