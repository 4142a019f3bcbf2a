"""The main journeys of the team web app, in a real browser."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import new_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_find_a_case_by_its_chinese_storefront_name(page: Any) -> None:
    page.goto("/cases/")
    assert "/accounts/login/" in page.url  # nothing without signing in
    shoot(page, "sign-in")
    sign_in(page)
    page.goto("/cases/")
    page.get_by_label(re.compile("Search")).fill("好运来")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=%E5%A5%BD%E8%BF%90%E6%9D%A5"))
    rows = page.locator("table.list tbody tr")
    assert rows.count() >= 1
    rows.first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    assert page.get_by_text("深圳市好运来贸易有限公司").first.is_visible()


def test_wrong_password_is_refused_with_a_message(page: Any) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    assert "/accounts/login/" in page.url


def test_switching_to_simplified_chinese_translates_the_app_and_is_remembered(
    page: Any, chromium: Any, live_server: Any
) -> None:
    sign_in(page)
    page.goto("/cases/")
    # Choosing submits the switcher: wait for the page it leads to, not the one already loaded.
    with page.expect_navigation():
        page.get_by_label("Language").select_option("zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("link", name="案件").first.is_visible()
    shoot(page, "case-list-zh")
    # Remembered for the person: a fresh browser with an English Accept-Language still gets Chinese.
    tab = new_page(chromium, live_server.url, locale="en-US")
    sign_in(tab)
    tab.goto("/cases/")
    assert tab.locator("html").get_attribute("lang") == "zh-hans"


def test_the_api_documentation_runs_under_the_content_security_policy(page: Any) -> None:
    sign_in(page)
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info").wait_for()
    assert page.get_by_text("casemanager", exact=False).first.is_visible()


def _open_case(page: Any, asin: str = "B0C1HJ4K2L") -> None:
    page.goto(f"/cases/?q={asin}")
    page.locator("table.list tbody tr").first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))


def test_a_screenshot_dropped_on_the_case_is_stored_and_its_hash_shown(page: Any) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (640, 400), "#f3a712").save(picture, format="PNG")
    expected = hashlib.sha256(picture.getvalue()).hexdigest()
    sign_in(page)
    _open_case(page)
    transfer = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "hijacker-offer.png", {type: "image/png"}));
            return transfer;
        }""",
        list(picture.getvalue()),
    )
    page.dispatch_event("[data-drop-zone]", "drop", {"dataTransfer": transfer})
    page.locator("[data-upload-queue]").get_by_text(expected).wait_for()
    # The gallery reloads with the new item, its thumbnail and its hash.
    page.locator("#evidence").get_by_text(expected).first.wait_for()
    shoot(page, "case-page")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.worker
def test_a_dossier_built_by_the_worker_appears_on_the_case_and_downloads(page: Any, celery_worker: Any) -> None:
    sign_in(page)
    _open_case(page)
    page.get_by_role("button", name="Build a new dossier").click()
    panel = page.locator("#dossier")
    download_link = panel.get_by_role("link", name="Download PDF")
    # The panel polls while the worker builds, and offers the PDF once it is done.
    download_link.wait_for(timeout=120_000)
    shoot(page, "dossier")
    with page.expect_download() as started:
        download_link.click()
    pdf = open(started.value.path(), "rb").read()  # noqa: SIM115  a temporary file Playwright removes
    assert pdf.startswith(b"%PDF-")
    assert panel.get_by_text(hashlib.sha256(pdf).hexdigest()).first.is_visible()


def test_a_case_is_moved_to_reported_with_the_step_buttons(page: Any) -> None:
    sign_in(page)
    _open_case(page, "B0C7ZQ9P1X")
    head = page.locator("#case-head")
    assert head.locator(".status").inner_text() == "New"
    with page.expect_navigation():
        head.get_by_role("button", name="Reported", exact=True).click()
    assert head.locator(".status").inner_text() == "Reported"
    # The step is in the activity trail, in words.
    assert page.locator("#activity").get_by_text("Reported").first.is_visible()
