"""Scoring bundles against gold labels: per-kind precision, recall and F1, validity and grounding.

Matching rules (also in README): items are compared within a kind (condition, medication, allergy,
procedure, immunization). Two items match when both carry a code of the same system and the codes are
equal, or when their normalised texts match: lower case, a trailing SNOMED-style semantic tag such as
"(disorder)" removed, punctuation to spaces, plurals folded; then one text's words all occur, in order, in the other's
(so "lisinopril 10 mg" matches "lisinopril 10 mg oral tablet"). Chinese text is compared by character and by
character bigram: each Han character is a word, and the shorter text's adjacent pairs must be adjacent in the
other too ("高血压" matches "高血压病2级"; "肺炎" does not match "肺癌伴炎症"). Each gold item matches at most one
prediction (greedy, in order).

Gold whose items carry a status (aci-annotated/, ANNOTATION.md) is scored by eval.status: kind, text and
status, read from standard FHIR only, with status accuracy, strict F1 and harmful errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from softtiger_cli.eval.match import Concept, Counts, contains_in_order, matches, normalise
from softtiger_cli.eval.status import StatusReport, is_status_gold, items_from_bundle, items_from_gold, score_status

DERIVATION_REFERENCE = "http://hl7.org/fhir/StructureDefinition/derivation-reference"
ABSENT_UNKNOWN = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
KINDS = ("condition", "medication", "allergy", "procedure", "immunization")
_RESOURCE_KIND = {"Condition": "condition", "MedicationStatement": "medication", "MedicationRequest": "medication",
                  "AllergyIntolerance": "allergy", "Procedure": "procedure", "Immunization": "immunization"}


def _cc_text(cc: Any) -> tuple[str, str, str]:
    if not isinstance(cc, dict):
        return "", "", ""
    if "concept" in cc:  # R5 CodeableReference
        cc = cc["concept"]
    coding = (cc.get("coding") or [{}])[0]
    text = cc.get("text") or coding.get("display") or ""
    return text, coding.get("system", ""), coding.get("code", "")


def concepts_from_bundle(bundle: dict[str, Any]) -> list[Concept]:
    """The scoreable items of a FHIR Bundle (ours or a gold one)."""
    out = []
    for entry in bundle.get("entry", []):
        res = entry.get("resource", {})
        kind = _RESOURCE_KIND.get(res.get("resourceType", ""))
        if kind is None:
            continue
        cc = (res.get("code") or res.get("medicationCodeableConcept") or res.get("medication")
              or res.get("vaccineCode"))
        text, system, code = _cc_text(cc)
        if system == ABSENT_UNKNOWN:
            continue  # "no known allergies" states an absence: no item to score
        if text or code:
            out.append(Concept(kind, text, system, code))
    return out


def score(pred: list[Concept], gold: list[Concept]) -> dict[str, Counts]:
    per_kind = {k: Counts() for k in KINDS}
    used: set[int] = set()
    pred_unique: list[Concept] = []
    for p in pred:  # a prediction repeated verbatim counts once
        if all(normalise(p.text) != normalise(q.text) or p.kind != q.kind for q in pred_unique):
            pred_unique.append(p)
    matched_pred: set[int] = set()
    for g in gold:
        for i, p in enumerate(pred_unique):
            if i not in used and matches(p, g):
                used.add(i)
                matched_pred.add(i)
                per_kind[g.kind].tp += 1
                break
        else:
            per_kind[g.kind].fn += 1
    for i, p in enumerate(pred_unique):
        if i not in matched_pred:
            # a prediction that restates an already-matched gold item is not a false positive
            if any(matches(p, g) for g in gold):
                continue
            per_kind[p.kind].fp += 1
    return per_kind


@dataclass
class GoldNote:
    name: str
    note_path: Path
    concepts: list[Concept] | None  # None when the gold has no concept list (ACI-Bench weak labels)
    chief_complaint: str = ""
    status_items: list[Any] | None = None  # status gold (aci-annotated/): eval.status.StatusItem list


def load_gold(folder: Path) -> list[GoldNote]:
    """Gold in the eval-dev format (NAME.txt + NAME.gold.json) or as gold FHIR Bundles (NAME.gold.json).

    Gold items that carry a `status` (aci-annotated/, ANNOTATION.md) are status gold, scored by eval.status."""
    out = []
    for gold_path in sorted(folder.glob("*.gold.json")):
        name = gold_path.name[: -len(".gold.json")]
        note_path = folder / f"{name}.txt"
        data = json.loads(gold_path.read_text(encoding="utf-8"))
        if data.get("resourceType") == "Bundle":
            concepts: list[Concept] | None = concepts_from_bundle(data)
            chief = ""
        elif is_status_gold(data):
            out.append(GoldNote(name, note_path, None, "", items_from_gold(data["gold"])))
            continue
        elif "gold" in data:
            concepts = [Concept(g["kind"], g.get("text") or g.get("display", ""), g.get("system", ""), g.get("code", ""))
                        for g in data["gold"] if g.get("kind") in KINDS]
            chief = ""
        else:
            concepts = None
            chief = data.get("chief_complaint", "")
        out.append(GoldNote(name, note_path, concepts, chief))
    return out


def chief_complaint_hit(bundle: dict[str, Any], chief: str) -> bool:
    """Does any problem, reason or impression text of the bundle name the chief complaint?"""
    target = normalise(chief).split()
    if not target:
        return False
    texts: list[str] = []
    for entry in bundle.get("entry", []):
        res = entry.get("resource", {})
        for key in ("code", "reasonCode", "reason", "description", "summary"):
            value = res.get(key)
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str):
                    texts.append(v)
                elif isinstance(v, dict):
                    texts.append(_cc_text(v.get("value", [{}])[0] if "value" in v else v)[0])
    return any(contains_in_order(normalise(t).split(), target) for t in texts if t)


@dataclass
class Report:
    notes: int = 0
    valid: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    scored_notes: int = 0
    grounded_items: int = 0
    items: int = 0
    chief_total: int = 0
    chief_hits: int = 0
    seconds: float = 0.0
    tokens: int = 0
    status: Any = None  # eval.status.StatusReport once a status-gold note is scored


    def add_bundle(self, gold: GoldNote, bundle: dict[str, Any]) -> None:
        self.valid += 1
        for entry in bundle.get("entry", []):
            res = entry.get("resource", {})
            if res.get("resourceType") in _RESOURCE_KIND or res.get("resourceType") in ("Observation", "CarePlan"):
                self.items += 1
                if any(x.get("url") == DERIVATION_REFERENCE for x in res.get("extension", [])):
                    self.grounded_items += 1  # FHIR's derivation-reference: any producer's spans count
        if gold.concepts is not None:
            self.scored_notes += 1
            for kind, c in score(concepts_from_bundle(bundle), gold.concepts).items():
                self.counts[kind].add(c)
        if gold.status_items is not None:
            self.scored_notes += 1
            if self.status is None:
                self.status = StatusReport()
            self.status.add(gold.name, score_status(items_from_bundle(bundle), gold.status_items))
        if gold.chief_complaint:
            self.chief_total += 1
            self.chief_hits += chief_complaint_hit(bundle, gold.chief_complaint)

    def as_dict(self) -> dict[str, Any]:
        overall = Counts()
        for c in self.counts.values():
            overall.add(c)
        data = {
            "notes": self.notes,
            "validity_rate": round(self.valid / self.notes, 3) if self.notes else 0.0,
            "unparsable_or_failed": len(self.failed),
            "failures": self.failed,
            "scored_notes": self.scored_notes,
            "overall": overall.scores(),
            "per_kind": {k: c.scores() for k, c in self.counts.items() if c.tp + c.fp + c.fn},
            "grounding_rate": round(self.grounded_items / self.items, 3) if self.items else 0.0,
            "chief_complaint_hit_rate": round(self.chief_hits / self.chief_total, 3) if self.chief_total else None,
            "notes_per_minute": round(self.notes / (self.seconds / 60), 2) if self.seconds else None,
            "tokens_per_second": round(self.tokens / self.seconds, 1) if self.seconds and self.tokens else None,
        }
        if self.status is not None:
            # status gold: text P/R/F1 per kind as before, plus status accuracy, strict F1, harmful errors and
            # the condition confusion table (old-format notes in the same folder still add to plain counts)
            status = self.status.as_dict()
            mixed = any(c.tp + c.fp + c.fn for c in self.counts.values())
            data["status_gold"] = True
            data["status_overall" if mixed else "overall"] = status.pop("overall")
            data["status_per_kind" if mixed else "per_kind"] = status.pop("per_kind")
            data.update(status)
        return data

