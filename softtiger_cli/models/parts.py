"""Split quants (`x.gguf.part1of2`, ...): join the parts into one GGUF, checking each part's sha256 on the
way, with a `.parts.json` manifest beside it; atomic (temp file + rename), safe against a second process."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from softtiger_cli.core.errors import DownloadError
from softtiger_cli.models.filecheck import BLOCK_SIZE, ProgressFn, has_gguf_magic
from softtiger_cli.models.hfcache import check_space, locked, manifest_path
from softtiger_cli.models.registry import ModelSpec, joined_path

Say = Callable[[str], None]


def join_parts(spec: ModelSpec, parts: list[Path], *, progress: ProgressFn | None = None,
               say: Say | None = None) -> Path:
    """Concatenate split parts into joined_path(spec), checking each part's sha256 on the way; atomic."""
    target = joined_path(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target.with_name(f".{target.name}.lock"), spec.gguf_name, say):
        for stale in target.parent.glob(f".{target.name}.*.tmp"):  # left by a killed join
            stale.unlink(missing_ok=True)
        return _join(spec, parts, target, progress)


def _join(spec: ModelSpec, parts: list[Path], target: Path, progress: ProgressFn | None) -> Path:
    sizes = [p.stat().st_size for p in parts]
    total = sum(sizes)
    check_space(target.parent, total, spec.gguf_name)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    found: list[str] = []
    whole = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for index, part in enumerate(parts):
                digest = hashlib.sha256()
                with part.open("rb") as fh:
                    while block := fh.read(BLOCK_SIZE):
                        out.write(block)
                        digest.update(block)
                        whole.update(block)
                        done += len(block)
                        if progress:
                            progress("join", spec.gguf_name, done, total)
                expected = spec.expected_sha256(index)
                if expected and digest.hexdigest() != expected.lower():
                    raise DownloadError(
                        f"sha256 mismatch for {spec.files[index]}: expected {expected.lower()}, found "
                        f"{digest.hexdigest()}; not joined (`softtiger models rm {spec.name}`, then pull again)"
                    )
                found.append(digest.hexdigest())
            out.flush()
            os.fsync(out.fileno())
        if not has_gguf_magic(tmp):
            raise DownloadError(f"the joined {spec.gguf_name} does not start like a GGUF file; not kept")
        manifest = {
            "model": spec.name,
            "repo": spec.repo,
            "sha256": whole.hexdigest(),
            "parts": [{"file": f, "size": s, "sha256": h} for f, s, h in zip(spec.files, sizes, found)],
        }
        mtmp = manifest_path(spec).with_suffix(".tmp")
        mtmp.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(mtmp, manifest_path(spec))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
