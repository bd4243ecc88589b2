"""Candidate items found in the note by code: lexicon terms (conditions, drugs, vaccines from the shipped
code lists) and tests or procedures by pattern, each with its exact span; and the rule that puts the
model's and the list reader's items beside them.

A code-found item is the reference for its words: a model or list item that overlaps one of the same
kind merges into it (origin "both"); a model item of a closed kind (drug, vaccine, test) that no lexicon
or pattern supports is left out, and a free-text plan step that names a drug, a test or a diagnosis is
that item, not a CarePlan.

The words that decide (allergy leads, allergens, "no known ..." statements, labels that are never items,
habits, doses) are data: lang/<code>/vocab.toml, read by softtiger_cli/lang/vocab.py.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from softtiger_cli.clinical.medications import ADMINISTERED, SIG, DrugText, dosage_text, drug_text, product_name
from softtiger_cli.clinical.procedures import find_procedures
from softtiger_cli.core.data import Extraction, Item, Span
from softtiger_cli.core.text import Language, folded, words
from softtiger_cli.lang import per_language
from softtiger_cli.lang.lists import ListWords, load_lists
from softtiger_cli.lang.text import text_model
from softtiger_cli.lang.words import alternation as word_alternation
from softtiger_cli.lang.vocab import Vocab, alternation, load_vocab
from softtiger_cli.pipeline.analyse import NoteAnalysis
from softtiger_cli.terms import Mention, code_condition

MENTION_GROUP = {"condition": "problems", "finding": "problems", "medication": "medications", "supplement": "medications",
                 "vaccine": "immunizations",
                 "procedure": "procedures", "allergy": "allergies"}
# Sections whose words are no condition of the patient's: social habits, an allergy's reaction.
_NO_CONDITIONS_IN = ("social", "allergies")
# The item a "no known ..." statement of each group becomes (its identity, not words read in the note).
_NO_KNOWN_CONCEPT = {"allergies": "no known allergies", "medications": "no known medications"}


@dataclass(frozen=True)
class _Patterns:
    """The words of lang/<code>/vocab.toml as the patterns this module reads (the English skeleton around
    them, such as digits before a dose unit, is code)."""

    allergy_lead: re.Pattern[str]  # "allergic to" before a drug, on its line
    allergy_after: re.Pattern[str]  # "allergy", "gave him hives" after it
    allergens: re.Pattern[str]
    no_known: dict[str, re.Pattern[str]]  # group -> its "no known ..." statements
    junk: re.Pattern[str]
    denial: re.Pattern[str]  # a phrase that is itself a denial ("No complaints", "None")
    habit: re.Pattern[str]
    disorder: re.Pattern[str]
    fragment: re.Pattern[str]
    finding_tag: re.Pattern[str]
    dose: re.Pattern[str]
    coordinated: re.Pattern[str]


def _compile(vocab: Vocab) -> _Patterns:
    """The vocab as patterns: built once per language (and by tests/test_lang_vocab.py from a vocab less a
    word). Word boundaries and clause stops are the language's (lang/text.py: English \\b, ".;")."""
    lead, after, frag = vocab.allergy_lead, vocab.allergy_after, vocab.fragments
    tm = text_model(vocab.code)
    b, gap, stops = tm.edge, tm.gap, tm.stops

    def whole(words: tuple[str, ...]) -> str:
        return b + r"(?:" + alternation(words) + r")" + b

    no_known = {group: re.compile(b + r"(?:(?:" + alternation(nk.statements) + ")" + (b if nk.whole_words else "")
                                  + "|" + re.escape(nk.heading) + tm.colon + r"\s*(?:" + alternation(nk.empty) + r")" + b + ")",
                                  re.I)
                for group, nk in vocab.no_known.items()}
    return _Patterns(
        allergy_lead=re.compile(whole(lead.words) + r"[^" + stops + r"\n]{0,%d}$" % lead.reach, re.I),
        allergy_after=re.compile(r"^\s*(?:" + alternation(after.words) + r"|(?:" + alternation(after.verbs) +
                                 r")" + gap + r"(?:\w+\s+){0,%d}?(?:" % after.reach + alternation(after.reactions) + r"))" +
                                 b, re.I),
        allergens=re.compile(whole(vocab.allergens.words), re.I),
        no_known=no_known,
        junk=re.compile(r"^(?:" + alternation(vocab.junk.words) + r")$", re.I),
        denial=re.compile(r"^(?:" + alternation(vocab.denials.words) + r")" + b, re.I),
        habit=re.compile(whole(vocab.habits.words), re.I),
        disorder=re.compile(whole(vocab.disorders.words), re.I),
        fragment=re.compile(whole(frag.comparisons) + "|" + whole(frag.reasons) + r"|^(?:" + alternation(frag.sides) +
                            r")$", re.I),
        finding_tag=re.compile(r"\s*\((?:" + alternation(vocab.semantic_tags.words) + r")\)", re.I),
        dose=re.compile(r"\b\d+(?:\.\d+)?\s*(?:" + alternation(vocab.dose_units.words) + r")" + b, re.I),
        coordinated=re.compile(r"\b([A-Za-z][A-Za-z-]+)(?:\s*,\s*|\s+(?:" + alternation(vocab.coordinators.words)
                               + r")\s+|\s*/\s*)$"),
    )


