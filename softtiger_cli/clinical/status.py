"""What an item's assertion means for its kind: one status word per item, as a clinician would sign it.

Statuses (the vocabulary of the eval gold and of fhir/assemble's mapping):
- condition: active | possible | history | resolved | absent | family (None: not a fact, leave it out)
- medication: active | intended | stopped | not-taken
- procedure, immunization: completed | planned
- allergy: active | none ("no known allergies")

Rules are general clinical language. A chronic disease stays active under "history of" or a Past Medical
History heading (it goes on); a past episode ("history of appendicitis", a healed fracture) is history;
"now resolved" is resolved. A drug the note starts or prescribes today is intended; one it stops, stopped;
one the patient does not take, not-taken. A test or operation ordered, scheduled or to be repeated is
planned; one done (or whose result is given) completed.

The words are data, in the language pack (softtiger_cli/lang/en/status.toml): the chronic and episodic
disease lists, each section kind's weight and defaults, the window widths, and one cue category per meaning
(not-taken, stopped, switched-from, future-stop, replaced, started-today, dose-change, intended, active,
clause-end, strength for drugs; ordered, done, result-before for tests). This module builds their patterns
and keeps the order in which the categories decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from softtiger_cli.core.data import Assertion, ConditionStatus, MedicationStatus, ProcedureStatus
from softtiger_cli.core.text import Language, folded
from softtiger_cli.lang import per_language
from softtiger_cli.lang.status import StatusPack, load_status
from softtiger_cli.lang.text import TextModel, text_model


@dataclass(frozen=True)
class _Matcher:
    """The status pack as patterns, built once at import (and by tests/test_lang_status.py from a pack less one
    cue). The skeletons (a verb, some words, a link) are code; every word in them comes from the pack."""

    pack: StatusPack
    chronic: re.Pattern[str]
    episodic: re.Pattern[str]
    cues: dict[str, re.Pattern[str]]  # category -> its pattern
    text: TextModel  # how windows count words in the pack's language


def _words(pack: StatusPack, category: str, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(text_model(pack.code).bounded(pack[category].alternation()), flags)


def _compile(pack: StatusPack) -> _Matcher:
    """Each category's pattern: a list of whole-word cues, or its own skeleton around its lists."""
    c = pack.categories
    sw, fs, rp, st, dc, ce, sg = (c[n] for n in ("switched-from", "future-stop", "replaced", "started-today",
                                                 "dose-change", "clause-end", "strength"))
    cues = {name: _words(pack, name) for name in ("not-taken", "stopped", "intended", "active", "ordered", "done")}
    cues.update({
        # the words before the drug end with "switched (him) from"
        "switched-from": re.compile(r"\b(?:" + sw.alternation("verbs") + r")\s+(?:\w+\s+){0," + str(sw.number) +
                                    r"}?(?:" + sw.alternation("links") + r")\s+$", re.I),
        "future-stop": re.compile(r"\b(?:" + fs.alternation("modals") + r")\s+(?:\w+\s+){0," + str(fs.number) +
                                  r"}(?:" + fs.alternation("verbs") + r")\b", re.I),
        "replaced": re.compile(r"\b(?:" + rp.alternation("verbs") + r")\b", re.I),
        # after the drug: its words, then the link ("lisinopril to losartan"), in the case written
        "replaced-link": re.compile(r"^\S+(?:\s+\S+){0," + str(rp.number) + r"}?\s+(?:" + rp.alternation("links") +
                                    r")\s"),
        "started-today": re.compile(r"\b(?:" + st.alternation("verbs") + r")\b[^.]{0," + str(st.number) + r"}\b(?:" +
                                    st.alternation("times") + r")\b", re.I),
        "dose-change": re.compile(r"\b(?:" + dc.alternation("verbs") + r")\b(?:\s+\w+){0," + str(dc.number) +
                                  r"}\s+(?:" + dc.alternation("objects") + "|(?:" + dc.alternation("number_links") +
                                  r")\s+\d)|\b(?:" + dc.alternation("direct_verbs") + r")\s+(?:" +
                                  dc.alternation("determiners") + r")\b", re.I),
        # a full-width "，" ends a Chinese clause ("停用格列美脲，继续二甲双胍"; English text never holds one); "；"
        # does not, as it parts the items of one list ("出院带药：A；B；C")
        "clause-end": re.compile(r"(?:;|，|,\s*(?:" + ce.alternation("after_comma") + r")\b|\s(?:" + ce.alternation("between") +
                                 r")\s(?=\w)|,\s)"),
        "strength": re.compile(r"^\S+(?:\s+\S+){0," + str(sg.number) + r"}?[\s,]+\d+(?:\.\d+)?\s*(?:" +
                               sg.alternation("units") + r")\b", re.I),
        "result-before": re.compile(r"\b(?:" + c["result-before"].alternation() + r")\s*$", re.I),
    })
    if "monitoring" in c:  # the verb right before what is watched, in one clause ("监测指尖血糖", "monitor her
        # A1c"), not a test's own last word before a list ("完善动态血压监测、心脏彩超")
        cues["monitoring"] = re.compile(r"(?:" + c["monitoring"].alternation() + r")[^、，,；;。.]{0,8}$", re.I)
    if "switch" in c:  # "A改为B": the words right after A, and right before B
        gap = r"[^，,；;。]{0," + str(c["switch"].number) + "}"  # within the drug's own clause
        cues["switch-after"] = re.compile("^" + gap + "?(?:" + c["switch"].alternation() + ")")
        cues["switch-before"] = re.compile("(?:" + c["switch"].alternation() + ")" + gap + "$")
    tm = text_model(pack.code)
    return _Matcher(pack, re.compile(tm.bounded(pack.chronic.alternation), re.I),
                    re.compile(tm.bounded(pack.episodic.alternation), re.I), cues, tm)


