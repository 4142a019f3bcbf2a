"""Headless Chromium (Debian's, driven by Playwright) against a live server of the app."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from tests.conftest import _in_ci


@pytest.fixture
def demo(transactional_db: None, settings: Any) -> None:
    """The demo team of `make run`: the journeys use what a newcomer sees."""
    settings.ALLOW_PRIVATE_URLS = True
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115  closed with the process


@pytest.fixture
def chromium(demo: None, live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A browser per test, started after the database is ready.

    Playwright's sync API keeps an event loop in this thread while it runs; the test's own
    ORM calls stay synchronous, so Django's guard against ORM use from async code is lifted
    for the test only, and the loop is gone before the next test.
    """
    path = django_settings.CHROMIUM_PATH
    if not shutil.which(path):
        message = f"browser tests need Chromium at {path} (scripts/install-system-packages.sh installs it)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The live server answers each request in a thread of its own: a kept-alive connection
    # would outlive its thread and hold the test database open at teardown.
    monkeypatch.setitem(django_settings.DATABASES["default"], "CONN_MAX_AGE", 0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"] if os.geteuid() == 0 else [])
        yield browser
        browser.close()


def new_page(chromium: Any, base_url: str, *, locale: str = "en-US", width: int = 1280) -> Any:
    context = chromium.new_context(
        base_url=base_url, locale=locale, viewport={"width": width, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A tab that fails the test on any script error or content-security-policy violation."""
    tab = new_page(chromium, live_server.url)
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    yield tab
    refused = [p for p in problems if "Content Security Policy" in p or p.startswith("script error")]
    assert not refused, refused


def shoot(page: Any, name: str) -> None:
    """Save a screenshot for the docs when CM_SCREENSHOTS names a folder (`make screenshots`)."""
    folder = os.environ.get("CM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret would inject a style the content security policy refuses.
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True, caret="initial")


def sign_in(page: Any, username: str = "demo", password: str = "demo") -> None:  # noqa: S107  the demo login
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "/accounts/login/" not in page.url, "the sign-in was refused"
