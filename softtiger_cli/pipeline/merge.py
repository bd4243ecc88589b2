"""Merge: one item per concept, whichever chunks, lists or questions named it."""

from __future__ import annotations

import json
import re
from typing import Any

from softtiger_cli.core.data import Item
from softtiger_cli.pipeline.ground import add_span


def _merge_values(into: dict[str, Any], new: dict[str, Any]) -> None:
    """First non-empty scalar wins; lists are united without repeats; objects merge field by field."""
    for k, v in new.items():
        old = into.get(k)
        if isinstance(v, list):
            seen = {json.dumps(x, sort_keys=True).lower() for x in (old or [])}
            into[k] = list(old or []) + [x for x in v if json.dumps(x, sort_keys=True).lower() not in seen]
        elif isinstance(v, dict):
            merged = dict(old or {})
            _merge_values(merged, v)
            into[k] = merged
        elif v and not old:
            into[k] = v


def merge_items(items: list[Item], single: bool = False) -> list[Item]:
    """One item per concept: same normalised main text (within or across chunks) merges, spans united.

    For a list group the concept is the main text; a single group (the encounter, the impression) merges
    into one item. Conflicting values keep the first non-empty one: the first chunk that states a field
    wins (documented in README).
    """
    merged: dict[str, Item] = {}
    for item in items:
        key = "" if single else item.key
        existing = merged.get(key)
        if existing is None:
            merged[key] = item
            continue
        _merge_values(existing.values, item.values)
        for span in item.spans:
            add_span(existing, span)
        if existing.grounding == "ungrounded" and item.grounding != "ungrounded":
            existing.grounding = item.grounding
        if existing.origin != item.origin:
            existing.origin = "both"
    return list(merged.values())


def fold_unsided(items: list[Item], sides: re.Pattern[str]) -> list[Item]:
    """A procedure named once with its side and once without ("right ACL repair", "status post ACL repair")
    is one procedure: the unsided naming joins the sided one of the same status, when the note names only
    one side for it (with two sides, the bare name could be either)."""
    def bare(item: Item) -> str:
        return " ".join(item.text.lower().split())

    out = list(items)
    for item in items:
        if sides.search(item.text):
            continue
        sided = [o for o in out if o is not item and o.status == item.status and sides.fullmatch(
            bare(o)[: max(0, len(bare(o)) - len(bare(item)))].strip()) and bare(o).endswith(bare(item))]
        if len(sided) == 1:
            for span in item.spans:
                add_span(sided[0], span)
            out.remove(item)
    return out
