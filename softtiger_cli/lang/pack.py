"""Read a language pack and refuse a broken one at load, naming the file and line of the bad entry.

The pack is data only: literals and word lists, never regular expressions. The algorithms that read them
(ConText scoping in clinical/assertions.py, segmentation in note/sections.py) build their patterns from it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from softtiger_cli.core.errors import ExitCode, SofttigerError
from softtiger_cli.core.text import HAN

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

Category = Literal["negated", "possible", "family", "history", "hypothetical", "planned", "resolved", "pseudo",
                   "terminate"]
Direction = Literal["forward", "backward", "bidirectional", "terminate", "pseudo"]
CATEGORIES: tuple[str, ...] = get_args(Category)
DIRECTIONS: tuple[str, ...] = get_args(Direction)
# Categories whose cues open a scope; each is also the Assertion value its cue sets.
SCOPED: tuple[str, ...] = ("negated", "possible", "history", "hypothetical", "planned", "resolved")
# Every value an Assertion field can take (core/data.py): what a rule's example may expect.
ASSERTION_VALUES = frozenset({"affirmed", "negated", "possible", "patient", "family", "current", "history",
                              "resolved", "planned", "hypothetical"})
FILES = ("context.toml", "relatives.toml", "sections.toml")
_RULE_KEYS = {"literal", "category", "direction", "max_scope", "example", "target", "expect", "applies_to", "blocks",
              "unreachable"}
_REQUIRED = ("literal", "category", "direction", "example", "target", "expect")
_FAMILY_LISTS = ("sides", "links", "informant_before", "informant_after", "leads", "lead_tails", "after", "breaks",
                 "after_links", "after_determiners", "informant_links", "informant_determiners", "possessive")
_FAMILY_WORDS = ("relative_before_words", "relative_after_words", "lead_words")


class PackError(SofttigerError):
    """A language pack that does not load: a bug in shipped data, so an internal failure."""

    exit_code = ExitCode.FAILURE


@dataclass(frozen=True)
class ContextRule:
    """One cue: its literal, what it asserts, which way its scope runs, and an example that shows it working."""

    literal: str
    category: Category
    direction: Direction
    max_scope: int | None  # words the scope reaches; None: the pack's [scope] default for the category
    example: str  # one sentence in which the cue decides the target's assertion
    target: str  # the item in the example (its first occurrence)
    expect: str  # the Assertion value the target takes
    applies_to: tuple[str, ...] = ()  # item groups the rule is meant for; empty: all (not yet read by the matcher)
    blocks: str = ""  # pseudo rules: the category they keep from firing
    unreachable: str = ""  # why no example can show the rule deciding (the rule test skips it, visibly)


@dataclass(frozen=True)
class FamilyWords:
    """The words around a relative that make an item a relative's, or the relative only an informant."""

    sides: tuple[str, ...]  # "maternal" aunt
    links: tuple[str, ...]  # mother "had" ...
    informant_before: tuple[str, ...]  # "accompanied by" her mother
    informant_after: tuple[str, ...]  # her mother "reports"
    leads: tuple[str, ...]  # "family history" ...
    lead_tails: tuple[str, ...]  # family history "significant for"
    after: tuple[str, ...]  # ... "runs in the family"
    breaks: tuple[str, ...]  # her mother ... "but" she ...
    after_links: tuple[str, ...]  # the item "in" (his mother): a relative after the item
    after_determiners: tuple[str, ...]  # ... in "his" mother
    informant_links: tuple[str, ...]  # accompanied "by" her mother
    informant_determiners: tuple[str, ...]  # accompanied by "her" mother
    possessive: tuple[str, ...]  # mother"'s" diabetes
    relative_before_words: int
    relative_after_words: int
    lead_words: int


@dataclass(frozen=True)
class Pack:
    """One language's clinical vocabulary, as read from lang/<code>/."""

    code: str
    rules: tuple[ContextRule, ...]
    forward_scope: Mapping[str, int]  # category (or "default") -> words after a forward cue
    backward_scope: Mapping[str, int]  # category (or "default") -> words before a backward cue
    terminate_chars: str
    ongoing: tuple[str, ...]
    family: FamilyWords
    relatives: Mapping[str, tuple[str, str]]  # word -> (v3-RoleCode code, display)
    headings: Mapping[str, tuple[str, ...]]  # section kind -> heading names
    # characters that end a backward cue's scope only ("，": "…肺气肿，右下肺感染可能" leaves 肺气肿 certain,
    # while a forward denial runs on over commas, "否认高血压、糖尿病，冠心病")
    backward_terminate_chars: str = ""
    backward_terminate_categories: tuple[str, ...] = ()  # ... for the cues of these categories

    def of(self, category: str) -> tuple[ContextRule, ...]:
        """The rules of one category, in pack order (the matcher returns the first cue that fits)."""
        return tuple(r for r in self.rules if r.category == category)

    def forward(self, rule: ContextRule) -> int:
        return rule.max_scope or self.forward_scope.get(rule.category, self.forward_scope["default"])

    def backward(self, rule: ContextRule) -> int:
        return rule.max_scope or self.backward_scope.get(rule.category, self.backward_scope["default"])


