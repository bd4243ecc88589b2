"""Evidence view in a real headless Chromium (Debian's `chromium`), driven over the DevTools protocol.

The driver talks CDP over `--remote-debugging-pipe` (file descriptors 3 and 4, NUL-separated JSON), so it
needs nothing but the standard library and the browser binary: no driver download, no websocket package.
Skips, saying why, only when no Chromium binary is installed (.ci/run installs Debian's).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from softtiger_cli.view import read_spans, render_bundle
from test_view import CLINIC, cond, make_bundle

BROWSER = next((p for p in (os.environ.get("SOFTTIGER_CHROMIUM"), shutil.which("chromium"),
                            shutil.which("chromium-browser"), shutil.which("google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium binary (apt-get install chromium, or set SOFTTIGER_CHROMIUM): "
                            "the evidence-view browser tests need a real browser")


class Chromium:
    """A headless Chromium and one page, over the DevTools pipe; records console errors, network
    requests and JavaScript dialogs (an alert() would mean injected script ran)."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="softtiger-view-")
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        hi_r, hi_w = (fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10))

        def fds() -> None:  # in the child: the browser reads fd 3 and writes fd 4
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [binary, "--headless", "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--force-color-profile=srgb",
                "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(args, preexec_fn=fds, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_child_r, from_child_w, hi_r, hi_w):
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.page(f"{domain}.enable")

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._event(reply)

    def _event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event.get("method") == "Page.javascriptDialogOpening":  # dismiss it, keep the record
            os.write(self._w, json.dumps({"id": -1, "sessionId": event.get("sessionId"),
                                          "method": "Page.handleJavaScriptDialog",
                                          "params": {"accept": False}}).encode() + b"\0")

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, session=self.session, **params)

    def wait_event(self, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.events)
        while not any(e.get("method") == name for e in self.events[start:]):
            self._event(self._read(deadline))

    def open(self, url: str) -> None:
        self.events.clear()
        self.page("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(str(p.get("exceptionDetails", {}).get("text")))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(str(p.get("args")))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append(str(p["entry"].get("text")))
            elif m == "Page.javascriptDialogOpening":
                out.append("dialog: " + str(p.get("message")))
        return out

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    assert BROWSER is not None
    b = Chromium(BROWSER)
    b.page("Emulation.setDeviceMetricsOverride", width=1200, height=800, deviceScaleFactor=1, mobile=False)
    yield b
    b.close()


def write_page(tmp_path: Path, bundle: dict[str, Any], name: str = "view.html") -> str:
    path = tmp_path / name
    path.write_text(render_bundle(bundle), encoding="utf-8")
    return path.as_uri()


def png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and pixel rows of an 8-bit RGB/RGBA PNG (a tiny decoder: zlib plus unfiltering)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        n = int.from_bytes(png[pos:pos + 4], "big")
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = body[0:4], body[4:8], body[8], body[9]
            width, height = int.from_bytes(width, "big"), int.from_bytes(height, "big")
            assert depth == 8 and ctype in (2, 6) and body[12] == 0, "only 8-bit RGB(A), not interlaced"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]


NOTE = ("Date of visit: 2026-03-14\r\n\r\nMs. Zoë Ñúñez, 62 😷, has hypertension and type 2 diabetes mellitus.\r\n"
        "She denies chest pain. Her mother had breast cancer.\r\nPlan: start amoxicillin; chest x-ray today.\r\n")


def _at(text: str, length: int | None = None) -> tuple[int, int]:
    return NOTE.index(text), length or len(text)


