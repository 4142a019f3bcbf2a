"""Every main screen loads in a real browser without a script error or a policy violation.

With CM_SCREENSHOTS set (`make screenshots`), these are the pictures in docs/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest

from cases.models import Brand, Case, Storefront, Team
from tests.browser.conftest import new_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_main_screens_in_english(page: Any) -> None:
    sign_in(page)
    lamp = Case.objects.get(asin="B0C1HJ4K2L")
    screens = {
        "dashboard": "/",
        "case-list": "/cases/",
        "case-page": f"/cases/{lamp.pk}/",
        "storefront": f"/storefronts/{Storefront.objects.get(seller_id='A1SZHAOYUNLAI01').pk}/",
        "brand-settings": f"/brands/{Brand.objects.get(name='Lumora').pk}/",
        "team-settings": f"/team/?team={Team.objects.get(slug='demo').pk}",
        "notifications": "/notifications/",
    }
    for name, path in screens.items():
        response = page.goto(path)
        assert response is not None
        assert response.ok, (name, response.status)
        assert page.locator("h1").first.is_visible()
        shoot(page, name)


def test_the_case_page_at_phone_width_in_chinese(chromium: Any, live_server: Any) -> None:
    phone = new_page(chromium, live_server.url, locale="zh-CN", width=390)
    sign_in(phone)
    phone.goto(f"/cases/{Case.objects.get(asin='B0C1HJ4K2L').pk}/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    # Nothing but wide tables may scroll sideways: the page itself fits the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, "case-page-phone-zh")
