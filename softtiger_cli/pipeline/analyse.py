"""Analyse a note once: sections, sentences, note date, written-out lists, vital signs, chunks, an index
for grounding. Every later stage reads this analysis; none segments, list-reads or dates the note again.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Callable

from softtiger_cli.clinical.abbreviations import lexicon_abbreviations
from softtiger_cli.clinical.dates import find_note_date
from softtiger_cli.clinical.lists import ListItem, read_lists
from softtiger_cli.clinical.findings import find_findings
from softtiger_cli.clinical.medications import find_supplements
from softtiger_cli.clinical.procedures import find_procedures
from softtiger_cli.clinical.vitals import read_vitals
from softtiger_cli.core.data import Note, Vital
from softtiger_cli.core.text import Language
from softtiger_cli.lang.lists import generator_rules
from softtiger_cli.note.chunking import Chunk, chunk_note
from softtiger_cli.note.grounding import Grounder
from softtiger_cli.note.sections import Section, Sentence, sections, sentences
from softtiger_cli.terms import Mention, find_mentions


@dataclass
class NoteAnalysis:
    """What is known about a note before any model reads it. Offsets index `note.text`."""

    note: Note
    sections: list[Section]
    sentences: list[list[Sentence]]  # per section, in the same order as `sections`
    note_date: str | None
    grounder: Grounder
    vitals: list[Vital]
    list_items: list[ListItem] = field(default_factory=list)
    list_regions: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, group)
    masked: str = ""  # the note with list regions blanked out (offsets unchanged)
    chunks: list[Chunk] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)  # lexicon terms: conditions, drugs, vaccines
    procedures: list[tuple[int, int]] = field(default_factory=list)  # tests and procedures, by pattern
    supplements: list[tuple[int, int]] = field(default_factory=list)  # "iron supplement", by pattern
    findings: list[tuple[int, int]] = field(default_factory=list)  # symptoms and exam findings, by pattern

    @property
    def text(self) -> str:
        return self.note.text

    @property
    def lang(self) -> Language:
        """The note's language: every stage reads the note with this language's pack and text model."""
        return self.note.lang

    @property
    def list_names(self) -> list[tuple[int, int]]:
        """Spans of list items' names: words inside them are never assertion cues for other items."""
        return [(li.start, li.end) for li in self.list_items]

    def section_index(self, offset: int) -> int | None:
        starts = [s.start for s in self.sections]
        i = bisect.bisect_right(starts, offset) - 1
        if i >= 0 and self.sections[i].start <= offset < self.sections[i].end:
            return i
        return None

    def section_at(self, offset: int) -> Section | None:
        i = self.section_index(offset)
        return None if i is None else self.sections[i]

    def sentences_at(self, offset: int) -> list[Sentence]:
        """The sentences of the section holding `offset` (empty outside every section)."""
        i = self.section_index(offset)
        return [] if i is None else self.sentences[i]


def analyse(note: Note, *, note_date: str | None = None, use_lists: bool = True) -> NoteAnalysis:
    """The one analysis of a note. Chunks are added by `chunk`, once the token budget is known."""
    secs = sections(note.text, note.lang)
    sents = [sentences(note.text, s.body_start, s.end, note.lang) for s in secs]
    if note_date is None:
        found = find_note_date(note.text, note.lang)
        note_date = found.isoformat() if found else None
    analysis = NoteAnalysis(note=note, sections=secs, sentences=sents, note_date=note_date,
                            grounder=Grounder(note.text), vitals=read_vitals(note.text, note.lang), masked=note.text,
                            mentions=find_mentions(note.text, extra_terms=lexicon_abbreviations(), lang=note.lang),
                            procedures=find_procedures(note.text, lang=note.lang), supplements=find_supplements(note.text),
                            findings=find_findings(note.text))
    if use_lists:
        # a note generator's template rules apply only to its notes: decided here, once per note
        analysis.list_items, analysis.list_regions = read_lists(note.text, secs, generator_rules(note.text, note.lang),
                                                                note.lang)
        analysis.masked = mask(note.text, [(lo, hi) for lo, hi, _ in analysis.list_regions])
    return analysis


def chunk(analysis: NoteAnalysis, budget: int, count_tokens: Callable[[str], int]) -> list[Chunk]:
    """Cut the analysed note into chunks of at most `budget` tokens (kept on the analysis)."""
    analysis.chunks = chunk_note(analysis.text, budget, count_tokens, analysis.sections, analysis.sentences)
    return analysis.chunks


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans blanked to spaces: offsets stay those of the note."""
    chars = list(text)
    for lo, hi in spans:
        for i in range(max(0, lo), min(len(chars), hi)):
            if not chars[i].isspace():
                chars[i] = " "
    return "".join(chars)
