"""The assertion step: the one place that decides what each item means. Assembly only maps the result.

Every item of every task (IPS groups, the impression's problems, the encounter's diagnoses) passes here.
For each place the note names it, clinical/assertions.py reads the cues of its sentence (negation,
family, time, hedges) and clinical/status.py turns them into the item's status for its kind. A concept
named several times gets the status of its most authoritative mention; a relative's and the patient's
mentions, or a test done and the same test ordered, become separate items. The model proposes; where
its answer disagrees with the note's words, the note wins and the override is counted. An allergy's
criticality is decided here too (assembly only writes it). The words this step reads (onset phrases,
severity, the visit's time and class, labels that are no reason) are in lang/en/status.toml and visit.toml.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from softtiger_cli.clinical.assertions import assert_span
from softtiger_cli.clinical.dates import resolve
from softtiger_cli.clinical.medications import dosage_text, drug_text, product_name
from softtiger_cli.clinical.status import Mention, pick_condition, pick_medication, pick_procedure
from softtiger_cli.core.data import Assertion, ConditionStatus, Criticality, Extraction, Item, Span
from softtiger_cli.core.text import Language, folded, han_count, words
from softtiger_cli.lang import per_language
from softtiger_cli.lang.prompts import load_prompts
from softtiger_cli.lang.status import StatusPack, load_status
from softtiger_cli.lang.text import text_model
from softtiger_cli.note.sections import Section
from softtiger_cli.pipeline.analyse import NoteAnalysis
from softtiger_cli.pipeline.candidates import condition_shaped, junk
from softtiger_cli.pipeline.ground import plausible


def _onset_pattern(pack: StatusPack) -> re.Pattern[str]:
    """A lead word (or a marker before a number) and, within reach, a year, a date, a number of units (maybe
    ago), "last" and a word, or a day word: the date shapes are code, every word comes from the pack."""
    c = pack["onset"]
    return re.compile(
        r"(?:\b(?:" + c.alternation("leads") + r")\b|\b(?:" + c.alternation("markers") + r")(?=\s*\d))\s*[^.;,]{0," +
        str(c.number) + r"}?((?:19|20)\d{2}(?:-\d{2}(?:-\d{2})?)?|\d{1,2}/\d{1,2}/\d{2,4}|\d+\s*(?:" +
        c.alternation("units") + r")(?:\s+(?:" + c.alternation("ago") + r"))?\b|(?:" + c.alternation("last") +
        r")\s+\w+|(?:" + c.alternation("days") + r"))", re.I)


@dataclass(frozen=True)
class _Words:
    """The pack's words this step reads, as patterns (rebuilt by tests/test_lang_status.py less one cue)."""

    pack: StatusPack
    onset: re.Pattern[str]
    severe: re.Pattern[str]
    mild: re.Pattern[str]
    visit_time: re.Pattern[str]
    inpatient: re.Pattern[str]
    emergency: re.Pattern[str]
    labels: frozenset[str]


def _compile(pack: StatusPack) -> _Words:
    def whole(category: str) -> re.Pattern[str]:
        return re.compile(text_model(pack.code).bounded(pack[category].alternation()), re.I)

    return _Words(pack, _onset_pattern(pack), whole("severe"), whole("mild"), whole("visit-time"), whole("inpatient"),
                  whole("emergency"), frozenset(c.text.lower() for c in pack["label"].cues))


_words = per_language(load_status, _compile)  # a language's visit, onset and severity words, compiled once

_DATE_FIELDS = {"problems": "onsetString", "procedures": "performedString", "immunizations": "occurrenceString"}
_MODEL_STATUS: dict[str, ConditionStatus] = {
    "refuted": "absent", "provisional": "possible", "differential": "possible", "unconfirmed": "possible",
    "inactive": "history", "resolved": "resolved", "remission": "resolved"}


def mentions_of(item: Item, analysis: NoteAnalysis) -> list[Mention]:
    """Each place the item is named, with the assertion its sentence makes."""
    note, out = analysis.text, []
    for span in sorted(item.spans, key=lambda s: s.start):
        sec = analysis.section_at(span.start)
        sents = analysis.sentences_at(span.start)
        assertion, _cues = assert_span(note, span.start, span.end, sec, sents, analysis.list_names, analysis.lang)
        sent = next((s for s in sents if s.start <= span.start < s.end), None)
        lo, hi = (sent.start, max(sent.end, span.end)) if sent else (span.start, span.end)
        out.append(Mention(span.start, span.end, assertion, sec.kind if sec else "other", note[lo:hi], span.start - lo,
                           analysis.lang))
    return out


