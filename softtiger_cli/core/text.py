"""Text identities shared by every stage: a phrase's words, and its words with plurals folded.

This is the one place that says what a word is, in every language the packs cover: a run of Latin letters
and digits, or a single Han character (Chinese writes no spaces, so each character is a token, as
CJK-aware tokenizers do). Per-language behaviour above the token (sentences, scope, boundaries) lives in
softtiger_cli/lang/text.py.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "zh"]  # BCP-47 codes of the languages with a pack and a text model (lang/)
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK unified ideographs, extension A, compatibility
_WORD = re.compile(rf"[a-z0-9]+|[{HAN}]")
_HAN = re.compile(rf"[{HAN}]")


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) of every word of `text`, lower-cased; offsets index `text`."""
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text.lower())]


def words(text: str) -> str:
    """Lower-case words only, one space apart: "Type-2 Diabetes!" is "type 2 diabetes", "高血压" "高 血 压"."""
    return " ".join(_WORD.findall(text.lower()))


def han_count(text: str) -> int:
    """How many Han characters `text` holds."""
    return len(_HAN.findall(text))


def singular(word: str) -> str:
    """A plural folded for comparison ("stones" -> "stone"; "diabetes" and "virus" fold the same both ways)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def folded(text: str) -> str:
    """A wording's identity: its words with plurals folded ("kidney stones" is "kidney stone")."""
    return " ".join(singular(w) for w in words(text).split())
