"""Batches: folders and lists of notes, one bundle per note, NDJSON views, resume after a kill, no escapes.

The model tests run the real tiny GGUF with `--task impression` (one short answer per note) so that 30
notes take about a minute and a half on one thread.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

import pytest

from conftest import PINNED_TIMESTAMP, assert_one_line_error, run_cli
from softtiger_cli.batch.journal import STATE_NAME, Store
from softtiger_cli.batch.sources import Source, collect_sources, safe_rel
from softtiger_cli.fhir.validate import validate_bundle

SYMPTOMS = ["cough", "headache", "knee pain", "fatigue", "rash", "back pain", "dizziness", "sore throat",
            "chest tightness", "abdominal pain"]
ASSESSMENTS = ["viral bronchitis", "tension headache", "osteoarthritis", "iron deficiency anemia",
               "contact dermatitis", "lumbar strain", "benign positional vertigo", "streptococcal pharyngitis",
               "mild asthma", "gastritis"]
BATCH_ARGS = ("--task", "impression", "--timestamp", PINNED_TIMESTAMP)


def _note(i: int) -> str:
    return (f"Clinic visit {i}. The patient reports {SYMPTOMS[i % 10]} for {i % 7 + 2} days.\n"
            f"Assessment: {ASSESSMENTS[i % 10]}.\nPlan: follow up in {i % 3 + 1} weeks.\n")


def _make_notes(root: Path, n: int, folders: int = 3) -> list[str]:
    """n notes spread over sub-folders; returns their paths relative to root (sorted like the walk)."""
    rels = []
    for i in range(n):
        rel = f"site{i % folders}/visit-{i:02d}.txt"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_note(i), encoding="utf-8")
        rels.append(rel)
    return sorted(rels)


def _popen(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "softtiger_cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ))


def _run(*args: str, cwd: Path, input_bytes: bytes | None = None, timeout: float = 600):
    proc = subprocess.run([sys.executable, "-m", "softtiger_cli", *args], cwd=cwd, input=input_bytes,
                          capture_output=True, env=dict(os.environ), timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def _bundles(out: Path) -> dict[str, dict]:
    return {p.relative_to(out).as_posix(): json.loads(p.read_text()) for p in sorted(out.rglob("*.json"))
            if not p.name.startswith(".")}


def _check(bundle: dict) -> None:
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    assert validate_bundle(bundle, "R4B", ips_required=None) == []


def _no_stray_files(out: Path) -> None:
    """Only bundles, the journal and (when asked) NDJSON files: no temp file, nothing half-written."""
    for path in out.rglob("*"):
        if path.is_file():
            assert path.name == STATE_NAME or path.suffix in (".json", ".ndjson"), path
            assert not path.name.endswith(".tmp"), path


# -- no model ----------------------------------------------------------------------------------------

def test_safe_rel_never_leaves_the_folder() -> None:
    assert safe_rel("../../etc/passwd.txt") == PurePosixPath("__/__/etc/passwd.txt")
    assert safe_rel("/abs/notes/a.txt") == PurePosixPath("abs/notes/a.txt")
    assert safe_rel("a/./b/../c.txt") == PurePosixPath("a/c.txt")
    assert safe_rel("a/b/../../../x.txt") == PurePosixPath("__/x.txt")
    for name in ("../../etc/passwd.txt", "/x/../../y.txt", "a/../../../../z"):
        assert ".." not in safe_rel(name).parts and not safe_rel(name).is_absolute()


def test_output_names_mirror_inputs() -> None:
    assert Source("a/b.txt", Path("a/b.txt"), PurePosixPath("a/b.txt")).out_rel == "a/b.json"
    assert Source("n", Path("n"), PurePosixPath("n")).out_rel == "n.json"
    assert Source("x", Path("x"), PurePosixPath("d/x.note.txt")).out_rel == "d/x.note.json"
    assert Source("<stdin>", None, PurePosixPath("stdin")).out_rel == "stdin.json"


def test_collect_walks_folders_with_glob_and_skips_hidden(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    _make_notes(root, 4, folders=2)
    (root / "site0" / "x.gold.json").write_text("{}")
    (root / ".hidden.txt").write_text("hidden")
    (root / ".cache").mkdir()
    (root / ".cache" / "c.txt").write_text("cached")
    out = root / "out"
    out.mkdir()
    (out / "old.txt").write_text("an output folder inside the input folder is not read")
    found = collect_sources([str(root)], None, "*.txt", exclude=[out])
    assert [s.out_rel for s in found] == ["site0/visit-00.json", "site0/visit-02.json",
                                          "site1/visit-01.json", "site1/visit-03.json"]
    assert [s.out_rel for s in collect_sources([str(root)], None, "site1/*")] == \
        ["site1/visit-01.json", "site1/visit-03.json"]
    again = collect_sources([str(root), str(root / "site0" / "visit-00.txt")], None, "*.txt", exclude=[out])
    assert len(again) == 4  # the same file named twice is structured once


def test_list_file_and_stdin_rules(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text("note a")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{a}\n\n{a}\r\n")
    assert len(collect_sources([], str(listing))) == 1
    from softtiger_cli.core.errors import UsageError

    with pytest.raises(UsageError):
        collect_sources(["-"], "-")


def test_journal_survives_a_line_cut_by_a_kill(tmp_path: Path) -> None:
    store = Store(tmp_path / "out")
    path = store.prepare("a/b.json")
    path.write_text("{}\n")
    store.record("a/b.json", "sha-in", "key", "{}\n")
    with open(store.state, "ab") as fh:
        fh.write(b'{"output": "c.json", "input_sha')  # what a SIGKILL mid-append leaves
    store.record("c.json", "sha-c", "key", "[]\n")
    (tmp_path / "out" / "c.json").write_text("[]\n")
    again = Store(tmp_path / "out")
    assert again.current("a/b.json", "sha-in", "key")
    assert again.current("c.json", "sha-c", "key")
    assert not again.current("a/b.json", "sha-other", "key")
    assert not again.current("a/b.json", "sha-in", "other-options")
    path.write_text('{"edited": true}\n')
    assert not Store(tmp_path / "out").current("a/b.json", "sha-in", "key")  # changed on disk: redo


def test_prepare_refuses_symlinked_folders(tmp_path: Path) -> None:
    from softtiger_cli.core.errors import OutputError

    outside = tmp_path / "outside"
    outside.mkdir()
    store = Store(tmp_path / "out")
    (tmp_path / "out" / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutputError, match="symbolic link"):
        store.prepare("evil/x.json")
    (tmp_path / "out" / "planted.json").symlink_to(outside / "victim.json")
    with pytest.raises(OutputError, match="symbolic link"):
        store.prepare("planted.json")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("args", [
    ("a.txt", "b.txt"),  # several notes, nowhere to write
    ("a.txt", "b.txt", "-o", "out/", "--concurrency", "2"),  # concurrency is for a server
    ("-", "--from-list", "-", "-o", "out/"),  # stdin twice
    ("a.txt", "b.txt", "--ndjson", "-", "--split"),  # split files need a folder
    ("a.txt", "b.txt", "-o", "file.json"),  # -o is an existing file
    ("a.txt", "--backend", "openai"),  # no --base-url
], ids=["no-output", "concurrency-local", "stdin-twice", "split-stdout", "out-is-file", "openai-no-url"])
def test_batch_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Patient seen for cough.")
    (tmp_path / "file.json").write_text("{}")
    code, stdout, stderr = _run("structure", *args, cwd=tmp_path, input_bytes=b"")
    assert code == 2, stderr
    assert stderr.count("softtiger: error:") == 1 and "Traceback" not in stderr


def test_folder_without_notes_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    result = run_cli("structure", str(tmp_path / "notes"), "-o", str(tmp_path / "out"))
    assert_one_line_error(result, 3)
    assert not (tmp_path / "out").exists()


def _batch(notes: Path, out: Path, **kwargs):
    """run_batch in this process on scripted answers ("nothing found" for every group): no model."""
    from scripted import ScriptedBackend
    from softtiger_cli.batch.runner import BatchSpec, run_batch
    from softtiger_cli.pipeline.run import StructureOptions

    options = StructureOptions(tasks=("impression",), timestamp=PINNED_TIMESTAMP)
    return run_batch(BatchSpec(sources=collect_sources([str(notes)], None), options=options, key=options.key(),
                               open_engine=ScriptedBackend, out_dir=out, **kwargs))


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_batch_reads_each_note_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concurrency: int) -> None:
    """The plan's read of a note (for the journal's hash) is the one it is structured from; past the limit on
    note text kept, a note is read again at its turn instead, to the same bundle."""
    from softtiger_cli.batch import runner, sources

    rels = _make_notes(tmp_path / "notes", 5)
    reads: list[str] = []
    real = sources.read_note

    def counting(arg: str, lang: str = "auto"):
        reads.append(Path(arg).relative_to(tmp_path / "notes").as_posix())
        return real(arg, lang)

    monkeypatch.setattr(sources, "read_note", counting)
    result = _batch(tmp_path / "notes", tmp_path / "out", concurrency=concurrency)
    assert result.done == 5 and sorted(reads) == rels  # once each
    first = {rel: p.read_bytes() for rel, p in ((r, tmp_path / "out" / r) for r in _bundles(tmp_path / "out"))}
    assert len(first) == 5

    reads.clear()
    assert _batch(tmp_path / "notes", tmp_path / "out").skipped == 5 and sorted(reads) == rels  # hashed, not redone

    reads.clear()
    two = sum(len((tmp_path / "notes" / rel).read_text(encoding="utf-8")) for rel in rels[:2])
    monkeypatch.setattr(runner, "KEPT_NOTES_CHARS", two)  # the first two notes fit
    result = _batch(tmp_path / "notes", tmp_path / "again", concurrency=concurrency)
    assert result.done == 5 and sorted(reads) == sorted(rels + rels[2:])  # the last three are read at their turn
    assert {rel: (tmp_path / "again" / rel).read_bytes() for rel in first} == first


# -- the real tiny model -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def folder30(tmp_path_factory) -> tuple[Path, Path, list[str], str]:
    """30 notes in three sub-folders, structured once for the tests below."""
    base = tmp_path_factory.mktemp("batch30")
    rels = _make_notes(base / "notes", 30)
    started = time.perf_counter()
    code, stdout, stderr = _run("structure", "notes", "-o", "out/", *BATCH_ARGS, "--report", "report.json",
                                cwd=base)
    assert code == 0, stderr
    assert stdout == ""
    return base, base / "out", rels, f"{time.perf_counter() - started:.1f}s\n{stderr}"


@pytest.mark.model
def test_folder_of_30_notes_gives_30_bundles(folder30) -> None:
    base, out, rels, stderr = folder30
    bundles = _bundles(out)
    assert sorted(bundles) == [r.replace(".txt", ".json") for r in rels]
    for bundle in bundles.values():
        _check(bundle)
    for path in out.rglob("*.json"):
        assert (path.stat().st_mode & 0o077) == 0
    _no_stray_files(out)
    report = json.loads((base / "report.json").read_text())
    assert (report["notes"], report["done"], report["skipped"], report["failed"]) == (30, 30, 0, 0)
    assert report["resources"]["ClinicalImpression"] == 30 and report["tokens"]["generated"] > 0
    assert "30 notes: 30 done, 0 skipped, 0 failed" in stderr
    assert "[30/30]" in stderr  # plain progress lines when stderr is not a terminal


@pytest.mark.model
def test_rerun_skips_all_and_builds_ndjson_and_split_views(folder30) -> None:
    base, out, rels, _ = folder30
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.json")}
    code, stdout, stderr = _run("structure", "notes", "-o", "out/", *BATCH_ARGS, "--ndjson", "all.ndjson",
                                "--split", "--report", "again.json", cwd=base, timeout=120)
    assert code == 0, stderr
    assert "loading" not in stderr  # nothing to do: the model is not even loaded
    assert "30 notes: 0 done, 30 skipped, 0 failed" in stderr
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.json")} == before
    lines = (base / "all.ndjson").read_text().splitlines()
    assert len(lines) == 30
    bundles = [json.loads(line) for line in lines]
    assert all(b["resourceType"] == "Bundle" for b in bundles)
    by_file = _bundles(out)
    assert bundles == [by_file[r.replace(".txt", ".json")] for r in rels]  # input order
    expected: dict[str, int] = {}
    for b in bundles:
        for e in b["entry"]:
            expected[e["resource"]["resourceType"]] = expected.get(e["resource"]["resourceType"], 0) + 1
    split = {p.stem: p for p in out.glob("*.ndjson")}
    assert set(split) == set(expected) and {"Patient", "ClinicalImpression", "Device"} <= set(split)
    for rtype, path in split.items():
        resources = [json.loads(line) for line in path.read_text().splitlines()]
        assert all(r["resourceType"] == rtype for r in resources)
        assert len(resources) == expected[rtype]
    # NDJSON on stdout: one Bundle per line, in input order, from the store
    code, stdout, stderr = _run("structure", "notes", "-o", "out/", *BATCH_ARGS, "--ndjson", "-", "-q",
                                cwd=base, timeout=120)
    assert code == 0 and stderr == ""
    assert [json.loads(line) for line in stdout.splitlines()] == bundles


@pytest.mark.model
def test_a_changed_note_is_redone(folder30) -> None:
    base, out, rels, _ = folder30
    note = base / "notes" / rels[0]
    note.write_text(_note(0) + "Blood pressure 150/90.\n")
    code, _, stderr = _run("structure", "notes", "-o", "out/", *BATCH_ARGS, "--report", "r3.json", cwd=base)
    assert code == 0, stderr
    report = json.loads((base / "r3.json").read_text())
    assert (report["done"], report["skipped"]) == (1, 29)
    _check(json.loads((out / rels[0].replace(".txt", ".json")).read_text()))


def _wait_for_outputs(out: Path, proc: subprocess.Popen, n: int = 1, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len([p for p in out.rglob("*.json") if not p.name.startswith(".")]) >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the batch ended early: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no output appeared")


@pytest.mark.model
def test_sigkill_mid_batch_then_rerun_completes(tmp_path: Path) -> None:
    rels = _make_notes(tmp_path / "notes", 6, folders=2)
    out = tmp_path / "out"
    proc = _popen("structure", "notes", "-o", "out/", *BATCH_ARGS, cwd=tmp_path)
    _wait_for_outputs(out, proc)
    # a bundle is renamed into place, then journaled: kill once both are there, so the rerun has a record to
    # trust (a kill between the two is safe too: the rerun redoes that note; under load the test hit it)
    deadline = time.monotonic() + 30
    while not ((out / STATE_NAME).exists() and (out / STATE_NAME).read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()
    present = _bundles(out)  # every visible bundle parses: never half a file
    assert 1 <= len(present) < 6
    for bundle in present.values():
        _check(bundle)
    for path in out.rglob("*"):
        if path.is_file() and path.name != STATE_NAME:
            assert path.suffix == ".json" or (path.name.startswith(".") and path.name.endswith(".tmp")), path
    journaled = len([line for line in (out / STATE_NAME).read_text().splitlines() if line.strip()])
    code, _, stderr = _run("structure", "notes", "-o", "out/", *BATCH_ARGS, "--report", "r.json", cwd=tmp_path)
    assert code == 0, stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["skipped"] >= min(journaled, len(present)) >= 1
    assert report["done"] + report["skipped"] == 6
    final = _bundles(out)
    assert sorted(final) == [r.replace(".txt", ".json") for r in rels]
    for name, bundle in present.items():
        _check(final[name])
    _no_stray_files(out)


@pytest.mark.model
def test_ctrl_c_abandons_the_current_note_and_exits_130(tmp_path: Path) -> None:
    _make_notes(tmp_path / "notes", 4, folders=1)
    out = tmp_path / "out"
    proc = _popen("structure", "notes", "-o", "out/", *BATCH_ARGS, "--report", "r.json", cwd=tmp_path)
    _wait_for_outputs(out, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    stderr = err.decode()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["interrupted"] is True and report["done"] >= 1
    _no_stray_files(out)
    for bundle in _bundles(out).values():
        _check(bundle)
    code, _, stderr = _run("structure", "notes", "-o", "out/", *BATCH_ARGS, "--force", "--report", "r.json",
                           cwd=tmp_path)
    assert code == 0, stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["done"], report["skipped"]) == (4, 0)  # --force redoes what was already done


@pytest.mark.model
def test_names_cannot_escape_the_output_folder_and_failures_do_not_stop_the_batch(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "evil").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "up.txt").write_text(_note(1))
    (work / "evil" / "b.txt").write_text(_note(2))
    (work / "empty.txt").write_text("")
    absolute = tmp_path / "abs.txt"
    absolute.write_text(_note(3))
    out = work / "out"
    out.mkdir()
    (out / "evil").symlink_to(outside, target_is_directory=True)  # a planted link inside DIR
    listing = "../up.txt\nevil/b.txt\nempty.txt\n" + str(absolute) + "\n"
    code, stdout, stderr = _run("structure", "--from-list", "-", "-o", "out", *BATCH_ARGS, "--report", "r.json",
                                cwd=work, input_bytes=listing.encode())
    assert code == 9, stderr
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "up.json").exists()
    assert (out / "__" / "up.json").is_file()
    assert (out / str(absolute.parent).lstrip("/") / "abs.json").is_file()
    report = json.loads((work / "r.json").read_text())
    assert (report["done"], report["failed"]) == (2, 2)
    reasons = {f["input"]: (f["code"], f["reason"]) for f in report["failures"]}
    assert reasons["empty.txt"][0] == 3 and "empty" in reasons["empty.txt"][1]
    assert reasons["evil/b.txt"][0] == 6 and "symbolic link" in reasons["evil/b.txt"][1]
    assert "2 of 4 notes failed" in stderr
    for text in (_note(1), _note(2), _note(3)):  # no note text in any message
        assert text.splitlines()[0] not in stderr and text.splitlines()[0] not in json.dumps(report)


def test_single_note_report_lists_its_failure(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = run_cli("structure", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o.json"),
                     "--report", str(report))
    assert_one_line_error(result, 3)
    data = json.loads(report.read_text())
    assert (data["notes"], data["done"], data["failed"]) == (1, 0, 1)
    assert data["failures"][0]["code"] == 3 and "no such file" in data["failures"][0]["reason"]


def test_single_note_report_counts_its_tokens(tmp_path: Path) -> None:
    """The one-note --report counts what the run summary line says (it printed 0 tokens before)."""
    (tmp_path / "a.txt").write_text(_note(1), encoding="utf-8")
    code, _, stderr = _run("structure", "a.txt", "-o", "a.json", *BATCH_ARGS, "--report", "r.json", cwd=tmp_path)
    assert code == 0, stderr
    tokens = json.loads((tmp_path / "r.json").read_text())["tokens"]
    assert tokens["generated"] > 0 and tokens["prompt"] >= tokens["prompt_evaluated"] > 0
    assert f"{tokens['generated']} tokens generated" in stderr
