"""JSON schema (the subset our extraction schemas use) -> GBNF that llama.cpp parses.

Written for this project instead of llama-cpp-python's converter, which copies regex escapes llama.cpp
rejects (a grammar that fails to parse segfaults the sampler), admits raw control characters in strings,
and turns maxLength into thousands of nested rules. Here strings are bounded with `{0,n}`, carry no
control characters or backslashes (so strict json.loads always accepts them), and JSON is compact.
"""

from __future__ import annotations

import json
import re
from typing import Any

CHAR = r'[^"\\\x00-\x1F\x7F]'
FIRST_CHAR = r'[^"\\\x00-\x20\x7F]'  # no leading blank: keeps small models from padding
PARTIAL_DATE = r'"\"" ( [12] [0-9] [0-9] [0-9] ( "-" [01] [0-9] ( "-" [0-3] [0-9] )? )? )? "\""'


class SchemaNotSupported(ValueError):
    """The schema uses a construct this converter deliberately does not handle."""


def _literal(text: str) -> str:
    """A GBNF string literal that matches `text` exactly."""
    return json.dumps(text, ensure_ascii=False)


def _rule_name(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-") for p in parts if p)


class _Builder:
    def __init__(self) -> None:
        self.rules: dict[str, str] = {}

    def add(self, name: str, body: str) -> str:
        existing = self.rules.get(name)
        if existing is not None and existing != body:
            raise SchemaNotSupported(f"rule name clash: {name}")
        self.rules[name] = body
        return name

    def value(self, schema: dict[str, Any], name: str) -> str:
        kind = schema.get("type")
        if "enum" in schema:
            options = " | ".join(_literal(json.dumps(v)) for v in schema["enum"])
            return self.add(name, options)
        if kind == "string":
            if schema.get("format") == "partial-date":
                return self.add(name, PARTIAL_DATE)
            n = int(schema.get("maxLength", 60))
            if n < 1:
                raise SchemaNotSupported(f"{name}: maxLength must be at least 1")
            return self.add(name, f'"\\"" ( {FIRST_CHAR} {CHAR}{{0,{n - 1}}} )? "\\""')
        if kind == "array":
            item = self.value(schema["items"], f"{name}-item")
            m = int(schema.get("maxItems", 8))
            more = f' ( "," {item} ){{0,{m - 1}}}' if m > 1 else ""
            return self.add(name, f'"[" ( {item}{more} )? "]"')
        if kind == "object":
            if schema.get("additionalProperties", False) is not False:
                raise SchemaNotSupported(f"{name}: objects must set additionalProperties false")
            props = schema.get("properties", {})
            if set(schema.get("required", [])) != set(props):
                raise SchemaNotSupported(f"{name}: every property must be required (fixed key order)")
            parts = []
            for i, (key, sub) in enumerate(props.items()):
                rule = self.value(sub, _rule_name(name, key))
                key_lit = _literal(("," if i else "") + json.dumps(key) + ":")
                parts.append(f"{key_lit} {rule}")
            body = '"{" ' + " ".join(parts) + ' "}"' if parts else '"{" "}"'
            return self.add(name, body)
        raise SchemaNotSupported(f"{name}: unsupported schema type {kind!r}")


def schema_to_gbnf(schema: dict[str, Any], *, group_roots: bool = True) -> str:
    """GBNF for a task schema: `root` matches the whole object; `<group>-root` matches {"<group>": ...}."""
    b = _Builder()
    b.value(schema, "task")
    lines = ["root ::= task"]
    if group_roots:
        for key, sub in schema.get("properties", {}).items():
            rule = _rule_name("task", key)
            lines.append(f"{_rule_name(key, 'root')} ::= " + '"{" ' + _literal(json.dumps(key) + ":") + f' {rule} "}}"')
    lines += [f"{name} ::= {body}" for name, body in b.rules.items()]
    return "\n".join(lines) + "\n"


def group_root(group: str) -> str:
    """The rule name that constrains a one-group answer."""
    return _rule_name(group, "root")
