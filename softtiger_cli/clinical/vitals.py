"""Vital signs read from the note by pattern, with their fixed LOINC codes and UCUM units.

Vital signs are written regularly enough ("BP 132/78", "HR 96", "Temp 38.1 C", "SpO2 94%") for patterns
to read them exactly; the model's reading is only a cross-check. Nothing is invented: a value is taken
only when a label and a number stand together in the note, and each keeps its span.

The words (labels, units) are data in lang/<code>/vitals.toml, the codes and plausible ranges in
lang/common/vitals.toml; this module is the algorithm that reads them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from softtiger_cli.core.data import Span, Vital
from softtiger_cli.core.text import Language
from softtiger_cli.lang.measures import VitalEntry, VitalKind, Vitals, load_measures
from softtiger_cli.lang.text import TextModel, text_model

_GAP = r"[^\d\n.]{0,24}?"  # "Blood pressure: elevated at 156/94": a few words between label and value
_INCHES_PER_FOOT = 12


def _label(label: str, not_labels: tuple[str, ...]) -> str:
    """A label as a pattern, kept from matching where a longer word it begins ("pulse ox") is written."""
    tails = [w[len(label):] for w in not_labels if w.startswith(label) and w != label]
    return re.escape(label) + "".join(f"(?!{re.escape(t)})" for t in tails)


def _pattern(entry: VitalEntry, tm: TextModel, not_after: tuple[str, ...] = ()) -> re.Pattern[str]:
    labels = "|".join(_label(w, entry.not_labels) for w in entry.labels)
    before = "".join(f"(?<!{re.escape(w)})" for w in not_after)  # "最高血压 180/100" is no reading of this visit
    return re.compile(before + tm.bounded(labels) + _GAP + entry.value, re.I)


@dataclass(frozen=True)
class _Readers:
    """A language's vital-sign entries as patterns, and the words that name a vital sign."""

    vitals: Vitals
    patterns: list[tuple[VitalEntry, re.Pattern[str]]]
    words: re.Pattern[str]


@functools.lru_cache(maxsize=None)
def _readers(lang: Language) -> _Readers:
    vitals, tm = load_measures(lang).vitals, text_model(lang)
    return _Readers(vitals, [(e, _pattern(e, tm, vitals.not_after)) for e in vitals.entries],
                    re.compile(tm.bounded("(" + "|".join(map(re.escape, vitals.names)) + ")"), re.I))


_VITALS: Vitals = _readers("en").vitals
VITAL_LOINC: dict[str, tuple[str, str, str, str]] = {  # code, display, UCUM unit, unit display
    k.name: (k.loinc, k.display, k.ucum, k.unit_display) for k in _VITALS.kinds.values()}
PATTERNS: list[tuple[VitalEntry, re.Pattern[str]]] = _readers("en").patterns


def vital_text(v: Vital) -> str:
    """The LOINC display of a reading's kind ("Heart rate")."""
    return VITAL_LOINC[v.kind][1]


def _num(s: str) -> float:
    v = float(s)
    return int(v) if v.is_integer() else v


def _ok(value: float, plausible: tuple[float, float] | None) -> bool:
    return plausible is None or plausible[0] <= value <= plausible[1]


def _unit(entry: VitalEntry, written: str) -> str:
    """The UCUM code of a unit as written: its spelling in the pack, compared as the pattern matched it."""
    if written in entry.units:
        return entry.units[written]
    return next(u for w, u in entry.units.items() if re.fullmatch(re.escape(w), written, re.I))


def _reading(entry: VitalEntry, kind: VitalKind, m: re.Match[str], span: Span) -> Vital | None:
    """The vital sign one match states, or None when its values are not plausible."""
    kinds = _VITALS.kinds
    if entry.read == "feet_inches":
        return Vital(kind.name, int(m.group(1)) * _INCHES_PER_FOOT + int(m.group(2)), "[in_i]", span)
    if entry.read == "components":
        values = [_num(g) for g in m.groups()]
        if not all(_ok(v, kinds[c].plausible) for c, v in zip(kind.components, values)) or \
                any(a <= b for a, b in zip(values, values[1:])):
            return None
        return Vital(kind.name, None, "", span, tuple(zip(kind.components, values)))
    value = _num(m.group(1))
    written = (m.group(2) or "").lower() if m.re.groups >= 2 else ""
    unit = _unit(entry, written) if written else kind.ucum
    if not written and kind.unitless_above and kind.plausible and value > kind.plausible[1]:
        unit = kind.unitless_above  # "Temp 101.2": above any Celsius temperature, so Fahrenheit
    if not _ok(value, kind.plausible if unit == kind.ucum else kind.other[unit]):
        return None
    return Vital(kind.name, value, unit, span)


def read_vitals(text: str, lang: Language = "en") -> list[Vital]:
    """Every vital sign the note states, in note order, at most one per kind and position."""
    found: list[Vital] = []
    taken: list[tuple[int, int]] = []
    readers = _readers(lang)
    for entry, pattern in readers.patterns:
        for m in pattern.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in taken):
                continue
            vital = _reading(entry, readers.vitals.kinds[entry.kind], m, Span(m.start(), m.end(), "exact"))
            if vital is not None:
                found.append(vital)
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda v: v.span.start)


# Words that name a vital sign: a model answer naming one is dropped in favour of the pattern reading.
VITAL_WORDS = _readers("en").words


def vital_words(lang: Language) -> re.Pattern[str]:
    """VITAL_WORDS of a language ("血压" in a Chinese note)."""
    return _readers(lang).words
