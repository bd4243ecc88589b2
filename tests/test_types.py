"""The statuses are closed vocabularies: every literal the code writes into (or compares with) a typed field is
a member of its Literal in core/data.py, and assembly maps every status a kind of item can carry."""

from __future__ import annotations

import ast
import json
from typing import Any, get_args

import pytest

from conftest import REPO
from softtiger_cli.core import data
from softtiger_cli.core.data import (AllergyStatus, ConditionStatus, Item, ItemStatus, MedicationStatus,
                                     ProcedureStatus, VisitStatus)
from softtiger_cli.fhir.assemble.meaning import CONDITION_SECTION, _CLINICAL, reshape, status_values

PACKAGE = REPO / "softtiger_cli"
# the modules that decide or write these fields
MODULES = ["core/data.py", "clinical/status.py", "clinical/assertions.py", "pipeline/decide.py",
           "fhir/assemble/meaning.py", "pipeline/candidates.py", "pipeline/extract.py", "pipeline/ground.py",
           "pipeline/merge.py", "note/grounding.py", "clinical/vitals.py"]
CLASSES = ("Span", "Assertion", "Item")


def _allowed(ann: ast.expr | None) -> set[str] | None:
    """The strings a scalar annotation allows (a Literal alias of core/data.py, Literal[...], a union of
    them and None); None when it is not a closed vocabulary."""
    if isinstance(ann, ast.Name) and ann.id in vars(data) and get_args(getattr(data, ann.id)):
        return set(get_args(getattr(data, ann.id)))
    if isinstance(ann, ast.Constant) and ann.value is None:
        return set()
    if isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name) and ann.value.id == "Literal":
        elts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        out: set[str] = set()
        for e in elts:
            inner = _allowed(e) if not isinstance(e, ast.Constant) else {e.value}
            if inner is None:
                return None
            out |= inner
        return out
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        left, right = _allowed(ann.left), _allowed(ann.right)
        return None if left is None or right is None or not left | right else left | right
    return None


def _literals(value: ast.expr) -> list[ast.Constant]:
    """The string constants an expression can evaluate to (as far as they are written in it)."""
    if isinstance(value, ast.Constant):
        return [value] if isinstance(value.value, str) else []
    if isinstance(value, ast.IfExp):
        return _literals(value.body) + _literals(value.orelse)
    if isinstance(value, ast.BoolOp):
        return [c for v in value.values for c in _literals(v)]
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Dict):  # {...}[key]
        return [c for v in value.value.values for c in _literals(v)]
    if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get"
            and isinstance(value.func.value, ast.Dict)):  # {...}.get(key, default)
        return [c for v in [*value.func.value.values, *value.args[1:]] for c in _literals(v)]
    return []


class _Checker:
    def __init__(self, fields: dict[str, ast.expr], order: dict[str, list[str]]) -> None:
        self.fields, self.order = fields, order  # field name -> annotation; class -> its fields in order
        self.errors: list[str] = []
        self.seen = 0

    def check(self, ann: ast.expr | None, value: ast.expr | None, where: str) -> None:
        if ann is None or value is None:
            return
        allowed = _allowed(ann)
        if allowed is not None:
            for c in _literals(value):
                self.seen += 1
                if c.value not in allowed:
                    self.errors.append(f"{where}:{c.lineno} {c.value!r} is none of {sorted(allowed)}")
            return
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):  # a container or None
            for side in (ann.left, ann.right):
                if not (isinstance(side, ast.Constant) and side.value is None):
                    self.check(side, value, where)
            return
        if not (isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name)):
            return
        args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        base = ann.value.id
        if base == "tuple" and isinstance(value, ast.Tuple):
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                args = [args[0]] * len(value.elts)
            for a, v in zip(args, value.elts):
                self.check(a, v, where)
        elif base == "list" and isinstance(value, ast.List):
            for v in value.elts:
                self.check(args[0], v, where)
        elif base == "dict" and isinstance(value, ast.Dict) and len(args) == 2:
            for k, v in zip(value.keys, value.values):
                self.check(args[0], k, where)
                self.check(args[1], v, where)

    def _field(self, target: ast.expr) -> ast.expr | None:
        name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
        return self.fields.get(name)

    def _assign(self, target: ast.expr, value: ast.expr, where: str) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                self._assign(t, v, where)
        else:
            self.check(self._field(target), value, where)

    def _returns(self, fn: ast.FunctionDef, where: str) -> None:
        todo = list(fn.body)
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue  # their own returns
            if isinstance(node, ast.Return):
                self.check(fn.returns, node.value, where)
            todo.extend(ast.iter_child_nodes(node))

    def visit(self, tree: ast.AST, where: str) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._assign(target, node.value, where)
            elif isinstance(node, ast.AnnAssign):
                self.check(node.annotation, node.value, where)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._returns(node, where)
            elif isinstance(node, ast.Compare) and (ann := self._field(node.left)) is not None:
                for op, right in zip(node.ops, node.comparators):
                    if isinstance(op, (ast.Eq, ast.NotEq)):
                        self.check(ann, right, where)
                    elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                        for e in right.elts:
                            self.check(ann, e, where)
            elif isinstance(node, ast.Call):
                func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if func in self.order:
                    for name, arg in zip(self.order[func], node.args):
                        self.check(self.fields.get(name), arg, where)
                if func in self.order or func == "replace":
                    for kw in node.keywords:
                        if kw.arg:
                            self.check(self.fields.get(kw.arg), kw.value, where)


