"""The language pack: every rule's example runs through the real assertion step and is decided by that rule;
every heading names its section; the loader refuses a broken pack with its file and line; cue words stay
out of the code."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from softtiger_cli.clinical import assertions
from softtiger_cli.clinical.assertions import assert_span
from softtiger_cli.core.data import Assertion
from softtiger_cli.core.errors import SofttigerError
from softtiger_cli.lang import CATEGORIES, SCOPED, ContextRule, Pack, PackError, load_pack, read_pack
from softtiger_cli.lang.pack import FILES
from softtiger_cli.note.sections import section_at, sections, sentences

PACK = load_pack("en")
LANG_DIR = REPO / "softtiger_cli" / "lang" / "en"
FIELD = {"affirmed": "certainty", "negated": "certainty", "possible": "certainty", "patient": "subject",
         "family": "subject", "current": "time", "history": "time", "resolved": "time", "planned": "time",
         "hypothetical": "time"}


def _assert(note: str, target: str, lang: str = "en") -> Assertion:
    """The assertion step on a one-note analysis, as the pipeline runs it (sections, then sentences)."""
    start = note.index(target)
    sec = section_at(sections(note, lang), start)
    assert sec is not None
    return assert_span(note, start, start + len(target), sec, sentences(note, sec.body_start, sec.end, lang), (),
                       lang)[0]


def _use(monkeypatch: pytest.MonkeyPatch, pack: Pack) -> None:
    compiled = assertions._compile(pack)
    monkeypatch.setattr(assertions, "_matcher", lambda lang: compiled)


def _shows(monkeypatch: pytest.MonkeyPatch, without: Pack, note: str, target: str, field: str, value: str) -> None:
    """The note reads `value` with its language's pack and differently with `without` (that pack less one
    entry)."""
    assert getattr(_assert(note, target, without.code), field) == value
    _use(monkeypatch, without)
    assert getattr(_assert(note, target, without.code), field) != value, "reads the same without it: it does not decide"


@pytest.mark.parametrize("rule", PACK.rules, ids=lambda r: f"{r.category}-{r.direction}-{r.literal}")
def test_each_rule_decides_its_example(rule: ContextRule, monkeypatch: pytest.MonkeyPatch) -> None:
    if rule.unreachable:
        pytest.skip(f"unreachable: {rule.unreachable}")
    without = replace(PACK, rules=tuple(r for r in PACK.rules if r is not rule))
    _shows(monkeypatch, without, rule.example, rule.target, FIELD[rule.expect], rule.expect)


def _family_cases() -> list[Any]:
    """(list, word, sentence, the subject it gives): each word of the [family] lists in a sentence it decides."""
    fam = PACK.family
    tails = ["Her family hx" + (" " if t[0].isalnum() else "") + t + " asthma, eczema, gout, glaucoma, migraine, "
             "psoriasis, anemia, lupus, arthritis, obesity, depression, and diabetes." for t in fam.lead_tails]
    cases = ([("links", w, f"Her mother {w} diabetes.", "family") for w in fam.links] +
             [("sides", w, f"Known diabetes in her {w} aunt.", "family") for w in fam.sides] +
             [("informant_before", w, f"Patient {w} with her mother with diabetes.", "patient")
              for w in fam.informant_before] +
             [("informant_after", w, f"Her mother {w} the child has diabetes.", "patient")
              for w in fam.informant_after] +
             [("leads", w, f"{w.capitalize()} diabetes.", "family") for w in fam.leads] +
             [("lead_tails", w, s, "family") for w, s in zip(fam.lead_tails, tails)] +
             [("after", w, f"Known diabetes {w}.", "family") for w in fam.after] +
             [("breaks", w, f"Her mother has a cold, {w} has diabetes.", "patient") for w in fam.breaks])
    return [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in cases]


@pytest.mark.parametrize(("key", "word", "note", "subject"), _family_cases())
def test_each_family_word_decides(key: str, word: str, note: str, subject: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    words = tuple(w for w in getattr(PACK.family, key) if w != word)
    without = replace(PACK, family=replace(PACK.family, **{key: words}))
    _shows(monkeypatch, without, note, "diabetes", "subject", subject)


@pytest.mark.parametrize("word", PACK.ongoing)
def test_an_ongoing_word_keeps_a_past_problem_current(word: str, monkeypatch: pytest.MonkeyPatch) -> None:
    note = f"{word.capitalize()} 2015, history of hypertension."
    without = replace(PACK, ongoing=tuple(w for w in PACK.ongoing if w != word))
    _shows(monkeypatch, without, note, "hypertension", "time", "current")


@pytest.mark.parametrize("char", PACK.terminate_chars)
def test_each_terminating_character_ends_a_scope(char: str, monkeypatch: pytest.MonkeyPatch) -> None:
    without = replace(PACK, terminate_chars=PACK.terminate_chars.replace(char, ""))
    _shows(monkeypatch, without, f"Denies fever{char} cough today.", "cough", "certainty", "affirmed")


@pytest.mark.parametrize(("word", "code", "display"), [(w, c, d) for w, (c, d) in PACK.relatives.items()])
def test_each_relative_is_named_with_its_role(word: str, code: str, display: str) -> None:
    for note in (f"Her {word} has diabetes.", f"Her {word}s have diabetes.", f"Diabetes in her {word}."):
        a = _assert(note, "diabetes" if "diabetes" in note else "Diabetes")
        assert (a.subject, a.relationship) == ("family", display), note
    assert re.fullmatch(r"[A-Z]+", code)


def test_the_relative_pattern_matches_as_the_hand_written_one_did() -> None:
    """The pattern built from relatives.toml finds what the hand-written one (before the pack) found."""
    hand = re.compile(r"(?:mother|mom|father|dad|sister|brother|son|daughter|grandmother|grandfather|grandparent|"
                      r"aunt|uncle|cousin|sibling|parent)s?", re.I)
    words = [w + s for w in PACK.relatives for s in ("", "s", "'s", "s'")] + [
        "Mother", "GRANDPARENTS", "grandma", "motherboard", "sonogram", "person", "reason", "stepson", "parenting",
        "transparent", "daddy", "moms", "auntie", "cousins", "siblings", "her mother's sister", "grand mother"]
    assert set(PACK.relatives) == {m.group(0).lower() for w in PACK.relatives if (m := hand.fullmatch(w))}
    built = assertions._MATCHER.relative
    for w in words:
        assert [m.span() for m in hand.finditer(w)] == [m.span() for m in built.finditer(w)], w


def _two_sections(heading: str, kind: str) -> list[tuple[str, str]]:
    other, other_kind = ("Plan", "plan") if kind != "plan" else ("Allergies", "allergies")
    notes = [f"{heading.capitalize()}:\nThe first section's text.\n{other}:\nMore text.\n",
             f"{heading.capitalize()}: the first section's text.\n{other}: more text.\n"]
    return [(note, other_kind) for note in notes]


@pytest.mark.parametrize(("kind", "heading"), [(k, h) for k, names in PACK.headings.items() for h in names])
def test_each_heading_names_its_section(kind: str, heading: str) -> None:
    for note, other_kind in _two_sections(heading, kind):
        assert [s.kind for s in sections(note)] == [kind, other_kind], note


def _words_of_pack() -> set[str]:
    words = {r.literal for r in PACK.rules} | {h for names in PACK.headings.values() for h in names}
    words |= set(PACK.relatives) | {w for key in ("sides", "links", "informant_before", "informant_after", "leads",
                                                  "lead_tails", "after", "breaks") for w in getattr(PACK.family, key)}
    return {w.lower() for w in words if " " in w or (w.isalpha() and len(w) >= 4)}


def test_cue_words_stay_in_the_pack_not_the_code() -> None:
    """No string constant in the modules that read the pack is one of its cues or headings. Identifiers that
    name categories, assertion values and section kinds ("history", "possible", "family") are code."""
    identifiers = set(CATEGORIES) | set(FIELD) | set(PACK.headings)
    words = _words_of_pack() - identifiers
    found = []
    for module in ("clinical/assertions.py", "note/sections.py"):
        tree = ast.parse((REPO / "softtiger_cli" / module).read_text(encoding="utf-8"))
        found += [f"{module}:{n.lineno} {n.value!r}" for n in ast.walk(tree) if isinstance(n, ast.Constant)
                  and isinstance(n.value, str) and n.value.strip().lower() in words]
    assert not found, found


def test_the_pack_loads_once_and_says_what_it_holds() -> None:
    assert load_pack("en") is PACK
    assert {r.category for r in PACK.rules} == set(SCOPED) | {"pseudo", "terminate"}
    assert all(r.example and r.target in r.example for r in PACK.rules)
    with pytest.raises(PackError, match="no language pack 'lang/xx'"):
        load_pack("xx")
    assert issubclass(PackError, SofttigerError)


Edit = Callable[[list[str]], int]  # edits a file's lines in place, returns the 1-based line it touched


def _bad_pack(tmp_path: Path, name: str, edit: Edit) -> tuple[Path, int]:
    """A copy of the en pack with one file edited; returns the folder and the 1-based line the edit touched."""
    folder = tmp_path / "xx"
    folder.mkdir()
    for file in FILES:
        (folder / file).write_text((LANG_DIR / file).read_text(encoding="utf-8"), encoding="utf-8")
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    line = edit(lines)
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, line


def _replace_first(old: str, new: str | None) -> Edit:
    """Replace (None: delete) the first line equal to `old`; a deleted line's error points at its rule."""
    def edit(lines: list[str]) -> int:
        i = lines.index(old)
        if new is None:
            del lines[i]
            return max(n for n in range(i) if lines[n] == "[[rule]]") + 1
        lines[i] = new
        return i + 1
    return edit


