"""Status gold: score what a Bundle says about each item (kind, text and status), not only that it is there.

Gold (aci-annotated/, ANNOTATION.md): `{"gold": [{"kind", "text", "status", "relationship"?, ...}]}` with kinds
condition, medication, allergy, procedure, immunization, vital.

A Bundle is read as standard FHIR only by eval.fhir_items (R4B or R5; never softtiger's own extensions).

Matching: within a kind, the text matcher of match.py (normalised, one text's words in order inside the
other's). A vital also matches when the gold text names a sign loosely ("BP", "pulse", "O2 sat") and the
Observation carries that sign's LOINC code, or its text names the same sign. Each gold item takes at most one
prediction, greedily in gold order, in two passes: first predictions whose text and status both match, then
text alone for the gold items still unmatched (so a status-right prediction is preferred). A prediction repeated verbatim
(kind, text, status) counts once; one restating an already matched gold item is not a false positive.

Per kind: precision / recall / F1 on text; status accuracy = matched items whose status is right / matched
items; strict precision = items right in text and status / predictions, strict recall = the same / gold
items, strict F1 from those two.

Harmful error: a gold condition with status absent or family (a denied finding, a relative's disease) that
the Bundle writes as the patient's own condition (status active, possible, history or resolved), unless
that prediction also matches a gold condition the patient does have (same words, two gold items).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from softtiger_cli.eval.fhir_items import (STATUS_KINDS, StatusItem, is_status_gold, item_matches, items_from_bundle,
                                          items_from_gold, vital_sign)
from softtiger_cli.eval.match import Counts, normalise

__all__ = ["STATUS_KINDS", "StatusItem", "is_status_gold", "item_matches", "items_from_bundle", "items_from_gold",
           "vital_sign", "score_status", "harmful_errors", "StatusReport", "StatusCounts", "NoteResult"]

PATIENT_CONDITION = ("active", "possible", "history", "resolved")  # statuses that say "the patient has it"
HARMFUL_GOLD = ("absent", "family")
CONDITION_STATUSES = ("active", "resolved", "history", "possible", "absent", "family")

# --- scoring ---------------------------------------------------------------------------------------------------

@dataclass
class StatusCounts(Counts):
    status_right: int = 0  # matched items whose status is also right

    def add(self, other: "Counts") -> None:
        super().add(other)
        self.status_right += getattr(other, "status_right", 0)

    def scores(self) -> dict[str, Any]:
        out: dict[str, Any] = super().scores()
        predicted, gold = self.tp + self.fp, self.tp + self.fn
        sp = self.status_right / predicted if predicted else 0.0
        sr = self.status_right / gold if gold else 0.0
        out.update({
            "status_right": self.status_right,
            "status_accuracy": round(self.status_right / self.tp, 3) if self.tp else None,
            "strict_precision": round(sp, 3), "strict_recall": round(sr, 3),
            "strict_f1": round(2 * sp * sr / (sp + sr), 3) if sp + sr else 0.0,
        })
        return out


@dataclass
class NoteResult:
    counts: dict[str, StatusCounts]
    confusion: dict[str, dict[str, int]]  # condition gold status -> predicted status ("missed": no prediction)
    spurious: dict[str, int]  # condition false positives by predicted status
    harmful: list[dict[str, str]] = field(default_factory=list)
    pairs: list[tuple[StatusItem, StatusItem | None]] = field(default_factory=list)


def _dedupe(pred: list[StatusItem]) -> list[StatusItem]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for p in pred:
        key = (p.kind, normalise(p.text), p.status)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def score_status(pred: list[StatusItem], gold: list[StatusItem]) -> NoteResult:
    counts = {k: StatusCounts() for k in STATUS_KINDS}
    confusion: dict[str, dict[str, int]] = {}
    spurious: dict[str, int] = {}
    preds = _dedupe(pred)
    used: set[int] = set()
    pairs: list[tuple[StatusItem, StatusItem | None]] = []
    chosen_for: dict[int, int] = {}
    for same_status in (True, False):  # first text and status, then text alone: a planned "lipid panel" goes
        for gi, g in enumerate(gold):  # to the gold "repeat lipid panel" (planned), not the completed one
            if gi in chosen_for:
                continue
            i = next((i for i, p in enumerate(preds) if i not in used and item_matches(p, g)
                      and (p.status == g.status or not same_status)), None)
            if i is not None:
                used.add(i)
                chosen_for[gi] = i
    for gi, g in enumerate(gold):
        chosen = chosen_for.get(gi)
        if chosen is None:
            counts[g.kind].fn += 1
            pairs.append((g, None))
        else:
            counts[g.kind].tp += 1
            counts[g.kind].status_right += preds[chosen].status == g.status
            pairs.append((g, preds[chosen]))
        if g.kind == "condition":
            row = confusion.setdefault(g.status, {})
            col = preds[chosen].status if chosen is not None else "missed"
            row[col] = row.get(col, 0) + 1
    for i, p in enumerate(preds):
        if i in used or any(item_matches(p, g) for g in gold):
            continue  # matched, or restates an already matched gold item
        counts[p.kind].fp += 1
        if p.kind == "condition":
            spurious[p.status] = spurious.get(p.status, 0) + 1
    return NoteResult(counts, confusion, spurious, harmful_errors(pred, gold), pairs)


def harmful_errors(pred: list[StatusItem], gold: list[StatusItem]) -> list[dict[str, str]]:
    """Gold absent / family conditions that some prediction writes as the patient's own condition."""
    own_gold = [g for g in gold if g.kind == "condition" and g.status in PATIENT_CONDITION]
    out = []
    for g in gold:
        if g.kind != "condition" or g.status not in HARMFUL_GOLD:
            continue
        for p in pred:
            if (p.kind == "condition" and p.status in PATIENT_CONDITION and item_matches(p, g)
                    and not any(item_matches(p, o) for o in own_gold)):
                err = {"text": g.text, "gold_status": g.status, "predicted_text": p.text,
                       "predicted_status": p.status, "resource": p.resource}
                if g.relationship:
                    err["relationship"] = g.relationship
                out.append(err)
                break
    return out


@dataclass
class StatusReport:
    counts: dict[str, StatusCounts] = field(default_factory=lambda: {k: StatusCounts() for k in STATUS_KINDS})
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    spurious: dict[str, int] = field(default_factory=dict)
    harmful: list[dict[str, str]] = field(default_factory=list)

    def add(self, note: str, result: NoteResult) -> None:
        for kind, c in result.counts.items():
            self.counts[kind].add(c)
        for g, row in result.confusion.items():
            mine = self.confusion.setdefault(g, {})
            for p, n in row.items():
                mine[p] = mine.get(p, 0) + n
        for p, n in result.spurious.items():
            self.spurious[p] = self.spurious.get(p, 0) + n
        self.harmful.extend({"note": note, **h} for h in result.harmful)

    def as_dict(self) -> dict[str, Any]:
        overall = StatusCounts()
        for c in self.counts.values():
            overall.add(c)
        gold_rows = [s for s in CONDITION_STATUSES if s in self.confusion] + sorted(set(self.confusion) - set(CONDITION_STATUSES))
        return {
            "overall": overall.scores(),
            "per_kind": {k: c.scores() for k, c in self.counts.items() if c.tp + c.fp + c.fn},
            "harmful_errors": len(self.harmful),
            "harmful": self.harmful,
            "condition_confusion": {g: dict(self.confusion[g]) for g in gold_rows},
            "condition_false_positives": dict(self.spurious),
        }
