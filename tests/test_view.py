"""Evidence view, without a browser: reading spans (both formats) and the span -> HTML mapping."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from softtiger_cli.view import (
    DERIVATION_URL, SOURCE_SPAN_URL, IndexRow, Span, csp_hash, index_row, layout, read_spans, render_bundle,
    render_index,
)
from softtiger_cli.view.assets import CSS, JS

DATA = Path(__file__).parent / "data"
CLINIC = DATA / "view-clinic-visit.bundle.json"
MATCH = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/span-match"
ORIGIN = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/span-origin"
NOTE_URL = "urn:uuid:00000000-0000-4000-8000-000000000001"


# -- building test Bundles -------------------------------------------------------------------------
def span_ext(offset: int, length: int, fmt: str = "new", match: str | None = "exact",
             origin: str | None = "list", source: str = NOTE_URL) -> dict[str, Any]:
    """One span extension: "new" (standard + softtiger codes), "std" (standard only) or "old"."""
    if fmt == "old":
        subs = [{"url": "source", "valueReference": {"reference": source}},
                {"url": "offset", "valueInteger": offset}, {"url": "length", "valueInteger": length}]
        subs += [{"url": "match", "valueCode": match}] if match else []
        subs += [{"url": "origin", "valueCode": origin}] if origin else []
        return {"url": SOURCE_SPAN_URL, "extension": subs}
    subs = [{"url": "reference", "valueReference": {"reference": source}},
            {"url": "offset", "valueInteger": offset}, {"url": "length", "valueInteger": length}]
    if fmt == "new":
        subs += [{"url": MATCH, "valueCode": match}] if match else []
        subs += [{"url": ORIGIN, "valueCode": origin}] if origin else []
    return {"url": DERIVATION_URL, "extension": subs}


def make_bundle(note: str, items: list[tuple[dict[str, Any], list[tuple[int, int]]]], fmt: str = "new",
                composition: bool = False) -> dict[str, Any]:
    """A Bundle holding the note as a DocumentReference and each (resource, spans) item."""
    doc = {"resourceType": "DocumentReference", "id": "note", "status": "current",
           "content": [{"attachment": {"contentType": "text/plain; charset=utf-8",
                                       "data": base64.b64encode(note.encode("utf-8")).decode()}}]}
    entries: list[dict[str, Any]] = [{"fullUrl": NOTE_URL, "resource": doc}]
    for n, (res, spans) in enumerate(items):
        res = dict(res, id=f"r{n}")
        if spans:
            res["extension"] = [span_ext(o, ln, fmt) for o, ln in spans]
        entries.append({"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{n + 100:012d}", "resource": res})
    if composition:
        refs = [{"reference": e["fullUrl"]} for e in entries[1:]]
        comp = {"resourceType": "Composition", "id": "c", "status": "final", "title": "Summary",
                "section": [{"title": "Everything", "code": {"coding": [{"system": "http://loinc.org",
                                                                         "code": "11450-4"}]}, "entry": refs},
                            {"title": "Allergies and Intolerances", "emptyReason": {"coding": [
                                {"code": "unavailable", "display": "Unavailable"}]}}]}
        entries.insert(0, {"fullUrl": "urn:uuid:c", "resource": comp})
    return {"resourceType": "Bundle", "type": "document" if composition else "collection", "entry": entries}


def cond(text: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "code": {"text": text}, **extra}


# -- reading the rendered HTML back --------------------------------------------------------------------
class Marks(HTMLParser):
    """The note's text and each highlight piece's text and attributes, as a browser's DOM would hold them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # >0 inside div#note
        self.note: list[str] = []
        self.open: list[dict[str, Any]] = []
        self.pieces: list[dict[str, Any]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "div" and (a.get("id") == "note" or self.depth):
            self.depth += 1
        if tag == "mark" and self.depth:
            piece = {"attrs": a, "text": ""}
            self.pieces.append(piece)
            self.open.append(piece)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.depth:
            self.depth -= 1
        if tag == "mark" and self.depth:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.note.append(data)
            for piece in self.open:
                piece["text"] += data


def parse(page: str) -> Marks:
    p = Marks()
    p.feed(page)
    p.close()
    return p


def joined(p: Marks) -> dict[tuple[str, int, int], str]:
    """(resource, offset, length) -> the text of its pieces joined in document order."""
    out: dict[tuple[str, int, int], str] = {}
    for piece in p.pieces:
        a = piece["attrs"]
        key = (a["data-resource"], int(a["data-offset"]), int(a["data-length"]))
        out[key] = out.get(key, "") + piece["text"]
    return out


def check_page(note: str, bundle: dict[str, Any]) -> Marks:
    """The DOM text is the note exactly, and every span's pieces join to note[offset:offset+length]."""
    p = parse(render_bundle(bundle))
    assert "".join(p.note) == note
    spans = {(e.get("fullUrl"), s.offset, s.length) for e in bundle["entry"]
             for s in read_spans(e["resource"], e.get("fullUrl")) if 0 <= s.offset < len(note) and s.length > 0}
    got = joined(p)
    assert set(got) == spans
    for (_, o, ln), text in got.items():
        assert text == note[o : o + ln]
    return p


# -- span reading ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["new", "std", "old"])
def test_reads_every_span_format(fmt: str) -> None:
    res = cond("x", extension=[span_ext(3, 4, fmt), span_ext(10, 2, fmt)])
    spans = read_spans(res, "R")
    assert [(s.offset, s.length, s.source) for s in spans] == [(3, 4, NOTE_URL), (10, 2, NOTE_URL)]
    if fmt == "std":  # another producer: no softtiger sub-extensions
        assert all(s.match is None and s.origin is None for s in spans)
    else:
        assert spans[0].match == "exact" and spans[0].origin == "list"


def test_ignores_malformed_and_duplicate_spans_and_reads_element_level() -> None:
    bad = {"url": DERIVATION_URL, "extension": [{"url": "offset", "valueInteger": "3"}]}
    res = cond("x", extension=[bad, span_ext(1, 2), span_ext(1, 2), {"url": "other"}])
    res["code"]["extension"] = [span_ext(5, 1, "std")]  # a span on an element, not the resource
    assert [(s.offset, s.length) for s in read_spans(res, "R")] == [(1, 2), (5, 1)]


# -- the span -> HTML mapping -----------------------------------------------------------------------
def _tag(span: Span, piece: int, anchor: str) -> str:
    return f"<{span.resource}{'' if piece == 0 else piece}>"


def test_layout_nested_spans_do_not_split_the_outer_one() -> None:
    laid = layout("abcdefgh", [Span(0, 8, "A"), Span(2, 3, "B"), Span(3, 1, "C")], _tag, "</>")
    assert laid.html == "<A>ab<B>c<C>d</>e</>fgh</>"


def test_layout_overlapping_spans_split_the_later_one() -> None:
    laid = layout("abcdefgh", [Span(0, 5, "A"), Span(3, 5, "B")], _tag, "</>")
    assert laid.html == "<A>abc<B>de</></><B1>fgh</>"


def test_layout_adjacent_spans_and_note_edges() -> None:
    laid = layout("abcdef", [Span(0, 2, "A"), Span(2, 2, "B"), Span(4, 2, "C")], _tag, "</>")
    assert laid.html == "<A>ab</><B>cd</><C>ef</>"


def test_layout_past_the_end_is_clamped_or_dropped() -> None:
    laid = layout("abc", [Span(1, 10, "A"), Span(3, 1, "B"), Span(-1, 2, "C"), Span(0, 0, "D")], _tag, "</>")
    assert laid.html == "a<A>bc</>"
    assert [s.resource for s in laid.dropped] == ["C", "D", "B"]


def test_layout_escapes_text_and_keeps_crlf_and_nul_in_the_dom() -> None:
    laid = layout("<b>\r\nx\ry\x00&", [Span(0, 3, "A")], _tag, "</>")
    assert laid.html == "<A>&lt;b&gt;</>&#13;\nx&#13;<br>y\ufffd&amp;"


# -- whole pages --------------------------------------------------------------------------------------
def test_overlapping_nested_edges_and_adjacent_in_a_page() -> None:
    note = "Hypertension and type 2 diabetes mellitus; no asthma"
    items = [(cond("Hypertension"), [(0, 12)]), (cond("type 2 diabetes"), [(17, 15)]),
             (cond("diabetes mellitus"), [(24, 17)]), (cond("diabetes"), [(24, 8)]),
             (cond("asthma", verificationStatus={"coding": [{"code": "refuted"}]}), [(46, 6)]),
             (cond("no"), [(43, 3)])]
    p = check_page(note, make_bundle(note, items))
    assert any("s-refuted" in x["attrs"]["class"] for x in p.pieces)
    assert sum(1 for x in p.pieces if "tabindex" in x["attrs"]) == len(items)  # one focus stop per span


def test_crlf_note_offsets_are_into_the_text_as_stored() -> None:
    note = "CC:\r\nCough.\r\nPMH:\r\nHypertension\r\n"
    assert check_page(note, make_bundle(note, [(cond("Cough"), [(5, 5)]), (cond("HTN"), [(19, 12)])])).pieces


def test_non_ascii_offsets_are_characters() -> None:
    note = "Pt 😷 reports café-au-lait spots 👍 and naïve Ångström fever"
    o = note.index("café")
    fever = note.index("fever")
    items = [(cond("café-au-lait spots"), [(o, 18)]), (cond("fever"), [(fever, 5)]), (cond("emoji"), [(3, 1)])]
    check_page(note, make_bundle(note, items))


def test_span_past_the_end_is_clamped_and_one_beyond_it_listed_as_outside() -> None:
    note = "Cough"
    page = render_bundle(make_bundle(note, [(cond("Cough"), [(2, 50)]), (cond("ghost"), [(40, 3)])]))
    got = joined(parse(page))
    assert list(got.values()) == ["ugh"] and list(got)[0][1:] == (2, 50)
    assert "span 40+3 is outside the note" in page


def test_html_and_script_in_note_and_model_output_are_escaped() -> None:
    note = "<script>alert(1)</script></div><img src=x onerror=alert(2)> & \"quoted\""
    evil = cond('</mark><script>alert(3)</script>"onmouseover="x')
    page = render_bundle(make_bundle(note, [(evil, [(0, 8)])], composition=True))
    p = parse(page)
    assert p.scripts == 1  # only the page's own
    assert "<script>alert" not in page and "<img" not in page
    assert "".join(p.note) == note
    assert joined(p)[("urn:uuid:00000000-0000-4000-8000-000000000100", 0, 8)] == "<script>"


def test_standard_extension_only_bundle_renders() -> None:
    note = "Metformin 500 mg twice daily."
    med = {"resourceType": "MedicationStatement", "status": "active",
           "medication": {"concept": {"text": "Metformin"}}, "dosage": [{"text": "500 mg twice daily"}]}
    p = check_page(note, make_bundle(note, [(med, [(0, 9)])], fmt="std"))
    assert "data-match" not in p.pieces[0]["attrs"] and "k-medication" in p.pieces[0]["attrs"]["class"]


def test_old_source_span_format_renders() -> None:
    note = "Penicillin (hives)."
    allergy = {"resourceType": "AllergyIntolerance", "code": {"text": "Penicillin"}}
    p = check_page(note, make_bundle(note, [(allergy, [(0, 10)])], fmt="old"))
    assert p.pieces[0]["attrs"]["data-match"] == "exact" and "k-allergy" in p.pieces[0]["attrs"]["class"]


def test_kinds_and_states_classes() -> None:
    note = "mother: breast cancer. appendectomy 1990. start amoxicillin. HTN resolved. BP 132/78"
    items = [
        ({"resourceType": "FamilyMemberHistory", "relationship": {"text": "mother"},
          "condition": [{"code": {"text": "breast cancer"}}]}, [(8, 13)]),
        ({"resourceType": "Procedure", "status": "completed", "code": {"text": "appendectomy"}}, [(23, 12)]),
        ({"resourceType": "MedicationRequest", "status": "active", "intent": "plan",
          "medicationCodeableConcept": {"text": "amoxicillin"}}, [(48, 11)]),
        (cond("HTN", clinicalStatus={"coding": [{"code": "resolved"}]}), [(61, 3)]),
        ({"resourceType": "Observation", "status": "final", "code": {"coding": [
            {"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure"}]},
          "component": [{"valueQuantity": {"value": 132, "unit": "mmHg"}},
                        {"valueQuantity": {"value": 78, "unit": "mmHg"}}]}, [(75, 10)]),
        ({"resourceType": "Frobnication", "code": {"text": "unknown type"}}, [(0, 6)]),
    ]
    p = check_page(note, make_bundle(note, items))
    classes = [x["attrs"]["class"] for x in sorted(p.pieces, key=lambda x: int(x["attrs"]["data-offset"]))]
    assert "k-other" in classes[0]
    assert "k-family s-family" in classes[1]
    assert "k-procedure" in classes[2]
    assert "k-medication" in classes[3] and "s-planned" in classes[3]
    assert "k-past-problem" in classes[4] and "s-inactive" in classes[4]
    assert "k-vital" in classes[5]
    assert "132/78 mmHg" in render_bundle(make_bundle(note, items))


def test_panel_lists_sections_no_span_entries_and_empty_reason() -> None:
    note = "Cough."
    nka = {"resourceType": "AllergyIntolerance", "code": {"coding": [{
        "system": "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips", "code": "no-known-allergies",
        "display": "No known allergies"}]}}
    page = render_bundle(make_bundle(note, [(cond("Cough"), [(0, 5)]), (cond("Fever"), []), (nka, [])],
                                     composition=True))
    panel = page[page.index('id="panel"'):]
    assert panel.index("Everything") < panel.index("Allergies and Intolerances")
    assert 'href="#span-1"' in panel and "no span in note" in panel
    assert "Empty: Unavailable" in panel and "No known allergies" in panel and "none known" in panel


def test_collection_without_composition_groups_by_kind() -> None:
    note = "Cough. Lisinopril."
    med = {"resourceType": "MedicationStatement", "medicationCodeableConcept": {"text": "Lisinopril"}}
    page = render_bundle(make_bundle(note, [(med, [(7, 10)]), (cond("Cough"), [(0, 5)])]))
    panel = page[page.index('id="panel"'):]
    assert panel.index("<h3>Problem</h3>") < panel.index("<h3>Medication</h3>")


def test_csp_hashes_the_inline_script_and_style_and_nothing_external() -> None:
    page = render_bundle(make_bundle("x", []), title="T <1>")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert csp_hash(JS) in csp and csp_hash(CSS) in csp
    assert f"<script>{JS}</script>" in page and f"<style>{CSS}</style>" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page) and "@import" not in page and "url(" not in page
    assert "<title>T &lt;1&gt;</title>" in page


