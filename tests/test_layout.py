"""The package layout holds: each stage imports only the floors below it, and a note is analysed once."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, PINNED_TIMESTAMP, REPO

PACKAGE = REPO / "softtiger_cli"
# stage -> the softtiger_cli stages it may import (itself always). Data flows down; nothing reaches back up.
ALLOWED = {
    "core": set(),
    "lang": {"core"},
    "note": {"core", "lang"},
    "clinical": {"core", "lang", "note", "terms"},
    "terms": {"core", "lang"},
    "llm": {"core", "models"},
    "fhir": {"core", "lang", "clinical", "terms"},
    "models": {"core"},
    "pipeline": {"core", "lang", "note", "clinical", "terms", "llm", "fhir"},
    "eval": {"core", "lang", "fhir"},
    "view": {"core"},
    "batch": {"core", "lang", "note", "clinical", "llm", "fhir", "models", "pipeline", "view"},
    "cli": {"core", "lang", "note", "clinical", "terms", "llm", "fhir", "models", "pipeline", "eval", "view", "batch"},
}
UI_LIBRARIES = {"typer", "rich", "click"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """Modules a file imports at run time (imports under `if TYPE_CHECKING:` are types only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            skipped.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _stage_files() -> list[tuple[str, Path]]:
    return [(p.relative_to(PACKAGE).parts[0], p) for p in sorted(PACKAGE.rglob("*.py"))
            if len(p.relative_to(PACKAGE).parts) > 1]


def test_every_module_lives_in_a_known_stage() -> None:
    stages = {stage for stage, _ in _stage_files()}
    assert stages <= set(ALLOWED), stages - set(ALLOWED)
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py"], top


def test_imports_flow_down_the_floors() -> None:
    wrong = []
    for stage, path in _stage_files():
        for module, line in _imports(path):
            parts = module.split(".")
            if parts[0] in UI_LIBRARIES and stage != "cli":
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module} (UI libraries stay in cli/)")
            if parts[0] == "softtiger_cli" and len(parts) > 1 and parts[1] in ALLOWED:
                target = parts[1]
                if target != stage and target not in ALLOWED[stage]:
                    wrong.append(f"{path.relative_to(REPO)}:{line} imports {module} ({stage}/ may not use {target}/)")
    assert not wrong, "\n".join(wrong)


def test_the_contract_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself can fail: a file importing upwards and a UI library is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("import rich\nfrom softtiger_cli.pipeline.run import structure_note\n"
                   "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from softtiger_cli.cli import app\n")
    assert [m for m, _ in _imports(bad)] == ["rich", "softtiger_cli.pipeline.run", "typing"]


def _module_graph(package: Path) -> dict[str, set[str]]:
    """Each module of `package` -> the package's modules it imports anywhere: at the top, inside functions and
    under `if TYPE_CHECKING:` (a cycle of types is still two modules that need each other), absolute or relative."""
    modules: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = [package.name, *path.relative_to(package).with_suffix("").parts]
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def known(name: str) -> str:  # the module a dotted name is, else the package holding it ("" outside)
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(known(a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                found.update(known(f"{base}.{a.name}") if f"{base}.{a.name}" in modules else known(base)
                             for a in node.names)
        graph[name] = found - {"", name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle() -> None:
    """No two modules need each other, not even for types or inside a function: the lower one describes what
    it uses of the upper one (a Protocol), or the shared code lives below both."""
    graph = _module_graph(PACKAGE)
    cycles = [" <-> ".join(c) + ": " + "; ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c)
              for c in _cycles(graph)]
    assert not cycles, "\n".join(cycles)
    assert len(graph) > 100 and graph["softtiger_cli.fhir.assemble.builder"] >= {"softtiger_cli.fhir.assemble.sections"}


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path: Path) -> None:
    """The check can fail: a cycle through a TYPE_CHECKING import, a function-level one and a relative one."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.b import B\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "sub" / "c.py").write_text("import pkg.a\n")
    (pkg / "d.py").write_text("from pkg import a\nimport json\n")
    graph = _module_graph(pkg)
    assert graph == {"pkg": set(), "pkg.a": {"pkg.sub.b"}, "pkg.d": {"pkg.a"}, "pkg.sub": set(),
                     "pkg.sub.b": {"pkg.sub.c"}, "pkg.sub.c": {"pkg.a"}}
    assert _cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.sub.c"]]


def test_no_module_is_overlong() -> None:
    long = [f"{p.relative_to(REPO)}: {n} lines" for _, p in _stage_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 420]
    assert not long, long


@pytest.mark.model
def test_a_note_is_analysed_once_for_all_tasks(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Segmenting, list reading, note-date finding and the grounding index happen once per note, whatever
    the number of tasks and questions."""
    from softtiger_cli.clinical import dates, lists
    from softtiger_cli.note import grounding, reader, sections
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    calls = {"sections": 0, "read_lists": 0, "find_note_date": 0, "Grounder": 0}
    originals = {"sections": sections.sections, "read_lists": lists.read_lists,
                 "find_note_date": dates.find_note_date}

    def counting(name):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return originals[name](*args, **kwargs)
        return wrapper

    for name, original in originals.items():  # wherever a module imported it by name
        for module in [m for n, m in sys.modules.items() if n.startswith("softtiger_cli") and m is not None]:
            if getattr(module, name, None) is original:
                monkeypatch.setattr(module, name, counting(name))
    real_init = grounding.Grounder.__init__

    def init(self, note: str) -> None:
        calls["Grounder"] += 1
        real_init(self, note)

    monkeypatch.setattr(grounding.Grounder, "__init__", init)
    note = reader.read_note(str(EXAMPLES / "clinic-visit.txt"))
    result = structure_note(engine, note, StructureOptions(timestamp=PINNED_TIMESTAMP))
    assert set(result.extraction.tasks) == {"ips", "impression", "encounter"}
    assert len(result.extraction.generations) >= 5  # many questions ...
    assert calls == {"sections": 1, "read_lists": 1, "find_note_date": 1, "Grounder": 1}  # ... one analysis