FALLBACK = "en"  # a language's pack file that is not written yet is read from this language's

_P = TypeVar("_P")
_T = TypeVar("_T")


def per_language(load: Callable[[str], _P], build: Callable[[_P], _T]) -> Callable[[str], _T]:
    """`build(load(lang))`, once per language and process: how a module turns its pack into patterns (the
    English ones at import, another language's the first time a note of it is read)."""
    @functools.lru_cache(maxsize=None)
    def compiled(lang: str) -> _T:
        return build(load(lang))
    return compiled


def shipped(code: str, name: str) -> tuple[Traversable, str]:
    """(folder, code) holding the shipped file lang/<code>/<name>: the language's own, else FALLBACK's.

    A language pack grows file by file; until it has, say, its own dates.toml, its notes are read with the
    fallback language's (dates written as 2024-03-05 read the same in both)."""
    root = resources.files("softtiger_cli.lang")
    if not (root / code).is_dir():
        raise PackError(f"no language pack 'lang/{code}'")
    if (root / code / name).is_file() or code == FALLBACK:
        return root / code, code
    return root / FALLBACK, FALLBACK


@functools.lru_cache(maxsize=None)
def load_pack(code: str) -> Pack:
    """The pack shipped in softtiger_cli/lang/<code>/, read and checked once per process."""
    folders = {name: shipped(code, name) for name in FILES}
    if not (folders[FILES[0]][0] / FILES[0]).is_file():
        raise PackError(f"no language pack 'lang/{code}'")
    return read_pack({n: f for n, (f, _) in folders.items()}, code,
                     {n: f"lang/{c}" for n, (_, c) in folders.items()})


def read_pack(folder: "Traversable | Path | Mapping[str, Traversable | Path]", code: str,
              label: "str | Mapping[str, str] | None" = None) -> Pack:
    """Read and check the pack in `folder` (or one folder per file); label names it in error messages
    (default: the folder)."""
    folders = folder if isinstance(folder, Mapping) else {name: folder for name in FILES}
    labels = label if isinstance(label, Mapping) else {name: label or str(folders[name]) for name in FILES}
    texts = {name: (folders[name] / name).read_text(encoding="utf-8") for name in FILES}
    data = {name: _parse(text, f"{labels[name]}/{name}") for name, text in texts.items()}
    context = _Source(f"{labels['context.toml']}/context.toml", texts["context.toml"])
    relatives = _Source(f"{labels['relatives.toml']}/relatives.toml", texts["relatives.toml"])
    sections = _Source(f"{labels['sections.toml']}/sections.toml", texts["sections.toml"])
    ctx = data["context.toml"]
    for category in ctx.get("backward_terminate_categories", ()):
        if category not in SCOPED:
            raise context.error(context.key_line("backward_terminate_categories"),
                                f"'{category}' is no scoped category (one of {', '.join(SCOPED)})")
    return Pack(
        code=code,
        rules=_rules(ctx.get("rule", []), context),
        forward_scope=_scope(ctx, "forward", context),
        backward_scope=_scope(ctx, "backward", context),
        terminate_chars=_string(ctx, "terminate_chars", context, allow_empty=True),
        backward_terminate_chars=_string(ctx, "backward_terminate_chars", context, allow_empty=True)
        if "backward_terminate_chars" in ctx else "",
        backward_terminate_categories=_words(ctx, "backward_terminate_categories", context)
        if "backward_terminate_categories" in ctx else (),
        ongoing=_words(ctx, "ongoing", context),
        family=_family(ctx.get("family"), context),
        relatives=_relatives(data["relatives.toml"].get("relative"), relatives),
        headings=_headings(data["sections.toml"].get("headings"), sections),
    )