_rx = per_language(load_vocab, _compile)  # a language's vocabulary as patterns, compiled once


def _first_field(schemas: dict[str, dict[str, Any]], group: str) -> str:
    return next(iter(schemas[group]["items"]["properties"]))


def _in_heading(analysis: NoteAnalysis, start: int) -> bool:
    sec = analysis.section_at(start)
    return sec is not None and sec.heading != "" and sec.start <= start < sec.body_start


def code_items(analysis: NoteAnalysis, result: Extraction, schemas: dict[str, dict[str, Any]]) -> list[Item]:
    """Items for every lexicon or pattern mention in a group the tasks ask for."""
    note, out, rx = analysis.text, [], _rx(analysis.lang)
    drug_spans = [(m.start, m.end) for m in analysis.mentions if m.kind in ("medication", "vaccine")]
    proc_spans = analysis.procedures
    # an item of another list ("assessment of anxiety (procedure)", "influenza, seasonal, injectable") names
    # no condition of the patient's
    other_lists = [(li.start, li.end) for li in analysis.list_items if li.group != "problems"]
    for m in _joined_drugs(analysis):
        kind = m[0]
        start, end, mention = m[1], m[2], m[3]
        sec = analysis.section_at(start)
        section = sec.kind if sec else "other"
        if _in_heading(analysis, start):
            continue
        if kind == "condition" and _in_proper_name(note, start, end):
            continue  # "National Comprehensive Cancer Network": a name, not a disease
        if kind in ("condition", "finding"):
            if section in _NO_CONDITIONS_IN or any(a <= start and end <= b for a, b in drug_spans + proc_spans
                                                   + other_lists):
                continue
        if kind == "medication" and (any(a <= start < b for a, b in proc_spans)
                                     or ADMINISTERED.search(note[max(0, start - 16):start])):
            continue  # "cortisone injection", "0.5 cc of lidocaine": part of a procedure, not a medication
        holder = next((li.group for li in analysis.list_items if li.start <= start and end <= li.end), None)
        if kind == "medication" and holder not in (None, "medications", "allergies"):
            continue  # "escherichia coli urinary tract infection": a problem's words, not a drug
        if kind == "procedure" and (holder in ("problems", "medications", "allergies")
                                    or any(start < b and end > a for a, b in drug_spans)):
            continue  # "history of tubal ligation (situation)", "naproxen sodium 220 mg": the list says what it is
        if kind == "medication" and holder == "allergies":
            kind = "allergy"
        if kind == "medication":
            before = note[max(0, start - 60):start]
            line_start = note.rfind("\n", 0, start) + 1
            if section == "allergies" or rx.allergy_lead.search(note[line_start:start] if section != "other"
                                                                 else before) or rx.allergy_after.match(note[end:]):
                kind = "allergy"
        group = MENTION_GROUP[kind]
        if group not in result.groups:
            continue
        words = mention.text if kind == "condition" and mention is not None and mention.text != note[start:end] else note[start:end]
        first = _first_field(schemas, group)
        item = Item(group=group, values={first: words}, text_field=first,
                    spans=[Span(start, end, "exact")], grounding="exact", origin="lexicon")
        if kind == "medication":
            dt = drug_text(note, start, end)
            item.values[first] = product_name(note[dt.start:dt.end])
            item.spans = [Span(dt.start, dt.end, "exact")]
            if "dosage" in schemas[group]["items"]["properties"]:
                item.values["dosage"] = dosage_text(note, dt)
            item.concept = "drug:" + mention.lower()
        elif kind == "allergy":
            item.concept = "allergy:" + mention.lower()
        elif kind == "finding":
            code = code_condition(note[start:end])
            item.origin, item.concept = "pattern", "finding:" + folded(note[start:end])
            item.coding = (code.system, code.code, code.display or "") if code else None
        elif kind == "supplement":
            item.origin, item.concept = "pattern", "drug:" + " ".join(note[start:end].lower().split()[:-1])
        elif mention is not None:
            item.coding = (mention.code.system, mention.code.code, mention.code.display or "") if mention.code else None
            item.concept = f"{mention.code.system}|{mention.code.code}" if mention.code else ""
        else:  # a test or procedure found by pattern
            item.origin = "pattern"
            item.concept = "proc:" + folded(note[start:end])
        out.append(item)
    for group, concept in _NO_KNOWN_CONCEPT.items():
        if group in result.groups:
            out += _no_known(analysis, group, rx.no_known[group], schemas, concept)
    return out


