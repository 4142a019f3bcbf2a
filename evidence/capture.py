"""Page captures in headless Chromium: a full-page screenshot and the page as MHTML.

The browser reaches the network only through the process's ``EgressProxy``, which
checks every connection it makes (the page, each redirect hop, scripts, images,
frames) against ``netguard``. WebSockets and service workers are off, and WebRTC may only use the proxy. One
browser per worker process is reused, in a thread of its own; each capture gets a fresh
context (no cookies, no cache).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.utils import timezone

from evidence import netguard
from evidence.egress import EgressProxy

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

_T = TypeVar("_T")

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
VIEWPORT = {"width": 1366, "height": 900}
# Chromium cannot paint taller pages in one screenshot; longer ones are cut here.
MAX_PAGE_HEIGHT = 16000
_BROWSER_ARGS = [
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-quic",
    "--dns-prefetch-disable",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]
_ROBOT_MARKERS = re.compile(
    r"/errors/validateCaptcha|api-services-support@amazon\.com|Enter the characters you see below|"
    r"Type the characters you see in this image|g-recaptcha|h-captcha|hcaptcha\.com|"
    r"cf-challenge|challenges\.cloudflare\.com|are you a robot|not a robot|"
    r"请输入您在下图中看到的字符|画像に表示されている文字を入力してください",
    re.IGNORECASE,
)


class CaptureFailed(Exception):
    """The page could not be captured; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


@dataclass
class PageCapture:
    url: str
    final_url: str
    status: int | None
    title: str
    html: str
    screenshot: Path
    archive: Path
    browser_version: str
    captured_at: dt.datetime
    refused: list[str] = field(default_factory=list)


def looks_like_robot_check(html: str, title: str) -> bool:
    """Amazon's robot check (and the common CAPTCHA walls): not proof of anything."""
    if "robot check" in title.lower():
        return True
    return bool(_ROBOT_MARKERS.search(html[:500_000]))


class _Session:
    """The browser of this process, used only from its own thread.

    Playwright's sync API keeps an event loop running in the thread that uses it, where
    Django refuses database calls; so the browser lives in a thread of its own and
    callers hand it work.
    """

    executor: ThreadPoolExecutor | None = None
    playwright: Playwright | None = None
    browser: Browser | None = None
    proxy: EgressProxy | None = None
    lock = threading.Lock()


_session = _Session()


def _playwright_error() -> type[Exception]:
    # Playwright is imported in the browser thread only: web processes never load it.
    from playwright.sync_api import Error

    return Error


def _browser() -> Browser:
    from playwright.sync_api import sync_playwright

    if _session.browser is not None and _session.browser.is_connected():
        return _session.browser
    if _session.playwright is None:
        _session.playwright = sync_playwright().start()
    if _session.proxy is None:
        _session.proxy = EgressProxy()
    try:
        _session.browser = _session.playwright.chromium.launch(
            executable_path=settings.CHROMIUM_PATH,
            # Everything through the checking proxy, loopback too (Chromium bypasses it by default).
            args=[
                *_BROWSER_ARGS,
                # Chromium's sandbox cannot run as root; run capture workers as another user.
                *(["--no-sandbox"] if os.geteuid() == 0 or not settings.CHROMIUM_SANDBOX else []),
                f"--proxy-server={_session.proxy.address}",
                "--proxy-bypass-list=<-loopback>",
            ],
            headless=True,
        )
    except _playwright_error() as error:
        raise CaptureFailed("browser_unavailable", f"Chromium did not start: {error}", transient=True) from None
    return _session.browser


def _in_browser_thread(work: Callable[[], _T], timeout: float) -> _T:
    with _Session.lock:
        if _session.executor is None:
            _session.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        executor = _session.executor
    try:
        return executor.submit(work).result(timeout=timeout)
    except FutureTimeout:
        # The browser hangs: leave it to its thread and start afresh in a new one.
        with _Session.lock:
            if _session.executor is executor:
                _session.executor = None
                _session.browser = _session.playwright = None
                executor.shutdown(wait=False)
        raise CaptureFailed("timeout", f"The browser did not answer within {timeout:.0f} s.", transient=True) from None


