"""A FHIR Bundle -> one self-contained, offline HTML page: the note with every span highlighted.

Everything taken from the Bundle (note text, labels, codes, ids) is HTML-escaped. The page has a
Content-Security-Policy with ``default-src 'none'`` and admits only its own inline stylesheet and script
by their SHA-256 hashes, so it loads nothing from anywhere and runs no script it did not ship.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

from .assets import CSS, JS
from .describe import KINDS, STATES, Facts, concept_text, describe, label, when_text
from .jsonutil import items, obj
from .spans import Span, layout, read_spans

_SNIPPET = 48
_QUIET = {"confirmed", "final", "current", "plan", "order"}  # statuses that go without saying
_SKIP_GROUP = {"Composition", "Patient", "DocumentReference", "Bundle"}


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def csp_hash(text: str) -> str:
    """The CSP source expression that admits exactly this inline script or stylesheet."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


@dataclass
class Entry:
    """One resource of the Bundle with what the page needs about it."""

    key: str
    res: dict[str, Any]
    index: int
    sections: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    facts: Facts | None = None


@dataclass
class Model:
    """The Bundle read once: resources by key, the note, the spans, the Composition."""

    entries: list[Entry]
    by_ref: dict[str, Entry]
    note_key: str | None
    note: str | None
    composition: dict[str, Any] | None

    def resolve(self, ref: Any) -> Entry | None:
        if isinstance(ref, dict):
            ref = ref.get("reference")
        return self.by_ref.get(ref) if isinstance(ref, str) else None


def _decode(att: dict[str, Any]) -> str | None:
    data = att.get("data")
    if not isinstance(data, str):
        return None
    ctype = str(att.get("contentType") or "text/plain")
    charset = "utf-8"
    for part in ctype.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "charset" and v:
            charset = v.strip("\"'")
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _section_codes(sections: list[dict[str, Any]], model_refs: dict[str, Entry]) -> None:
    for section in sections:
        code = next((c.get("code") for c in items(obj(section.get("code")).get("coding")) if c.get("code")), "")
        for ref in items(section.get("entry")):
            target = model_refs.get(str(ref.get("reference")))
            if target is not None and code:
                target.sections.append(str(code))
        _section_codes(items(section.get("section")), model_refs)


def read_bundle(bundle: dict[str, Any]) -> Model:
    """Index a Bundle's resources, find the note (the DocumentReference its spans point at, else the
    first with text data) and keep the spans that point at it, or at nothing the Bundle holds."""
    entries: list[Entry] = []
    by_ref: dict[str, Entry] = {}
    for i, item in enumerate(items(bundle.get("entry"))):
        res = item.get("resource")
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            continue
        rtype, rid = str(res.get("resourceType", "Resource")), res.get("id")
        key = item.get("fullUrl") or (f"{rtype}/{rid}" if rid else f"entry-{i}")
        entry = Entry(str(key), res, i)
        entries.append(entry)
        for ref in (item.get("fullUrl"), f"{rtype}/{rid}" if rid else None, f"urn:uuid:{rid}" if rid else None):
            if ref:
                by_ref.setdefault(str(ref), entry)
    for entry in entries:
        entry.spans = read_spans(entry.res, entry.key)
    docs = [e for e in entries if e.res.get("resourceType") == "DocumentReference"]
    texts = {}
    for doc in docs:
        for content in items(doc.res.get("content")):
            att = content.get("attachment") if isinstance(content, dict) else None
            text = _decode(att) if isinstance(att, dict) else None
            if text is not None:
                texts[doc.key] = text
                break
    pointed: dict[str, int] = {}
    for entry in entries:
        for span in entry.spans:
            target = by_ref.get(span.source or "")
            if target is not None and target.key in texts:
                pointed[target.key] = pointed.get(target.key, 0) + 1
    note_key = max(pointed, key=lambda k: pointed[k]) if pointed else next(iter(texts), None)
    for entry in entries:
        entry.spans = [s for s in entry.spans
                       if s.source is None or by_ref.get(s.source) is None or by_ref[s.source].key == note_key]
    composition = next((e.res for e in entries if e.res.get("resourceType") == "Composition"), None)
    if composition:
        _section_codes(items(composition.get("section")), by_ref)
    for entry in entries:
        entry.facts = describe(entry.res, entry.sections)
    return Model(entries, by_ref, note_key, texts.get(note_key) if note_key else None, composition)


