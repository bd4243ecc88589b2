"""The model registry (models.toml): names, aliases, families, files and where they are on disk."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from softtiger_cli.core.errors import ModelError, ModelNotFoundError
from softtiger_cli.core.paths import models_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROMPT_FORMATS = ("tigerbot", "chat-template")
KV_BYTES_PER_VALUE = 2  # f16 KV cache
OVERHEAD_BYTES = 600 * 10**6  # compute buffers, scratch, Python


@dataclass(frozen=True)
class ModelSpec:
    """One GGUF quant that softtiger knows how to fetch and run."""

    name: str
    family: str
    quant: str
    params: str
    repo: str
    files: tuple[str, ...]
    size_bytes: int
    n_ctx: int
    prompt_format: str
    n_layer: int
    n_embd_kv: int
    aliases: tuple[str, ...] = ()
    sha256: tuple[str | None, ...] = ()
    imatrix: bool = False
    embedded_package: str | None = None
    embedded_file: str | None = None

    @property
    def is_split(self) -> bool:
        return len(self.files) > 1

    @property
    def gguf_name(self) -> str:
        """The single GGUF file name; split parts are joined into this name."""
        return self.files[0].split(".gguf")[0] + ".gguf"

    def expected_sha256(self, index: int = 0) -> str | None:
        if index < len(self.sha256):
            return self.sha256[index] or None
        return None

    def memory_needed(self, n_ctx: int | None = None) -> int:
        """Weights + f16 KV cache for the context + a fixed overhead, in bytes."""
        ctx = n_ctx or self.n_ctx
        kv = 2 * self.n_layer * self.n_embd_kv * ctx * KV_BYTES_PER_VALUE
        return self.size_bytes + kv + OVERHEAD_BYTES


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    preference: tuple[str, ...]


@dataclass(frozen=True)
class Registry:
    default: str
    models: dict[str, ModelSpec]
    families: dict[str, Family] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.models)

    def lookup(self, name: str) -> ModelSpec | None:
        """A model by exact name or alias (case-insensitive); None when unknown."""
        key = name.strip().lower()
        if key in self.models:
            return self.models[key]
        for spec in self.models.values():
            if key in spec.aliases:
                return spec
        return None

    def family_members(self, family: str) -> list[ModelSpec]:
        fam = self.families[family]
        return [self.models[n] for n in fam.preference if n in self.models]


def _spec_from_table(name: str, table: dict) -> ModelSpec:
    embedded = table.get("embedded") or {}
    fmt = table.get("prompt_format", "chat-template")
    if fmt not in PROMPT_FORMATS:
        raise ModelError(f"models.toml: model {name!r} has unknown prompt_format {fmt!r}")
    return ModelSpec(
        name=name,
        family=table.get("family", name),
        quant=table["quant"],
        params=table.get("params", "?"),
        repo=table["repo"],
        files=tuple(table["files"]),
        size_bytes=int(table["size_bytes"]),
        n_ctx=int(table.get("n_ctx", 4096)),
        prompt_format=fmt,
        n_layer=int(table.get("n_layer", 32)),
        n_embd_kv=int(table.get("n_embd_kv", 4096)),
        aliases=tuple(a.lower() for a in table.get("aliases", ())),
        sha256=tuple((s or None) for s in table.get("sha256", ())),
        imatrix=bool(table.get("imatrix", False)),
        embedded_package=embedded.get("package"),
        embedded_file=embedded.get("file"),
    )


def parse_registry(text: str) -> Registry:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"models.toml does not parse: {exc}") from None
    models = {n.lower(): _spec_from_table(n.lower(), t) for n, t in data.get("models", {}).items()}
    families = {
        n: Family(n, t.get("description", ""), tuple(t.get("preference", ())))
        for n, t in data.get("families", {}).items()
    }
    default = data.get("default", next(iter(models), ""))
    if default not in models:
        raise ModelError(f"models.toml: default model {default!r} is not listed")
    return Registry(default=default, models=models, families=families)


@lru_cache(maxsize=4)
def _load_registry(path: str) -> Registry:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read the model registry {path}: {exc.strerror}") from None
    return parse_registry(text)


def load_registry() -> Registry:
    return _load_registry(str(models_toml()))


def embedded_path(spec: ModelSpec) -> Path | None:
    """The GGUF shipped inside an installed wheel, found without importing the package."""
    if not (spec.embedded_package and spec.embedded_file):
        return None
    try:
        found = importlib.util.find_spec(spec.embedded_package)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        candidate = Path(location) / spec.embedded_file
        if candidate.is_file():
            return candidate
    return None


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, honouring HF_HUB_CACHE and HF_HOME at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def joined_path(spec: ModelSpec) -> Path:
    """Where the joined file of a split quant lives (beside the hub cache, outside its layout)."""
    return hub_cache_dir().parent / "softtiger" / "joined" / spec.gguf_name


def cached_file(repo: str, filename: str) -> Path | None:
    """A file of a repo in the HF cache layout (any snapshot, newest first), if present."""
    repo_dir = hub_cache_dir() / ("models--" + repo.replace("/", "--"))
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo_dir / "refs" / "main"
    order: list[Path] = []
    if ref.is_file():
        order.append(snapshots / ref.read_text().strip())
    order += sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for snap in order:
        candidate = snap / filename
        if candidate.is_file():
            return candidate
    return None


def local_path(spec: ModelSpec) -> Path | None:
    """The model's GGUF on disk: the HF cache first (a user's pull wins), then the embedded copy."""
    if spec.is_split:
        joined = joined_path(spec)
        return joined if joined.is_file() else None
    cached = cached_file(spec.repo, spec.files[0])
    if cached is not None:
        return cached
    return embedded_path(spec)


def fits(spec: ModelSpec, budget_bytes: int) -> bool:
    return spec.memory_needed() <= budget_bytes


def pick_for_budget(registry: Registry, family: str, budget_bytes: int) -> ModelSpec:
    """The best quant of a family that fits the memory budget, else the smallest one."""
    members = registry.family_members(family)
    if not members:
        raise ModelError(f"model family {family!r} lists no quants in models.toml")
    for spec in members:
        if fits(spec, budget_bytes):
            return spec
    return min(members, key=lambda s: s.size_bytes)


@dataclass(frozen=True)
class ResolvedModel:
    """What `--model` named: a registry entry, a path, or both."""

    spec: ModelSpec | None
    path: Path | None
    label: str

    @property
    def prompt_format(self) -> str:
        return self.spec.prompt_format if self.spec else "auto"


def known_names_hint(registry: Registry) -> str:
    fams = ", ".join(registry.families)
    shown = ", ".join(sorted(registry.names())[:8])
    return f"families: {fams}; models: {shown}, ... (see `softtiger models list`)"


def resolve_model(name: str | None, *, memory_budget: int | None = None) -> ResolvedModel:
    """Turn a --model value into a spec and, when on disk, a path. Raises with a helpful hint."""
    registry = load_registry()
    requested = (name or registry.default).strip()
    if requested.lower().endswith(".gguf") or os.sep in requested or requested.startswith("."):
        path = Path(requested).expanduser()
        if not path.exists():
            raise ModelNotFoundError(f"model file not found: {requested}")
        if path.is_dir():
            raise ModelError(f"model path is a directory, not a .gguf file: {requested}")
        return ResolvedModel(spec=None, path=path, label=path.name)
    spec = registry.lookup(requested)
    if spec is None and requested.lower() in registry.families:
        from softtiger_cli.models.system import memory_budget as detect_budget

        budget = memory_budget if memory_budget is not None else detect_budget()
        spec = pick_for_budget(registry, requested.lower(), budget)
    if spec is None:
        raise ModelError(
            f"unknown model {requested!r}", hint=known_names_hint(registry)
        )
    return ResolvedModel(spec=spec, path=local_path(spec), label=spec.name)