_matcher = per_language(load_status, _compile)  # a language's status cues, compiled once


_MATCHER = _matcher("en")
# Diseases that, once present, are ongoing unless the note says they ended.
CHRONIC = _MATCHER.chronic
# Conditions that happen as episodes: written in a past history, they are over unless said otherwise.
EPISODIC = _MATCHER.episodic


@dataclass(frozen=True)
class Mention:
    """One place the note names an item: its assertion, the section it stands in, its sentence."""

    start: int
    end: int
    assertion: Assertion
    section: str  # canonical section kind ("hpi", "pmh", ...; "other")
    sentence: str  # the sentence holding it
    at: int  # offset of the mention inside `sentence`
    lang: Language = "en"  # the note's language: whose cues read it


def _authority(m: Mention) -> tuple[int, int]:
    return _matcher(m.lang).pack.section(m.section).weight, m.start  # later mentions win a tie: the end of the note holds


def condition_status(text: str, m: Mention) -> ConditionStatus | None:
    """The status of the patient's condition named at `m` (None: the note only talks about it)."""
    a = m.assertion
    if a.subject == "family":
        return None if a.certainty == "negated" else "family"
    if a.time == "hypothetical":
        return None
    if a.certainty == "negated":
        return None if m.section == "exam" else "absent"  # a normal exam finding is no item
    if a.time == "resolved":
        return "resolved"
    if a.certainty == "possible":
        return "possible"
    if _matcher(m.lang).chronic.search(text):
        return "active"
    if a.time == "history":
        return "history"
    if m.section == "pmh" and _matcher(m.lang).episodic.search(text):
        return "history"
    return "active"