class Page:
    """Renders one Bundle; keeps the span -> anchor map so the panel can link into the note."""

    def __init__(self, bundle: dict[str, Any], title: str | None) -> None:
        self.bundle = bundle
        self.model = read_bundle(bundle)
        self.title = title
        self.card_ids = {e.key: f"card-{n + 1}" for n, e in enumerate(self.model.entries)}
        self.by_key = {e.key: e for e in self.model.entries}
        self.anchors: dict[Span, str] = {}
        self.dropped: set[Span] = set()

    # -- the note --------------------------------------------------------------------------------
    def _classes(self, entry: Entry) -> str:
        facts = entry.facts
        assert facts is not None
        return " ".join([f"k-{facts.kind}", *(f"s-{s}" for s in facts.states)])

    def _tip(self, entry: Entry, span: Span) -> str:
        facts = entry.facts
        assert facts is not None
        bits = [facts.rtype, facts.label]
        if facts.status:
            bits.append(", ".join(facts.status))
        how = ", ".join(x for x in (f"match {span.match}" if span.match else "",
                                    f"from {span.origin}" if span.origin else "") if x)
        return " · ".join(b for b in (*bits, how) if b)

    def _open(self, span: Span, piece: int, anchor: str) -> str:
        entry = self.by_key[span.resource]
        attrs = [f'class="hl {self._classes(entry)}"', f'data-span="{anchor[5:]}"',
                 f'data-offset="{span.offset}"', f'data-length="{span.length}"',
                 f'data-resource="{_e(span.resource)}"', f'data-card="{self.card_ids[entry.key]}"']
        if span.match:
            attrs.append(f'data-match="{_e(span.match)}"')
        if span.origin:
            attrs.append(f'data-origin="{_e(span.origin)}"')
        if piece == 0:
            attrs += [f'id="{anchor}"', 'tabindex="0"', f'aria-describedby="{self.card_ids[entry.key]}"']
        else:
            attrs.append(f'data-piece="{piece + 1}"')
        attrs.append(f'title="{_e(self._tip(entry, span))}"')
        return "<mark " + " ".join(attrs) + ">"

    def note_html(self) -> str:
        text = self.model.note
        if text is None:
            return '<div class="note empty">This Bundle carries no note text (no DocumentReference with data).</div>'
        spans = [s for e in self.model.entries for s in e.spans]
        laid = layout(text, spans, self._open)
        self.anchors = laid.anchors
        self.dropped = set(laid.dropped)
        lang = str(self.bundle.get("language") or "en")  # the note's language: a CJK font for a Chinese note
        lang = lang if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", lang) else "en"
        return f'<div class="note" id="note" lang="{lang}">{laid.html}</div>'

    # -- cards and panel ---------------------------------------------------------------------------
    def card(self, entry: Entry, with_id: bool = True) -> str:
        f = entry.facts
        assert f is not None
        rows: list[tuple[str, str]] = []
        if f.status:
            rows.append(("Status", ", ".join(f.status)))
        states = [STATES[s].split(",")[0] for s in f.states]
        if states:
            rows.append(("Shown as", "; ".join(states)))
        rows += [(k.capitalize(), v) for k, v in f.details]
        rows += [(k, v) for k, v in f.dates]
        if f.codes:
            rows.append(("Codes", "\n".join(f.codes)))
        dl = "".join(f"<dt>{_e(k)}</dt><dd>{'<br>'.join(_e(x) for x in v.splitlines())}</dd>" for k, v in rows)
        ident = f' id="{self.card_ids[entry.key]}"' if with_id else ""
        kind = KINDS.get(f.kind, f.kind)
        return (f'<div class="card"{ident}><div class="t">{_e(f.rtype)} · {_e(kind)}</div>'
                f'<div class="name">{_e(f.label)}</div>' + (f'<dl class="kv">{dl}</dl>' if dl else "") + "</div>")

    def _snippet(self, span: Span) -> str:
        text = (self.model.note or "")[span.offset : span.end]
        text = " ".join(text.split())
        return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"

    def links(self, entry: Entry, extra: str = "") -> str:
        out = []
        for span in entry.spans:
            if span in self.anchors:
                out.append(f'<a class="jump" href="#{self.anchors[span]}">“{_e(self._snippet(span))}”</a>')
            else:
                out.append(f'<span class="nospan">span {span.offset}+{span.length} is outside the note</span>')
        return f'<div class="links">{"".join(out) or "<span class=nospan>no span in note</span>"}{extra}</div>'

    def item(self, entry: Entry) -> str:
        f = entry.facts
        assert f is not None
        chips = "".join(f'<span class="chip{" warn" if s in ("refuted", "not-taken", "not-done") else ""}">'
                        f"{_e(s)}</span>" for s in f.status if s not in _QUIET)
        if f.absent:
            chips += '<span class="chip">none known</span>'
        return (f'<li><span class="sw {self._classes(entry)}" aria-hidden="true"></span>'
                f'<span class="lbl">{_e(f.label)}</span>{chips}'
                + self.links(entry, f'<details class="more"><summary>details</summary>{self.card(entry, with_id=False)}'
                                    "</details>") + "</li>")

    def section(self, section: dict[str, Any], seen: set[str], depth: int = 0) -> str:
        title = section.get("title") or concept_text(section.get("code")) or "Section"
        lines: list[str] = []
        for ref in items(section.get("entry")):
            target = self.model.resolve(ref)
            if target is not None:
                seen.add(target.key)
                lines.append(self.item(target))
            elif isinstance(ref, dict):  # a dangling reference, or a bare statement such as a coding
                text = ref.get("display") or concept_text(ref) or ref.get("reference") or "entry"
                note = "not in this Bundle" if ref.get("reference") else "no span in note"
                lines.append(f'<li><span class="lbl">{_e(text)}</span>'
                             f'<div class="links"><span class="nospan">{note}</span></div></li>')
        body = f"<ul>{''.join(lines)}</ul>" if lines else ""
        if section.get("emptyReason"):
            body += f'<p class="empty-reason">Empty: {_e(concept_text(section["emptyReason"]) or "no entries")}</p>'
        elif not lines and not section.get("section"):
            body += '<p class="empty-reason">No entries.</p>'
        subs = "".join(self.section(s, seen, depth + 1) for s in items(section.get("section")) if isinstance(s, dict))
        tag = "h3" if depth == 0 else "h4"
        return f"<section><{tag}>{_e(title)}</{tag}>{body}{subs}</section>"

    def _refs(self, values: Any) -> list[str]:
        """Labels (linked to their spans) of references or CodeableReferences, without repeats."""
        out: list[str] = []
        for v in values if isinstance(values, list) else [values]:
            if not isinstance(v, dict):
                continue
            ref = v.get("reference") if isinstance(v.get("reference"), dict) else v  # R5 CodeableReference
            target = self.model.resolve(ref)
            if target is not None and target.facts is not None:
                links = [f'<a class="jump" href="#{self.anchors[s]}">{_e(target.facts.label)}</a>'
                         for s in target.spans[:1] if s in self.anchors]
                out.append(links[0] if links else _e(target.facts.label))
            elif concept_text(v):
                out.append(_e(concept_text(v)))
        return list(dict.fromkeys(out))

    def visit(self) -> str:
        blocks = []
        order = {"Encounter": 0, "ClinicalImpression": 1}
        for entry in sorted(self.model.entries, key=lambda e: order.get(str(e.res.get("resourceType")), 2)):
            r, t = entry.res, entry.res.get("resourceType")
            rows: list[tuple[str, str]] = []
            if t == "Encounter":
                rows.append(("Status", _e(r.get("status", ""))))
                rows.append(("Class", _e(concept_text(r.get("class")))))
                rows.append(("Type", _e(concept_text(r.get("type")))))
                rows.append(("Period", _e(when_text(r.get("period") or r.get("actualPeriod")))))
                diags = [d for x in items(r.get("diagnosis")) if isinstance(x, dict)
                         for d in self._refs(x.get("condition"))]
                rows.append(("Diagnoses", "; ".join(dict.fromkeys(diags))))
                rows.append(("Reason", ", ".join(self._refs(r.get("reasonCode") or r.get("reason")))))
                heading = "Encounter"
            elif t == "ClinicalImpression":
                rows.append(("Status", _e(r.get("status", ""))))
                rows.append(("Date", _e(when_text(r.get("effectiveDateTime") or r.get("date") or ""))))
                rows.append(("Summary", _e(r.get("summary") or r.get("description") or "")))
                rows.append(("Problems", "; ".join(self._refs(r.get("problem")))))
                finds = [x for f in items(r.get("finding")) if isinstance(f, dict)
                         for x in self._refs(f.get("item") or f.get("itemReference") or f.get("itemCodeableConcept"))]
                rows.append(("Findings", "; ".join(dict.fromkeys(finds))))
                heading = "Clinical impression"
            else:
                continue
            dl = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows if v)
            blocks.append(f'<section><h3>{heading}</h3><dl class="kv">{dl}</dl>{self.links(entry)}</section>')
        return "".join(blocks)

    def panel(self) -> str:
        seen: set[str] = set()
        parts = [self.visit()]
        comp = self.model.composition
        if comp is not None:
            parts += [self.section(s, seen) for s in items(comp.get("section")) if isinstance(s, dict)]
            rest = [e for e in self.model.entries if e.key not in seen and e.spans
                    and e.res.get("resourceType") not in ("Encounter", "ClinicalImpression")]
            if rest:
                parts.append("<section><h3>In the note, not in a section</h3><ul>"
                             + "".join(self.item(e) for e in rest) + "</ul></section>")
        else:
            groups: dict[str, list[Entry]] = {}
            for e in self.model.entries:
                if e.res.get("resourceType") not in _SKIP_GROUP and e.facts is not None:
                    groups.setdefault(e.facts.kind, []).append(e)
            for kind, label_ in KINDS.items():
                if groups.get(kind):
                    parts.append(f"<section><h3>{_e(label_)}</h3><ul>"
                                 + "".join(self.item(e) for e in groups[kind]) + "</ul></section>")
        return "".join(parts)

    def legend(self) -> str:
        kinds = {e.facts.kind for e in self.model.entries if e.facts and e.spans}
        keys = [f'<li><span class="key k-{k}">{_e(v)}</span></li>' for k, v in KINDS.items() if k in kinds]
        keys += [f'<li><span class="key k-other s-{k}">{_e(v)}</span></li>' for k, v in STATES.items()]
        return f'<ul class="legend" aria-label="Legend: colours by kind, styles by status">{"".join(keys)}</ul>'

    def header(self) -> tuple[str, str]:
        comp = obj(self.model.composition)
        title = self.title or comp.get("title") or "Evidence view"
        patient = next((e for e in self.model.entries if e.res.get("resourceType") == "Patient"), None)
        bits = []
        if patient is not None:
            p = patient.res
            who = label(p)
            extra = ", ".join(str(p[k]) for k in ("gender", "birthDate") if p.get(k))
            bits.append(f"<b>{_e(who)}</b>" + (f" ({_e(extra)})" if extra else ""))
        total = sum(len(e.spans) for e in self.model.entries)
        with_span = sum(1 for e in self.model.entries if e.spans)
        bits.append(f"{len(self.anchors)} highlights from {with_span} resources"
                    + (f" ({total - len(self.anchors)} spans outside the note)" if total > len(self.anchors) else ""))
        if self.bundle.get("timestamp"):
            bits.append(f"Bundle {_e(self.bundle['timestamp'])}")
        return f'<header><p class="eyebrow">Evidence view</p><h1>{_e(title)}</h1><p class="sub">{" · ".join(bits)}</p></header>', str(title)

    def render(self) -> str:
        note = self.note_html()  # first: fills the span anchors the panel links to
        head, title = self.header()
        cards = "".join(self.card(e) for e in self.model.entries)
        csp = (f"default-src 'none'; style-src {csp_hash(CSS)}; script-src {csp_hash(JS)}; "
               "img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'")
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            '<a class="skip" href="#panel">Skip to the summary</a>'
            f"{head}<main><div class=\"box notebox\"><h2>Note, as written</h2>{self.legend()}{note}</div>"
            f'<aside class="box" id="panel" aria-label="Summary by section"><h2>Summary</h2>{self.panel()}</aside>'
            f'</main><div id="cards" hidden>{cards}</div><div id="pop" role="tooltip" hidden></div>'
            f"<script>{JS}</script></body></html>\n"
        )


def render_bundle(bundle: dict[str, Any], *, title: str | None = None) -> str:
    """The whole evidence page for one Bundle, as a string (write it with encoding="utf-8")."""
    return Page(bundle, title).render()