def _spans_of(item: Item, chosen: list[Mention]) -> list[Span]:
    starts = {m.start for m in chosen}
    return [s for s in item.spans if s.start in starts]


def decide(item: Item, result: Extraction, analysis: NoteAnalysis) -> list[Item]:
    """The item as the note means it: zero items (not a fact about this patient), one, or several; an
    allergy also gets its criticality."""
    out = _decide(item, result, analysis)
    for new in out:
        if new.group == "allergies":
            new.criticality = criticality(new, analysis.text, analysis.lang)
    return out


def _decide(item: Item, result: Extraction, analysis: NoteAnalysis) -> list[Item]:
    if item.status == "none" or item.group in ("impression", "encounter", "results", "plan"):
        item.status = item.status or {"impression": "completed", "encounter": "finished", "results": "final",
                                      "plan": "planned"}[item.group]
        return [item]
    if not item.spans:  # kept ungrounded by --ungrounded keep: nothing in the note to check it against
        item.status = {"problems": "active", "medications": "active", "allergies": "active"}.get(item.group, "completed")
        return [item]
    mentions = mentions_of(item, analysis)
    if item.group == "problems":
        surface = {s.start: analysis.text[s.start:s.end] for s in item.spans}
        decided = pick_condition(item.text, mentions, surface)
        claimed = _MODEL_STATUS.get(str(item.values.get("verificationStatus") or item.values.get("clinicalStatus") or ""),
                                    "active")
        out = []
        for status, chosen in decided:
            new = replace(item, spans=_spans_of(item, chosen), values=dict(item.values), status=status)
            named = {folded(surface[m.start]) for m in chosen}
            if len(decided) > 1 and folded(item.text) not in named and len(item.spans) > 1:
                new.values[new.text_field] = surface[chosen[0].start]  # this wording's own words
                new.concept = f"{item.key}|{status}"
            if status == "family":
                rel = next((m.assertion.relationship for m in chosen if m.assertion.relationship), "")
                new.assertion = Assertion(subject="family", relationship=rel)
                new.concept = f"family:{item.key}"
            else:
                new.assertion = chosen[-1].assertion
            if item.origin in ("model", "both") and status != claimed:
                result.count("status")
            out.append(_dated(new, result, analysis))
        if not out:
            result.negated_dropped += 1
        return out
    if item.group == "medications":
        decided = pick_medication(mentions)
        if not decided:
            result.negated_dropped += 1
        claimed = str(item.values.get("status") or "")
        out = []
        for status, chosen in decided:
            new = replace(item, spans=_spans_of(item, chosen), values=dict(item.values), status=status)
            _latest_dose(new, analysis)
            if len(decided) > 1:
                new.concept = f"{item.key}|{status}"
            if item.origin in ("model", "both") and claimed and claimed != status:
                result.count("status")
            out.append(new)
        return out
    if item.group == "allergies":
        if all(m.assertion.certainty == "negated" or m.assertion.subject == "family" for m in mentions):
            result.negated_dropped += 1
            return []
        item.status = "active"
        return [item]
    out = []
    listed_done = item.origin in ("list", "both") and item.values.get("status") == "completed"
    for status, chosen in pick_procedure(mentions, listed_done):  # procedures and immunizations: done, or to do
        new = replace(item, spans=_spans_of(item, chosen), values=dict(item.values), status=status)
        if len(chosen) < len(mentions):
            new.concept = f"{item.key}|{status}"
        out.append(_dated(new, result, analysis) if status == "completed" else new)
    if not out:
        result.negated_dropped += 1
    return out


def _latest_dose(item: Item, analysis: NoteAnalysis) -> None:
    """A drug's name as its latest mention with a dose writes it: the dose that holds at the end of the
    note ("Increase Prozac to 40 mg" after "taking Prozac 20 mg")."""
    note, first = analysis.text, item.text_field
    dosed = [s for s in item.spans if re.search(r"\d", note[s.start:s.end])]
    if dosed:
        last = max(dosed, key=lambda s: s.start)
        item.values[first] = product_name(note[last.start:last.end])
        d = drug_text(note, last.start, last.end)
        if "dosage" in item.values:
            item.values["dosage"] = dosage_text(note, d)


