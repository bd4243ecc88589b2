"""The data every stage passes on: a note, spans of it, the items read from it and what they assert.

Every stage imports these and nothing imports a stage for its types: `note/` reads a Note, `pipeline/`
turns it into an Extraction of Items with Spans and Assertions, `fhir/` maps an Extraction to FHIR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from softtiger_cli.core.text import Language, words

# The vocabularies of the fields below (tests/test_types.py checks every literal the code assigns is one of them).
Method = Literal["exact", "normalized", "fuzzy", "abbreviation", "pattern"]  # how a span's words were found
Grounding = Literal[Method, "ungrounded"]
Certainty = Literal["affirmed", "negated", "possible"]
Subject = Literal["patient", "family"]
Time = Literal["current", "history", "resolved", "planned", "hypothetical"]
Origin = Literal["model", "list", "lexicon", "pattern", "both"]
# An item's status per kind, decided by the assertion step (clinical/status.py, pipeline/decide.py)
ConditionStatus = Literal["active", "possible", "history", "resolved", "absent", "family"]
MedicationStatus = Literal["active", "intended", "stopped", "not-taken", "none"]
AllergyStatus = Literal["active", "none"]
ProcedureStatus = Literal["completed", "planned"]  # procedures and immunizations
VisitStatus = Literal["finished", "completed", "final", "planned"]  # encounter, impression, results, plan: one each
ItemStatus = Literal[ConditionStatus, MedicationStatus, AllergyStatus, ProcedureStatus, VisitStatus, ""]
Criticality = Literal["high", "low", ""]  # "": the note does not say


@dataclass(frozen=True)
class Note:
    """A note's text (line endings normalised to \\n) and where it came from. Offsets index `text`."""

    text: str
    source: str  # a path, or "<stdin>"
    sha256: str
    lang: Language = "en"  # the note's language (--lang, or detected): its pack and text model (lang/)
    encoding: str = "utf-8"  # how its bytes were decoded: utf-8, utf-16 or gb18030


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of the note, and how the item's words were found there."""

    start: int
    end: int
    method: Method

    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Vital:
    """A vital sign read from the note by pattern (clinical/vitals.py); its LOINC code and display follow
    from its kind (lang/common/vitals.toml)."""

    kind: str  # bp | hr | rr | temp | spo2 | weight | height | bmi
    value: float | None  # None for the BP panel, whose values are components
    unit: str  # UCUM
    span: Span
    components: tuple[tuple[str, float], ...] = ()  # (kind, value) for BP


@dataclass(frozen=True)
class Assertion:
    """What the note says around an item (clinical/assertions.py); its meaning per kind is decided once,
    in the assertion step (pipeline/decide.py, clinical/status.py)."""

    certainty: Certainty = "affirmed"
    subject: Subject = "patient"
    relationship: str = ""  # for family: mother, father, ...
    time: Time = "current"


@dataclass
class Item:
    """One extracted thing (a problem, a medication, ...) with the note spans it came from.

    `text_field` names the key of `values` that holds the main text: the group's first schema field
    ("code" for problems, "medicationCodeableConcept" or "medication" for medications, "status" for the
    impression and the encounter; a model answer's first key, the same under the grammar: see
    pipeline/extract.py answer_item). Keyword-only and without a default, so every maker of an Item says it.
    """

    group: str
    values: dict[str, Any]
    text_field: str = field(kw_only=True)  # the key of `values` holding the main text
    spans: list[Span] = field(default_factory=list)
    grounding: Grounding = "ungrounded"
    assertion: Assertion | None = None  # decided by rules on the note when the item is grounded
    onset: str | None = None  # a resolved FHIR date for the item's onset or occurrence
    origin: Origin = "model"  # list: read from a written-out list; both: found by more than one reader
    status: ItemStatus = ""  # decided by the assertion step (status.py)
    coding: tuple[str, str, str] | None = None  # (system, code, display) from a shipped code list
    concept: str = ""  # identity for merging when known ("icd-10-cm:I10", "drug:lisinopril"); else the text
    criticality: Criticality = ""  # allergies, decided by the assertion step

    @property
    def key(self) -> str:
        """The concept's identity for merging: a code list's concept, else the main text's words."""
        if self.concept:
            return self.concept
        return words(self.text)

    @property
    def text(self) -> str:
        """The main text: the value of `text_field` ("" when it has none)."""
        return str(self.values.get(self.text_field, ""))


@dataclass
class Extraction:
    """Everything read from one note for the tasks asked, ready for assembly.

    `groups` holds every task's groups (their names are unique across tasks), in task order; `group_task`
    says which task's schema describes each group.
    """

    note: Note
    tasks: tuple[str, ...]
    version: str
    model_label: str
    groups: dict[str, list[Item]]
    group_task: dict[str, str]
    patient: dict[str, str]
    chunks: list[tuple[int, int]]
    generations: list[Any] = field(default_factory=list)  # llm Generation records, for stats
    dropped_ungrounded: int = 0
    kept_ungrounded: int = 0
    dropped_implausible: int = 0
    skipped_questions: int = 0
    retried: int = 0
    note_date: str | None = None
    vitals: list[Vital] = field(default_factory=list)
    negated_dropped: int = 0
    overrides: dict[str, int] = field(default_factory=dict)
    debug: list[dict[str, Any]] = field(default_factory=list)
    list_items: int = 0  # items read from written-out lists (before merging)
    covered_questions: int = 0  # questions not asked: lists covered everything the group could read
    links: dict[str, str] = field(default_factory=dict)  # a Condition's words -> its item's key (references)

    def count(self, what: str, n: int = 1) -> None:
        """Count a rule's override of the model (shown in the run summary)."""
        self.overrides[what] = self.overrides.get(what, 0) + n