_CAPITALISED = re.compile(r"^[A-Z][a-z]+$")


def _in_proper_name(note: str, start: int, end: int) -> bool:
    """A term inside a run of capitalised words mid-sentence is part of a name (an organisation, a
    guideline, a clinic): a capitalised word on each side of it."""
    if not note[start:start + 1].isupper():
        return False
    before = note[max(0, start - 40):start].split()
    after = note[end:end + 40].split()
    return bool(before and after and _CAPITALISED.match(before[-1]) and _CAPITALISED.match(after[0].strip(".,;:()"))
                and not re.search(r"[.!?:\n]\s*$", note[max(0, start - 40):start - len(before[-1]) - 1] + " "))


def _no_known(analysis: NoteAnalysis, group: str, pattern: re.Pattern[str], schemas: dict[str, dict[str, Any]],
              concept: str) -> list[Item]:
    m = pattern.search(analysis.text)
    if not m:
        return []
    first = _first_field(schemas, group)
    item = Item(group=group, values={first: analysis.text[m.start():m.end()]}, text_field=first,
                spans=[Span(m.start(), m.end(), "pattern")], grounding="pattern", origin="pattern",
                status="none", concept=concept)
    return [item]


def _joined_drugs(analysis: NoteAnalysis) -> list[tuple[str, int, int, Any]]:
    """(kind, start, end, mention) for every mention; drugs written as one combination
    ("amoxicillin-clavulanate", "losartan/HCTZ") become one mention. Procedures have no lexicon mention."""
    note = analysis.text
    out: list[tuple[str, int, int, Any]] = []
    for m in analysis.mentions:
        if (m.kind == "medication" and out and out[-1][0] == "medication"
                and re.fullmatch(r"\s*[-/]\s*", note[out[-1][2]:m.start])):
            kind, start, _, first = out[-1]
            out[-1] = (kind, start, m.end, first)
            continue
        out.append((m.kind, m.start, m.end, (m.display or m.text) if m.kind == "medication" else m))
    out += [("procedure", lo, hi, None) for lo, hi in analysis.procedures]
    out += [("supplement", lo, hi, None) for lo, hi in analysis.supplements]
    conditions = [(m.start, m.end) for m in analysis.mentions if m.kind == "condition"]
    out += [("finding", lo, hi, None) for lo, hi in analysis.findings  # a code list's term wins where they meet
            if not any(lo < b and hi > a for a, b in conditions)]
    out += [("condition", m.start, m.end, m) for m in _elided(analysis)]
    return sorted(out, key=lambda x: (x[1], x[2]))


def _elided(analysis: NoteAnalysis) -> list[Mention]:
    """Conditions whose head noun is written once for two ("suicidal or homicidal ideation" names
    suicidal ideation too): the modifier's span, coded as the whole term when the code list has it."""
    note, out = analysis.text, []
    for m in analysis.mentions:
        words = m.text.split()
        if m.kind != "condition" or len(words) < 2:
            continue
        lead = _rx(analysis.lang).coordinated.search(note[max(0, m.start - 40):m.start])
        if not lead:
            continue
        term = f"{lead.group(1)} {' '.join(words[1:])}"
        code = code_condition(term)
        if code is None or code == m.code:
            continue
        start = m.start - (len(note[max(0, m.start - 40):m.start]) - lead.start(1))
        out.append(Mention(start, start + len(lead.group(1)), "condition", term, term.lower(), code, code.display))
    return out


def junk(text: str, lang: Language = "en") -> bool:
    """A label, a heading word or a template phrase: never an item ("Medical reasoning", "Cardiovascular")."""
    words, rx = text.strip().strip(":.-").strip(), _rx(lang)
    return not words or bool(rx.junk.match(words) or rx.denial.match(words)) or words.endswith(":")