def _dated(item: Item, result: Extraction, analysis: NoteAnalysis) -> Item:
    """A date the model missed is read from the item's own sentence ("HTN since 2015"); resolved dates
    become FHIR dates, unresolved ones stay text."""
    field_name = _DATE_FIELDS.get(item.group)
    if field_name is None or not item.spans or item.status in ("absent", "family"):
        if field_name and item.status in ("absent", "family"):
            item.values.pop(field_name, None)  # a denied or a relative's condition has no onset of the patient's
        return item
    note, main = analysis.text, item.spans[0]
    text = str(item.values.get(field_name) or "")
    if not text:
        sec = analysis.section_at(main.start)
        end = sec.end if sec else len(note)
        stop = note.find(".", main.end, end)
        around = note[max(0, main.start - 20) : stop if stop > 0 else min(end, main.end + 60)]
        text = onset_phrase(around, analysis.lang)
        if text:
            result.count("date read from the sentence")
    if text:
        item.onset = resolve(text, _parse_iso(result.note_date), analysis.lang)
        item.values[field_name] = text
    return item


def onset_phrase(text: str, lang: Language = "en") -> str:
    """The first onset phrase in `text` ("since 2015", "x 3 days"), as written; "" when there is none."""
    near = _words(lang).onset.search(text)
    return near.group(0).strip() if near else ""


def criticality(item: Item, note: str, lang: Language = "en") -> Criticality:
    """An allergy's criticality from the words near its substance: high (a severe word), low (a mild one),
    or "" when the note does not say. Decided here once; assembly only writes it."""
    if not item.spans:
        return ""
    w = _words(lang)
    reach, span = w.pack.window["allergy_chars"], item.spans[0]
    near = note[max(0, span.start - reach) : span.end + reach]
    return "high" if w.severe.search(near) else "low" if w.mild.search(near) else ""