def sample_bundle() -> dict[str, Any]:
    items = [
        (cond("hypertension"), [_at("hypertension")]),
        (cond("type 2 diabetes mellitus"), [_at("type 2 diabetes mellitus")]),
        (cond("diabetes"), [_at("diabetes")]),  # nested
        (cond("mellitus.\r\nShe", ), [_at("mellitus.\r\nShe")]),  # crosses the CRLF and overlaps
        (cond("chest pain", verificationStatus={"coding": [{"code": "refuted"}]}), [_at("chest pain")]),
        ({"resourceType": "FamilyMemberHistory", "relationship": {"text": "mother"},
          "condition": [{"code": {"text": "breast cancer"}}]}, [_at("breast cancer")]),
        ({"resourceType": "MedicationRequest", "intent": "plan", "status": "active",
          "medicationCodeableConcept": {"text": "amoxicillin"}}, [_at("amoxicillin")]),
        ({"resourceType": "ServiceRequest", "status": "active", "code": {"text": "chest x-ray"}}, [_at("chest x-ray")]),
        ({"resourceType": "Patient", "name": [{"text": "Zoë Ñúñez"}]}, [_at("Zoë Ñúñez"), _at("😷")]),
        (cond("to the end"), [(len(NOTE) - 8, 8)]),
        (cond("from the start"), [(0, 4)]),
    ]
    return make_bundle(NOTE, items, composition=True)


def bundle_spans(bundle: dict[str, Any]) -> set[tuple[str, int, int]]:
    return {(e.get("fullUrl"), s.offset, s.length) for e in bundle["entry"]
            for s in read_spans(e["resource"], e.get("fullUrl"))}


PIECES_JS = """JSON.stringify(Array.from(document.querySelectorAll('#note mark.hl')).map(m =>
  [m.dataset.resource, +m.dataset.offset, +m.dataset.length, m.textContent]))"""


def check_highlights(browser: Chromium, bundle: dict[str, Any], note: str) -> int:
    joined: dict[tuple[str, int, int], str] = {}
    for res, off, ln, text in json.loads(browser.js(PIECES_JS)):
        joined[(res, off, ln)] = joined.get((res, off, ln), "") + text
    assert set(joined) == bundle_spans(bundle)
    for (_, off, ln), text in joined.items():
        assert text == note[off:off + ln]
    assert browser.js("document.getElementById('note').textContent") == note
    return len(joined)


def test_page_loads_offline_with_highlights_matching_the_note(browser: Chromium, tmp_path: Path) -> None:
    bundle = sample_bundle()
    url = write_page(tmp_path, bundle)
    browser.open(url)
    assert browser.errors() == []
    assert browser.requests() == [url]  # the file itself, nothing else
    assert check_highlights(browser, bundle, NOTE) == 12
    # The hashed script ran under the CSP (it moves native titles aside) and the hashed CSS applied.
    assert browser.js("document.querySelectorAll('mark.hl[title]').length") == 0
    assert browser.js("getComputedStyle(document.querySelector('mark.k-problem')).backgroundColor") == "rgb(253, 226, 225)"
    assert browser.js("getComputedStyle(document.querySelector('mark.s-refuted')).textDecorationLine") == "line-through"
    assert browser.js("getComputedStyle(document.querySelector('mark.s-family')).outlineStyle") == "dashed"


def test_keyboard_focus_and_panel_link_show_the_resource(browser: Chromium, tmp_path: Path) -> None:
    browser.open(write_page(tmp_path, sample_bundle()))
    browser.js("document.querySelector('mark.s-refuted').focus()")
    assert browser.js("document.getElementById('pop').hidden") is False
    text = browser.js("document.getElementById('pop').textContent")
    assert "chest pain" in text and "refuted" in text and "match: exact" in text and "from: list" in text
    browser.js("document.activeElement.blur()")
    assert browser.js("document.getElementById('pop').hidden") is True
    browser.js("document.querySelector('#panel a.jump[href=\"#span-1\"]').click()")
    assert browser.js("document.activeElement.id") == "span-1"
    assert browser.js("document.activeElement.tagName") == "MARK"
    assert browser.errors() == []


def test_note_with_html_and_script_renders_as_text(browser: Chromium, tmp_path: Path) -> None:
    note = "<script>alert(1)</script></div><img src=x onerror=alert(2)><b>bold</b> & done"
    evil = cond('<script>alert(3)</script>', note=[{"text": "</div><script>alert(4)</script>"}])
    bundle = make_bundle(note, [(evil, [(0, 8)]), (cond("img"), [(note.index("<img"), 30)])], composition=True)
    url = write_page(tmp_path, bundle)
    browser.open(url)
    assert browser.errors() == []  # no dialog, no CSP violation
    assert browser.requests() == [url]  # the <img> was not parsed, so nothing was fetched
    assert browser.js("document.querySelectorAll('script').length") == 1
    assert browser.js("document.querySelectorAll('img, b').length") == 0
    assert "<script>alert(1)</script></div>" in browser.js("document.body.textContent")
    check_highlights(browser, bundle, note)


