"""The assertion step: the one place that decides what each item means. Assembly only maps the result.

Every item of every task (IPS groups, the impression's problems, the encounter's diagnoses) passes here.
For each place the note names it, clinical/assertions.py reads the cues of its sentence (negation,
family, time, hedges) and clinical/status.py turns them into the item's status for its kind. A concept
named several times gets the status of its most authoritative mention; a relative's and the patient's
mentions, or a test done and the same test ordered, become separate items. The model proposes; where
its answer disagrees with the note's words, the note wins and the override is counted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from softtiger_cli.clinical.assertions import assert_span
from softtiger_cli.clinical.dates import resolve
from softtiger_cli.clinical.medications import dosage_text, drug_text, product_name
from softtiger_cli.clinical.status import Mention, pick_condition, pick_medication, pick_procedure
from softtiger_cli.core.data import Assertion, Extraction, Item, Span
from softtiger_cli.core.text import folded, words
from softtiger_cli.note.sections import Section
from softtiger_cli.pipeline.analyse import NoteAnalysis
from softtiger_cli.pipeline.candidates import condition_shaped, junk
from softtiger_cli.pipeline.ground import plausible

_ONSET_NEAR = re.compile(
    r"(?:\b(?:since|in|from|for|began|started|diagnosed|given|done|on|dated)\b|\bx(?=\s*\d))\s*[^.;,]{0,25}?"
    r"((?:19|20)\d{2}(?:-\d{2}(?:-\d{2})?)?|\d{1,2}/\d{1,2}/\d{2,4}|\d+\s*(?:days?|d|weeks?|wks?|months?|mos?|"
    r"years?|yrs?)(?:\s+ago)?\b|last\s+\w+|yesterday|today)", re.I)
_DATE_FIELDS = {"problems": "onsetString", "procedures": "performedString", "immunizations": "occurrenceString"}
_MODEL_STATUS = {"refuted": "absent", "provisional": "possible", "differential": "possible",
                 "unconfirmed": "possible", "inactive": "history", "resolved": "resolved", "remission": "resolved"}


def mentions_of(item: Item, analysis: NoteAnalysis) -> list[Mention]:
    """Each place the item is named, with the assertion its sentence makes."""
    note, out = analysis.text, []
    for span in sorted(item.spans, key=lambda s: s.start):
        sec = analysis.section_at(span.start)
        sents = analysis.sentences_at(span.start)
        assertion, _cues = assert_span(note, span.start, span.end, sec, sents, analysis.list_names)
        sent = next((s for s in sents if s.start <= span.start < s.end), None)
        lo, hi = (sent.start, max(sent.end, span.end)) if sent else (span.start, span.end)
        out.append(Mention(span.start, span.end, assertion, sec.kind if sec else "other", note[lo:hi], span.start - lo))
    return out


def _spans_of(item: Item, chosen: list[Mention]) -> list[Span]:
    starts = {m.start for m in chosen}
    return [s for s in item.spans if s.start in starts]


def decide(item: Item, result: Extraction, analysis: NoteAnalysis) -> list[Item]:
    """The item as the note means it: zero items (not a fact about this patient), one, or several."""
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
                new.values[next(iter(new.values))] = surface[chosen[0].start]  # this wording's own words
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
    note, first = analysis.text, next(iter(item.values))
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
        near = _ONSET_NEAR.search(note[max(0, main.start - 20) : stop if stop > 0 else min(end, main.end + 60)])
        if near:
            text = near.group(0).strip()
            result.count("date read from the sentence")
    if text:
        item.onset = resolve(text, _parse_iso(result.note_date))
        item.values[field_name] = text
    return item


def _parse_iso(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


PATIENT_CONDITION = ("active", "possible", "history", "resolved")
_NO_SECTION = Section(0, 0, "", "other", 0)
_VISIT_TIME = re.compile(r"\b(?:spent|visit|encounter|face[- ]to[- ]face|total time|counsel\w*|appointment|"
                         r"time with|stay)\b", re.I)
_INPATIENT = re.compile(r"\b(?:admitted|admission|hospital course|inpatient|hospitali[sz]ed|discharged?)\b", re.I)
_EMERGENCY = re.compile(r"\b(?:emergency department|emergency room|presented to the ED|in the ED|ER visit)\b", re.I)


def settle_single(item: Item, result: Extraction, analysis: NoteAnalysis) -> Item:
    """The encounter and the impression: what a written note says about the visit itself.

    A note about a visit documents a visit that happened (finished); its class comes from the note's words
    (admission, emergency department, else ambulatory); a length is kept only when the note times the
    visit, never a symptom's duration; with no period stated the visit took place on the note's date.
    """
    item = decide(item, result, analysis)[0]
    if item.group != "encounter":
        return item
    note = analysis.text
    item.values["class"] = "IMP" if _INPATIENT.search(note) else "EMER" if _EMERGENCY.search(note) else "AMB"
    for key in ("reasonCode", "reason", "type", "serviceType"):  # a label or a stray word is no reason
        if isinstance(item.values.get(key), list):
            item.values[key] = [v for v in item.values[key] if not isinstance(v, str) or _meaningful(v)]
        elif isinstance(item.values.get(key), str) and not _meaningful(item.values[key]):
            item.values[key] = ""
    length = str(item.values.get("length") or "")
    span = analysis.grounder.find(length) if length else None
    if length and (span is None or not _VISIT_TIME.search(_sentence(analysis, span.start))):
        item.values["length"] = ""
        if span is not None:  # its words are no evidence of the encounter any more
            item.spans = [s for s in item.spans if (s.start, s.end) != (span.start, span.end)]
        result.count("encounter length that was not the visit's")
    for key in ("period", "actualPeriod"):
        period = item.values.get(key)
        if isinstance(period, dict) and not any(period.values()) and result.note_date:
            period["start"] = result.note_date
    return item


def _meaningful(text: str) -> bool:
    """Free text the model put in the encounter worth keeping: no label, heading word or lone common word."""
    words = re.findall(r"[A-Za-z]+", text)
    return bool(words) and not junk(text) and (len(words) > 1 or len(words[0]) > 3 and words[0].lower() not in
                                               ("status", "medical", "visit", "note", "patient", "other", "none"))


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
        if not hits:
            if junk(text) or not condition_shaped(text) or not plausible(text, analysis.text, result.patient.get("name", "")):
                return None  # a heading or a label the model named as a problem
            hits = decide(Item("problems", {"code": text}, [span], span.method, origin="model"), result, analysis)
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
    for p in problems:
        if p.status in PATIENT_CONDITION:
            result.links[words(p.text)] = p.key
