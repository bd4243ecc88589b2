"""Text identities shared by every stage: a phrase's words, and its words with plurals folded."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> str:
    """Lower-case words only, one space apart: "Type-2 Diabetes!" is "type 2 diabetes"."""
    return " ".join(_WORD.findall(text.lower()))


def singular(word: str) -> str:
    """A plural folded for comparison ("stones" -> "stone"; "diabetes" and "virus" fold the same both ways)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def folded(text: str) -> str:
    """A wording's identity: its words with plurals folded ("kidney stones" is "kidney stone")."""
    return " ".join(singular(w) for w in words(text).split())
