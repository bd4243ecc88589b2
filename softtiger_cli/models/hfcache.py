"""The Hugging Face cache layout, for files softtiger writes and removes itself.

Same layout as huggingface_hub (`models--org--repo/blobs/<etag>`, `snapshots/<commit>/<file>` -> relative link
to the blob, `refs/<revision>`, locks under `.locks/`), so what softtiger pulls is what `hf cache`,
hf_hub_download and other tools see. Two softtiger additions: unfinished downloads kept as
`blobs/<etag>.incomplete` for resuming, and joined split quants beside the cache (registry.joined_path).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from softtiger_cli.core.errors import DownloadError
from softtiger_cli.models.filecheck import human_bytes
from softtiger_cli.models.registry import ModelSpec, hub_cache_dir, joined_path

SPACE_MARGIN = 200 * 10**6  # keep some room on the disk besides the file itself


def repo_dir(repo: str) -> Path:
    return hub_cache_dir() / ("models--" + repo.replace("/", "--"))


def partial_path(repo: str, etag: str) -> Path:
    """Where an unfinished download of a blob waits to be resumed."""
    return repo_dir(repo) / "blobs" / f"{etag}.incomplete"


def manifest_path(spec: ModelSpec) -> Path:
    """The record of a joined split quant: its parts' names, sizes and sha256."""
    target = joined_path(spec)
    return target.with_name(target.name + ".parts.json")


def check_space(folder: Path, need: int, what: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if need > 0 and free < need + SPACE_MARGIN:
        raise DownloadError(
            f"not enough disk space for {what}: needs {human_bytes(need)}, {human_bytes(free)} free in "
            f"{folder} (free some space, or set HF_HOME / HF_HUB_CACHE to a bigger disk)"
        )


@contextmanager
def locked(lock_path: Path, what: str, say: Callable[[str], None] | None) -> Iterator[None]:
    """The same lock file huggingface_hub takes for this blob, so two downloads never share a partial file."""
    from filelock import Timeout
    from huggingface_hub.utils import WeakFileLock

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with WeakFileLock(lock_path, timeout=0.5):
            yield
            return
    except Timeout:
        pass
    if say:
        say(f"another download of {what} is running; waiting for it to finish")
    with WeakFileLock(lock_path):
        yield


def link_snapshot(blob: Path, pointer: Path) -> None:
    """snapshots/<commit>/<file> -> ../../blobs/<etag>, as huggingface_hub does; a move where links fail."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    if pointer.is_symlink() or pointer.exists():
        pointer.unlink()
    try:
        os.symlink(os.path.relpath(blob, pointer.parent), pointer)
    except OSError:
        os.replace(blob, pointer)


def write_ref(repo: str, revision: str, commit: str) -> None:
    if revision == commit:
        return
    ref = repo_dir(repo) / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_text(commit)


def remove_cached_file(repo: str, filename: str, *, keep: Path | None = None) -> list[tuple[Path, int]]:
    """Drop a file from every snapshot of a repo, and its blob once no snapshot points at it.

    Returns what was deleted and its size. Empty snapshot folders go too; other files are left alone, and so is
    `keep` (the embedded wheel copy) even if a link in the cache points at it.
    """
    rdir = repo_dir(repo)
    snapshots = rdir / "snapshots"
    removed: list[tuple[Path, int]] = []
    if not snapshots.is_dir():
        return removed
    blobs: set[Path] = set()
    for snap in list(snapshots.iterdir()):
        pointer = snap / filename
        if not (pointer.is_symlink() or pointer.exists()):
            continue
        if pointer.is_symlink():
            target = pointer.resolve()
            if target.is_file():
                blobs.add(target)
            pointer.unlink()
            removed.append((pointer, 0))
        else:
            size = pointer.stat().st_size
            pointer.unlink()
            removed.append((pointer, size))
        try:
            snap.rmdir()  # only when now empty
        except OSError:
            pass
    still_used = {p.resolve() for p in snapshots.rglob("*") if p.is_symlink()} if snapshots.is_dir() else set()
    for blob in blobs - still_used:
        if keep is not None and blob == keep.resolve():
            continue
        size = blob.stat().st_size
        blob.unlink()
        removed.append((blob, size))
    _drop_if_empty(rdir)
    return removed


def _drop_if_empty(rdir: Path) -> None:
    """A repo folder with no snapshot and no blob left (not even a partial download) goes, refs and all."""
    snapshots, blobs = rdir / "snapshots", rdir / "blobs"
    if snapshots.is_dir() and any(snapshots.iterdir()):
        return
    if blobs.is_dir() and any(blobs.iterdir()):
        return
    shutil.rmtree(rdir, ignore_errors=True)
