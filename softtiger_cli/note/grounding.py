"""Grounding: find where in the note an extracted text came from (exact, then normalised, then fuzzy).

Every item keeps its character spans, so a clinician can check it against the note and the FHIR output
can point at the source. Items that cannot be found are, by default, dropped as likely invented.
"""

from __future__ import annotations

import bisect
from difflib import SequenceMatcher

from softtiger_cli.core.data import Span
from softtiger_cli.core.text import tokens


class Grounder:
    """Indexes a note once; finds spans for many short texts."""

    def __init__(self, note: str) -> None:
        self.note = note
        self.lower = note.lower()
        self.words = tokens(note)
        self._word_list = [w for w, _, _ in self.words]
        self._word_starts = [s for _, s, _ in self.words]

    def find(self, text: str, *, min_ratio: float = 0.85, window: tuple[int, int] | None = None) -> Span | None:
        """The span of `text` in the note, looked for inside `window` first (the chunk it came from)."""
        if window is not None:
            found = self._find(text, min_ratio, window[0], window[1])
            if found is not None:
                return found
        return self._find(text, min_ratio, 0, len(self.note))

    def _word_range(self, start: int, end: int) -> tuple[int, int]:
        lo = bisect.bisect_left(self._word_starts, start)
        hi = bisect.bisect_right(self._word_starts, end)
        return lo, hi

    def _find(self, text: str, min_ratio: float, start: int, end: int) -> Span | None:
        needle = text.strip()
        if len(needle) < 2:
            return None
        i = self.note.find(needle, start, end)
        if i >= 0:
            return Span(i, i + len(needle), "exact")
        i = self.lower.find(needle.lower(), start, end)
        if i >= 0:
            return Span(i, i + len(needle), "normalized")
        target = [w for w, _, _ in tokens(needle)]
        if not target:
            return None
        n = len(target)
        lo, hi = self._word_range(start, end)
        # normalised: same words, any punctuation or spacing between them
        for k in range(lo, hi - n + 1):
            if self._word_list[k : k + n] == target:
                return Span(self.words[k][1], self.words[k + n - 1][2], "normalized")
        # fuzzy: the best window of about the same word count, by character similarity. Windows whose
        # cheap upper bounds (real_quick_ratio, quick_ratio) cannot reach the best ratio so far (or
        # min_ratio) are skipped: the same answer for a fraction of the work.
        joined = " ".join(target)
        matcher = SequenceMatcher(None, joined, "")
        best, best_k, best_len = 0.0, -1, n
        first_chars = {t[:3] for t in target}
        for size in sorted({max(1, n - 1), n, n + 1}):
            for k in range(lo, hi - size + 1):
                window = self._word_list[k : k + size]
                if not first_chars.intersection(w[:3] for w in window):
                    continue
                matcher.set_seq2(" ".join(window))
                bar = max(best, min_ratio)
                if matcher.real_quick_ratio() < bar or matcher.quick_ratio() < bar:
                    continue
                ratio = matcher.ratio()
                if ratio > best:
                    best, best_k, best_len = ratio, k, size
        if best >= min_ratio and best_k >= 0:
            return Span(self.words[best_k][1], self.words[best_k + best_len - 1][2], "fuzzy")
        return None
