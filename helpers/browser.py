"""A real browser on the page: headless Chromium, driven by Playwright, every request recorded.

CORS is enforced by browsers only (``requests`` and ``curl`` ignore it), so the page is tested in
one: Debian's ``chromium-headless-shell``, through Playwright (its own browser download is not
needed). The headless shell is Chromium's own build for automation (Playwright's default for
headless runs): the same engine and network stack, CORS included, without the desktop browser
around it, at about half the CPU of ``chromium --headless`` per page (benchmarks/bench_browser.py).
Where it is missing, Debian's ``chromium`` is driven instead. The browser's DevTools protocol
reports every request the page makes, including the CORS preflight (``OPTIONS`` with
``Access-Control-Request-*`` headers) that the page's script never sees, the headers as they went
over the wire, and, for a blocked call, the browser's own reason (``corsError``, e.g.
``PreflightMissingAllowOriginHeader``) and its console message.

Playwright's synchronous API refuses to run inside a running asyncio loop (a Jupyter kernel has
one), so the browser lives in a thread of its own. It is started at the first visit and kept for
the process (a kernel, a test run): each visit opens a new browser context, Chromium's private
window, with no cookies, cache or remembered preflights from an earlier one. Starting the browser and
four visits cost about 1 s of CPU with the headless shell, 2 s with chromium
(benchmarks/bench_browser.py); a new context alone, a few milliseconds.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_VARIABLE = "SERIES_CHROMIUM"
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"  # Debian's package of the same name
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGUMENTS = (
    "--no-sandbox",  # containers and CI run without the user namespaces its sandbox needs
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
VIEWPORT = {"width": 760, "height": 720}
SETTLED = "!['idle', 'pending'].includes(document.getElementById('outcome').dataset.state)"


class BrowserMissing(RuntimeError):
    """No Chromium (or no Playwright) to drive: the message says what to install."""


def chromium_path() -> str:
    """The Chromium to drive: ``SERIES_CHROMIUM`` alone if set; else Debian's headless shell,
    Debian's chromium, then either on PATH."""
    wanted = os.environ.get(CHROMIUM_VARIABLE, "").strip()
    on_path = [shutil.which(name) or "" for name in ("chromium-headless-shell", "chromium")]
    candidates = [wanted] if wanted else [HEADLESS_SHELL, DEFAULT_CHROMIUM, *on_path]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = f"at {wanted}" if wanted else f"at {HEADLESS_SHELL}, {DEFAULT_CHROMIUM} or on PATH"
    raise BrowserMissing(
        f"No Chromium {where}. The page is checked in a real browser, because only browsers "
        "enforce CORS. On Debian: `sudo apt-get install chromium-headless-shell` (make setup "
        "does this as root; `chromium` works too); on Ubuntu, Chromium is a snap: "
        "`sudo snap install chromium`, then set SERIES_CHROMIUM=/snap/bin/chromium; elsewhere "
        f"set {CHROMIUM_VARIABLE} to a Chromium or Chrome binary. Playwright's own browser "
        "download (`playwright install`) also works where it can be reached."
    )


@dataclass
class SeenRequest:
    """One request as the browser made it, and what came of it."""

    request_id: str
    method: str = ""
    url: str = ""
    kind: str = ""  # DevTools' resource type: Document, Script, Fetch, Preflight, ...
    request_headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    cors_error: str = ""

    @property
    def is_preflight(self) -> bool:
        return self.kind == "Preflight" or self.method == "OPTIONS"

    def header(self, name: str, response: bool = True) -> str | None:
        """A request or response header, by case-insensitive name."""
        headers = self.response_headers if response else self.request_headers
        return next((v for k, v in headers.items() if k.lower() == name.lower()), None)

    def cors_headers(self) -> dict[str, str]:
        """The CORS headers of this exchange: Origin and Access-Control-* each way."""
        sent = {
            f"sent {k}": v
            for k, v in sorted(self.request_headers.items())
            if k.lower() == "origin" or k.lower().startswith("access-control-")
        }
        answered = {
            f"answered {k}": v
            for k, v in sorted(self.response_headers.items())
            if k.lower().startswith("access-control-")
        }
        return {**sent, **answered}


@dataclass
class PageVisit:
    """What the page showed after one submission, and everything the browser did for it."""

    url: str
    state: str
    result: str
    message: str
    requests: list[SeenRequest]
    console: list[str]
    screenshot: bytes = b""

    @property
    def preflights(self) -> list[SeenRequest]:
        return [seen for seen in self.requests if seen.is_preflight]

    @property
    def api_calls(self) -> list[SeenRequest]:
        """The page's calls to the API (the fetch itself, not the preflight)."""
        return [seen for seen in self.requests if seen.kind == "Fetch" and not seen.is_preflight]

    def table(self) -> Any:
        """One row a request: method, URL, kind, status, and the browser's error if any."""
        import pandas as pd

        rows = [
            {
                "method": seen.method,
                "url": seen.url.split("?", 1)[0] + ("?…" if "?" in seen.url else ""),
                "kind": seen.kind,
                "status": seen.status if seen.status is not None else "",
                "browser error": seen.cors_error or seen.error,
            }
            for seen in self.requests
        ]
        return pd.DataFrame(rows, columns=["method", "url", "kind", "status", "browser error"])


