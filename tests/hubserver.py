"""A stand-in for the Hugging Face Hub's file endpoints, for tests (the real Hub is unreachable here).

It answers the way huggingface_hub 2.x expects from huggingface.co:
- HEAD/GET {endpoint}/{org}/{repo}/resolve/{revision}/{file}: 302 to a "CDN" URL on another origin
  (http://localhost:PORT/cdn/...; the endpoint is http://127.0.0.1:PORT) carrying X-Repo-Commit,
  X-Linked-Etag (the file's sha256, like LFS files) and X-Linked-Size. No X-Xet-* headers, so no Xet.
  Unknown repo / file: 404 with X-Error-Code RepoNotFound / EntryNotFound, as the Hub does.
- GET/HEAD /cdn/{key}: the bytes, with Range support (206 + Content-Range).
- GET /api/agent-harnesses (huggingface_hub's user-agent probe): an empty registry. Anything else: 404.
Test hooks: drop the connection after N bytes on the next GET of a file, or stall after N bytes until
released (to interrupt a client mid-file); every request is logged with its headers.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

CHUNK = 1024 * 1024


@dataclass
class HubFile:
    data: bytes | memoryview
    commit: str
    etag: str


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Faults:
    drop_after: dict[str, list[int]] = field(default_factory=dict)  # file -> byte counts, one per GET
    stall_after: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    ignore_range: bool = False


class StandInHub:
    """A ThreadingHTTPServer on 127.0.0.1 with a random port, serving registered files from memory."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], HubFile] = {}
        self.requests: list[Logged] = []
        self.faults = Faults()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandInHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.faults.release.set()
        self._server.shutdown()
        self._server.server_close()

    def add(self, repo: str, filename: str, data: bytes | memoryview, *, commit: str | None = None,
            etag: str | None = None) -> HubFile:
        """Serve data as repo/filename; the ETag is its sha256 unless a (lying) one is given."""
        entry = HubFile(
            data=data,
            commit=commit or hashlib.sha1(repo.encode()).hexdigest(),
            etag=etag or hashlib.sha256(data).hexdigest(),
        )
        self.files[(repo, filename)] = entry
        return entry

    def gets(self, filename: str) -> list[Logged]:
        """CDN GETs for a file, in order."""
        return [r for r in self.requests if r.method == "GET" and r.path.startswith("/cdn/")
                and r.path.endswith("/" + quote(filename))]

    def log(self, entry: Logged) -> None:
        with self._lock:
            self.requests.append(entry)


RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
CDN = re.compile(r"^/cdn/(?P<repo>[^/]+/[^/]+)/(?P<file>[^/]+)$")
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _make_handler(hub: StandInHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            path = urlsplit(self.path).path
            hub.log(Logged(self.command, path, dict(self.headers.items())))
            if m := RESOLVE.match(path):
                return self._resolve(unquote(m["repo"]), unquote(m["file"]))
            if m := CDN.match(path):
                return self._cdn(unquote(m["repo"]), unquote(m["file"]), body=body)
            if path == "/api/agent-harnesses":  # huggingface_hub's user-agent probe: an empty registry
                return self._json(b'{"standardEnvVars": [], "harnesses": {}}', body=body)
            self._empty(404, {"X-Error-Code": "RepoNotFound"})

        def _json(self, payload: bytes, *, body: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def _empty(self, status: int, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _resolve(self, repo: str, filename: str) -> None:
            entry = hub.files.get((repo, filename))
            if entry is None:
                commits = [f.commit for (r, _), f in hub.files.items() if r == repo]
                if not commits:
                    return self._empty(404, {"X-Error-Code": "RepoNotFound"})
                return self._empty(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commits[0]})
            cdn = f"http://localhost:{hub.port}/cdn/{quote(repo)}/{quote(filename)}"
            self._empty(302, {
                "Location": cdn,
                "X-Repo-Commit": entry.commit,
                "ETag": f'"{entry.etag}"',
                "X-Linked-Etag": f'"{entry.etag}"',
                "X-Linked-Size": str(len(entry.data)),
            })

        def _cdn(self, repo: str, filename: str, *, body: bool) -> None:
            entry = hub.files.get((repo, filename))
            if entry is None:
                return self._empty(404, {})
            data = entry.data
            total = len(data)
            start = 0
            wanted = self.headers.get("Range")
            m = RANGE.match(wanted or "")
            if m and not hub.faults.ignore_range:
                start = int(m[1])
                end = int(m[2]) if m[2] else total - 1
                if start >= total:
                    return self._empty(416, {"Content-Range": f"bytes */{total}"})
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
                stop = end + 1
            else:
                self.send_response(200)
                stop = total
            self.send_header("Content-Length", str(stop - start))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{entry.etag}"')
            self.end_headers()
            if not body:
                return
            drops = hub.faults.drop_after.get(filename)
            cut = drops.pop(0) if drops else None
            stall = hub.faults.stall_after.pop(filename, None)
            sent = 0
            view = memoryview(data)[start:stop]
            try:
                while sent < len(view):
                    limit = min(x for x in (cut, stall, len(view)) if x is not None)
                    n = min(CHUNK, limit - sent)
                    if n <= 0:
                        break
                    self.wfile.write(view[sent:sent + n])
                    sent += n
                if stall is not None and sent >= stall:
                    self.wfile.flush()
                    hub.faults.release.wait(timeout=60)
                if sent < len(view):  # drop mid-file: close without sending the rest
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

    return Handler
