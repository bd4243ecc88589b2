"""The status pack (lang/en/status.toml, visit.toml): every cue's example runs through the real function that
reads it and is decided by that cue; every disease word, section kind and window width does what the pack
says; the loader refuses a broken file with its file and line; the words stay out of the code."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import get_args

import pytest

from conftest import REPO
from softtiger_cli.clinical import status
from softtiger_cli.clinical.status import Mention, condition_status, medication_status, pick_medication, \
    procedure_status
from softtiger_cli.core.data import Assertion, Item, Span
from softtiger_cli.lang import PackError
from softtiger_cli.lang.status import CATEGORIES, OPTIONAL, Applies, Cue, StatusPack, load_status, read_status
from softtiger_cli.pipeline import decide

PACK = load_status("en")
LANG_DIR = REPO / "softtiger_cli" / "lang" / "en"
CUES = [c for category in PACK.categories.values() for c in category.cues]


def _mention(sentence: str, at: int, length: int, section: str, assertion: Assertion = Assertion(),
             lang: str = "en") -> Mention:
    return Mention(at, at + length, assertion, section, sentence, at, lang)



def _reads(cue: Cue, lang: str = "en") -> str:
    """What the real function that reads the cue's category makes of its example (in `lang`'s pack)."""
    example, target, applies = cue.example, cue.target, CATEGORIES[cue.category][0]
    at = example.find(target)

    def named_at(i: int) -> Mention:
        return _mention(example, i, len(target), cue.section, lang=lang)

    if cue.category == "strength":  # every mention of the drug is one place the note names it
        starts = [i for i in range(len(example)) if example.startswith(target, i)]
        picked = pick_medication([named_at(i) for i in starts])
        return "+".join(s for s, _ in picked)
    if applies == "medication":
        return medication_status(named_at(at), False)[0]
    if applies == "procedure":
        return procedure_status(named_at(at)) or "dropped"
    if applies == "allergy":
        return decide.criticality(Item("allergies", {"code": target}, [Span(at, at + len(target), "exact")],
                                       text_field="code"), example, lang)
    if applies == "dated":
        return decide.onset_phrase(example, lang)
    if cue.category == "visit-time":
        return "kept" if decide.times_the_visit(example, lang) else "dropped"
    if cue.category == "label":
        return "kept" if decide.meaningful(example, lang) else "dropped"
    return decide.encounter_class(example, lang)


def _without(cue: Cue, pack: StatusPack = PACK) -> StatusPack:
    category = pack[cue.category]
    lists = {role: tuple(c for c in cues if c is not cue) for role, cues in category.lists.items()}
    smaller = replace(category, lists=MappingProxyType(lists))
    return replace(pack, categories=MappingProxyType({**pack.categories, cue.category: smaller}))


def _use(monkeypatch: pytest.MonkeyPatch, pack: StatusPack) -> None:
    compiled = status._compile(pack)
    monkeypatch.setattr(status, "_matcher", lambda lang: compiled)
    words = decide._compile(pack)
    monkeypatch.setattr(decide, "_words", lambda lang: words)


@pytest.mark.parametrize("cue", CUES, ids=lambda c: f"{c.category}-{c.role}-{c.text}")
def test_each_cue_decides_its_example(cue: Cue, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _reads(cue) == cue.expect, cue.example
    if cue.unreachable:
        pytest.skip(f"unreachable: {cue.unreachable}")
    _use(monkeypatch, _without(cue))
    assert _reads(cue) != cue.expect, f"{cue.example!r} reads the same without it: it does not decide"


def _disease_words(which: str) -> list[str]:
    diseases = getattr(PACK, which)
    return list(diseases.words) + [s for s in diseases.stems] + [s + "ic" for s in diseases.stems] + \
        [example for _, example in diseases.patterns]


@pytest.mark.parametrize("word", _disease_words("chronic"))
def test_each_chronic_disease_stays_active_under_history_of(word: str) -> None:
    for text in (word, word.upper(), f"left {word}"):
        assert condition_status(text, _mention(text, 0, len(text), "pmh", Assertion(time="history"))) == "active"


@pytest.mark.parametrize("word", _disease_words("episodic"))
def test_each_episodic_condition_in_a_past_history_is_over(word: str) -> None:
    assert not status.CHRONIC.search(word)
    assert condition_status(word, _mention(word, 0, len(word), "pmh")) == "history"
    assert condition_status(word, _mention(word, 0, len(word), "hpi")) == "active"


@pytest.mark.parametrize("text", ["chest pain", "rash", "xasthma", "hypertensions", "allerg", "cough"])
def test_other_words_are_neither_chronic_nor_episodic(text: str) -> None:
    assert not status.CHRONIC.search(text) and not status.EPISODIC.search(text)
    assert condition_status(text, _mention(text, 0, len(text), "pmh", Assertion(time="history"))) == "history"


@pytest.mark.parametrize("kind", sorted(PACK.sections))
def test_each_section_kind_means_what_the_pack_says(kind: str) -> None:
    sec = PACK.section(kind)
    drug = _mention("Metformin.", 0, 9, kind)
    if sec.given_in_stay:  # given during the stay: over by discharge, a reading that yields to any later one
        assert medication_status(drug, False) == medication_status(drug, True) == ("stopped", False)
    else:
        assert medication_status(drug, False) == (sec.unmarked_drug, False)
        assert medication_status(drug, True) == ("active", False)  # taken elsewhere: never a new prescription
    assert procedure_status(_mention("Colonoscopy.", 0, 11, kind)) == sec.unmarked_test
    assert status._authority(drug)[0] == sec.weight
    plan = _mention("Metformin.", 100, 9, "plan")
    assert [s for s, _ in pick_medication([drug, plan])] == (["active"] if sec.shows_taken else ["intended"])


def test_a_section_kind_not_listed_reads_as_other() -> None:
    assert PACK.section("no such kind") is PACK.sections["other"]
    assert status._authority(_mention("x", 0, 1, "no such kind"))[0] == PACK.sections["other"].weight


def _words(n: int) -> str:
    return " ".join(["word"] * n)


def test_the_medication_window_reaches_as_far_as_the_pack_says() -> None:
    before, after = PACK.window["medication_before"], PACK.window["medication_after"]
    for n, reads in ((before - 1, "stopped"), (before, "active")):  # its clause ends at ", "
        sentence = f"Stopped {_words(n)}, metformin."
        assert medication_status(_mention(sentence, sentence.index("metformin"), 9, "hpi"), False)[0] == reads
    for n, reads in ((after - 2, "stopped"), (after - 1, "active")):  # the drug's own word counts
        sentence = f"Metformin, {_words(n)} stopped."
        assert medication_status(_mention(sentence, 0, 9, "hpi"), False)[0] == reads


def test_the_procedure_window_reaches_as_far_as_the_pack_says() -> None:
    before, after = PACK.window["procedure_before"], PACK.window["procedure_after"]
    for n, reads in ((before - 1, "planned"), (before, "completed")):
        sentence = f"Order {_words(n)} colonoscopy."
        assert procedure_status(_mention(sentence, sentence.index("colonoscopy"), 11, "hpi")) == reads
    for n, reads in ((after - 1, "completed"), (after, "planned")):
        sentence = f"Colonoscopy {_words(n)} done."
        assert procedure_status(_mention(sentence, 0, 11, "plan")) == reads


def test_an_allergys_severity_is_read_as_far_as_the_pack_says() -> None:
    reach = PACK.window["allergy_chars"]
    for gap, reads in ((reach - len("severe"), "high"), (reach - len("severe") + 1, "")):
        note = "severe" + " " * gap + "latex"
        item = Item("allergies", {"code": "latex"}, [Span(len(note) - 5, len(note), "exact")], text_field="code")
        assert decide.criticality(item, note) == reads
    assert decide.criticality(Item("allergies", {"code": "latex"}, text_field="code"), "severe latex") == ""  # no span: not said


def test_the_pack_loads_once_and_holds_every_category() -> None:
    assert load_status("en") is PACK and load_status() is PACK
    assert set(CATEGORIES) - OPTIONAL <= set(PACK.categories) <= set(CATEGORIES)  # English says a switch otherwise
    assert all(c.applies_to == CATEGORIES[c.name][0] for c in PACK.categories.values())
    with pytest.raises(PackError, match="no language pack 'lang/xx'"):
        load_status("xx")


# Strings the code uses as identifiers, not as cue words: statuses, categories, lists, groups, section kinds and
# FHIR field names. Any other pack word or phrase in a string constant of these modules is vocabulary creeping back.
_IDENTIFIERS = ({"active", "stopped", "intended", "not-taken", "planned", "completed", "absent", "family", "history",
                 "resolved", "possible", "none", "status", "encounter", "start", "results", "visit", "other", "low",
                 "high", "dosage", "order", "patient", "taking", "chronic", "episodic"} | set(get_args(Applies)) |
                set(CATEGORIES) | {r for _, roles, _ in CATEGORIES.values() for r in roles} |
                set(PACK.sections))
MODULES = ("clinical/status.py", "pipeline/decide.py", "fhir/assemble/meaning.py", "lang/status.py")


def _pack_words() -> set[str]:
    words = {c.text for c in CUES if c.kind != "pattern"}
    for diseases in (PACK.chronic, PACK.episodic):
        words |= set(diseases.words) | set(diseases.stems)
    return {w.lower() for w in words if " " in w or (w.isalpha() and len(w) >= 4)} - _IDENTIFIERS


def test_status_words_stay_in_the_pack_not_the_code() -> None:
    words, found = _pack_words(), []
    for module in MODULES:
        tree = ast.parse((REPO / "softtiger_cli" / module).read_text(encoding="utf-8"))
        found += [f"{module}:{n.lineno} {n.value!r}" for n in ast.walk(tree) if isinstance(n, ast.Constant)
                  and isinstance(n.value, str) and n.value.strip().lower() in words]
    assert not found, found


Edit = Callable[[list[str]], int]  # edits a file's lines in place, returns the 1-based line it touched


def _replace_first(old: str, new: str) -> Edit:
    def edit(lines: list[str]) -> int:
        i = next(n for n, line in enumerate(lines) if old in line and not line.lstrip().startswith("#"))
        lines[i] = lines[i].replace(old, new)
        return i + 1
    return edit


def _add_after(old: str, extra: str) -> Edit:
    def edit(lines: list[str]) -> int:
        i = next(n for n, line in enumerate(lines) if old in line)
        lines.insert(i + 1, extra)
        return i + 2
    return edit


@pytest.mark.parametrize(("name", "edit", "problem"), [
    ("status.toml", _replace_first('applies_to = "medication"', 'applies_to = "procedure"'),
     'applies_to = "medication"'),
    ("status.toml", _replace_first("[cue.stopped]", "[cue.stoped]"), "unknown cue category 'stoped'"),
    ("status.toml", _replace_first('{ literal = "stop", example', '{ literl = "stop", example'), "unknown key 'literl'"),
    ("status.toml", _replace_first('{ literal = "stop", example', '{ example'), "one of literal, stem or pattern"),
    ("status.toml", _add_after('{ literal = "stop", example', '  { literal = "STOP", example = "Stop aspirin.", '
                                                             'target = "aspirin" },'), "duplicate cue 'STOP'"),
    ("status.toml", _replace_first("pattern = 'try (?:him|her|them|you)? ?on'", "pattern = 'try (?:him|her on'"),
     "bad regular expression"),
    ("status.toml", _replace_first("pattern = 'try (?:him|her|them|you)? ?on'", "pattern = 'try (him|her)? ?on'"),
     "capturing group"),
    ("status.toml", _replace_first('target = "ibuprofen"', 'target = "naproxen"'), "target 'naproxen' is not in"),
    ("status.toml", _replace_first('example = "Stop ibuprofen.", target = "ibuprofen"',
                                   'example = "Stop ibuprofen.", target = "ibuprofen", expect = "gone"'),
     "expect 'gone'"),
    ("status.toml", _replace_first('expect = "since 2015"', 'expect = "since 2016"'), "expect 'since 2016'"),
    ("status.toml", _replace_first("[section.ros]", "[section.rosx]"), "unknown section kind 'rosx'"),
    ("status.toml", _replace_first('unmarked_drug = "intended"', 'unmarked_drug = "maybe"'), "unmarked_drug is"),
    ("status.toml", _replace_first("gap = 2", "gap = 0"), "needs 'gap', a positive number"),
    ("status.toml", _replace_first("medication_before = 10", "medication_befor = 10"), "unknown key 'medication_befor'"),
    ("status.toml", _replace_first('"htn", ', '"htn", "HTN", '), "'HTN' is listed twice in [chronic]"),
    ("status.toml", _replace_first("stem = \"noncomplian\",", "stem = \"noncomplian\", bare = 1,"), "bare (true or false)"),
    ("visit.toml", _replace_first('{ literal = "status", example', '{ stem = "status", example'),
     "labels are whole words"),
    ("visit.toml", _replace_first("[cue.inpatient]", "[cue.stopped]"), "category 'stopped' is given twice"),
])
def test_a_broken_status_pack_is_refused_with_its_file_and_line(tmp_path: Path, name: str, edit: Edit,
                                                                problem: str) -> None:
    folder = tmp_path / "xx"
    folder.mkdir()
    for file in ("status.toml", "visit.toml", "sections.toml"):
        (folder / file).write_text((LANG_DIR / file).read_text(encoding="utf-8"), encoding="utf-8")
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    line = edit(lines)
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PackError) as e:
        read_status("xx", folder)
    message = e.value.one_line()
    assert message.startswith(f"{folder}/{name}"), message
    assert f"line {line}" in message and problem in message, message
