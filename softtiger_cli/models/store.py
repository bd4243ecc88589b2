"""What is on disk for each registry model, and the list / verify / rm operations on it.

The CLI renders these results; nothing here prints. Copies softtiger knows about: the HF cache (a pull), the
joined file of a split quant, and the copy embedded in an installed wheel (never deleted by softtiger).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from softtiger_cli.core.errors import DownloadError, ModelError, ModelNotFoundError
from softtiger_cli.models.filecheck import ProgressFn, has_gguf_magic, human_bytes, is_sha256, sha256_file, sha256_ranges
from softtiger_cli.models.hfcache import manifest_path, partial_path, remove_cached_file
from softtiger_cli.models.hub import pull_command
from softtiger_cli.models.registry import (
    ModelSpec,
    Registry,
    cached_file,
    embedded_path,
    fits,
    hub_cache_dir,
    joined_path,
    known_names_hint,
    load_registry,
    pick_for_budget,
)

Location = str  # "cache" | "joined" | "embedded"


def find_spec(name: str, *, budget: int | None = None, registry: Registry | None = None) -> ModelSpec:
    """A model by name or alias, or a family resolved to the quant that fits this machine's memory."""
    registry = registry or load_registry()
    spec = registry.lookup(name)
    if spec is not None:
        return spec
    if name.strip().lower() in registry.families:
        return pick_for_budget(registry, name.strip().lower(), _budget(budget))
    raise ModelError(f"unknown model {name!r}", hint=known_names_hint(registry))


def _budget(budget: int | None) -> int:
    if budget is not None:
        return budget
    from softtiger_cli.models.system import memory_budget

    return memory_budget()


def recommended(registry: Registry, budget: int) -> dict[str, ModelSpec]:
    """Per family, the quant `--model FAMILY` resolves to on this machine."""
    return {fam: pick_for_budget(registry, fam, budget) for fam in registry.families
            if registry.family_members(fam)}


@dataclass(frozen=True)
class OnDisk:
    """Where a model's GGUF is, if anywhere, plus any unfinished download that a pull would resume."""

    spec: ModelSpec
    path: Path | None
    location: Location | None
    partial_bytes: int = 0
    embedded: Path | None = None

    @property
    def present(self) -> bool:
        return self.path is not None


def on_disk(spec: ModelSpec) -> OnDisk:
    """The copy softtiger would load (same order as registry.local_path), and partial downloads."""
    embedded = embedded_path(spec)
    partial = sum(p.stat().st_size for p in _partials(spec))
    if spec.is_split:
        joined = joined_path(spec)
        if joined.is_file():
            return OnDisk(spec, joined, "joined", partial, embedded)
        return OnDisk(spec, None, None, partial, embedded)
    cached = cached_file(spec.repo, spec.files[0])
    if cached is not None:
        return OnDisk(spec, cached, "cache", partial, embedded)
    if embedded is not None:
        return OnDisk(spec, embedded, "embedded", partial, embedded)
    return OnDisk(spec, None, None, partial, embedded)


def _partials(spec: ModelSpec) -> list[Path]:
    """Unfinished downloads we can name offline: LFS blobs are named by their sha256, known from models.toml."""
    found = []
    for digest in spec.sha256:
        if digest:
            part = partial_path(spec.repo, digest.lower())
            if part.is_file():
                found.append(part)
    return found


def list_models(*, budget: int | None = None, registry: Registry | None = None) -> dict:
    """The data behind `models list` (and its --json): every model with its disk state and fit."""
    registry = registry or load_registry()
    budget = _budget(budget)
    picks = {s.name for s in recommended(registry, budget).values()}
    rows = []
    for spec in registry.models.values():
        state = on_disk(spec)
        rows.append({
            "name": spec.name,
            "family": spec.family,
            "quant": spec.quant,
            "params": spec.params,
            "size_bytes": spec.size_bytes,
            "repo": spec.repo,
            "files": list(spec.files),
            "aliases": list(spec.aliases),
            "sha256_known": any(spec.sha256),
            "on_disk": state.present,
            "location": state.location,
            "path": str(state.path) if state.path else None,
            "partial_bytes": state.partial_bytes,
            "default": spec.name == registry.default,
            "recommended": spec.name in picks,
            "memory_needed_bytes": spec.memory_needed(),
            "fits": fits(spec, budget),
        })
    return {
        "cache_dir": str(hub_cache_dir()),
        "memory_budget_bytes": budget,
        "default": registry.default,
        "recommended": {fam: s.name for fam, s in recommended(registry, budget).items()},
        "models": rows,
    }


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class FileCheck:
    """One sha256 comparison; expected None means nothing to compare with."""

    file: str
    found: str
    expected: str | None
    source: str  # "models.toml", "hub etag", "join manifest" or "none"

    @property
    def ok(self) -> bool:
        return self.expected is None or self.expected == self.found