def _one_status(text: str, mentions: list[Mention]) -> tuple[ConditionStatus, list[Mention]] | None:
    """The status of one wording of a condition: its most authoritative mention (ties to the later one);
    an affirmed mention in a clinician's section outweighs a template denial."""
    decided = [(condition_status(text, m), m) for m in mentions]
    kept = [(s, m) for s, m in decided if s is not None]
    if not kept:
        return None
    affirmed = [(s, m) for s, m in kept if s != "absent"]
    pool = affirmed if affirmed and max(_authority(m) for _, m in affirmed)[0] >= 3 else kept
    if pool is affirmed and _matcher(mentions[0].lang).pack.later_denial_holds:
        last = max(_authority(m) for _, m in affirmed)
        if any(s == "absent" and _authority(m)[0] >= last[0] and m.start > last[1] for s, m in kept):
            pool = kept
    status = max(pool, key=lambda sm: _authority(sm[1]))[0]
    return status, [m for s, m in kept if (s == "absent") == (status == "absent")]


def pick_condition(text: str, mentions: list[Mention],
                   surface: dict[int, str]) -> list[tuple[ConditionStatus, list[Mention]]]:
    """Statuses for a concept named in several places. One wording has one status (the end of the note
    holds); two wordings of one code ("fluid retention" denied, "edema" on exam) keep their own status when
    they differ; a relative's mentions are a separate item. `surface`: each mention's words, by start."""
    own = [m for m in mentions if m.assertion.subject != "family"]
    family = [m for m in mentions if m.assertion.subject == "family"]
    wordings: dict[str, list[Mention]] = {}
    for m in own:
        wordings.setdefault(folded(surface.get(m.start, text)), []).append(m)
    by_status: dict[ConditionStatus, list[Mention]] = {}
    for group in wordings.values():
        decided = _one_status(text, group)
        if decided is not None:
            by_status.setdefault(decided[0], []).extend(decided[1])
    out = [(status, sorted(ms, key=lambda m: m.start)) for status, ms in by_status.items()]
    if family and any(m.assertion.certainty != "negated" for m in family):
        out.append(("family", [m for m in family if m.assertion.certainty != "negated"]))
    return out


def _window(m: Mention) -> str:
    """The words around the drug ([window] of the pack: before it, and from it on)."""
    matcher = _matcher(m.lang)
    window, tm = matcher.pack.window, matcher.text
    return tm.last_words(m.sentence[:m.at], window["medication_before"]) + " " + \
        tm.first_words(m.sentence[m.at:], window["medication_after"])


def _clause(m: Mention) -> str:
    """The words of the drug's own clause: "increase her lisinopril, and initiate Lasix" gives Lasix
    "initiate", not "increase"."""
    before = m.sentence[:m.at]
    clause_end = _matcher(m.lang).cues["clause-end"]
    cuts = list(clause_end.finditer(before))
    start = cuts[-1].end() if cuts else 0
    after = m.sentence[m.at:]
    stop = clause_end.search(after, 1)
    return before[start:] + (after[:stop.start()] if stop else after)


def medication_status(m: Mention, elsewhere_taken: bool) -> tuple[MedicationStatus | Literal["active-dose", ""], bool]:
    """(status, explicit) of a drug named at `m`; explicit when a cue word says it, not the section ("": a
    relative's drug; active-dose: taken, its dose changed, which pick_medication makes active or intended).
    Cues in the drug's own clause decide first; the sentence around it after."""
    if m.assertion.subject == "family":
        return "", True
    if m.assertion.certainty == "negated":
        return "not-taken", True
    cue, after = _matcher(m.lang).cues, m.sentence[m.at:]
    section = _matcher(m.lang).pack.section(m.section)
    if "switch-before" in cue:  # "改为B" starts B; "A改为" ends A (before any other cue of the sentence)
        if cue["switch-before"].search(m.sentence[:m.at]):
            return "intended", True
        if cue["switch-after"].search(after[m.end - m.start:]):
            return "stopped", True
    for near in (_clause(m), _window(m)):
        if cue["not-taken"].search(near):
            return "not-taken", True
        replaced = cue["switched-from"].search(m.sentence[:m.at]) or (
            cue["replaced"].search(m.sentence[:m.at]) and cue["replaced-link"].match(after))
        if cue["stopped"].search(near) or replaced:
            return ("active" if cue["future-stop"].search(near) else "stopped"), True
        if section.given_in_stay:  # "入院后予头孢曲松": given in hospital, which is no order for after the stay
            if cue["active"].search(near):  # "…，出院继续口服": it goes on
                return "active", True
            continue
        if cue["started-today"].search(near):
            return "intended", True
        if cue["dose-change"].search(near):  # a dose changed: the patient takes it, now at another dose
            return "active-dose", True
        if cue["intended"].search(near) or m.assertion.time in ("planned", "hypothetical"):
            return "intended", True
        if cue["active"].search(near):
            return "active", True
    if section.given_in_stay:  # over by discharge unless a later mention continues it (not explicit: it yields)
        return "stopped", False
    if section.unmarked_drug == "intended" and not elsewhere_taken:
        return "intended", False
    return "active", False


