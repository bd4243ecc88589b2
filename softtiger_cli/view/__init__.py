"""Evidence view: a FHIR Bundle's note with every extracted fact highlighted, as one offline HTML page.

A pure library (standard library only): ``render_bundle`` makes one note's page, ``render_index`` the
index page of a batch, ``read_spans`` / ``layout`` are the span reader and the span -> HTML mapping.
"""

from .index import IndexRow, index_row, render_index
from .render import csp_hash, read_bundle, render_bundle
from .spans import DERIVATION_URL, SOURCE_SPAN_URL, Layout, Span, layout, read_spans

__all__ = [
    "DERIVATION_URL", "SOURCE_SPAN_URL", "IndexRow", "Layout", "Span", "csp_hash", "index_row", "layout",
    "read_bundle", "read_spans", "render_bundle", "render_index",
]
