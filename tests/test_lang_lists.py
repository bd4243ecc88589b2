"""The list, findings and medication packs (lang/en/lists.toml, synthea.toml, findings.toml, medications.toml):
every lead and tag example runs through the real list reader and is decided by its entry; every word of the
word lists does its job in a sentence of its own; a generator's rules apply only to a note with its markers;
the loaders refuse a broken file with its line; the vocabulary stays out of the code."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import REPO
from softtiger_cli.clinical import lists
from softtiger_cli.clinical.findings import find_findings
from softtiger_cli.clinical.lists import read_lists
from softtiger_cli.clinical.medications import drug_text, find_supplements
from softtiger_cli.clinical.procedures import find_procedures
from softtiger_cli.lang import PackError, load_pack
from softtiger_cli.lang.findings import load_findings
from softtiger_cli.lang.lists import (
    LIST_GROUPS, GENERATOR_FILES, Generator, ListWords, generator_rules, load_generators, load_lists,
)
from softtiger_cli.lang.medications import load_medications
from softtiger_cli.lang.words import Entry, Words, texts
from softtiger_cli.note.reader import decode_note
from softtiger_cli.note.sections import sections
from softtiger_cli.pipeline.analyse import analyse

WORDS = load_lists("en")
GENERATORS = load_generators("en")
SYNTHEA = next(g for g in GENERATORS if g.name == "synthea")
FINDINGS = load_findings("en")
MEDICATIONS = load_medications("en")
LANG_DIR = REPO / "softtiger_cli" / "lang" / "en"
FILES = ("lists.toml", *GENERATOR_FILES, "findings.toml", "medications.toml")
MARKER = "\nSOCIAL HISTORY\nSeen after a fall (event).\n"  # a semantic tag, and no list: a generator's note


def _read(note: str, words: ListWords = WORDS, generators: tuple[Generator, ...] = GENERATORS) -> list[tuple[str, str]]:
    """The list reader as read_lists runs it (generators decided from the note), on the given words."""
    active = tuple(g for g in generators if g.marker.search(note))
    items, _ = lists._read(note, sections(note), lists._compile(words, active))
    for item in items:
        assert note[item.start:item.end] == item.text
    return [(i.group, i.text) for i in items]


def _group_of(note: str, target: str, **kw) -> str | None:
    return next((g for g, t in _read(note, **kw) if t == target), None)


def _without_lead(lead) -> dict:
    if lead in WORDS.leads:
        return {"words": replace(WORDS, leads=tuple(x for x in WORDS.leads if x is not lead))}
    return {"generators": tuple(replace(g, leads=tuple(x for x in g.leads if x is not lead)) for g in GENERATORS)}


def _without_tag(tag) -> dict:
    if tag in WORDS.tags:
        return {"words": replace(WORDS, tags=tuple(x for x in WORDS.tags if x is not tag))}
    return {"generators": tuple(replace(g, tags=tuple(x for x in g.tags if x is not tag)) for g in GENERATORS)}


ALL_LEADS = WORDS.leads + tuple(lead for g in GENERATORS for lead in g.leads)
ALL_TAGS = WORDS.tags + tuple(tag for g in GENERATORS for tag in g.tags)


@pytest.mark.parametrize("lead", ALL_LEADS, ids=lambda lead: f"{lead.group}-{texts(lead.phrases)[0]}")
def test_each_lead_decides_its_example(lead) -> None:
    if lead.unreachable:
        pytest.skip(f"unreachable: {lead.unreachable}")
    assert _group_of(lead.example, lead.target) == lead.expect, _read(lead.example)
    assert _group_of(lead.example, lead.target, **_without_lead(lead)) != lead.expect, "reads the same without it"


@pytest.mark.parametrize("tag", ALL_TAGS, ids=lambda tag: tag.tag)
def test_each_tag_decides_its_example(tag) -> None:
    assert _group_of(tag.example, tag.target) == tag.expect, _read(tag.example)
    assert _group_of(tag.example, tag.target, **_without_tag(tag)) != tag.expect, "reads the same without it"


def _lead_phrases() -> list[tuple[str, str, bool, bool]]:
    out = [(p, lead.group, lead.single, False) for lead in WORDS.leads for p in texts(lead.phrases)]
    return out + [(p, lead.group, lead.single, True) for g in GENERATORS for lead in g.leads for p in texts(lead.phrases)]


@pytest.mark.parametrize(("phrase", "group", "single", "generator"), _lead_phrases())
def test_every_lead_phrase_leads_a_list_of_its_group(phrase: str, group: str, single: bool, generator: bool) -> None:
    note = f"Today the patient {phrase} alpha syndrome; beta disease.\n" + (MARKER if generator else "")
    expected = [(group, "alpha syndrome")] + ([] if single else [(group, "beta disease")])
    assert _read(note) == expected


def test_a_generators_rules_apply_only_to_a_note_with_its_markers() -> None:
    prose = "She presents with chest pain radiating to the left arm.\n"
    assert generator_rules(prose) == () and read_lists(prose, sections(prose)) == ([], [])
    marked = prose + MARKER
    assert generator_rules(marked) == (SYNTHEA,)
    assert [(i.group, i.text) for i in read_lists(marked, sections(marked))[0]] == [
        ("problems", "chest pain radiating to the left arm")]
    for phrase in texts(load_generators()[0].leads[0].phrases)[:1] + ("prescribed the following medication",
                                                                       "placed on a careplan"):
        assert generator_rules(f"The patient {phrase}: X.") == (SYNTHEA,), phrase
    for tag in ALL_TAGS:
        assert generator_rules(f"Cough ({tag.tag.upper()}).") == (SYNTHEA,), tag.tag
    assert generator_rules("Cough (mild), gout (2019).") == ()


def test_the_analysis_decides_the_generator_once_and_passes_it_on() -> None:
    text = "HPI\nShe presents with chest pain radiating to the left arm.\n"
    assert analyse(decode_note(text.encode(), "t.txt")).list_items == []
    assert [i.text for i in analyse(decode_note((text + MARKER).encode(), "t.txt")).list_items] == ["chest pain radiating to the left arm"]


def test_vaccine_names_keep_their_commas_in_every_note() -> None:
    """A CVX-style vaccine name has commas; "seasonal" is no vaccine, in a clinician's note or a generator's."""
    note = "Today she had vaccines administered: influenza, seasonal, injectable; tetanus toxoid.\n"
    assert [t for _, t in _read(note)] == ["influenza, seasonal, injectable", "tetanus toxoid"]
    assert [t for _, t in _read(note + MARKER)] == ["influenza, seasonal, injectable", "tetanus toxoid"]
    assert WORDS.unsplit_groups == ("immunizations",)


@pytest.mark.parametrize(("kind", "group"), WORDS.section_groups)
def test_each_list_section_holds_its_group(kind: str, group: str) -> None:
    heading = load_pack("en").headings[kind][0].upper()
    note = f"{heading}\nalpha syndrome; beta disease\n"
    assert _read(note) == [(group, "alpha syndrome"), (group, "beta disease")]
    assert _read(note, words=replace(WORDS, section_groups=tuple(x for x in WORDS.section_groups if x[0] != kind))) == []


# ---- each word of lists.toml [words] and [separators], in a sentence it decides: (list, sentence, template
# filled with the word, what it reads). The word is taken out of its list and the sentence must read otherwise.
def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]


TEMPLATES: dict[str, Callable[[str], str]] = {
    "clause_starts": lambda w: f"She has a history of diabetes {w} gout.\n\nHe has a history of asthma {w}, eczema.\n",
    "clause_durations": lambda w: f"She has a history of diabetes 3 {w} ago.\n",
    "clause_subjects": lambda w: f"She has a history of diabetes {w} takes insulin.\n",
    "date_words": lambda w: f"PAST MEDICAL HISTORY\nAsthma {w} 2009. Gout.\n",
    "duration_words": lambda w: f"PAST MEDICAL HISTORY\nAsthma {w} 3 days. Gout.\n",
    "duration_units": lambda w: f"PAST MEDICAL HISTORY\nAsthma for 3 {w}. Gout.\n",
    "function_words": lambda w: f"She has a history of diabetes {w}, gout.\n",
    "determiners": lambda w: f"She has a history of {w} gout.\n",
    "not_a_start": lambda w: f"She has a history of gout, {w} asthma, eczema.\n",
    "subheadings": lambda w: f"Past Medical History: asthma; {w}; gout\n",
    "none": lambda w: f"Allergies: {w} drug allergies; penicillin\n",
    "visit_reasons": lambda w: f"CHIEF COMPLAINT\n{_capital(w)} for knee pain.\n",
    "operation_endings": lambda w: f"PAST MEDICAL HISTORY\nTendon {w}. Asthma.\n",
    "operation_words": lambda w: f"PAST MEDICAL HISTORY\nTendon {w}. Asthma.\n",
}
# A word that no sentence can show deciding, and why (the test skips it, visibly).
UNREACHABLE = {
    ("function_words", "since"): "'since' starts a clause (clause_starts), which cuts the item first",
    ("visit_reasons", "well child"): "an item that begins with 'well' is prose (not_a_start) before it is a visit"}


def _word_cases() -> list[tuple[str, str, str]]:
    return [(name, entry.text, text) for name, words in WORDS.words for entry in words for text in entry.expansions()]


@pytest.mark.parametrize(("name", "entry", "word"), _word_cases())
def test_each_list_word_decides(name: str, entry: str, word: str) -> None:
    if (name, word) in UNREACHABLE:
        pytest.skip(f"unreachable: {UNREACHABLE[(name, word)]}")
    note = TEMPLATES[name](word)
    less = tuple((n, tuple(e for e in w if e.text != entry) if n == name else w) for n, w in WORDS.words)
    assert _read(note) != _read(note, words=replace(WORDS, words=less)), note


@pytest.mark.parametrize(("key", "note"), [("strong", "Medications: aspirin 81 mg, daily; metoprolol\n"),
                                           ("weak", "She has a history of asthma, gout.\n"),
                                           ("last", "She has a history of asthma, gout and migraine.\n")])
def test_each_separator_decides(key: str, note: str) -> None:
    unused = {"strong": ("\u2063",), "weak": ("\u2063",), "last": (Entry("zzz"),)}[key]  # a separator no note has
    assert _read(note) != _read(note, words=replace(WORDS, **{key: unused}))
    assert len(_read(note)) >= 2


def test_an_inline_list_holds_items_of_at_most_max_inline_words() -> None:
    n = WORDS.max_inline_words
    note = "She has a history of {}, gout.\n"
    assert [t for _, t in _read(note.format(" ".join(["pain"] * n)))][-1] == "gout"
    assert _read(note.format(" ".join(["pain"] * (n + 1)))) == []


# ---- findings.toml and medications.toml: every phrase is found by the function that reads it.
def _phrases(vocab, table: str, key: str) -> list[str]:
    return list(texts(vocab.words(table, key)))


def _covered(spans: list[tuple[int, int]], note: str, phrase: str) -> bool:
    lo = note.lower().index(phrase.lower())
    return any(a <= lo and lo + len(phrase) <= b for a, b in spans)


FINDING_CASES = (
    [(f"Exam: right {p} swelling.", p) for p in _phrases(FINDINGS, "findings", "sites")] +
    [(f"Exam: {p} knee swelling.", p) for p in _phrases(FINDINGS, "findings", "sides")] +
    [(f"She has {p} over the left knee.", p) for p in _phrases(FINDINGS, "findings", "symptoms")] +
    [(f"She has {p} knee swelling.", p) for p in _phrases(FINDINGS, "findings", "qualifiers")] +
    [(f"She has swelling {p} of the left knee.", p) for p in _phrases(FINDINGS, "findings", "palpation")] +
    [(f"She has swelling {p} the left knee.", p) for p in _phrases(FINDINGS, "findings", "places")] +
    [(f"She has swelling of {p} left knee.", p) for p in _phrases(FINDINGS, "findings", "determiners")] +
    [(f"She has pain {w} bending.", w) for w in _phrases(FINDINGS, "findings", "with")] +
    [(f"She has pain with {p}.", p) for p in _phrases(FINDINGS, "findings", "activities")] +
    [(f"She has {p}.", p) for p in _phrases(FINDINGS, "findings", "specific")] +
    [(f"Exam: {p} tenderness over the tibia.", p) for p in _phrases(FINDINGS, "exam", "tender_qualifiers")] +
    [(f"Exam: {p} to palpation over the tibia.", p) for p in _phrases(FINDINGS, "exam", "tender")] +
    [(f"Exam: {p} to palpation over the tibia.", p) for p in _phrases(FINDINGS, "exam", "pain")] +
    [(f"Exam: pain to {p} over the tibia.", p) for p in _phrases(FINDINGS, "exam", "palpation")] +
    [(f"Exam: pain {p} palpation over the tibia.", p) for p in _phrases(FINDINGS, "exam", "palpation_links")] +
    [(f"Exam: tenderness {p} the L4 spinous process.", p) for p in _phrases(FINDINGS, "exam", "places")] +
    [(f"Exam: tenderness over {p} L4 spinous process.", p) for p in _phrases(FINDINGS, "exam", "determiners")] +
    [(f"Exam: tenderness over the tibia {p} mild warmth.", "tenderness over the tibia")
     for p in _phrases(FINDINGS, "exam", "joiners")] +
    [(f"Exam: {p} range of motion.", p) for p in _phrases(FINDINGS, "function", "changes")] +
    [(f"Exam: decreased {p} range of motion.", p) for p in _phrases(FINDINGS, "function", "kinds")] +
    [(f"Exam: decreased {p}.", p) for p in _phrases(FINDINGS, "function", "functions")] +
    [(f"Exam: decreased flexion {p} the left knee.", p) for p in _phrases(FINDINGS, "function", "places")] +
    [(f"Exam: decreased flexion of {p} left knee.", p) for p in _phrases(FINDINGS, "function", "determiners")] +
    [(f"Exam: {p} Tinel sign.", p) for p in _phrases(FINDINGS, "signs", "positive")] +
    [(f"Exam: positive {p}.", p) for p in _phrases(FINDINGS, "signs", "signs")] +
    [(f"Exam: positive Tinel {p}.", p) for p in _phrases(FINDINGS, "signs", "words")] +
    [(f"She reports {p}.", p) for p in _phrases(FINDINGS, "phrases", "phrases")])


@pytest.mark.parametrize(("note", "phrase"), FINDING_CASES)
def test_every_finding_word_is_found(note: str, phrase: str) -> None:
    assert _covered(find_findings(note), note, phrase), find_findings(note)


def test_vague_findings_alone_are_no_findings() -> None:
    for p in _phrases(FINDINGS, "findings", "vague"):
        assert find_findings(f"She has mild {p}.") == [], p


_PROC = {key: _phrases(FINDINGS, "procedures", key) for key in (
    "sides", "body_regions", "body_parts", "image_words", "body_links", "determiners", "imaging_regions", "imaging",
    "studies", "operation_suffixes", "labs", "analytes", "level_words", "value_links", "values", "context_words")}
PROCEDURE_CASES = (
    [(f"We will order {p} today.", p) for key in ("imaging", "studies", "labs") for p in _PROC[key]
     if p not in texts(FINDINGS.words("procedures", "never_alone"))] +
    [(f"We will order {p} MRI today.", p) for p in _PROC["sides"]] +
    [(f"We will order an MRI of the {p} spine.", p) for p in _PROC["body_regions"]] +
    [(f"We will order an MRI of the {p}.", p) for p in _PROC["body_parts"]] +
    [(f"We will review X-ray {p} of the knee.", p) for p in _PROC["image_words"]] +
    [(f"We will order an MRI {p} the knee.", p) for p in _PROC["body_links"]] +
    [(f"We will order an MRI of {p} knee.", p) for p in _PROC["determiners"]] +
    [(f"We will order a {p} X-ray.", p) for p in _PROC["imaging_regions"]] +
    [(f"She had a tendon{p} last year.", f"tendon{p}") for p in _PROC["operation_suffixes"]] +
    [(f"Her {p} was 5.", p) for p in _PROC["analytes"]] +
    [(f"Her potassium {p} 5.", "potassium") for p in _PROC["value_links"]] +
    [(f"Her potassium {p}.", "potassium") for p in _PROC["level_words"] + _PROC["values"]] +
    [(f"{_capital(p)} echo today.", "echo") for p in _PROC["context_words"]])
PROCEDURE_UNREACHABLE = {
    "We will order ct angiograms today.": "'ct', listed before it in imaging, always matches first",
    "We will order ct angiogram today.": "'ct', listed before it in imaging, always matches first",
    "We will order lab work today.": "'lab(s)', listed before it in labs, matches first (and is never alone)"}


@pytest.mark.parametrize(("note", "phrase"), PROCEDURE_CASES)
def test_every_procedure_word_is_found(note: str, phrase: str) -> None:
    if note in PROCEDURE_UNREACHABLE:
        pytest.skip(PROCEDURE_UNREACHABLE[note])
    assert _covered(find_procedures(note), note, phrase), find_procedures(note)


def test_words_that_need_context_or_never_stand_alone() -> None:
    for p in texts(FINDINGS.words("procedures", "needs_context")):
        assert find_procedures(f"Cough. {p}, stable.") == [], p
    for p in texts(FINDINGS.words("procedures", "never_alone")):
        assert find_procedures(f"We will order {p}.") == [], p
    assert find_procedures("Opexy.") == [] and find_procedures("Gastropexy done.") == [(0, 10)]


def _sig(text: str, drug: str = "aspirin") -> str:
    start = text.index(drug)
    d = drug_text(text, start, start + len(drug))
    return text[d.start:d.end] + " | " + text[d.sig_start:d.sig_end]


M = {(t, k): texts(MEDICATIONS.words(t, k)) for t, keys in (
    ("strength", ("units", "links", "per")), ("form", ("qualifiers", "qualified", "forms")),
    ("sig", ("words", "doses", "dose_units", "joiners"))) for k in keys}
MEDICATION_CASES = (
    [(f"Take aspirin 5 {u} daily.", f"aspirin 5 {u} | daily") for u in M["strength", "units"]] +
    [(f"Take aspirin {w} 5 mg daily.", f"aspirin {w} 5 mg | daily") for w in M["strength", "links"]] +
    [(f"Take aspirin 5 mg/{w} daily.", f"aspirin 5 mg/{w} | daily") for w in M["strength", "per"]] +
    [(f"Take aspirin {w} tablet daily.", f"aspirin {w} tablet | daily") for w in M["form", "qualifiers"]] +
    [(f"Take aspirin oral {w} daily.", f"aspirin oral {w} | daily") for w in M["form", "qualified"]] +
    [(f"Take aspirin {w} daily.", f"aspirin {w} | daily") for w in M["form", "forms"]] +
    [(f"Take aspirin 81 mg daily {w} today.", f"aspirin 81 mg | daily {w.rstrip('.')}") for w in M["sig", "words"]] +
    [(f"Take aspirin 81 mg {w} today.", f"aspirin 81 mg | {w}") for w in ("every 6 hours", "every other day", "q6h",
                                                                        "q.8h")] +
    [(f"Take aspirin 81 mg {w} tablets.", f"aspirin 81 mg | {w} tablets") for w in M["sig", "doses"]] +
    [(f"Take aspirin 81 mg two {w}.", f"aspirin 81 mg | two {w}") for w in M["sig", "dose_units"]] +
    [(f"Take aspirin 81 mg daily {w} at night.", f"aspirin 81 mg | daily {w} at night") for w in M["sig", "joiners"]])


@pytest.mark.parametrize(("note", "expect"), MEDICATION_CASES)
def test_every_medication_word_is_read(note: str, expect: str) -> None:
    assert _sig(note) == expect


def test_supplements_and_office_doses() -> None:
    for name in texts(MEDICATIONS.words("supplements", "names")) + ("vitamin d3",):
        for word in texts(MEDICATIONS.words("supplements", "words")):
            note = f"Start {name} {word} today."
            assert [note[a:b] for a, b in find_supplements(note)] == [f"{name} {word}"], note
    from softtiger_cli.clinical.medications import ADMINISTERED
    for unit in texts(MEDICATIONS.words("administered", "units")):
        assert ADMINISTERED.search(f"injected 0.5 {unit} of ")
    assert not ADMINISTERED.search("injected 0.5 ML of ")


# ---- the vocabulary stays in the packs
def _pack_words() -> set[str]:
    words: list[str] = []
    for _, w in WORDS.words:
        words += texts(w)
    for lead in ALL_LEADS:
        words += texts(lead.phrases)
    words += [t.tag for t in ALL_TAGS] + list(texts(WORDS.last))
    for vocab in (FINDINGS, MEDICATIONS):
        for _, w in vocab.lists:
            words += texts(w)
    return {w.lower() for w in words if " " in w or (w.isalpha() and len(w) >= 4)}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            out.add(id(node.body[0].value))
    return out


def test_list_words_stay_in_the_packs_not_the_code() -> None:
    """No string constant (docstrings aside) of the modules that read these packs holds one of their words or
    phrases. Identifiers that name groups, section kinds, FHIR statuses and cues are code."""
    identifiers = set(LIST_GROUPS) | set(load_pack("en").headings) | {"other", "active", "recorded", "completed",
                                                                       "heading", "lead", "word"}
    words = _pack_words() - identifiers
    keys = {name for name, _ in WORDS.words} | {k for vocab in (FINDINGS, MEDICATIONS) for key in vocab.lists
                                                 for k in key[0]}  # (table, key) names the code asks for
    found = []
    for module in ("lists", "findings", "procedures", "medications"):
        path = REPO / "softtiger_cli" / "clinical" / f"{module}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip:
                low = n.value.lower()
                found += [f"{module}.py:{n.lineno} {w!r}" for w in words
                          if n.value not in keys and re.search(r"(?<![a-z_])" + re.escape(w) + r"(?![a-z_])", low)]
    assert not found, found


def test_the_packs_load_once() -> None:
    assert load_lists("en") is WORDS and load_generators("en") is GENERATORS and load_findings("en") is FINDINGS
    with pytest.raises(PackError, match="no language pack 'lang/xx'"):
        load_lists("xx")


# ---- a broken pack is refused with its file and line
Edit = Callable[[list[str]], int]


def _replace(old: str, new: str) -> Edit:
    def edit(lines: list[str]) -> int:
        i = next(n for n, line in enumerate(lines) if line.startswith(old))
        lines[i] = new + lines[i][len(old):]
        return i + 1
    return edit


@pytest.mark.parametrize(("name", "edit", "problem"), [
    ("lists.toml", _replace("max_inline_words = 8", "max_inline_word = 8"), "unknown key 'max_inline_word'"),
    ("lists.toml", _replace('group = "immunizations"', 'group = "vaccines"'), "unknown group 'vaccines'"),
    ("lists.toml", _replace('target = "tetanus toxoid"', 'target = "measles"'), "target 'measles' is not in the example"),
    ("lists.toml", _replace('phrases = ["following immunizations"',
                            'phrases = ["following", "following immunizations"'), "begins with 'following'"),
    ("lists.toml", _replace('phrases = ["hx of"]', 'phrases = ["hx of", "Hx of"]'), "lists 'Hx of' twice"),
    ("lists.toml", _replace('phrases = ["hx of"]', 'phrases = ["hx (of"]'), "an optional part"),
    ("lists.toml", _replace('phrases = ["hx of"]', 'phrases = ["hx of "]'), "can never match"),
    ("lists.toml", _replace("medications = ", "medicines = "), "unknown section kind 'medicines'"),
    ("lists.toml", _replace('tag = "substance"', 'tag = "(substance)"'), "without brackets"),
    ("lists.toml", _replace('subheadings = ["medical"', 'subheadings = ["Medical"'), "must be written in lower case"),
    ("synthea.toml", _replace('tag = "disorder"', 'tag = "substance"'), "tag 'substance' is also in lists.toml"),
    ("synthea.toml", _replace("semantic_tags = true", "semantic_tags = 1"), "'semantic_tags' is true or false"),
    ("lists.toml", _replace('unsplit_groups = ["immunizations"]', 'unsplit_groups = ["vaccines"]'),
     "unknown group 'vaccines'"),
    ("findings.toml", _replace('qualifiers = ["mild"', 'qualifiers = [{ pattern = "(" }, "mild"'),
     "bad regular expression"),
    ("findings.toml", _replace('qualifiers = ["mild"', 'qualifiers = [{ pattern = "(a|b)" }, "mild"'), "captures"),
    ("findings.toml", _replace('sides = ["right"', 'sides = [{ pattern = "r" }, "right"'), "an entry is a phrase"),
    ("findings.toml", _replace("operation_min_length = 8", "operation_min_length = 0"), "positive whole number"),
    ("medications.toml", _replace("links = [\"of\"]", "link = [\"of\"]"), "unknown key 'link' in [administered]"),
    ("medications.toml", _replace('units = ["cc", "ml", "mL"]', 'units = ["cc", "ml", "ml"]'), "lists 'ml' twice"),
])
def test_a_broken_pack_is_refused_with_its_file_and_line(tmp_path: Path, name: str, edit: Edit, problem: str) -> None:
    for file in FILES:
        (tmp_path / file).write_text((LANG_DIR / file).read_text(encoding="utf-8"), encoding="utf-8")
    lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
    line = edit(lines)
    (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    load = {"lists.toml": load_lists, "findings.toml": load_findings, "medications.toml": load_medications}.get(
        name, load_generators)
    with pytest.raises(PackError) as e:
        load("en", tmp_path)
    message = e.value.one_line()
    assert message.startswith(f"{tmp_path}/{name} line {line}:"), message
    assert problem in message, message


def test_a_phrase_expands_in_the_order_its_pattern_tries() -> None:
    assert Entry("x(-)ray(s)").expansions() == ("x-rays", "x-ray", "xrays", "xray")
    assert re.fullmatch(Entry("x(-)ray(s)").regex, "xray") and not re.fullmatch(Entry("x(-)ray(s)").regex, "x-ra")
    words: Words = (Entry("a"), Entry(r"\d", True))
    assert texts(words) == ("a",)