class _Recorder:
    """Collects DevTools Network events into :class:`SeenRequest` records, by request id."""

    def __init__(self) -> None:
        self.seen: dict[str, SeenRequest] = {}

    def _get(self, request_id: str) -> SeenRequest:
        return self.seen.setdefault(request_id, SeenRequest(request_id))

    def attach(self, cdp: Any) -> None:
        cdp.on("Network.requestWillBeSent", self.will_be_sent)
        cdp.on("Network.requestWillBeSentExtraInfo", self.sent_extra)
        cdp.on("Network.responseReceived", self.received)
        cdp.on("Network.responseReceivedExtraInfo", self.received_extra)
        cdp.on("Network.loadingFailed", self.failed)

    def will_be_sent(self, event: dict[str, Any]) -> None:
        seen = self._get(event["requestId"])
        request = event["request"]
        seen.method, seen.url = request["method"], request["url"]
        seen.kind = event.get("type", seen.kind) or seen.kind
        for name, value in request.get("headers", {}).items():
            seen.request_headers.setdefault(name, value)

    def sent_extra(self, event: dict[str, Any]) -> None:  # the headers as sent on the wire
        self._get(event["requestId"]).request_headers.update(event.get("headers", {}))

    def received(self, event: dict[str, Any]) -> None:
        seen = self._get(event["requestId"])
        response = event["response"]
        seen.status = response["status"]
        seen.kind = event.get("type") or seen.kind
        seen.url = seen.url or response["url"]
        for name, value in response.get("headers", {}).items():
            seen.response_headers.setdefault(name, value)

    def received_extra(self, event: dict[str, Any]) -> None:
        seen = self._get(event["requestId"])
        seen.response_headers.update(event.get("headers", {}))
        seen.status = seen.status or event.get("statusCode")

    def failed(self, event: dict[str, Any]) -> None:
        seen = self._get(event["requestId"])
        seen.error = event.get("errorText", "")
        seen.kind = seen.kind or event.get("type", "")
        cors = event.get("corsErrorStatus") or {}
        seen.cors_error = cors.get("corsError", "")
        if cors.get("failedParameter"):
            seen.cors_error += f" ({cors['failedParameter']})"

    def requests(self) -> list[SeenRequest]:
        """Complete records in the order the page asked for each URL, a preflight before the
        call it clears (DevTools reports the call first, then the preflight it triggers)."""
        complete = [seen for seen in self.seen.values() if seen.method and seen.url]
        first_seen: dict[str, int] = {}
        for index, seen in enumerate(complete):
            first_seen.setdefault(seen.url, index)
        return sorted(
            complete,
            key=lambda seen: (first_seen[seen.url], 0 if seen.is_preflight else 1),
        )


class _BrowserThread:
    """One headless Chromium for the process, owned by one thread (Playwright's sync objects
    belong to the thread that made them), started at the first visit and closed at exit."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._executable = ""

    def run(self, job: Callable[[Any], Any]) -> Any:
        """``job(browser)`` in the browser's thread; its result, or its exception raised here."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, daemon=True, name="browser")
                self._thread.start()
                atexit.register(self.close)
        done: Future[Any] = Future()
        self._jobs.put((job, done))
        return done.result()

    def close(self, timeout_s: float = 10) -> None:
        """Close Chromium and Playwright's driver (at exit; a later visit starts them again)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            thread.join(timeout_s)

    def _serve(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                self._shut_down()
                return
            job, done = item
            try:
                done.set_result(job(self._running_browser()))
            except BaseException as error:  # handed to the caller, who raises it
                done.set_exception(error)

    def _running_browser(self) -> Any:
        executable = chromium_path()
        if self._browser is not None and (
            self._executable != executable or not self._browser.is_connected()
        ):
            self._shut_down()
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            if self._playwright is None:
                self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(CHROMIUM_ARGUMENTS)
            )
            self._executable = executable
        return self._browser

    def _shut_down(self) -> None:
        for stop in (
            lambda: self._browser is not None and self._browser.close(),
            lambda: self._playwright is not None and self._playwright.stop(),
        ):
            with contextlib.suppress(Exception):  # a crashed browser has nothing left to close
                stop()
        self._browser = self._playwright = None


_BROWSER = _BrowserThread()


def _visit(
    browser: Any, url: str, gre: Any, gpa: Any, rank: Any, screenshot: bool, timeout_s: float
) -> PageVisit:
    recorder, console = _Recorder(), []
    context = browser.new_context(viewport=VIEWPORT)  # a private window: nothing carried over
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_s * 1000)
        page.on("console", lambda message: console.append(message.text))
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        recorder.attach(cdp)
        page.goto(url, wait_until="load")
        page.fill("#gre", "" if gre is None else str(gre))
        page.fill("#gpa", "" if gpa is None else str(gpa))
        if rank is not None:
            page.select_option("#rank", str(rank))
        page.click("#submit")
        page.wait_for_function(SETTLED)
        page.wait_for_timeout(250)  # trailing DevTools events (a failure after the reject)
        return PageVisit(
            url=url,
            state=page.get_attribute("#outcome", "data-state") or "",
            result=(page.text_content("#result") or "").strip(),
            message=(page.text_content("#message") or "").strip(),
            requests=recorder.requests(),
            console=console,
            screenshot=page.screenshot(full_page=True) if screenshot else b"",
        )
    finally:
        context.close()


def ask_page(
    url: str,
    gre: Any,
    gpa: Any,
    rank: Any = None,
    *,
    screenshot: bool = True,
    timeout_s: float = 30,
) -> PageVisit:
    """Open the page in headless Chromium, fill the form, submit it and read what it shows.

    ``gre``/``gpa`` are typed as given (None leaves the field empty); ``rank`` is chosen from the
    page's list (None keeps the default, 1).
    """
    chromium_path()  # fail early, with what to install
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        raise BrowserMissing(
            "Playwright is not installed in this environment; it is pinned in requirements.lock "
            "(run the series' setup again). Its browser download is not needed: it drives "
            "Debian's chromium."
        ) from error
    return _BROWSER.run(
        lambda chromium: _visit(chromium, url, gre, gpa, rank, screenshot, timeout_s)
    )
