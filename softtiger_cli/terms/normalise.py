"""Text normalisation shared by the lexicon build and the mention finder (standard library only).

A term and a note's words normalise the same way: lower case, accents and punctuation folded, a
possessive/apostrophe dropped ("Crohn's" -> "crohns"), "the" skipped, and a plural ending folded to a
stem ("headaches" -> "headache", "allergies" -> "allergy", "kidneys" -> "kidney"). The stem is only a
lookup key: `Mention.term` keeps the lexicon's readable term.
"""

from __future__ import annotations

import re
import unicodedata

# A token: letters/digits, with inner apostrophes ("crohn's", "don't"). Hyphens and slashes split tokens.
TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
SKIP_TOKENS = frozenset({"the"})
_KEEP_S = ("ss", "us", "is")


def _fold_accents(token: str) -> str:
    if token.isascii():
        return token
    return "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))


def fold_token(token: str) -> str:
    """Normalise one token (as matched by TOKEN_RE) to its lookup form."""
    t = _fold_accents(token.lower())
    if "'" in t or "\u2019" in t:
        t = t.replace("'", "").replace("\u2019", "")
    n = len(t)
    if n > 3 and t[-1] == "s" and not t[-2].isdigit():
        if t.endswith("ies") and n > 4:
            return t[:-3] + "y"
        if t.endswith("sses"):
            return t[:-2]
        if t.endswith(("shes", "xes")):
            return t[:-2]
        if not t.endswith(_KEEP_S):
            return t[:-1]
    return t


def normalise(text: str) -> str:
    """Lower case, punctuation folded, plural-tolerant lookup key of a term or phrase."""
    out = []
    for m in TOKEN_RE.finditer(text):
        t = fold_token(m.group(0))
        if t and t not in SKIP_TOKENS:
            out.append(t)
    return " ".join(out)


def readable(text: str) -> str:
    """Lower case with punctuation folded to single spaces, plurals kept (for Mention.term)."""
    out = []
    for m in TOKEN_RE.finditer(text):
        t = _fold_accents(m.group(0).lower()).replace("\u2019", "'")
        if t != "the":
            out.append(t)
    return " ".join(out)