def _overlaps(item: Item, others: list[Item]) -> Item | None:
    for o in others:
        if any(s.start < t.end and s.end > t.start for s in item.spans for t in o.spans):
            return o
    return None


def combine(code_found: list[Item], others: list[Item], analysis: NoteAnalysis) -> list[Item]:
    """Code-found items, plus the list reader's and the model's where no code-found item covers them.

    A model item of a closed kind (a drug, a vaccine, a test) needs the lexicon's or a pattern's support;
    a model plan step that names a drug, a test or a diagnosis is that item, not prose.
    """
    by_group: dict[str, list[Item]] = {}
    lang = analysis.lang
    for item in code_found:
        by_group.setdefault(item.group, []).append(item)
    everything = [i for i in code_found if i.status != "none"]
    kept = list(code_found)
    products: list[tuple[Item, str]] = []  # list lines made products, with their one drug's concept ("" if several)
    for item in others:
        if _overlaps(item, [i for i in code_found if i.status == "none"]) is not None:
            continue  # "Patient denies taking any medications": said by the no-known entry
        if item.group == "medications" and item.origin == "list" and _overlaps(item, by_group.get(item.group, [])):
            for span in item.spans:  # each line of a list is one product, maybe of several ingredients
                line = Item(item.group, dict(item.values), [span], item.grounding, origin="list",
                            text_field=item.text_field)
                drugs = [o for o in by_group["medications"] if _overlaps(line, [o]) is not None]
                if not drugs:
                    kept.append(line)
                    continue
                product = _list_product(line, drugs, analysis)
                named = {d.concept for d in drugs if d.concept}
                products.append((product, named.pop() if len(drugs) == 1 and len(named) == 1 else ""))
                kept = [k for k in kept if k not in drugs] + [product]
                by_group["medications"] = [k for k in by_group["medications"] if k not in drugs] + [product]
            continue
        if item.group == "problems" and item.origin == "list":
            inside = [o for o in by_group.get("problems", []) if _overlaps(item, [o]) is not None]
            if len(inside) == 1 and _longer(item, inside[0]):  # "acute viral pharyngitis" over "pharyngitis"
                named = _named_by_list(item, inside[0], lang)
                kept = [k for k in kept if k is not inside[0]] + [named]
                by_group["problems"] = [k for k in by_group["problems"] if k is not inside[0]] + [named]
                continue
        same = _overlaps(item, by_group.get(item.group, []))
        if same is not None:
            if item.origin in ("model", "list") and same.origin in ("lexicon", "pattern"):
                same.origin = "both"
            for key, value in item.values.items():  # what the code-found item lacks: a reaction, an onset,
                if key != item.text_field and value and not same.values.get(key):  # a dosage the model or list read
                    same.values[key] = value
            continue
        if item.group == "plan" and _overlaps(item, everything) is not None:
            continue  # "Start amoxicillin": the drug item says it
        if item.origin == "model" and not _model_plausible(item, lang):
            continue
        tagged = any(_rx(lang).finding_tag.match(analysis.text, s.end) for s in item.spans)  # "(finding)" after it
        if junk(item.text, lang) or (item.group == "problems" and not tagged and not condition_shaped(item.text, lang)):
            continue
        kept.append(item)
    # a list line of one drug is that drug ("Furosemide 40 mg orally once daily" and the HPI's "IV furosemide"
    # are one medication), unless another line names the same drug: then each line is a product of its own
    lines_of = Counter(concept for _, concept in products if concept)
    for product, concept in products:
        if concept and lines_of[concept] == 1:
            product.concept = concept
    return kept


def condition_shaped(text: str, lang: Language = "en") -> bool:
    """A proposed condition that reads as one: not a habit, a test or its result, or a comparison."""
    rx = _rx(lang)
    if rx.habit.search(text) and not rx.disorder.search(text):
        return False
    if rx.fragment.search(text) or find_procedures(text, lang=lang):
        return False
    return True


def _side_pattern(vocab: Vocab) -> re.Pattern[str]:
    return re.compile(text_model(vocab.code).bounded(alternation(vocab.fragments.sides)), re.I)


side_words = per_language(load_vocab, _side_pattern)  # the words that name a side ("right", "左侧")


_BRACKETED = r"[（(][^）)]*[）)]"  # a part in round brackets, either width