def _append_copy_of_first_rule(lines: list[str]) -> int:
    first = lines.index("[[rule]]")
    end = lines.index("", first)
    lines += [""] + lines[first:end]
    return len(lines) - (end - first) + 2  # the copy's literal line


@pytest.mark.parametrize(("name", "edit", "problem"), [
    ("context.toml", _replace_first('category = "negated"', 'category = "negatd"'), "unknown category 'negatd'"),
    ("context.toml", _replace_first('direction = "forward"', 'direction = "forwards"'), "unknown direction 'forwards'"),
    ("context.toml", _replace_first('direction = "forward"', 'direction = "pseudo"'), "cannot have direction"),
    ("context.toml", _append_copy_of_first_rule, "duplicate cue 'no' (negated, forward), first at line"),
    ("context.toml", _replace_first('example = "No fever."', None), "missing 'example'"),
    ("context.toml", _replace_first('literal = "no"', None), "missing 'literal'"),
    ("context.toml", _replace_first('literal = "no"', 'literal = "no "'), "can never match"),
    ("context.toml", _replace_first('literal = "no"', 'max_scop = 3'), "unknown key 'max_scop'"),
    ("context.toml", _replace_first('target = "fever"', 'target = "fevers"'), "target 'fevers' is not in the example"),
    ("context.toml", _replace_first('expect = "negated"', 'expect = "possible"'), "expect 'possible'"),
    ("context.toml", _replace_first('blocks = "negated"', 'blocks = "family"'), "names the category it blocks"),
    ("context.toml", _replace_first('negated = 20', 'negatd = 20'), "unknown category 'negatd' in [scope.forward]"),
    ("context.toml", _replace_first('literal = "no"', 'literal = "no'), "Illegal character"),
    ("relatives.toml", _replace_first('mom = { code = "MTH", display = "mother" }', 'mom = { code = "MTH" }'),
     "relative 'mom' needs exactly a code and a display"),
    ("sections.toml", _replace_first('ros = ["review of systems", "ros"]', 'ros = ["review of systems", "Ros"]'),
     "heading 'Ros' must be lower case"),
    ("sections.toml", _replace_first('exam = ["physical examination", "physical exam", "exam", "examination", "pe"]',
                                     'exam = ["physical examination", "exam", "ros"]'),
     "heading 'ros' is listed under 'ros' and 'exam'"),
])
def test_a_broken_pack_is_refused_with_its_file_and_line(tmp_path: Path, name: str, edit: Edit, problem: str) -> None:
    folder, line = _bad_pack(tmp_path, name, edit)
    with pytest.raises(PackError) as e:
        read_pack(folder, "xx")
    message = e.value.one_line()
    assert message.startswith(f"{folder}/{name}"), message
    assert f"line {line}" in message and problem in message, message
