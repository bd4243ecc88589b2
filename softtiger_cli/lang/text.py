"""One text model per language: what a sentence, a heading line, a word boundary and a plausible item name
are, chosen once per note (`Note.lang`).

Tokens themselves are language-neutral (core/text.py: a Latin word or one Han character). What differs by
language sits here, behind one small interface, so no stage writes `\\b`, `[.!?]` or `split()` for itself:

- `sentence_end`: where sentences (and list lines) end. English: . ! ? ; before a capital, or a new line.
  Chinese: also after 。！？ with no space (Chinese puts none); ；separates the clauses of one sentence (a list
  of drugs), and ends cue scopes only (lang/zh/context.toml terminate_chars).
- `heading_line`, `plain_heading`, `inline_heading`: the shapes of a section heading. Chinese adds 【主诉】,
  "主诉：" with a full-width colon, and numbered "一、主诉".
- `bounded(alternation)`: cue words as whole words. English uses `\\b`; between Han characters there is no
  boundary to find, so Chinese cues may touch their neighbours ("无发热") but Latin ones still may not.
- `word_count(text)`, `last_words`, `first_words`: how far a cue's scope or a window reaches. English counts
  words between spaces; Chinese counts Latin words and numbers, and each two Han characters of a run as one
  word (no segmenter: most Chinese words are two characters).
- `plausible(text)`: enough of a name to be an item: three letters, or two Han characters ("胸痛").

`choose_language(text, "auto")` decides by the share of Han characters among the note's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import get_args

from softtiger_cli.core.text import HAN, Language, han_count

LANGUAGES: tuple[Language, ...] = get_args(Language)
# The BCP-47 tag a Bundle carries for a note of each language (the zh pack reads Simplified Chinese records).
BCP47: dict[Language, str] = {"en": "en", "zh": "zh-CN"}
AUTO = "auto"
# A note is Chinese when Han characters are at least this share of its tokens (Han characters + Latin words):
# a Chinese record keeps many Latin abbreviations (BP, CT, mg), an English one at most a name in Han.
HAN_SHARE = 0.3

_LATIN_WORD = re.compile(r"[A-Za-z]+")
# Chinese has no spaces and softtiger no segmenter: a Latin word or number is a word, and so is each pair of
# Han characters in a run (most Chinese words are two characters: 发热, 胸痛, 咳嗽).
_UNIT = re.compile(rf"[A-Za-z0-9]+(?:[.'][A-Za-z0-9]+)*|[{HAN}]{{1,2}}")


def _units(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _UNIT.finditer(text)]


@dataclass(frozen=True)
class TextModel:
    """How one language's text is cut and matched (see the module docstring)."""

    code: Language
    sentence_end: re.Pattern[str]
    heading_line: re.Pattern[str]
    plain_heading: re.Pattern[str]
    inline_heading: re.Pattern[str]
    han_boundaries: bool  # cue words may touch Han characters (no spaces between Chinese words)
    edge: str  # a word boundary, as a pattern: English \b; Chinese anywhere but inside a Latin word
    gap: str  # the blank between two words of a phrase: English needs one, Chinese writes none
    stops: str  # characters that end a clause for a relative's reach ("her mother had ...; she ...")
    colon: str  # a colon, as a pattern (Chinese writes the full-width one too)
    bullet: re.Pattern[str]  # a list line's marker: "- ", "1. " (Chinese also "1、", "（1）", no blank after it)
    list_stop: re.Pattern[str]  # where a list written in prose ends
    trim_start: str  # characters an item never begins with
    trim_end: str  # ... or ends with
    clause_marks: tuple[str, ...]  # what a list's region starts after: the clause holding its lead begins there
    min_letters: int = 3  # Latin letters a plausible name needs
    min_han: int = 0  # or Han characters (0: Han alone never suffices)

    def bounded(self, alternation: str) -> str:
        """`alternation` as whole words: never inside a Latin word; next to Han only where the language allows."""
        return self.edge + "(?:" + alternation + ")" + self.edge

    def word_count(self, text: str) -> int:
        """Words in `text` as scopes count them."""
        if not self.han_boundaries:
            return len(text.split())
        return len(_units(text))

    def last_words(self, text: str, n: int) -> str:
        """The last `n` words of `text` (as `word_count` counts them), for windows before a mention."""
        if not self.han_boundaries:
            return " ".join(text.split()[-n:])
        units = _units(text)[-n:] if n else []
        return text[units[0][0]:units[-1][1]] if units else ""

    def first_words(self, text: str, n: int, skip: int = 0) -> str:
        """Words `skip` .. `skip + n` of `text`, for windows after a mention."""
        if not self.han_boundaries:
            return " ".join(text.split()[skip:skip + n])
        units = _units(text)[skip:skip + n]
        return text[units[0][0]:units[-1][1]] if units else ""

    def starts_with(self, text: str, words: frozenset[str]) -> bool:
        """Whether `text` begins with one of `words`: its first word (English), or a prefix (Chinese)."""
        if not self.han_boundaries:
            return text.split()[0].lower().strip(",.;:") in words
        low = text.lower()
        return any(low.startswith(w) for w in words)

    def plausible(self, text: str) -> bool:
        """Enough letters to name something: `min_letters` letters, or (where set) `min_han` Han characters."""
        letters = sum(ch.isalpha() for ch in text)
        if not self.min_han:
            return letters >= self.min_letters
        han = han_count(text)
        return letters - han >= self.min_letters or han >= self.min_han


_EN_SHAPES = (r"#{1,6}[ \t]*(?P<md>[^\n]{2,80})|(?P<caps>[A-Z][A-Z0-9 /&,()'-]{1,60}[A-Z)])[ \t]*:?|"
              r"(?P<colon>[A-Za-z][A-Za-z /&()'-]{1,50}):")