def _qualifier_pattern(lists: ListWords) -> re.Pattern[str]:
    return re.compile(_BRACKETED + "|" + word_alternation(lists.of("qualifiers")))


_QUALIFIED_ONLY = per_language(load_lists, _qualifier_pattern)


def _longer(item: Item, found: Item) -> bool:
    """The list item names more than the code-found term inside it, in a few words."""
    a, b = item.spans[0], found.spans[0]
    return a.start <= b.start and b.end <= a.end and (a.end - a.start) > (b.end - b.start) and len(item.text.split()) <= 6


def _named_by_list(item: Item, found: Item, lang: Language = "en") -> Item:
    """The list's words for the condition, coded only when they are a code list's term themselves; words
    that only grade, stage or place it ("高血压病3级（很高危）") leave it the found term's concept, so the
    problem named elsewhere in the note is the same one."""
    code = code_condition(item.text)
    named = Item(group="problems", values={**found.values, found.text_field: item.text}, text_field=found.text_field,
                 spans=list(item.spans), grounding=item.grounding, origin="both")
    named.coding = (code.system, code.code, code.display or "") if code else None
    named.concept = f"{code.system}|{code.code}" if code else "cond:" + words(item.text)
    a, b = item.spans[0], found.spans[0]
    rest = item.text[:b.start - a.start] + " " + item.text[b.end - a.start:]
    if not code and not _QUALIFIED_ONLY(lang).sub("", rest).strip(" \t,，、:：\u3000"):
        named.coding, named.concept = found.coding, found.concept
    return named


_ASIDE = re.compile(r"\s*" + _BRACKETED + r"\s*")  # a remark in round brackets after the product: no part of its name


def _semicolon_item(note: str, span: Span) -> bool:
    """The item is one of a list parted by semicolons ("a; b; c"), where each part is a whole product line
    (a comma inside it is the product's own: "nitrofurantoin, macrocrystals 50 mg oral capsule")."""
    before, after = note[max(0, span.start - 8):span.start], note[span.end:span.end + 8]  # a few characters, not the note
    return before.rstrip(" \t").endswith(";") or after.lstrip(" \t").startswith(";")


def _list_product(item: Item, drugs: list[Item], analysis: NoteAnalysis) -> Item:
    """A medication list's line as one product: its name and strengths up to the last drug named in it
    ("amoxicillin 250 mg / clavulanate 125 mg oral tablet"), the instructions after it as the dosage."""
    note, first = analysis.text, item.text_field
    start = min(item.spans[0].start, min(d.spans[0].start for d in drugs))
    end = max(d.spans[0].end for d in drugs)
    sig = SIG.match(note, end)
    rest = note[end:item.spans[0].end]
    if analysis.lang == "en" and _semicolon_item(note, item.spans[0]) and not (sig and sig.group(0).strip(" ,")) \
            and rest.strip() and not _ASIDE.fullmatch(rest):
        # no instructions after the last drug: the rest of the line is the product's own words (its salt,
        # strength, form, brand: "nitrofurantoin, macrocrystals 50 mg oral capsule", "... injection [epogen]").
        # English only: Chinese instructions follow the strength with no space ("5mg qd口服"), which the
        # instruction words cannot tell from a product's own words.
        end, sig = item.spans[0].end, None
    values = dict(item.values)
    values[first] = note[start:end]
    if "dosage" in values or any("dosage" in d.values for d in drugs):
        values["dosage"] = dosage_text(note, DrugText(start, end, *(sig.span() if sig else (end, end))))
    return Item(group=item.group, values=values, text_field=first, spans=[Span(start, end, "exact")], grounding="exact",
                origin="both", concept="drug:" + " ".join(re.findall(r"[a-z0-9.]+", note[start:end].lower())))


def _model_plausible(item: Item, lang: Language) -> bool:
    """A model answer with no lexicon or pattern support is kept only where its shape fits its kind."""
    text, rx = item.text.strip(), _rx(lang)
    words = text_model(lang).word_count(text)
    if item.grounding not in ("exact", "normalized", "abbreviation") or words == 0:
        return False
    if item.group == "problems":
        return words <= 5 and not re.search(r"\d", text) and not rx.dose.search(text)
    if item.group == "medications":
        return bool(rx.dose.search(text)) and words <= 6
    if item.group == "allergies":
        return bool(rx.allergens.search(text))
    if item.group in ("procedures", "immunizations"):
        return False
    if item.group == "results":
        return bool(re.search(r"\d", str(item.values.get("valueString", ""))))
    return words <= 20
