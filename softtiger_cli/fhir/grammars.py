"""The committed grammars: grammars/<version>/<task>.schema.json and .gbnf, generated from FHIR schemas.

`softtiger grammar build` writes them; `softtiger grammar check` fails when a committed file differs from
what the code derives (someone edited a grammar by hand, or fhir.resources changed underneath).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from softtiger_cli.core.errors import GrammarError
from softtiger_cli.fhir.model import FHIR_VERSIONS
from softtiger_cli.fhir.gbnf import schema_to_gbnf
from softtiger_cli.core.paths import grammars_dir
from softtiger_cli.fhir.schema import TASKS, task_schema


@dataclass(frozen=True)
class GrammarFiles:
    version: str
    task: str
    schema_text: str
    gbnf_text: str

    @property
    def schema(self) -> dict:
        return json.loads(self.schema_text)


def derive(version: str, task: str) -> GrammarFiles:
    """Derive the schema and GBNF for one task and FHIR version, as text ready to commit."""
    schema = task_schema(version, TASKS[task])
    schema_text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return GrammarFiles(version, task, schema_text, schema_to_gbnf(schema))


def file_paths(root: Path, version: str, task: str) -> tuple[Path, Path]:
    return root / version / f"{task}.schema.json", root / version / f"{task}.gbnf"


def build_all(root: Path | None = None) -> list[Path]:
    root = root or grammars_dir()
    written = []
    for version in FHIR_VERSIONS:
        for task in TASKS:
            files = derive(version, task)
            schema_path, gbnf_path = file_paths(root, version, task)
            schema_path.parent.mkdir(parents=True, exist_ok=True)
            for path, text in ((schema_path, files.schema_text), (gbnf_path, files.gbnf_text)):
                path.write_text(text, encoding="utf-8")
                written.append(path)
    return written


def check_all(root: Path | None = None) -> list[str]:
    """Files that are missing or differ from what the code derives."""
    root = root or grammars_dir()
    stale = []
    for version in FHIR_VERSIONS:
        for task in TASKS:
            files = derive(version, task)
            for path, text in zip(file_paths(root, version, task), (files.schema_text, files.gbnf_text)):
                if not path.is_file():
                    stale.append(f"{path} is missing")
                elif path.read_text(encoding="utf-8") != text:
                    stale.append(f"{path} differs from the derived grammar")
    return stale


def load(version: str, task: str, root: Path | None = None) -> GrammarFiles:
    """The committed grammar files for a task (what runs is what is committed and checked)."""
    if version not in FHIR_VERSIONS:
        raise GrammarError(f"unknown FHIR version {version!r}; use one of {', '.join(FHIR_VERSIONS)}")
    if task not in TASKS:
        raise GrammarError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    schema_path, gbnf_path = file_paths(root or grammars_dir(), version, task)
    try:
        return GrammarFiles(version, task, schema_path.read_text(encoding="utf-8"), gbnf_path.read_text(encoding="utf-8"))
    except OSError:
        raise GrammarError(f"grammar files for {task} ({version}) are missing; run `softtiger grammar build`") from None