_EN_HEADING = re.compile(r"^[ \t]*(?:" + _EN_SHAPES + r")[ \t]*$", re.M)
_EN_PLAIN = re.compile(r"^[ \t]*(?P<name>[A-Za-z][A-Za-z /&'-]{1,40}?)[ \t]*$", re.M)
_EN_INLINE = re.compile(r"^[ \t]*(?P<name>[A-Za-z][A-Za-z /&'-]{1,40}):[ \t]+(?=\S)", re.M)
_EN_SENTENCE = re.compile(r"(?<=[.!?;])[ \t]+(?=[A-Z0-9(\"'])|\n(?=[ \t]*\S)")

_EN_BULLET = re.compile(r"^[ \t]*(?:[-*\u2022+]|\d{1,2}[.)])[ \t]+(?=\S)", re.M)
_EN_LIST_STOP = re.compile(r"\.(?=\s|$)|\n[ \t]*\n|\n(?=[ \t]*(?:#|[-*\u2022]))")

ENGLISH = TextModel("en", _EN_SENTENCE, _EN_HEADING, _EN_PLAIN, _EN_INLINE, han_boundaries=False, edge=r"\b",
                    gap=r"\s+", stops=".;", colon=":", bullet=_EN_BULLET, list_stop=_EN_LIST_STOP,
                    trim_start=",;:-*\u2022", trim_end=",;:.", clause_marks=("\n", ". "))

# Chinese headings: "【主诉】", "主诉：", "一、主诉：", "（一）既往史", each alone on its line or leading it.
# A heading's number is written in Chinese numerals ("一、", "（二）"); "1." and "1、" number the items of a list
# ("1. 出院带药：…" is an item of 出院医嘱, not a section of its own).
_ZH_NUMBER = r"(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十]{1,3}[）)])?[ \t]*"
_ZH_NAME = rf"[{HAN}][{HAN}A-Za-z/、及与和 ]{{0,11}}[{HAN}]"
_ZH_SHAPES = (rf"{_ZH_NUMBER}【[ \t]*(?P<bracket>{_ZH_NAME})[ \t]*】[ \t]*[:：]?|"
              rf"{_ZH_NUMBER}(?P<zhcolon>{_ZH_NAME})[ \t]*[:：]")
_ZH_HEADING = re.compile(r"^[ \t]*(?:" + _EN_SHAPES + "|" + _ZH_SHAPES + r")[ \t]*$", re.M)
_ZH_PLAIN = re.compile(rf"^[ \t]*(?:{_ZH_NUMBER})(?P<name>[A-Za-z][A-Za-z /&'-]{{1,40}}?|{_ZH_NAME})[ \t]*$", re.M)
_ZH_INLINE = re.compile(
    rf"^[ \t]*(?:{_ZH_NUMBER})(?:【[ \t]*(?P<bname>{_ZH_NAME})[ \t]*】[ \t]*[:：]?|(?P<name>[A-Za-z][A-Za-z /&'-]{{1,40}}|"
    rf"{_ZH_NAME})[ \t]*[:：])[ \t]*(?=\S)", re.M)
_ZH_SENTENCE = re.compile(r"(?<=[。！？!?])[ \t]*(?=\S)|(?<=[.;])[ \t]+(?=[A-Z0-9(\"'])|\n(?=[ \t]*\S)")

_ZH_BULLET = re.compile(r"^[ \t]*(?:[-*\u2022+]|\d{1,2}[.．](?!\d)|\d{1,2}[)）、]|[（(]\d{1,2}[）)])[ \t]*(?=\S)", re.M)
_ZH_LIST_STOP = re.compile(r"[。！？，]|\.(?=\s|$)|\n[ \t]*\n|\n(?=[ \t]*(?:#|[-*\u2022]))")

CHINESE = TextModel("zh", _ZH_SENTENCE, _ZH_HEADING, _ZH_PLAIN, _ZH_INLINE, han_boundaries=True,
                    edge=r"(?:(?<![A-Za-z0-9_])|(?![A-Za-z0-9_]))", gap=r"\s*", stops=".;。；", colon="[:：]",
                    bullet=_ZH_BULLET, list_stop=_ZH_LIST_STOP, trim_start=",;:-*\u2022，；：、。", trim_end=",;:.，；：、。",
                    clause_marks=("\n", "。", "；", "！", "？", "，", ". "),
                    min_han=2)

_MODELS: dict[str, TextModel] = {"en": ENGLISH, "zh": CHINESE}


def text_model(code: str) -> TextModel:
    """The text model of a language code (one of LANGUAGES)."""
    try:
        return _MODELS[code]
    except KeyError:
        raise ValueError(f"no text model for language {code!r}; use one of {', '.join(LANGUAGES)}") from None


def han_share(text: str) -> float:
    """Han characters as a share of the text's tokens (Han characters + Latin words)."""
    han = han_count(text)
    latin = len(_LATIN_WORD.findall(text))
    return han / (han + latin) if han + latin else 0.0


def detect_language(text: str) -> Language:
    """"zh" when Han characters make up HAN_SHARE of the note's tokens, else "en"."""
    return "zh" if han_share(text) >= HAN_SHARE else "en"


def choose_language(text: str, requested: str = AUTO) -> Language:
    """The note's language: `requested` when it names one, else detected from the text."""
    if requested == AUTO:
        return detect_language(text)
    if requested not in LANGUAGES:
        raise ValueError(f"--lang {requested!r} is not a language; use auto, {', '.join(LANGUAGES)}")
    return requested  # type: ignore[return-value]