def _checker() -> _Checker:
    """Fields of core/data.py's Span, Assertion and Item whose annotation is a closed vocabulary."""
    tree = ast.parse((PACKAGE / "core" / "data.py").read_text(encoding="utf-8"))
    fields: dict[str, ast.expr] = {}
    order: dict[str, list[str]] = {}
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name in CLASSES:
            anns = [n for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
            order[cls.name] = [n.target.id for n in anns]
            fields.update({n.target.id: n.annotation for n in anns if _allowed(n.annotation) is not None})
    return _Checker(fields, order)


def test_the_typed_fields_are_those_documented() -> None:
    assert set(_checker().fields) == {"method", "certainty", "subject", "time", "grounding", "origin", "status",
                                      "criticality"}
    assert set(get_args(data.Grounding)) == set(get_args(data.Method)) | {"ungrounded"}


def test_every_literal_written_is_in_its_vocabulary() -> None:
    checker = _checker()
    for rel in MODULES:
        checker.visit(ast.parse((PACKAGE / rel).read_text(encoding="utf-8")), rel)
    assert not checker.errors, "\n".join(checker.errors)
    assert checker.seen > 100, checker.seen  # the walk reaches the statuses, not an empty set


def test_the_literal_checker_finds_a_stray_word() -> None:
    """The check can fail: a misspelt status, span method and certainty in a snippet are each caught."""
    checker = _checker()
    checker.visit(ast.parse(
        "item.status = 'activ'\n"
        "s = Span(0, 1, 'exactly')\n"
        "new = replace(item, origin='human')\n"
        "def f(m) -> tuple[ConditionStatus, list[int]] | None:\n    return ('gone', [])\n"
        "def g() -> Certainty:\n    return 'maybe' if x else 'negated'\n"
        "if a.time in ('current', 'later'):\n    pass\n"
        "item.status = 'active' if x else {'a': 'completed'}.get(k, 'done')\n"
        "ok: tuple[ConditionStatus, ...] = ('active', 'history')\n"), "snippet")
    bad = sorted(e.split(" is ")[0].split(" ", 1)[1] for e in checker.errors)
    assert bad == ["'activ'", "'done'", "'exactly'", "'gone'", "'human'", "'later'", "'maybe'"], checker.errors


# -- assembly maps every status a kind of item carries -------------------------------------------------
KINDS = [("problems", "Condition", ConditionStatus), ("medications", "MedicationStatement", MedicationStatus),
         ("allergies", "AllergyIntolerance", AllergyStatus), ("procedures", "Procedure", ProcedureStatus),
         ("immunizations", "Immunization", ProcedureStatus)]


def _unmapped(group: str, rtype: str, statuses: tuple[str, ...]) -> list[str]:
    """Statuses meaning.py fails on or cannot tell apart (an unmapped one falls back to another's output)."""
    problems = []
    for version in ("R4B", "R5"):
        outputs: dict[str, str] = {}
        for status in statuses:
            item = Item(group, {"code": "asthma"}, status=status, text_field="code")  # type: ignore[arg-type]
            res: dict[str, Any] = {"resourceType": rtype, "subject": {"reference": "urn:uuid:p"}, "code": {"text": "x"}}
            try:
                values = status_values(item, "", version)
                shaped, section = reshape(res, item, "urn:uuid:p", version)
            except Exception as exc:  # noqa: BLE001 - any failure is a status it does not map
                problems.append(f"{group} {version} {status!r}: {type(exc).__name__} {exc}")
                continue
            out = json.dumps([values, shaped, section], sort_keys=True)
            if out in outputs:
                problems.append(f"{group} {version} {status!r} gives the same output as {outputs[out]!r}")
            outputs[out] = status
    return problems


def test_the_kinds_cover_every_status() -> None:
    kinds = {s for _, _, lit in KINDS for s in get_args(lit)} | set(get_args(VisitStatus)) | {""}
    assert kinds == set(get_args(ItemStatus))


@pytest.mark.parametrize(("group", "rtype", "statuses"), KINDS, ids=[k[0] for k in KINDS])
def test_assembly_maps_every_status(group: str, rtype: str, statuses: Any) -> None:
    assert not _unmapped(group, rtype, get_args(statuses))


def test_the_condition_tables_name_every_status() -> None:
    conditions = set(get_args(ConditionStatus)) - {"family"}  # a relative's condition is a FamilyMemberHistory
    assert set(CONDITION_SECTION) == conditions and set(_CLINICAL) == conditions


def test_the_mapping_check_finds_an_unmapped_status() -> None:
    """The check can fail: a status meaning.py does not know is caught for a condition (it falls back to
    active's output) and a medication (R5's adherence has no entry for it)."""
    for group, rtype, lit in KINDS[:2]:
        found = _unmapped(group, rtype, (*get_args(lit), "bogus"))
        assert found and all("'bogus'" in f for f in found), found
