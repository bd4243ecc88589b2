"""Tolerant access to JSON from any producer: a field of the wrong shape reads as absent, not a crash."""

from __future__ import annotations

from typing import Any


def items(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON array (anything else in it, or a non-array, is skipped)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def obj(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}
