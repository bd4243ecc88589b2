"""Batch inputs: note files, folders (walked recursively, `--glob`), `-` and `--from-list`, each with the
name its output gets under the store."""

from __future__ import annotations

import os
import posixpath
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from softtiger_cli.core.data import Note
from softtiger_cli.core.errors import InputError, UsageError
from softtiger_cli.note.reader import read_note

DEFAULT_GLOB = "*.txt"

@dataclass
class Source:
    """One note to structure: where it is read from and the name its output gets under the store."""

    label: str  # the path as given (or found), or "<stdin>": what messages name
    path: Path | None  # None: standard input
    rel: PurePosixPath  # the input's name relative to its root; the output is this with a .json suffix
    note: Note | None = None  # standard input, read once

    @property
    def out_rel(self) -> str:
        name = self.rel.name
        stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
        return str(self.rel.with_name(f"{stem or name}.json"))


def safe_rel(name: str) -> PurePosixPath:
    """A relative output name that stays under the store: no root, no `.`; `..` becomes `__`."""
    parts = [p for p in PurePosixPath(posixpath.normpath(name)).parts if p not in ("/", "", ".")]
    parts = ["__" if p == ".." else p for p in parts]
    if not parts:
        raise InputError(f"{name!r}: cannot make an output name from this path")
    return PurePosixPath(*parts)


def _walk(root: Path, pattern: str, exclude: list[Path]) -> list[Path]:
    """Note files under `root` matching `pattern` (on the name, or on the relative path when it has a /).

    Hidden files and folders are skipped, symbolic links to folders are not followed, and the store
    itself (when it lies inside an input folder) is left out. Sorted, so runs and shards are stable.
    """
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(
            n for n in dirnames
            if not n.startswith(".") and not any(same_file(here / n, ex) for ex in exclude)
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            rel = path.relative_to(root).as_posix()
            if fnmatchcase(rel if "/" in pattern else name, pattern):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def read_list(spec: str) -> list[str]:
    """`--from-list FILE|-`: one path per line; blank lines are skipped, line ends stripped."""
    try:
        if spec == "-":
            raw = sys.stdin.buffer.read()
        else:
            raw = Path(spec).read_bytes()
    except OSError as exc:
        raise InputError(f"--from-list {spec}: cannot read ({exc.strerror or type(exc).__name__})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--from-list {spec}: not UTF-8 text") from None
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def collect_sources(notes: list[str], from_list: str | None, glob: str = DEFAULT_GLOB,
                    exclude: list[Path] | None = None) -> list[Source]:
    """Every note named by the arguments and the list, in order, without repeats."""
    exclude = exclude or []
    if notes.count("-") + (from_list == "-") > 1:
        raise UsageError("standard input can be read once: give `-` as a NOTE or as --from-list, not both")
    names = list(notes) + (read_list(from_list) if from_list is not None else [])
    sources: list[Source] = []
    seen: set[str] = set()
    for name in names:
        if name == "-":
            if name in seen:
                continue
            seen.add(name)
            sources.append(Source(label="<stdin>", path=None, rel=PurePosixPath("stdin")))
            continue
        path = Path(name)
        if path.is_dir():
            found = _walk(path, glob, exclude)
            for file in found:
                key = os.path.realpath(file)
                if key not in seen:
                    seen.add(key)
                    sources.append(Source(label=str(file), path=file,
                                          rel=safe_rel(file.relative_to(path).as_posix())))
            continue
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        sources.append(Source(label=name, path=path, rel=safe_rel(name)))
    return sources


def read_source(src: Source, lang: str = "auto") -> Note:
    """The source's note, in `lang` (--lang: auto detects it from the text)."""
    if src.path is None:
        if src.note is None:
            src.note = read_note("-", lang)
        return src.note
    return read_note(str(src.path), lang)
