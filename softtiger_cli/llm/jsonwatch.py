"""Watches compact JSON as it is generated: knows when the answer is complete and when a list repeats.

Small models repeat the same list item until the token budget ends. Seeing, token by token, that an item
restates an earlier one (same first value) lets decoding end the list right after that item instead of
burning the budget; the repeated item is merged away later. Tokenizers merge `"},{"` into one token, so the
watch can also cut a token short at the end of a repeated item.
"""

from __future__ import annotations

import copy

_OBJ = "obj"


class JsonWatch:
    """Feed it generated text; it answers "stop" once the JSON is complete; `preferred`/`cut` steer repeats."""

    def __init__(self) -> None:
        self.stack: list[object] = []  # _OBJ markers and per-list sets of first values
        self.in_string = False
        self.escaped = False
        self.started = False
        self._buf: list[str] = []
        self._first_done: list[bool] = []
        self._key_expected: list[bool] = []
        self.repeats = 0
        self.closing = False  # the open list item restates an earlier one: end the list after it

    def feed(self, piece: str) -> str | None:
        for ch in piece:
            if self._step(ch) == "stop":
                return "stop"
        return None

    def preferred(self) -> tuple[str, ...]:
        """Text to force next, if the grammar allows it: finish a repeated item, then end its list."""
        if not self.closing or self.in_string or not self.stack:
            return ()
        return ("]",) if isinstance(self.stack[-1], set) else ("}",)

    def cut(self, piece: str) -> str | None:
        """If `piece` runs past the end of a repeated item, the part of it up to that item's `}`."""
        if "}" not in piece:
            return None
        probe = copy.deepcopy(self)
        for i, ch in enumerate(piece):
            was_obj = bool(probe.stack) and probe.stack[-1] == _OBJ and not probe.in_string
            probe._step(ch)
            if ch == "}" and was_obj and probe.closing and i < len(piece) - 1:
                return piece[: i + 1]
        return None

    def _check_repeat(self, first: str) -> None:
        if len(self.stack) >= 2 and isinstance(self.stack[-2], set):
            seen = self.stack[-2]
            if first in seen or not first:
                self.repeats += 1
                self.closing = True
            else:
                seen.add(first)

    def _step(self, ch: str) -> str | None:
        if self.in_string:
            if self.escaped:
                self.escaped = False
            elif ch == "\\":
                self.escaped = True
            elif ch == '"':
                self.in_string = False
                if self.stack and self.stack[-1] == _OBJ and not self._key_expected[-1] and not self._first_done[-1]:
                    self._first_done[-1] = True
                    self._check_repeat("".join(self._buf).strip().lower())
                return None
            self._buf.append(ch)
            return None
        if ch == '"':
            self.in_string = True
            self._buf = []
        elif ch == "{":
            self.started = True
            self.stack.append(_OBJ)
            self._first_done.append(False)
            self._key_expected.append(True)
        elif ch == ":":
            if self._key_expected:
                self._key_expected[-1] = False
        elif ch == ",":
            if self.stack and self.stack[-1] == _OBJ:
                self._key_expected[-1] = True
        elif ch == "[":
            self.started = True
            self.stack.append(set())
        elif ch == "}":
            if self.stack and self.stack[-1] == _OBJ:
                self.stack.pop()
                self._key_expected.pop()
                self._first_done.pop()
            if self.started and not self.stack:
                return "stop"
        elif ch == "]":
            if self.stack and isinstance(self.stack[-1], set):
                self.stack.pop()
                self.closing = False
            if self.started and not self.stack:
                return "stop"
        return None