def read_file(code: str, name: str, folder: "Traversable | Path | None" = None) -> "tuple[dict[str, Any], Source]":
    """One TOML file of a pack (lang/<code>/<name>, or `folder`/<name> for tests), parsed, with its Source
    for error lines. Loaders of other pack files (lang/*.py) build on this and cache their result."""
    if folder is None:
        base, code = shipped(code, name)
    else:
        base = folder
    label = f"lang/{code}/{name}" if folder is None else f"{folder}/{name}"
    try:
        text = (base / name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        raise PackError(f"no language pack file '{label}'") from None
    data = _parse(text, label)
    inherit = data.pop("inherit", False)
    if inherit is not False:
        if inherit is not True or folder is not None or code == FALLBACK:
            raise _Source(label, text).error(_Source(label, text).key_line("inherit"),
                                             f"'inherit = true' is for a shipped language other than {FALLBACK}")
        base_data, base_src = read_file(FALLBACK, name)
        return _inherit(base_data, data), _Source(label, text + "\n" + base_src.text)
    return data, _Source(label, text)


def _inherit(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A file that says `inherit = true` takes FALLBACK's tables it does not write itself: its own tables
    replace the fallback's whole, one level down for families of tables ([cue.stopped], [section.pmh])."""
    out = dict(base)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and \
                all(isinstance(v, dict) for v in value.values()) and all(isinstance(v, dict) for v in base[key].values()):
            out[key] = {**base[key], **value}
        else:
            out[key] = value
    return out


def compile_pattern(pattern: str, src: "Source", line: int, flags: int = re.I) -> re.Pattern[str]:
    """A regular expression from a pack file; a bad one is a PackError naming the file and line."""
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise src.error(line, f"bad regular expression {pattern!r}: {exc}") from None


def fold_heading(heading: str) -> str:
    """A heading as section kinds are looked up: lower case, runs of other characters as one space."""
    return re.sub(r"[^a-z0-9/&" + HAN + "-]+", " ", heading.lower()).strip()


def _parse(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PackError(f"{name}: {e}") from None


class _Source:
    """A pack file's raw text, to point an error at a line (TOML parsers keep no line numbers)."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.lines = text.splitlines()
        self.rule_lines = [i + 1 for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*rule\s*\]\]", line)]

    def key_line(self, key: str, start: int = 1, end: int | None = None) -> int:
        """The first line in [start, end) that sets `key` (bare or quoted); start when there is none."""
        pattern = re.compile(r"\s*(?:" + re.escape(key) + r'|"' + re.escape(key) + r'")\s*=')
        for n in range(start, min(end or len(self.lines) + 1, len(self.lines) + 1)):
            if pattern.match(self.lines[n - 1]):
                return n
        return start

    def table_line(self, name: str) -> int:
        """The line of the `[name]` table header; 1 when there is none."""
        pattern = re.compile(r"\s*\[\s*" + re.escape(name) + r"\s*\]")
        return next((n for n, line in enumerate(self.lines, 1) if pattern.match(line)), 1)

    def error(self, line: int, problem: str) -> PackError:
        return PackError(f"{self.name} line {line}: {problem}")


Source = _Source  # public name for loaders of other pack files


def _rules(raw: Any, src: _Source) -> tuple[ContextRule, ...]:
    if not isinstance(raw, list) or not raw:
        raise src.error(1, "no [[rule]] tables")
    rules: list[ContextRule] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for i, table in enumerate(raw):
        start = src.rule_lines[i] if i < len(src.rule_lines) else 1
        end = src.rule_lines[i + 1] if i + 1 < len(src.rule_lines) else None

        def fail(key: str, problem: str, start: int = start, end: int | None = end) -> PackError:
            return src.error(src.key_line(key, start, end) if key else start, problem)

        rule = _rule(table, fail)
        key = (rule.literal.lower(), rule.category, rule.direction, rule.blocks)  # a pseudo rule per blocked category
        if key in seen:
            raise fail("literal", f"duplicate cue '{rule.literal}' ({rule.category}, {rule.direction}), "
                                  f"first at line {seen[key]}")
        seen[key] = src.key_line("literal", start, end)
        rules.append(rule)
    return tuple(rules)


def _rule(table: dict[str, Any], fail: Callable[[str, str], PackError]) -> ContextRule:
    """One [[rule]] table, checked; fail(key, problem) makes the error for the line that sets key."""
    for key in table:
        if key not in _RULE_KEYS:
            raise fail(key, f"unknown key '{key}'")
    for key in _REQUIRED:
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise fail("" if key not in table else key, f"missing '{key}' (a non-empty string)")
    literal, category, direction = table["literal"], table["category"], table["direction"]
    if literal != literal.strip() or "\n" in literal:
        raise fail("literal", f"literal '{literal}' has spaces at its ends or a line break, so it can never match")
    if category not in CATEGORIES:
        raise fail("category", f"unknown category '{category}' (one of {', '.join(CATEGORIES)})")
    if direction not in DIRECTIONS:
        raise fail("direction", f"unknown direction '{direction}' (one of {', '.join(DIRECTIONS)})")
    if category == "family":
        raise fail("category", "family cues are the [family] word lists, not rules")
    if {category, direction} & {"pseudo", "terminate"} and category != direction:  # those two go together
        raise fail("direction", f"a {category} rule cannot have direction '{direction}'")
    blocks = table.get("blocks", "")
    if (category == "pseudo") != bool(blocks) or (blocks and blocks not in SCOPED):
        raise fail("blocks" if blocks else "category",
                   f"a pseudo rule (and only one) names the category it blocks: blocks = one of {', '.join(SCOPED)}")
    max_scope = table.get("max_scope")
    if max_scope is not None and (category not in SCOPED or not isinstance(max_scope, int) or max_scope < 1):
        raise fail("max_scope", "max_scope is a positive number of words, for a cue that opens a scope")
    expect, example, target = table["expect"], table["example"], table["target"]
    if expect not in ASSERTION_VALUES or (category in SCOPED and expect != category):
        raise fail("expect", f"expect '{expect}' is not what a {category} rule can assert")
    if target not in example:
        raise fail("target", f"target '{target}' is not in the example")
    applies_to = table.get("applies_to", [])
    if not isinstance(applies_to, list) or not all(isinstance(g, str) for g in applies_to):
        raise fail("applies_to", "applies_to is a list of item groups")
    unreachable = table.get("unreachable", "")
    if not isinstance(unreachable, str):
        raise fail("unreachable", "unreachable is a string saying why")
    return ContextRule(literal, category, direction, max_scope, example, target, expect, tuple(applies_to),
                       blocks, unreachable)


def _scope(ctx: dict[str, Any], direction: str, src: _Source) -> Mapping[str, int]:
    table = ctx.get("scope", {}).get(direction)
    line = src.table_line(f"scope.{direction}")
    if not isinstance(table, dict) or not isinstance(table.get("default"), int):
        raise src.error(line, f"[scope.{direction}] needs 'default', a number of words")
    for key, value in table.items():
        if key != "default" and key not in SCOPED:
            raise src.error(src.key_line(key, line), f"unknown category '{key}' in [scope.{direction}]")
        if not isinstance(value, int) or value < 1:
            raise src.error(src.key_line(key, line), f"scope '{key}' is a positive number of words")
    return MappingProxyType(dict(table))


def _string(table: dict[str, Any], key: str, src: _Source, allow_empty: bool = False) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not (allow_empty or value):
        raise src.error(src.key_line(key), f"missing '{key}' (a string)")
    return value


def _words(table: dict[str, Any], key: str, src: _Source, start: int = 1) -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip() == w and w
                                                           for w in value):
        raise src.error(src.key_line(key, start), f"'{key}' must be a non-empty list of words or phrases")
    if len(set(w.lower() for w in value)) != len(value):
        raise src.error(src.key_line(key, start), f"'{key}' lists a word twice")
    return tuple(value)


def _family(table: Any, src: _Source) -> FamilyWords:
    start = src.table_line("family")
    if not isinstance(table, dict):
        raise src.error(start, "missing the [family] table")
    for key in table:
        if key not in _FAMILY_LISTS + _FAMILY_WORDS:
            raise src.error(src.key_line(key, start), f"unknown key '{key}' in [family]")
    words = {key: _words(table, key, src, start) for key in _FAMILY_LISTS}
    for key in _FAMILY_WORDS:
        if not isinstance(table.get(key), int) or table[key] < 1:
            raise src.error(src.key_line(key, start), f"'{key}' is a positive number of words")
    return FamilyWords(**words, **{key: table[key] for key in _FAMILY_WORDS})


def _relatives(table: Any, src: _Source) -> Mapping[str, tuple[str, str]]:
    if not isinstance(table, dict) or not table:
        raise src.error(src.table_line("relative"), "missing the [relative] table")
    out: dict[str, tuple[str, str]] = {}
    for word, entry in table.items():
        if word != word.lower().strip() or not word:
            raise src.error(src.key_line(word), f"relative '{word}' must be written in lower case")
        if not isinstance(entry, dict) or set(entry) != {"code", "display"} or \
                not all(isinstance(v, str) and v for v in entry.values()):
            raise src.error(src.key_line(word), f"relative '{word}' needs exactly a code and a display")
        out[word] = (entry["code"], entry["display"])
    return MappingProxyType(out)


def _headings(table: Any, src: _Source) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(table, dict) or not table:
        raise src.error(src.table_line("headings"), "missing the [headings] table")
    out: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for kind, names in table.items():
        line = src.key_line(kind)
        if not re.fullmatch(r"[a-z][a-z_]*", kind):
            raise src.error(line, f"section kind '{kind}' must be a lower-case identifier")
        out[kind] = _words(table, kind, src)
        for name in out[kind]:
            if fold_heading(name) != name:  # heading_kind() compares folded headings: it could never match
                raise src.error(line, f"heading '{name}' must be lower case, single-spaced, letters, digits, / & -")
            if name in owner:
                raise src.error(line, f"heading '{name}' is listed under '{owner[name]}' and '{kind}'")
            owner[name] = kind
    return MappingProxyType(out)
