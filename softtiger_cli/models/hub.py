"""Download GGUF weights into the standard Hugging Face cache, resumably, and check them.

Why not plain `hf_hub_download`: huggingface_hub 2.x streams into a process-unique temporary file that it
deletes when a download fails or is interrupted, so a 40 GB pull cut off by a closed laptop starts again from
zero. This module uses huggingface_hub's own metadata call and HTTP getter (HF_ENDPOINT, token, proxy, offline
mode, in-process retries with Range) but keeps the partial blob at `blobs/<etag>.incomplete` in the repo's
cache folder, so the next pull resumes it with a Range request. The finished file lands in the usual layout
(hfcache.py: `models--org--repo/blobs/<etag>`, `snapshots/<commit>/<file>` -> blob, `refs/main`):
huggingface_hub, `hf cache` and other tools see it, and HF_HOME / HF_HUB_CACHE move it.

Checks: the sha256 is computed while the bytes are written and compared with models.toml (or, when models.toml
has none, with the Hub's LFS ETag, which is the file's sha256). A mismatch discards only the new download.

Split quants (`x.gguf.part1of2`, `x.gguf.part2of2`): each part is downloaded and checked like a file, the
parts are joined (temp file + rename) into registry.joined_path(spec) with a `.parts.json` manifest beside it
(what `verify` uses), and then the parts are removed from the cache so the model does not take twice its size
on disk (keep_parts=True keeps them).

Plain HTTP, never Xet: resuming across processes is what matters on a laptop, and the Hub's resolve redirect
serves Xet-stored files over plain HTTP too.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from softtiger_cli import __version__
from softtiger_cli.core.errors import DownloadError, ModelNotFoundError, SofttigerError
from softtiger_cli.models.filecheck import HashingWriter, ProgressFn, human_bytes, is_sha256
from softtiger_cli.models.hfcache import (
    check_space,
    link_snapshot,
    locked,
    remove_cached_file,
    repo_dir,
    write_ref,
)
from softtiger_cli.models.parts import join_parts
from softtiger_cli.models.registry import ModelSpec, cached_file, hub_cache_dir, joined_path, local_path

DEFAULT_ENDPOINT = "https://huggingface.co"
REVISION = "main"

Say = Callable[[str], None]


def is_offline(offline: bool | None = None) -> bool:
    """An explicit flag wins; otherwise HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), read now, not at import."""
    if offline is not None:
        return offline
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
            return True
    return False


def endpoint() -> str:
    """The Hub to talk to, honouring HF_ENDPOINT (a mirror, or the tests' stand-in server)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def pull_command(spec: ModelSpec) -> str:
    return f"softtiger models pull {spec.name}"


@dataclass(frozen=True)
class RemoteFile:
    """What the Hub's HEAD /resolve said about one file."""

    filename: str
    url: str
    etag: str
    commit: str
    size: int | None

    @property
    def sha256(self) -> str | None:
        """LFS files' ETag is their sha256; a 40-hex git blob id is not."""
        return self.etag.lower() if is_sha256(self.etag) else None


@dataclass
class PullResult:
    spec: ModelSpec
    path: Path
    downloaded: bool
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- huggingface_hub calls


def _headers(download_url: str | None = None) -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    headers = build_hf_headers(library_name="softtiger", library_version=__version__)
    if download_url and urlsplit(download_url).netloc != urlsplit(endpoint()).netloc:
        headers.pop("authorization", None)  # a signed CDN url: the token must not leave the Hub
    return headers


def _network_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for module, name in (("httpx2", "TransportError"), ("httpx", "TransportError"),
                         ("requests", "RequestException")):
        try:
            found.append(getattr(__import__(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _hub_error(exc: BaseException, spec: ModelSpec, filename: str) -> SofttigerError:
    """One line a clinician's IT person can act on, for whatever huggingface_hub raised."""
    from huggingface_hub import errors as hf

    if isinstance(exc, hf.OfflineModeIsEnabled):
        return DownloadError(f"offline mode is on (HF_HUB_OFFLINE); unset HF_HUB_OFFLINE to download {spec.name}")
    if isinstance(exc, hf.GatedRepoError):
        return DownloadError(
            f"{spec.repo} is gated: accept its terms on the Hub, then log in (`hf auth login` or HF_TOKEN)"
        )
    if isinstance(exc, hf.RepositoryNotFoundError):
        return DownloadError(f"repository {spec.repo} not found on {endpoint()} (a private repo needs HF_TOKEN)")
    if isinstance(exc, hf.RevisionNotFoundError):
        return DownloadError(f"revision {REVISION!r} not found in {spec.repo} on {endpoint()}")
    if isinstance(exc, hf.EntryNotFoundError):
        return DownloadError(f"file {filename} not found in {spec.repo} on {endpoint()}")
    if isinstance(exc, hf.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", "?")
        return DownloadError(f"{endpoint()} answered HTTP {status} for {spec.repo}/{filename}")
    return DownloadError(
        f"cannot reach {endpoint()} ({_first_line(exc)}); check the network, proxy or HF_ENDPOINT"
    )


def remote_file(spec: ModelSpec, filename: str, revision: str = REVISION) -> RemoteFile:
    """HEAD the file on the Hub: commit, ETag, size and where to GET it from."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub import errors as hf

    url = hf_hub_url(spec.repo, filename, revision=revision, endpoint=endpoint())
    try:
        meta = get_hf_file_metadata(url, headers=_headers(), endpoint=endpoint())
    except (hf.HfHubHTTPError, hf.OfflineModeIsEnabled, *_network_errors()) as exc:
        raise _hub_error(exc, spec, filename) from None
    if not meta.commit_hash or not meta.etag:
        raise DownloadError(
            f"{endpoint()} does not answer like the Hugging Face Hub (no X-Repo-Commit or ETag for "
            f"{spec.repo}/{filename}); check HF_ENDPOINT and any proxy"
        )
    return RemoteFile(filename, meta.location or url, meta.etag, meta.commit_hash, meta.size)


class _SilentBar:
    """Stands in for tqdm inside huggingface_hub: progress is reported by HashingWriter instead."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _SayHandler(logging.Handler):
    """huggingface_hub's warnings (e.g. a dropped connection it is resuming) as one-line messages."""

    def __init__(self, say: Say) -> None:
        super().__init__(logging.WARNING)
        self._say = say

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Trying to resume" in message:
            self._say("the connection dropped; resuming the download where it stopped")
        else:
            self._say("huggingface_hub: " + (message.strip().splitlines() or [""])[0])


@contextmanager
def _hf_warnings_to(say: Say | None) -> Iterator[None]:
    if say is None:
        yield
        return
    logger = logging.getLogger("huggingface_hub")  # it has its own stderr handler: swap it out meanwhile
    handlers, propagate = logger.handlers[:], logger.propagate
    logger.handlers = [_SayHandler(say)]
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = handlers, propagate


def _http_get(url: str, writer: HashingWriter, *, resume_size: int, expected_size: int | None,
              filename: str) -> None:
    from huggingface_hub import file_download

    kwargs: dict[str, object] = {}
    params = inspect.signature(file_download.http_get).parameters
    if "tqdm_class" in params:
        kwargs["tqdm_class"] = _SilentBar
    if "displayed_filename" in params:
        kwargs["displayed_filename"] = filename
    file_download.http_get(
        url, writer, resume_size=resume_size, headers=_headers(url), expected_size=expected_size, **kwargs
    )


# ---------------------------------------------------------------- download


def _download_failure(exc: Exception, remote: RemoteFile, part: Path) -> SofttigerError | None:
    """One line for a failed GET; the partial file is kept (resumable) unless it is longer than the file."""
    from huggingface_hub import errors as hf

    got = part.stat().st_size if part.exists() else 0
    if remote.size is not None and got > remote.size:
        part.unlink(missing_ok=True)
    if isinstance(exc, OSError) and "Consistency check failed" in str(exc):
        return DownloadError(
            f"{remote.filename}: the server sent {human_bytes(got)} but announced {human_bytes(remote.size)}; "
            "run the pull again to resume"
        )
    if isinstance(exc, (hf.HfHubHTTPError, hf.OfflineModeIsEnabled, *_network_errors())):
        return DownloadError(
            f"download of {remote.filename} stopped at {human_bytes(got)} of {human_bytes(remote.size)} "
            f"({_first_line(exc)}); run the same pull again to resume"
        )
    if isinstance(exc, OSError):
        return DownloadError(f"cannot write {part}: {exc.strerror or _first_line(exc)}")
    if isinstance(exc, ValueError) and "too large" in str(exc):
        return DownloadError(f"{remote.filename} is too large for a plain HTTP download ({_first_line(exc)})")
    return None


def _download_blob(remote: RemoteFile, blob: Path, expected: str | None,
                   progress: ProgressFn | None, say: Say | None) -> str:
    """GET the file into blobs/<etag>.incomplete (resuming it), check its sha256, then move it into place."""
    part = blob.with_name(blob.name + ".incomplete")
    have = part.stat().st_size if part.exists() else 0
    if remote.size is not None and have > remote.size:
        part.unlink()
        have = 0
    check_space(part.parent, (remote.size or 0) - have, remote.filename)
    if have and say:
        say(f"resuming {remote.filename} at {human_bytes(have)} of {human_bytes(remote.size)}")

    def wrote(done: int) -> None:
        if progress:
            progress("download", remote.filename, done, remote.size)

    def rehashed(done: int, total: int) -> None:
        if progress:
            progress("verify", f"{remote.filename} (kept part)", done, total)

    try:
        writer = HashingWriter(part, on_write=wrote, on_rehash=rehashed)
        with writer:
            wrote(have)
            with _hf_warnings_to(say):
                _http_get(remote.url, writer, resume_size=have, expected_size=remote.size,
                          filename=remote.filename)
            found = writer.hexdigest()
            writer.close()
    except KeyboardInterrupt:
        raise  # the partial file stays for the next pull to resume
    except SofttigerError:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped to one line, or re-raised when not understood
        mapped = _download_failure(exc, remote, part)
        if mapped is None:
            raise
        raise mapped from None
    want = expected or remote.sha256
    if want and found != want.lower():
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"sha256 mismatch for {remote.filename}: expected {want.lower()}, found {found}; "
            "the download was discarded and nothing you had was changed"
        )
    os.replace(part, blob)
    return found


def fetch_file(spec: ModelSpec, index: int, *, force: bool = False, progress: ProgressFn | None = None,
               say: Say | None = None, revision: str = REVISION) -> Path:
    """One file of a model in the HF cache: the cached copy, or a checked (resumed) download."""
    filename = spec.files[index]
    if not force:
        cached = cached_file(spec.repo, filename)
        if cached is not None:
            return cached
    remote = remote_file(spec, filename, revision)
    expected = spec.expected_sha256(index)
    if expected and remote.sha256 and remote.sha256 != expected.lower():
        raise DownloadError(
            f"sha256 mismatch for {filename}: expected {expected.lower()} (models.toml), found {remote.sha256} "
            "(the Hub's ETag); nothing was downloaded and nothing you had was changed"
        )
    rdir = repo_dir(spec.repo)
    blob = rdir / "blobs" / remote.etag
    pointer = rdir / "snapshots" / remote.commit / filename
    if pointer.is_file() and not force:
        write_ref(spec.repo, revision, remote.commit)
        return pointer
    lock = hub_cache_dir() / ".locks" / rdir.name / f"{remote.etag}.lock"
    with locked(lock, filename, say):
        if force or not blob.is_file():
            _download_blob(remote, blob, expected, progress, say)
        link_snapshot(blob, pointer)
        write_ref(spec.repo, revision, remote.commit)
    return pointer


def pull(spec: ModelSpec, *, force: bool = False, keep_parts: bool = False, offline: bool | None = None,
         progress: ProgressFn | None = None, say: Say | None = None) -> PullResult:
    """Make the model's GGUF present in the HF cache (an embedded copy does not count): download, check, join."""
    if not force:
        have = joined_path(spec) if spec.is_split else cached_file(spec.repo, spec.files[0])
        if have is not None and have.is_file():
            return PullResult(spec, have, downloaded=False)
    if is_offline(offline):
        raise DownloadError(f"offline mode is on (HF_HUB_OFFLINE); unset HF_HUB_OFFLINE to download {spec.name}")
    notes: list[str] = []
    if not any(spec.sha256):
        notes.append("models.toml has no sha256 for it: checked against the Hub's own sha256 (ETag) instead")
    if not spec.is_split:
        path = fetch_file(spec, 0, force=force, progress=progress, say=say)
        return PullResult(spec, path, downloaded=True, notes=notes)
    parts = [fetch_file(spec, i, force=force, progress=progress, say=say) for i in range(len(spec.files))]
    target = join_parts(spec, parts, progress=progress, say=say)
    if keep_parts:
        notes.append("kept the split parts in the cache (--keep-parts)")
    else:
        freed = sum(size for f in spec.files for _, size in remove_cached_file(spec.repo, f))
        notes.append(f"joined the parts and removed them from the cache ({human_bytes(freed)} freed)")
    return PullResult(spec, target, downloaded=True, notes=notes)


def ensure_local(spec: ModelSpec, *, offline: bool | None = None, progress: ProgressFn | None = None,
                 say: Say | None = None) -> Path:
    """The on-disk GGUF for a model, downloading it first when allowed; for `structure` and friends."""
    found = local_path(spec)
    if found is not None:
        return found
    if is_offline(offline):
        raise ModelNotFoundError(
            f"model {spec.name} is not on disk (looked in {hub_cache_dir()}) and offline mode is on; "
            f"run `{pull_command(spec)}` while online"
        )
    if say:
        say(
            f"model {spec.name} is not on disk: downloading {human_bytes(spec.size_bytes)} from "
            f"{endpoint()}/{spec.repo} into {hub_cache_dir()}"
        )
    return pull(spec, offline=False, progress=progress, say=say).path
