"""Note spans: read them from resources and lay them over the note text as non-overlapping HTML.

Two extension formats carry a span (one extension per span; a resource may have several):

- the FHIR standard ``derivation-reference`` extension (sub-extensions ``reference``, ``offset``,
  ``length``, optional ``path``), to which softtiger adds the optional ``span-match`` / ``span-origin``
  codes; any producer can write it, so the view reads it without the softtiger additions;
- softtiger's older ``source-span`` extension (``source``, ``offset``, ``length``, ``match``, ``origin``).

Offsets and lengths are in characters (Python ``str`` indices) of the decoded note text, exactly as
stored (CRLF kept). A span that starts before the note, at or past its end, or has a length below 1 is
dropped (``layout`` reports it in ``Layout.dropped``); one that runs past the end is clamped to the end
for display while its element keeps the ``data-length`` the Bundle gives, so its text is exactly Python's
``note[offset:offset + length]``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .jsonutil import items

DERIVATION_URL = "http://hl7.org/fhir/StructureDefinition/derivation-reference"
SOURCE_SPAN_URL = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/source-span"
MATCH_URL = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/span-match"
ORIGIN_URL = "https://github.com/softtiger/softtiger/fhir/StructureDefinition/span-origin"

_REF_KEYS = ("reference", "source")
_MATCH_KEYS = (MATCH_URL, "match")
_ORIGIN_KEYS = (ORIGIN_URL, "origin")


@dataclass(frozen=True, order=True)
class Span:
    """One span of one resource: ``resource`` is the resource's key (its fullUrl, or Type/id)."""

    offset: int
    length: int
    resource: str
    source: str | None = None
    match: str | None = None
    origin: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass
class Layout:
    """The note as HTML with every span wrapped, plus the spans that were shown and dropped."""

    html: str
    shown: list[Span] = field(default_factory=list)
    dropped: list[Span] = field(default_factory=list)
    anchors: dict[Span, str] = field(default_factory=dict)  # span -> id of its first element


def _sub_value(sub: dict[str, Any]) -> Any:
    for key, value in sub.items():
        if key.startswith("value"):
            return value
    return None


def _parse_extension(ext: dict[str, Any], resource: str) -> Span | None:
    values: dict[str, Any] = {}
    for sub in items(ext.get("extension")):
        if isinstance(sub, dict) and isinstance(sub.get("url"), str):
            values.setdefault(sub["url"], _sub_value(sub))
    offset, length = values.get("offset"), values.get("length")
    if not isinstance(offset, int) or not isinstance(length, int) or isinstance(offset, bool) or isinstance(length, bool):
        return None
    source = None
    for key in _REF_KEYS:
        ref = values.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            source = ref["reference"]
            break
    match = next((values[k] for k in _MATCH_KEYS if isinstance(values.get(k), str)), None)
    origin = next((values[k] for k in _ORIGIN_KEYS if isinstance(values.get(k), str)), None)
    return Span(offset, length, resource, source, match, origin)


def _walk(node: Any) -> Iterable[dict[str, Any]]:
    """Every extension in a resource, at any depth (a producer may put the span on an element),
    but not inside contained resources, whose spans are theirs."""
    if isinstance(node, dict):
        for ext in items(node.get("extension")):
            if isinstance(ext, dict):
                yield ext
        for key, value in node.items():
            if key not in ("extension", "contained"):
                yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def read_spans(resource: dict[str, Any], key: str) -> list[Span]:
    """The spans a resource carries, in either format, de-duplicated and sorted by position."""
    found: set[Span] = set()
    for ext in _walk(resource):
        if ext.get("url") in (DERIVATION_URL, SOURCE_SPAN_URL):
            span = _parse_extension(ext, key)
            if span is not None:
                found.add(span)
    return sorted(found)


def _escape_text(text: str) -> str:
    """Escape note text so the DOM holds exactly these characters: the HTML parser would turn CR LF
    into LF and drop NUL, so CR becomes ``&#13;`` (a lone CR also gets a ``<br>``, which adds no
    text) and NUL becomes U+FFFD (one character for one, so offsets still line up)."""
    out = html.escape(text.replace("\x00", "\ufffd"), quote=False)
    if "\r" not in out:
        return out
    parts = out.split("\r")
    pieces = [parts[0]]
    for nxt in parts[1:]:
        pieces.append("&#13;" if nxt.startswith("\n") else "&#13;<br>")
        pieces.append(nxt)
    return "".join(pieces)


Opener = Callable[[Span, int, str], str]


def layout(text: str, spans: Iterable[Span], open_tag: Opener, close_tag: str = "</mark>") -> Layout:
    """Wrap every span of ``text`` in an element, splitting where spans cross.

    How spans split: elements nest like a stack. A span that starts inside another opens inside it, so
    a nested span never splits its parent. When a span ends while spans opened after it are still open
    (a crossing overlap), those are closed, the span is closed, and they are reopened as new pieces.
    Each piece repeats its span's attributes; ``open_tag(span, piece_number, anchor_id)`` writes it
    (piece 0 carries the anchor id). Joining a span's pieces' text, in document order, gives its text.
    Spans are opened longest-first at equal starts, so the outer one stays whole.
    """
    n = len(text)
    shown: list[Span] = []
    dropped: list[Span] = []
    for span in sorted(set(spans), key=lambda s: (s.offset, -s.length, s.resource)):
        (shown if 0 <= span.offset < n and span.length > 0 else dropped).append(span)
    anchors = {span: f"span-{i + 1}" for i, span in enumerate(shown)}
    ends = {span: min(span.end, n) for span in shown}
    starts: dict[int, list[Span]] = {}
    stops: dict[int, list[Span]] = {}
    for span in shown:
        starts.setdefault(span.offset, []).append(span)
        stops.setdefault(ends[span], []).append(span)
    cuts = sorted({0, n, *starts, *stops})
    out: list[str] = []
    stack: list[Span] = []
    pieces: dict[Span, int] = {}

    def open_(span: Span) -> None:
        number = pieces.get(span, 0)
        pieces[span] = number + 1
        out.append(open_tag(span, number, anchors[span]))
        stack.append(span)

    for i, pos in enumerate(cuts):
        closing = stops.get(pos, [])
        if closing:
            # Close down to the deepest closing span, then reopen the ones still running.
            depth = min(stack.index(s) for s in closing)
            reopen = [s for s in stack[depth:] if s not in closing]
            for _ in stack[depth:]:
                out.append(close_tag)
            del stack[depth:]
            for span in reopen:
                open_(span)
        for span in starts.get(pos, []):
            open_(span)
        if i + 1 < len(cuts):
            out.append(_escape_text(text[pos : cuts[i + 1]]))
    out.extend(close_tag for _ in stack)
    return Layout("".join(out), shown, dropped, anchors)
