"""`softtiger view` and `structure --html`: pages written from Bundles, one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLES, PINNED_TIMESTAMP, assert_one_line_error, run_cli

DATA = Path(__file__).parent / "data"


def test_view_writes_the_page_beside_the_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "visit.json"
    bundle.write_bytes((DATA / "view-clinic-visit.bundle.json").read_bytes())
    result = run_cli("view", str(bundle))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "visit.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert page.count("data-offset=") >= 10
    assert (tmp_path / "visit.html").stat().st_mode & 0o077 == 0  # owner-only, like every output


@pytest.mark.parametrize("content, why", [(None, "no such file"), (b"{not json", "not JSON"),
                                          (b'{"resourceType": "Patient"}', "not a FHIR Bundle")])
def test_view_refuses_what_is_no_bundle(tmp_path: Path, content: bytes | None, why: str) -> None:
    path = tmp_path / "b.json"
    if content is not None:
        path.write_bytes(content)
    result = run_cli("view", str(path))
    assert_one_line_error(result, 3)
    assert why in result.stderr and not (tmp_path / "b.html").exists()


@pytest.mark.model
def test_structure_html_for_one_note_and_for_a_batch(tmp_path: Path) -> None:
    one = run_cli("structure", str(EXAMPLES / "short-note.txt"), "-o", str(tmp_path / "b.json"), "--html",
                  str(tmp_path / "b.html"), "--timestamp", PINNED_TIMESTAMP, "-q")
    assert one.returncode == 0, one.stderr
    assert "data-offset" in (tmp_path / "b.html").read_text(encoding="utf-8")
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("short-note.txt", "assertions.txt"):
        (notes / name).write_bytes((EXAMPLES / name).read_bytes())
    batch = run_cli("structure", str(notes), "-o", str(tmp_path / "out"), "--html", str(tmp_path / "pages"),
                    "--timestamp", PINNED_TIMESTAMP, "-q")
    assert batch.returncode == 0, batch.stderr
    index = (tmp_path / "pages" / "index.html").read_text(encoding="utf-8")
    for name in ("short-note", "assertions"):
        assert (tmp_path / "pages" / f"{name}.html").is_file() and f"{name}.html" in index
        json.loads((tmp_path / "out" / f"{name}.json").read_text())
