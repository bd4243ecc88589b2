"""What the scorers share: the concept compared, the text matcher (rules in eval/score.py's docstring) and the
true/false positive counts. eval/fhir_items.py, eval/status.py and eval/score.py build on it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from softtiger_cli.core.text import HAN, singular

_TAG = re.compile(r"\s*\((disorder|finding|procedure|substance|organism|situation|product|observable entity|"
                  r"regime/therapy|qualifier value|morphologic abnormality|event|body structure|edible)\)", re.I)


_HAN_CHAR = re.compile("[" + HAN + "]")


@dataclass(frozen=True)
class Concept:
    kind: str
    text: str
    system: str = ""
    code: str = ""


def normalise(text: str) -> str:
    text = _TAG.sub("", text.lower())
    return " ".join(re.findall(r"[a-z0-9]+(?:\.[0-9]+)?|[" + HAN + "]", text))  # a Han character is a word


def contains_in_order(big: list[str], small: list[str]) -> bool:
    it = iter(big)
    return bool(small) and all(word in it for word in small)


def han_bigrams(words: list[str]) -> set[tuple[str, str]]:
    """Adjacent pairs of Han characters (each a word of `normalise`): a Chinese word's identity."""
    return {(a, b) for a, b in zip(words, words[1:]) if _HAN_CHAR.fullmatch(a) and _HAN_CHAR.fullmatch(b)}


def _within(big: list[str], small: list[str]) -> bool:
    """small's words in order in big, and small's Han bigrams in big too: characters in order are not yet a
    Chinese word ("肺炎" is not in "肺癌伴炎症"), adjacent ones are."""
    return contains_in_order(big, small) and han_bigrams(small) <= han_bigrams(big)


def matches(pred: Concept, gold: Concept) -> bool:
    if pred.kind != gold.kind:
        return False
    if pred.code and gold.code and pred.system == gold.system:
        return pred.code == gold.code
    p, g = [singular(w) for w in normalise(pred.text).split()], [singular(w) for w in normalise(gold.text).split()]
    return _within(p, g) or _within(g, p)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def scores(self) -> dict[str, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}