def test_works_without_javascript_and_prints(browser: Chromium, tmp_path: Path) -> None:
    url = write_page(tmp_path, sample_bundle())
    browser.page("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.open(url)
        assert browser.errors() == []
        got = browser.page("Runtime.evaluate", expression="document.querySelectorAll('mark.hl[title]').length",
                           returnByValue=True)
        assert got["result"]["value"] > 0  # evaluate still runs; the page's own script did not
    finally:
        browser.page("Emulation.setScriptExecutionDisabled", value=False)
    browser.open(url)
    browser.page("Emulation.setEmulatedMedia", media="print")
    try:
        assert browser.js("getComputedStyle(document.getElementById('pop')).display") == "none"
        assert browser.js("getComputedStyle(document.getElementById('panel')).position") == "static"
        assert browser.js("getComputedStyle(document.querySelector('mark.hl')).borderTopStyle") == "solid"
        pdf = base64.b64decode(browser.page("Page.printToPDF")["data"])
        assert pdf.startswith(b"%PDF")
    finally:
        browser.page("Emulation.setEmulatedMedia", media="")


def test_screenshot_is_not_blank(browser: Chromium, tmp_path: Path) -> None:
    browser.open(write_page(tmp_path, sample_bundle()))
    shot = browser.page("Page.captureScreenshot", format="png",
                        clip={"x": 0, "y": 0, "width": 1200, "height": 800, "scale": 0.5})
    png = base64.b64decode(shot["data"])
    (tmp_path / "shot.png").write_bytes(png)
    width, height, pixels = png_pixels(png)
    assert (width, height) == (600, 400)
    colours = set(pixels)
    non_white = sum(1 for p in pixels if min(p) < 235) / len(pixels)
    assert len(colours) > 50, f"only {len(colours)} colours"
    assert non_white > 0.05, f"only {non_white:.1%} of the screenshot is not white"
    # the kind colours are on screen: the problem fill and the plan (service request) fill
    assert b"\xfd\xe2\xe1" in colours and b"\xfb\xe0\xef" in colours


def test_clinic_visit_bundle_in_the_browser(browser: Chromium, tmp_path: Path) -> None:
    bundle = json.loads(CLINIC.read_text(encoding="utf-8"))
    note = base64.b64decode(next(e["resource"]["content"][0]["attachment"]["data"] for e in bundle["entry"]
                                 if e["resource"]["resourceType"] == "DocumentReference")).decode("utf-8")
    url = write_page(tmp_path, bundle)
    browser.open(url)
    assert browser.errors() == [] and browser.requests() == [url]
    assert check_highlights(browser, bundle, note) >= 5


def test_a_chinese_note_in_the_browser(browser: Chromium, tmp_path: Path) -> None:
    """A Chinese admission note (tests/data/zh/, structured by rule): the highlights are the spans, the note
    text is the note's, and the page is drawn (Chinese glyphs come from the system's CJK fonts)."""
    from scripted import ScriptedBackend
    from softtiger_cli.note.reader import decode_note
    from softtiger_cli.pipeline.run import StructureOptions, structure_note

    note = decode_note((Path(__file__).parent / "data" / "zh" / "admission.txt").read_bytes(), "admission.txt")
    bundle = structure_note(ScriptedBackend(), note, StructureOptions(timestamp="2026-01-01T00:00:00Z")).bundle
    url = write_page(tmp_path, bundle)
    browser.open(url)
    assert browser.errors() == [] and browser.requests() == [url]
    assert check_highlights(browser, bundle, note.text) >= 15
    assert browser.js("document.getElementById('note').lang") == "zh-CN"
    shot = browser.page("Page.captureScreenshot", format="png",
                        clip={"x": 0, "y": 0, "width": 1200, "height": 800, "scale": 0.5})
    width, height, pixels = png_pixels(base64.b64decode(shot["data"]))
    assert (width, height) == (600, 400) and sum(1 for p in pixels if min(p) < 235) / len(pixels) > 0.05