def test_bundle_without_note_still_renders() -> None:
    page = render_bundle({"resourceType": "Bundle", "type": "collection",
                          "entry": [{"resource": cond("Cough", extension=[span_ext(0, 5)])}]})
    assert "carries no note text" in page and "Cough" in page


def test_encounter_and_impression_summaries() -> None:
    note = "Seen in clinic. Pneumonia. Likely CAP."
    enc = {"resourceType": "Encounter", "status": "finished", "class": [{"coding": [{"code": "AMB", "display": "ambulatory"}]}],  # R5: a list
           "actualPeriod": {"start": "2026-03-14"},
           "diagnosis": [{"condition": [{"reference": {"reference": "urn:uuid:00000000-0000-4000-8000-000000000101"}}]}]}
    imp = {"resourceType": "ClinicalImpression", "status": "completed", "summary": "Likely CAP",
           "problem": [{"reference": "urn:uuid:00000000-0000-4000-8000-000000000101"}]}
    page = render_bundle(make_bundle(note, [(enc, [(0, 15)]), (cond("Pneumonia"), [(16, 9)]), (imp, [(27, 10)])]))
    assert "<dt>Class</dt><dd>ambulatory</dd>" in page and "from 2026-03-14" in page and "Likely CAP" in page
    assert page.count('href="#span-2">Pneumonia</a>') == 2  # diagnosis and problem link to the span