def pick_medication(mentions: list[Mention]) -> list[tuple[MedicationStatus, list[Mention]]]:
    """Statuses for a drug named in several places. An explicit cue beats a section's default, and among
    explicit ones the latest holds (the plan at the end of a note says what happens now) - except that a
    drug the patient takes and is also prescribed at a stated dose is two facts (what they take, and the new
    prescription), and advice to take a drug they already take ("Tylenol is recommended") keeps it active."""
    taken = any(_matcher(m.lang).pack.section(m.section).shows_taken for m in mentions)
    decided = [(medication_status(m, taken), m) for m in mentions]
    decided = [((s, e), m) for (s, e), m in decided if s]
    if not decided:
        return []
    every = [m for _, m in decided]
    explicit = [(s, m) for (s, e), m in decided if e]
    if {s for s, _ in explicit} == {"intended", "active-dose"}:  # started now, its dose to be changed later
        return [("intended", every)]
    explicit = [("active" if s == "active-dose" else s, m) for s, m in explicit]
    if not explicit:
        return [("active" if taken else decided[-1][0][0].replace("active-dose", "active"), every)]
    others = [(s, m) for s, m in explicit if s != "intended"]
    if others and len(others) < len(explicit):
        final = max(others, key=lambda sm: sm[1].start)[0]
        new_rx = [m for s, m in explicit if s == "intended" and _matcher(m.lang).cues["strength"].match(m.sentence[m.at:])]
        if new_rx:
            return [(final, [m for m in every if m not in new_rx]), ("intended", new_rx)]
        return [(final, every)]
    return [(max(explicit, key=lambda sm: sm[1].start)[0], every)]


def procedure_status(m: Mention, listed_done: bool = False) -> ProcedureStatus | None:
    """completed or planned for a test or operation named at `m` (None: denied, or a relative's).
    listed_done: the item stands in a list the note says was done ("The following procedures were
    conducted:"), which outweighs the section it is written in."""
    a = m.assertion
    if a.certainty == "negated" or a.subject == "family" or a.time == "hypothetical":
        return None
    matcher = _matcher(m.lang)
    window, cue, tm = matcher.pack.window, matcher.cues, matcher.text
    before = tm.last_words(m.sentence[:m.at], window["procedure_before"])
    after = tm.first_words(m.sentence[m.at:], window["procedure_after"], skip=1)
    if "monitoring" in cue and cue["monitoring"].search(m.sentence[:m.at]):
        return None  # "监测血糖": watching a value, no test of its own
    if cue["ordered"].search(before) or a.time == "planned":
        return "planned"
    if cue["done"].search(before) or cue["done"].search(after) or cue["result-before"].search(before) or \
            a.time == "history":  # "Normal CT of ...": a result word right before the test
        return "completed"
    if listed_done:
        return "completed"
    return _matcher(m.lang).pack.section(m.section).unmarked_test


def pick_procedure(mentions: list[Mention], listed_done: bool = False) -> list[tuple[ProcedureStatus, list[Mention]]]:
    """A test done and the same test ordered again are two items: group mentions by status."""
    groups: dict[ProcedureStatus, list[Mention]] = {}
    for m in mentions:
        status = procedure_status(m, listed_done)
        if status is not None:
            groups.setdefault(status, []).append(m)
    return sorted(groups.items())
