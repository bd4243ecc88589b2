"""Vital signs read from the note by pattern, with their fixed LOINC codes and UCUM units.

Vital signs are written regularly enough ("BP 132/78", "HR 96", "Temp 38.1 C", "SpO2 94%") for patterns
to read them exactly; the model's reading is only a cross-check. Nothing is invented: a value is taken
only when a label and a number stand together in the note, and each keeps its span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from softtiger_cli.core.data import Span

VITAL_LOINC = {  # code, display, UCUM unit, unit display
    "bp": ("85354-9", "Blood pressure panel with all children optional", "", ""),
    "systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]", "mmHg"),
    "diastolic": ("8462-4", "Diastolic blood pressure", "mm[Hg]", "mmHg"),
    "hr": ("8867-4", "Heart rate", "/min", "beats/minute"),
    "rr": ("9279-1", "Respiratory rate", "/min", "breaths/minute"),
    "temp": ("8310-5", "Body temperature", "Cel", "C"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    "weight": ("29463-7", "Body weight", "kg", "kg"),
    "height": ("8302-2", "Body height", "cm", "cm"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "kg/m2"),
}
_NUM = r"(\d{1,3}(?:\.\d{1,2})?)"
_GAP = r"[^\d\n.]{0,24}?"  # "Blood pressure: elevated at 156/94": a few words between label and value
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("bp", re.compile(r"\b(?:bp|blood pressure|b/p)\b" + _GAP + r"(\d{2,3})\s*/\s*(\d{2,3})(?:\s*mm\s*hg)?", re.I)),
    ("spo2", re.compile(r"\b(?:spo2|sp02|o2 sat(?:uration)?|oxygen saturation|pulse ox(?:imetry|ygenation)?|sat(?:uration)?s?)\b"
                        + _GAP + r"(\d{2,3})\s*(?:%|percent)", re.I)),
    ("hr", re.compile(r"\b(?:hr|heart rate|pulse(?! ox)|p)\b" + _GAP + r"(\d{2,3})(?![\d/s]|\.\d)\s*(?:bpm|/min|beats)?", re.I)),
    ("rr", re.compile(r"\b(?:rr|resp(?:iratory)?(?: rate)?|respirations?)\b" + _GAP + r"(\d{1,2})(?![\d/s]|\.\d)", re.I)),
    ("temp", re.compile(r"\b(?:t|temp|temperature)\b" + _GAP + _NUM + r"\s*°?\s*(?:degrees?\s*)?(c|f|celsius|fahrenheit)?\b", re.I)),
    ("weight", re.compile(r"\b(?:wt|weight)\b" + _GAP + _NUM + r"\s*(kg|kgs|kilograms|lb|lbs|pounds)\b", re.I)),
    ("height", re.compile(r"\b(?:ht|height)\b" + _GAP + _NUM + r"\s*(cm|m|in|inches)\b", re.I)),
    ("height_ftin", re.compile(r"\b(?:ht|height)\b" + _GAP + r"([4-7])\s*(?:'|’|ft|feet)\s*(\d{1,2})\b", re.I)),
    ("bmi", re.compile(r"\b(?:bmi|body mass index)\b" + _GAP + _NUM, re.I)),
]
_PLAUSIBLE = {"systolic": (50, 300), "diastolic": (20, 200), "hr": (20, 250), "rr": (4, 80), "temp": (25, 45),
              "spo2": (40, 100), "weight": (0.3, 400), "height": (20, 250), "bmi": (8, 90)}


@dataclass(frozen=True)
class Vital:
    kind: str  # bp | hr | rr | temp | spo2 | weight | height | bmi
    value: float | None  # None for the BP panel, whose values are components
    unit: str  # UCUM
    span: Span
    components: tuple[tuple[str, float], ...] = ()  # (kind, value) for BP

    @property
    def text(self) -> str:
        return VITAL_LOINC[self.kind][1]


def _num(s: str) -> float:
    v = float(s)
    return int(v) if v.is_integer() else v


def _ok(kind: str, value: float) -> bool:
    lo, hi = _PLAUSIBLE[kind]
    return lo <= value <= hi


def read_vitals(text: str) -> list[Vital]:
    """Every vital sign the note states, in note order, at most one per kind and position."""
    found: list[Vital] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in taken):
                continue
            span = Span(m.start(), m.end(), "exact")
            if kind == "height_ftin":
                inches = int(m.group(1)) * 12 + int(m.group(2))
                found.append(Vital("height", inches, "[in_i]", span))
                taken.append((m.start(), m.end()))
                continue
            if kind == "bp":
                sys_v, dia_v = _num(m.group(1)), _num(m.group(2))
                if not (_ok("systolic", sys_v) and _ok("diastolic", dia_v)) or dia_v >= sys_v:
                    continue
                found.append(Vital("bp", None, "", span, (("systolic", sys_v), ("diastolic", dia_v))))
            else:
                value = _num(m.group(1))
                unit = VITAL_LOINC[kind][2]
                raw_unit = (m.group(2) or "").lower() if m.lastindex and m.lastindex >= 2 else ""
                if kind == "temp" and raw_unit.startswith("f") or (kind == "temp" and not raw_unit and value > 45):
                    unit = "[degF]"
                    if not 80 <= value <= 113:
                        continue
                elif kind == "weight" and raw_unit.startswith(("lb", "pound")):
                    unit = "[lb_av]"
                elif kind == "height" and raw_unit in ("in", "inches"):
                    unit = "[in_i]"
                elif kind == "height" and raw_unit == "m":
                    unit = "m"
                    value = _num(str(value))
                if unit in VITAL_LOINC[kind][2] or unit == VITAL_LOINC[kind][2]:
                    if not _ok(kind, value):
                        continue
                found.append(Vital(kind, value, unit, span))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda v: v.span.start)


# Words that name a vital sign: a model answer naming one is dropped in favour of the pattern reading.
VITAL_WORDS = re.compile(
    r"\b(bp|blood pressure|pulse|heart rate|hr|temp|temperature|resp|respiratory rate|rr|spo2|o2 sat|"
    r"oxygen saturation|saturation|weight|height|bmi|body mass index)\b", re.I)