@dataclass
class VerifyReport:
    spec: ModelSpec
    path: Path
    location: Location
    checks: list[FileCheck] = field(default_factory=list)
    gguf_magic: bool = True

    @property
    def status(self) -> str:
        """ok (every hash matched), mismatch, not-gguf, or unchecked (no hash known to compare with)."""
        if any(not c.ok for c in self.checks):
            return "mismatch"
        if not self.gguf_magic:
            return "not-gguf"
        if all(c.expected is None for c in self.checks):
            return "unchecked"
        return "ok"

    def as_dict(self) -> dict:
        return {
            "name": self.spec.name,
            "path": str(self.path),
            "location": self.location,
            "status": self.status,
            "gguf_magic": self.gguf_magic,
            "files": [
                {"file": c.file, "sha256": c.found, "expected": c.expected, "source": c.source, "ok": c.ok}
                for c in self.checks
            ],
        }


def _expected(spec: ModelSpec, index: int, blob_name: str | None) -> tuple[str | None, str]:
    known = spec.expected_sha256(index)
    if known:
        return known.lower(), "models.toml"
    if blob_name and is_sha256(blob_name):
        return blob_name.lower(), "hub etag"
    return None, "none"


def verify(spec: ModelSpec, *, progress: ProgressFn | None = None) -> VerifyReport:
    """Re-hash the copy softtiger would load, streaming, against models.toml or the Hub's sha256."""
    state = on_disk(spec)
    if state.path is None or state.location is None:
        raise ModelNotFoundError(f"model {spec.name} is not on disk; run `{pull_command(spec)}`")
    report = VerifyReport(spec, state.path, state.location, gguf_magic=has_gguf_magic(state.path))
    if state.location == "joined":
        report.checks = _verify_joined(spec, state.path, progress)
        return report
    blob = state.path.resolve().name if state.location == "cache" else None
    expected, source = _expected(spec, 0, blob)
    found = sha256_file(state.path, progress=progress, label=spec.files[0])
    report.checks = [FileCheck(spec.files[0], found, expected, source)]
    return report


def _verify_joined(spec: ModelSpec, path: Path, progress: ProgressFn | None) -> list[FileCheck]:
    try:
        manifest = json.loads(manifest_path(spec).read_text())
        parts = manifest["parts"]
        sizes = [int(p["size"]) for p in parts]
    except (OSError, ValueError, KeyError, TypeError):
        found = sha256_file(path, progress=progress, label=spec.gguf_name)
        return [FileCheck(spec.gguf_name, found, None, "none")]
    if sum(sizes) != path.stat().st_size:
        raise DownloadError(
            f"{path} is {human_bytes(path.stat().st_size)} but its parts add up to {human_bytes(sum(sizes))}; "
            f"run `softtiger models rm {spec.name}` and pull it again"
        )
    hashes = sha256_ranges(path, sizes, progress=progress, label=spec.gguf_name)
    checks = []
    for index, (part, found) in enumerate(zip(parts, hashes)):
        expected, source = _expected(spec, index, None)
        if expected is None and is_sha256(part.get("sha256")):
            expected, source = part["sha256"].lower(), "join manifest"
        checks.append(FileCheck(part.get("file", spec.files[index]), found, expected, source))
    return checks


# ---------------------------------------------------------------- rm


@dataclass
class RemoveReport:
    spec: ModelSpec
    removed: list[Path] = field(default_factory=list)
    freed_bytes: int = 0
    embedded_kept: Path | None = None


def remove(spec: ModelSpec) -> RemoveReport:
    """Delete the model's files from the HF cache (and its joined file); never the embedded wheel copy."""
    report = RemoveReport(spec, embedded_kept=embedded_path(spec))
    protected = report.embedded_kept.resolve() if report.embedded_kept else None
    gone: list[tuple[Path, int]] = []
    if spec.is_split:
        for path in (joined_path(spec), manifest_path(spec)):
            if path.is_file() and path.resolve() != protected:
                size = path.stat().st_size
                path.unlink()
                gone.append((path, size))
    for name in spec.files:
        gone += remove_cached_file(spec.repo, name, keep=report.embedded_kept)
    for part in _partials(spec):
        size = part.stat().st_size
        part.unlink()
        gone.append((part, size))
    report.removed = [p for p, _ in gone]
    report.freed_bytes = sum(size for _, size in gone)
    if not gone and report.embedded_kept is None:
        raise ModelNotFoundError(f"model {spec.name} is not on disk (looked in {hub_cache_dir()}); nothing removed")
    return report