def test_index_page() -> None:
    note = "Cough."
    row = index_row("a <note>.txt", "a note.html", make_bundle(note, [(cond("Cough"), [(0, 5)]), (cond("x"), [])]))
    assert (row.spans, row.resources, row.unspanned, row.by_kind) == (1, 2, 1, {"problem": 1})
    page = render_index([row, IndexRow("b.txt", None, error="model failed <x>")])
    assert 'href="a%20note.html"' in page and "a &lt;note&gt;.txt" in page and "model failed &lt;x&gt;" in page
    assert "<script" not in page


def test_clinic_visit_bundle_renders() -> None:
    bundle = json.loads(CLINIC.read_text(encoding="utf-8"))
    note = base64.b64decode(next(e["resource"]["content"][0]["attachment"]["data"] for e in bundle["entry"]
                                 if e["resource"]["resourceType"] == "DocumentReference")).decode("utf-8")
    p = check_page(note, bundle)
    assert len(p.pieces) >= 5
    page = render_bundle(bundle)
    assert "Active Problems" in page and "Medication Summary" in page
    assert "<dt>Class</dt><dd>AMB</dd>" in page and "2026-03-14 – 2026-03-14" in page  # R4B Encounter


def test_malformed_fields_read_as_absent_not_a_crash() -> None:
    """Any producer's Bundle: a field of the wrong JSON shape must not stop the page (seeded mutations)."""
    import copy
    import random

    base = json.loads(CLINIC.read_text(encoding="utf-8"))
    rng = random.Random(17)
    junk = [None, 1, "x", [], {}, [None], True, [1], {"a": 1}]

    def mutate(node: Any) -> None:
        keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
        for k in keys:
            if rng.random() < 0.05:
                node[k] = rng.choice(junk)
            else:
                mutate(node[k])

    for _ in range(60):
        bundle = copy.deepcopy(base)
        mutate(bundle)
        assert render_bundle(bundle).startswith("<!DOCTYPE html>")
        index_row("n", "n.html", bundle)
    for bad in ({}, {"entry": None}, {"entry": [None, 1, {"resource": None}, {"resource": {"resourceType": 3}}]}):
        assert "<!DOCTYPE html>" in render_bundle(bad)
