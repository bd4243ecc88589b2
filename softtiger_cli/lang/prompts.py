"""How questions are put to the model, and the one sentence softtiger writes itself, per language:
lang/<code>/prompts.toml.

The grammar, JSON keys and codes are one for every language; the words around them are the language's, so a
Chinese note is asked in Chinese ("列出患者的用药。") and a model that reads Chinese is not made to switch
languages between the note and the task. A group's task and a field's description default to fhir/schema.py's
English, so English prompts are the schema's words.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from softtiger_cli.lang.pack import Source, read_file

_SUMMARY = ("lead", "join", "end", "active", "possible")
_FRAME = ("system", "note", "abbreviations", "task", "item_has", "give", "answer", "list_of")


@dataclass(frozen=True)
class Prompts:
    """One language's prompt words."""

    code: str
    system: str
    note: str
    abbreviations: str
    task: str
    item_has: str
    give: str
    answer: str
    list_of: str
    asks: Mapping[str, str]  # group -> its task
    hints: Mapping[str, str]  # "group.field" -> the field's description
    summary: Mapping[str, str]  # the assessment sentence: lead, join, end, and a format per status ("possible {}")

    def ask(self, group: str, default: str) -> str:
        return self.asks.get(group, default)

    def hint(self, group: str, field: str, default: str) -> str:
        return self.hints.get(f"{group}.{field}", default)

    def assessment(self, problems: list[tuple[str, str]]) -> str:
        """The assessment as one sentence from the decided problems, (name, status) in order: "Assessment:
        acute bronchitis; possible pneumonia." ("" without problems)."""
        if not problems:
            return ""
        named = [self.summary["possible" if status == "possible" else "active"].format(name) for name, status in problems]
        return self.summary["lead"] + self.summary["join"].join(named) + self.summary["end"]


def load_prompts(code: str = "en") -> Prompts:
    """The prompt words shipped in lang/<code>/ (English's where the language has no file), once per process."""
    return _load(code)


@functools.lru_cache(maxsize=None)
def _load(code: str) -> Prompts:
    return read_prompts(code)


def read_prompts(code: str, folder: Path | None = None) -> Prompts:
    """Read and check lang/<code>/prompts.toml (or `folder`'s, for tests)."""
    data, src = read_file(code, "prompts.toml", folder)
    for key in data:
        if key not in _FRAME and key not in ("ask", "hint", "summary"):
            raise src.error(src.key_line(key), f"unknown key '{key}'")
    frame = {key: _text(data, key, src) for key in _FRAME}
    summary = _table(data, "summary", src)
    missing = [k for k in _SUMMARY if k not in summary]
    if missing or any(k not in _SUMMARY for k in summary):
        raise src.error(src.table_line("summary"), f"[summary] needs exactly {', '.join(_SUMMARY)}")
    if any(summary[k].count("{}") != 1 for k in ("active", "possible")):
        raise src.error(src.table_line("summary"), "[summary] active and possible each hold one {} for the name")
    return Prompts(code, **frame, asks=_table(data, "ask", src), hints=_table(data, "hint", src), summary=summary)


def _text(data: dict[str, Any], key: str, src: Source) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise src.error(src.key_line(key) if key in data else 1, f"'{key}' must be a non-empty string")
    return value


def _table(data: dict[str, Any], name: str, src: Source) -> Mapping[str, str]:
    table = data.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) and (v.strip() or name == "summary")
                                              for v in table.values()):
        raise src.error(src.table_line(name), f"[{name}] holds non-empty strings")
    return MappingProxyType(dict(table))


__all__ = ["Prompts", "load_prompts", "read_prompts"]
