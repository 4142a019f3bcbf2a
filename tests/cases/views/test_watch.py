import pytest
from django.urls import reverse

from cases.models import SpApiCredential, WatchItem
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team, name="<b>Lumora</b>")


def test_managers_keep_the_watch_list(client, personas, brand):
    client.force_login(personas.manager)
    url = reverse("cases:brand_watch", args=[brand.pk])
    page = client.get(reverse("cases:brand_list")).content.decode()
    assert url in page
    assert "&lt;b&gt;Lumora&lt;/b&gt;" in page
    answer = client.post(url, {"action": "add", "asin": "b0c1hj4k2l", "marketplace": "US", "interval_minutes": "30"})
    assert answer.status_code == 302
    item = WatchItem.objects.get()
    assert (item.asin, item.interval_minutes) == ("B0C1HJ4K2L", 30)
    bad = client.post(url, {"action": "add", "asin": "nope", "marketplace": "US", "interval_minutes": "2"})
    html = bad.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'value="nope"' in html  # what was typed is kept
    client.post(url, {"action": "remove", "item": item.pk})
    assert not WatchItem.objects.exists()


def test_credentials_are_write_only(client, personas, brand):
    client.force_login(personas.manager)
    url = reverse("cases:brand_watch", args=[brand.pk])
    form = {
        "action": "credentials",
        "selling_partner_id": "A3TH9S8BH6GOGM",
        "region": "na",
        "client_id": "amzn1.application-oa2-client.abc",
        "client_secret": "amzn1.oa2-cs.v1.topsecret",
        "refresh_token": "Atzr|refresh-topsecret",
    }
    assert client.post(url, form).status_code == 302
    assert SpApiCredential.objects.exists()
    page = client.get(url).content.decode()
    assert "A3TH9S8BH6GOGM" in page
    assert "topsecret" not in page
    missing = client.post(url, {**form, "refresh_token": ""}).content.decode()
    assert "This field is required." in missing
    assert "topsecret" not in missing


def test_others_see_the_list_but_cannot_change_it(client, personas, brand):
    url = reverse("cases:brand_watch", args=[brand.pk])
    client.force_login(personas.agent)
    assert "Watch an ASIN" not in client.get(url).content.decode()
    assert client.post(url, {"action": "add", "asin": "B0C1HJ4K2L", "marketplace": "US"}).status_code == 404
    client.force_login(personas.outsider)
    assert client.get(url).status_code == 404
    assert not WatchItem.objects.exists()