def _parse_iso(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


PATIENT_CONDITION: tuple[ConditionStatus, ...] = ("active", "possible", "history", "resolved")
_NO_SECTION = Section(0, 0, "", "other", 0)


def settle_single(item: Item, result: Extraction, analysis: NoteAnalysis) -> Item:
    """The encounter and the impression: what a written note says about the visit itself.

    A note about a visit documents a visit that happened (finished); its class comes from the note's words
    (admission, emergency department, else ambulatory); a length is kept only when the note times the
    visit, never a symptom's duration; with no period stated the visit took place on the note's date.
    """
    item = decide(item, result, analysis)[0]
    if item.group != "encounter":
        return item
    note, lang = analysis.text, analysis.lang
    item.values["class"] = encounter_class(note, lang)
    for key in ("reasonCode", "reason", "type", "serviceType"):  # a label or a stray word is no reason
        if isinstance(item.values.get(key), list):
            item.values[key] = [v for v in item.values[key] if not isinstance(v, str) or meaningful(v, lang)]
        elif isinstance(item.values.get(key), str) and not meaningful(item.values[key], lang):
            item.values[key] = ""
    length = str(item.values.get("length") or "")
    span = analysis.grounder.find(length) if length else None
    if length and (span is None or not times_the_visit(_sentence(analysis, span.start), lang)):
        item.values["length"] = ""
        if span is not None:  # its words are no evidence of the encounter any more
            item.spans = [s for s in item.spans if (s.start, s.end) != (span.start, span.end)]
        result.count("encounter length that was not the visit's")
    for key in ("period", "actualPeriod"):
        period = item.values.get(key)
        if isinstance(period, dict) and not any(period.values()) and result.note_date:
            period["start"] = result.note_date
    return item


def encounter_class(note: str, lang: Language = "en") -> str:
    """The visit's class from the note's words: inpatient (IMP), emergency (EMER), else ambulatory (AMB)."""
    w = _words(lang)
    return "IMP" if w.inpatient.search(note) else "EMER" if w.emergency.search(note) else "AMB"


def times_the_visit(sentence: str, lang: Language = "en") -> bool:
    """Whether a sentence times the visit itself (a length there is the encounter's, not a symptom's)."""
    return bool(_words(lang).visit_time.search(sentence))


def meaningful(text: str, lang: Language = "en") -> bool:
    """Free text the model put in the encounter worth keeping: no label, heading word or lone common word
    (a Chinese reason of two or more Han characters is a word, not a label's fragment)."""
    if junk(text, lang):
        return False
    if han_count(text) >= 2:
        return True
    w, words = _words(lang), re.findall(r"[A-Za-z]+", text)
    return bool(words) and (len(words) > 1 or len(words[0]) >= w.pack["label"].number and words[0].lower() not in w.labels)


def _sentence(analysis: NoteAnalysis, offset: int) -> str:
    sent = next((s for s in analysis.sentences_at(offset) if s.start <= offset < s.end), None)
    return analysis.text[sent.start:sent.end] if sent else analysis.text[max(0, offset - 80):offset + 80]


def link_conditions(result: Extraction, analysis: NoteAnalysis) -> None:
    """The impression's problems and the encounter's diagnoses point at the patient's own Conditions.

    A named problem is the decided problem item its words overlap (or a new one, decided here); a problem
    the note denies, a relative's, or one it only talks about is referenced nowhere. The conditions the
    note's assessment names (current or suspected) are the impression's problems and the visit's
    diagnoses, whether or not the model listed them.
    """
    singles = [i for g in ("impression", "encounter") for i in result.groups.get(g, [])]
    if not singles:
        return
    if "problems" not in result.groups:
        result.groups["problems"], result.group_task["problems"] = [], "ips"
    problems = result.groups["problems"]

    def target(text: str) -> Item | None:
        span = analysis.grounder.find(text) if text else None
        if span is None:
            return None
        hits = [p for p in problems if any(s.start < span.end and s.end > span.start for s in p.spans)]
        if not hits:  # a problem already decided under these words is the one meant, wherever the words are
            named = folded(text)  # first found in the note: one Condition, referenced from each place
            hits = [p for p in problems if p.status in PATIENT_CONDITION and folded(p.text) == named]
        if not hits:
            if junk(text, analysis.lang) or not condition_shaped(text, analysis.lang) or \
                    not plausible(text, analysis.text, result.patient.get("name", ""), analysis.lang):
                return None  # a heading or a label the model named as a problem
            proposed = Item("problems", {"code": text}, [span], span.method, origin="model", text_field="code")
            hits = decide(proposed, result, analysis)
            problems.extend(h for h in hits if h.status in PATIENT_CONDITION)
        return next((h for h in hits if h.status in PATIENT_CONDITION), None)

    assessed = [p.text for p in problems if p.status in ("active", "possible")
                and any((analysis.section_at(s.start) or _NO_SECTION).kind == "assessment" for s in p.spans)]
    for item in singles:
        if isinstance(item.values.get("problem"), list):
            kept = [t.text for t in map(target, item.values["problem"]) if t is not None]
            item.values["problem"] = list(dict.fromkeys(kept + assessed))
        if isinstance(item.values.get("diagnosis"), list):
            diagnoses = []
            for d in item.values["diagnosis"] + [{"condition": text} for text in assessed]:
                t = target(str(d.get("condition", ""))) if isinstance(d, dict) else None
                if t is not None and all(x["condition"] != t.text for x in diagnoses):
                    diagnoses.append({**d, "condition": t.text})
            item.values["diagnosis"] = diagnoses
    current = {p.text: p.status for p in problems if p.status in ("active", "possible")}  # the patient's, now
    for item in singles:
        if item.group == "impression" and isinstance(item.values.get("problem", []), list):
            _summarise(item, [(t, current[t]) for t in item.values.get("problem") or []
                              if isinstance(t, str) and t in current], analysis)
    for p in problems:
        if p.status in PATIENT_CONDITION:
            result.links[words(p.text)] = p.key


def _summarise(impression: Item, problems: list[tuple[str, str]], analysis: NoteAnalysis) -> None:
    """The impression's summary states the decided problems in one sentence (lang/<code>/prompts.toml); with
    none, a model's summary stays only where the note writes it (no free text the note does not support)."""
    sentence = load_prompts(analysis.lang).assessment(problems)
    given = str(impression.values.get("summary") or "").strip()
    if sentence:
        impression.values["summary"] = sentence
    elif given and analysis.grounder.find(given) is None:
        impression.values.pop("summary", None)
