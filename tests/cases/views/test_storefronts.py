import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from tests.factories import BrandFactory, CaseFactory, attach, manager_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team)


@pytest.fixture
def storefront(brand):
    case = CaseFactory(brand=brand)
    storefront = attach(case, 1, name="深圳市好运来贸易有限公司")
    return services.storefront_update(
        storefront=storefront,
        business_name="深圳市好运来贸易有限公司",
        business_address="广东省深圳市\n龙岗区 1 号",
        phone="+86 755 1234 5678",
        actor=manager_of(brand.team),
    )


def page(client, user, storefront):
    client.force_login(user)
    response = client.get(reverse("cases:storefront_detail", args=[storefront.pk]))
    assert response.status_code == 200
    return response


def see(case, storefront, *, days_ago, price="9.99", buy_box=None, fulfillment="unknown"):
    return services.sighting_record(
        case=case,
        storefront=storefront,
        actor=manager_of(case.team),
        seen_at=timezone.now() - dt.timedelta(days=days_ago),
        price=Decimal(price) if price else None,
        currency="USD" if price else "",
        buy_box=buy_box,
        fulfillment=fulfillment,
    )


def test_storefront_page_shows_who_it_is(client, personas, storefront):
    html = page(client, personas.viewer, storefront).content.decode()
    assert '<h1 lang="und" dir="auto">深圳市好运来贸易有限公司</h1>' in html
    assert storefront.seller_id in html
    assert "广东省深圳市<br>龙岗区 1 号" in html
    assert "+86 755 1234 5678" in html
    assert f'href="{storefront.storefront_url}" rel="noreferrer noopener"' in html


def test_storefront_page_lists_its_cases_and_sightings(client, personas, brand, storefront):
    first = storefront.case_links.get().case
    second = CaseFactory(brand=brand, asin="B0SECOND01")
    attach(second, 1)
    see(first, storefront, days_ago=3, price="12.00", fulfillment="FBA")
    see(first, storefront, days_ago=1, price="11.50", buy_box=True, fulfillment="FBA")
    see(second, storefront, days_ago=2, price="30.00", fulfillment="FBM")
    see(second, storefront, days_ago=0.5, price="")
    response = page(client, personas.viewer, storefront)
    assert {link.case for link in response.context["links"]} == {first, second}
    assert [s.price for s in response.context["sightings"]] == [None, Decimal("11.50"), Decimal("30.00"), Decimal("12")]
    html = response.content.decode()
    for case in (first, second):
        assert f'href="{reverse("cases:case_detail", args=[case.pk])}"' in html
    assert "Fulfilled by Amazon" in html
    assert "Fulfilled by merchant" in html
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)  # noqa: S314 - markup this app made, parsed to check it
    ns = "{http://www.w3.org/2000/svg}"
    assert len(list(root.iter(f"{ns}polyline"))) == 1, "one line per case; the second has a single priced sighting"
    notes = [el.text for el in root.iter(f"{ns}title")]
    assert any("11.50" in note and "Won the Buy Box" in note for note in notes)
    assert any(f"{second.asin} ({second.reference})" in note for note in notes)
    assert "Prices seen, in USD" in html


def test_only_the_last_hundred_sightings_are_shown(client, personas, storefront):
    case = storefront.case_links.get().case
    for n in range(102):
        see(case, storefront, days_ago=n / 10 + 0.01)
    sightings = page(client, personas.viewer, storefront).context["sightings"]
    assert len(sightings) == 100
    assert sightings[0].seen_at > sightings[-1].seen_at


def test_linked_accounts_are_the_other_storefronts_of_its_operator(client, personas, brand, storefront):
    case = storefront.case_links.get().case
    twin = attach(case, 2, name="Twin shop")
    third = attach(case, 3, name="Third shop")
    unrelated = attach(case, 4, name="Unrelated shop")
    actor = manager_of(brand.team)
    services.operator_link(storefronts=[storefront, twin], reason="phone", detail="+86 755 1234 5678", actor=actor)
    services.operator_link(storefronts=[storefront, third], reason="business_name", actor=actor)
    response = page(client, personas.viewer, storefront)
    linked = {(link.storefront, link.reason) for link in response.context["linked"]}
    assert linked == {(twin, "phone"), (third, "business_name")}
    html = response.content.decode()
    assert f'href="{reverse("cases:storefront_detail", args=[twin.pk])}" lang="und" dir="auto">Twin shop' in html
    assert "Same phone number" in html
    assert "Unrelated shop" not in html
    assert [link.storefront for link in page(client, personas.viewer, unrelated).context["linked"]] == []


def test_outsider_gets_404(client, personas, storefront):
    client.force_login(personas.outsider)
    assert client.get(reverse("cases:storefront_detail", args=[storefront.pk])).status_code == 404
    assert client.get(reverse("cases:storefront_detail", args=[storefront.pk + 1000])).status_code == 404


def test_page_needs_sign_in(client, storefront):
    response = client.get(reverse("cases:storefront_detail", args=[storefront.pk]))
    assert response.status_code == 302


def test_hijacker_data_is_escaped(client, personas, storefront):
    case = storefront.case_links.get().case
    services.storefront_update(
        storefront=storefront,
        name="<script>alert(1)</script>",
        business_address='<img src=x onerror="alert(1)">',
        actor=manager_of(case.team),
    )
    see(case, storefront, days_ago=1)
    html = page(client, personas.viewer, storefront).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_storefront_page_queries_do_not_grow(client, personas, brand, storefront):
    client.force_login(personas.viewer)
    url = reverse("cases:storefront_detail", args=[storefront.pk])

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = storefront.case_links.get().case
    see(first, storefront, days_ago=1)
    few = count_queries()
    actor = manager_of(brand.team)
    for n in range(2, 31):
        case = CaseFactory(brand=brand)
        attach(case, 1)
        see(case, storefront, days_ago=n / 10, buy_box=n % 2 == 0)
        services.operator_link(storefronts=[storefront, attach(case, n)], reason="manual", actor=actor)
    assert count_queries() == few
    # session, user, then the user's teams and the rows for each of: storefront, cases, sightings,
    # linked accounts, unread notifications
    assert few <= 12
