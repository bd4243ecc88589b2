"""The batch index page: one row per note with its counts and a link to that note's evidence page."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any, Iterable
from urllib.parse import quote

from .assets import CSS
from .describe import KINDS
from .render import csp_hash, read_bundle


@dataclass
class IndexRow:
    """Counts for one note's page; ``href`` is relative to the index page, ``error`` marks a failed note."""

    name: str
    href: str | None
    spans: int = 0
    resources: int = 0
    unspanned: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def index_row(name: str, href: str | None, bundle: dict[str, Any]) -> IndexRow:
    """Counts of one Bundle for the index: spans, resources with and without a span, spans by kind."""
    model = read_bundle(bundle)
    row = IndexRow(name, href)
    for entry in model.entries:
        if entry.res.get("resourceType") in ("Composition", "Patient", "DocumentReference", "Device", "Bundle"):
            continue
        row.resources += 1
        if not entry.spans:
            row.unspanned += 1
        row.spans += len(entry.spans)
        if entry.spans and entry.facts is not None:
            row.by_kind[entry.facts.kind] = row.by_kind.get(entry.facts.kind, 0) + len(entry.spans)
    return row


def _coerce(row: IndexRow | dict[str, Any]) -> IndexRow:
    return row if isinstance(row, IndexRow) else IndexRow(**row)


def render_index(rows: Iterable[IndexRow | dict[str, Any]], *, title: str = "softtiger evidence views") -> str:
    """A self-contained index page (no script at all) linking each note's page, with its counts."""
    rows = [_coerce(r) for r in rows]
    kinds = [k for k in KINDS if any(r.by_kind.get(k) for r in rows)]
    head = "".join(f'<th class="n"><span class="sw k-{k}"></span> {escape(KINDS[k])}</th>' for k in kinds)
    body = []
    for r in rows:
        name = escape(r.name)
        link = f'<a href="{escape(quote(r.href, safe="/._-~#"), quote=True)}">{name}</a>' if r.href else name
        if r.error:
            body.append(f'<tr><td>{link}</td><td colspan="{3 + len(kinds)}"><span class="chip warn">failed</span> '
                        f"{escape(r.error)}</td></tr>")
            continue
        cells = "".join(f'<td class="n">{r.by_kind.get(k, 0)}</td>' for k in kinds)
        body.append(f'<tr><td>{link}</td><td class="n">{r.spans}</td><td class="n">{r.resources}</td>'
                    f'<td class="n">{r.unspanned}</td>{cells}</tr>')
    total = sum(r.spans for r in rows)
    csp = f"default-src 'none'; style-src {csp_hash(CSS)}; base-uri 'none'; form-action 'none'"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="sub">{len(rows)} notes · {total} highlighted spans</p></header>'
        '<main class="wide"><div class="box notebox"><table class="idx"><thead><tr><th>Note</th>'
        f'<th class="n">Spans</th><th class="n">Resources</th><th class="n">Without span</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></main></body></html>\n"
    )