def _close() -> None:
    browser, playwright = _session.browser, _session.playwright
    _session.browser = _session.playwright = None
    try:
        if browser is not None:
            browser.close()
        if playwright is not None:
            playwright.stop()
    except _playwright_error():
        pass


@atexit.register
def shutdown() -> None:
    """Close the browser (a worker process exiting, or a test run finishing)."""
    executor = _session.executor
    if executor is not None:
        with contextlib.suppress(Exception):
            executor.submit(_close).result(timeout=10)
        executor.shutdown(wait=False)
        _session.executor = None


def capture_page(url: str, *, workdir: Path) -> PageCapture:
    """Load ``url`` and write ``screenshot.png`` and ``page.mhtml`` into ``workdir``."""
    try:
        netguard.resolve(url, schemes=frozenset({"http", "https"}))
    except netguard.UnsafeURL as error:
        raise CaptureFailed("refused_url", str(error)) from None
    except netguard.ResolutionFailed as error:
        raise CaptureFailed("unresolvable", str(error), transient=True) from None
    timeout = settings.CAPTURE_TIMEOUT_SECONDS
    return _in_browser_thread(partial(_capture, url, workdir, timeout), timeout * 2 + 15)


def _capture(url: str, workdir: Path, timeout: int) -> PageCapture:
    browser = _browser()
    assert _session.proxy is not None
    egress = _session.proxy.open(budget=settings.CAPTURE_MAX_BYTES, seconds=timeout + 5)
    context = browser.new_context(
        viewport=VIEWPORT,  # type: ignore[arg-type]
        user_agent=USER_AGENT,
        service_workers="block",
        accept_downloads=False,
        locale="en-US",
    )
    try:
        context.route_web_socket("**/*", lambda ws: ws.close())
        page = context.new_page()
        page.set_default_timeout(timeout * 1000)
        captured_at = timezone.now()
        try:
            response = page.goto(url, wait_until="load", timeout=timeout * 1000)
        except _playwright_error() as error:
            if egress.refused:
                raise CaptureFailed("refused_url", egress.refused[0]) from None
            if "Timeout" in str(error):
                raise CaptureFailed("timeout", f"The page did not load within {timeout} s.", transient=True) from None
            raise CaptureFailed("load_failed", f"The page did not load: {str(error)[:300]}", transient=True) from None
        if egress.too_large:
            raise CaptureFailed("too_large", f"The page is larger than {settings.CAPTURE_MAX_BYTES} bytes.")
        if response is None or any(line.startswith(page.url[:200]) for line in egress.refused):
            # The navigation itself, or a redirect of it, was refused: what shows is our refusal.
            raise CaptureFailed("refused_url", egress.refused[0] if egress.refused else "The page did not load.")
        html = page.content()
        title = page.title()
        if looks_like_robot_check(html, title):
            raise CaptureFailed("robot_check", "Amazon showed a robot check (CAPTCHA) instead of the page.")
        height = min(int(page.evaluate("document.documentElement.scrollHeight") or 0), MAX_PAGE_HEIGHT)
        screenshot = workdir / "screenshot.png"
        if height > VIEWPORT["height"]:
            clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
            page.screenshot(path=screenshot, clip=clip, full_page=True)  # type: ignore[arg-type]
        else:
            page.screenshot(path=screenshot, full_page=True)
        archive = workdir / "page.mhtml"
        snapshot: dict[str, Any] = context.new_cdp_session(page).send("Page.captureSnapshot", {"format": "mhtml"})
        archive.write_text(snapshot["data"], encoding="utf-8", newline="")
        return PageCapture(
            url=url,
            final_url=page.url,
            status=response.status,
            title=title[:300],
            html=html,
            screenshot=screenshot,
            archive=archive,
            browser_version=f"Chromium {browser.version}",
            captured_at=captured_at,
            refused=list(egress.refused),
        )
    except _playwright_error() as error:
        raise CaptureFailed("browser_error", f"The browser failed: {str(error)[:300]}", transient=True) from None
    finally:
        _session.proxy.close(egress)
        with contextlib.suppress(_playwright_error()):
            context.close()
