"""The Chinese lexicon at run time: terms found in Chinese text by longest match on characters.

Chinese writes no spaces, so a term is looked up at every character: the longest term starting there wins,
and no two found terms of one kind overlap. A term that starts or ends with a Latin letter or digit
("2型糖尿病", "维生素B12") must not touch another Latin letter or digit there. Matching reads the text
folded by NFKC and lower-cased character by character, so spans stay offsets into the text as written.
"""

from __future__ import annotations

import unicodedata


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def key(term: str) -> str:
    """The lookup form of a Chinese term: NFKC (full-width letters and digits folded), lower case, no spaces."""
    return unicodedata.normalize("NFKC", term).lower().replace(" ", "")


class ZhTable:
    """key -> (value, flags, extra), with the term lengths starting at each first character."""

    __slots__ = ("entries", "lengths")

    def __init__(self, keys: list[str], values: list[str], flags: list[str], extra: list[str]) -> None:
        self.entries = {k: (v, f, e) for k, v, f, e in zip(keys, values, flags, extra)}
        by_first: dict[str, set[int]] = {}
        for k in keys:
            by_first.setdefault(k[0], set()).add(len(k))
        self.lengths = {c: sorted(n, reverse=True) for c, n in by_first.items()}


def fold(text: str) -> str:
    """One character for one character: NFKC and lower case where that keeps a single character."""
    out = []
    for c in text:
        n = unicodedata.normalize("NFKC", c).lower() if not c.isascii() else c.lower()
        out.append(n if len(n) == 1 else c)
    return "".join(out)


def scan(table: ZhTable, text: str, folded: str | None = None) -> list[tuple[int, int, str]]:
    """(start, end, key) of every term found, longest first at each place, none overlapping."""
    f = fold(text) if folded is None else folded
    n, found = len(f), []
    for i, c in enumerate(f):
        lengths = table.lengths.get(c)
        if not lengths or (c in _ASCII_WORD and i > 0 and f[i - 1] in _ASCII_WORD):
            continue
        for length in lengths:
            j = i + length
            if j > n:
                continue
            k = f[i:j]
            if k in table.entries and not (k[-1] in _ASCII_WORD and j < n and f[j] in _ASCII_WORD):
                found.append((i, j, k))
                break
    found.sort(key=lambda t: (-(t[1] - t[0]), t[0]))
    taken: list[tuple[int, int]] = []
    out = []
    for s, e, k in found:
        if any(s < b and a < e for a, b in taken):
            continue
        taken.append((s, e))
        out.append((s, e, k))
    return sorted(out)


__all__ = ["ZhTable", "fold", "key", "scan"]
