"""The main journeys of the team web app, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest

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
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    assert "/accounts/login/" in page.url


def test_switching_to_simplified_chinese_translates_the_app_and_is_remembered(
    page: Any, chromium: Any, live_server: Any
) -> None:
    sign_in(page)
    page.goto("/cases/")
    page.get_by_label("Language").select_option("zh-hans")
    page.wait_for_load_state("load")
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
