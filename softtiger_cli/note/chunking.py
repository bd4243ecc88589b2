"""Token-aware chunks of a note: cut at section, then sentence boundaries, with a small overlap.

Each chunk fits the token budget the caller computes (context - fixed prompt - output reserve), counted
with the model's own tokenizer. A chunk that starts inside a section carries that section's heading, so
the model still knows it is reading, say, the medication list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from softtiger_cli.note.sections import Section, Sentence

SAFETY = 0.95  # tokenizing pieces separately can differ slightly from tokenizing them joined


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    heading: str = ""  # heading of the section this chunk starts inside ("" when it starts at one)

    def text(self, note: str) -> str:
        body = note[self.start : self.end]
        return f"{self.heading} (continued):\n{body}" if self.heading else body


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    section: int
    opens_section: bool


def _split_long(note: str, start: int, end: int, budget: int, count: Callable[[str], int]) -> list[tuple[int, int]]:
    """Cut an overlong sentence (a line with no breaks) at spaces, each piece within the budget."""
    pieces = []
    pos = start
    while pos < end:
        stop = min(end, pos + budget * 3)
        if stop < end:
            space = note.rfind(" ", pos + 1, stop)
            stop = space if space > pos else stop
        while count(note[pos:stop]) > budget and stop - pos > 8:
            stop = pos + (stop - pos) // 2
        pieces.append((pos, stop))
        pos = stop
    return pieces


def _units(note: str, secs: list[Section], sents_of: list[list[Sentence]], budget: int,
           count: Callable[[str], int]) -> list[_Unit]:
    units: list[_Unit] = []
    for si, sec in enumerate(secs):
        sents = sents_of[si]
        first = True
        if not sents:
            sents_spans = [(sec.start, sec.end)]
        else:
            sents_spans = [(s.start, s.end) for s in sents]
            sents_spans[0] = (sec.start, sents_spans[0][1])  # the heading rides with the first sentence
        for i, (s, e) in enumerate(sents_spans):
            e = sents_spans[i + 1][0] if i + 1 < len(sents_spans) else sec.end  # keep the text contiguous
            n = count(note[s:e])
            if n > budget:
                for ps, pe in _split_long(note, s, e, budget, count):
                    units.append(_Unit(ps, pe, count(note[ps:pe]), si, first))
                    first = False
            else:
                units.append(_Unit(s, e, n, si, first))
                first = False
    return units


def chunk_note(note: str, budget: int, count: Callable[[str], int], secs: list[Section],
               sents_of: list[list[Sentence]], overlap: int = 1) -> list[Chunk]:
    """Chunks covering the whole note in order; each within `budget` tokens including its heading line.

    secs and sents_of (the sentences of each section) come from the note's one analysis.
    """
    if budget < 32:
        raise ValueError("chunk budget too small")
    if count(note) <= budget * SAFETY:
        return [Chunk(0, len(note))]
    limit = int(budget * SAFETY) - 24  # room for a carried heading
    units = _units(note, secs, sents_of, limit, count)
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and used + units[j].tokens <= limit:
            used += units[j].tokens
            j += 1
        if j == i:  # cannot happen after _split_long, but never loop forever
            j = i + 1
        if j < len(units):
            # prefer to end where a section begins, if that keeps at least half the chunk
            for k in range(j - 1, i, -1):
                if units[k].opens_section and sum(u.tokens for u in units[i:k]) >= limit // 2:
                    j = k
                    break
        first = units[i]
        heading = ""
        if not first.opens_section:
            sec = secs[first.section]
            heading = sec.heading
        chunks.append(Chunk(first.start, units[j - 1].end, heading))
        if j >= len(units):
            break
        # overlap: repeat the last sentence(s) unless the cut falls on a section boundary
        back = 0 if units[j].opens_section else min(overlap, j - i - 1)
        i = j - back
    return chunks
