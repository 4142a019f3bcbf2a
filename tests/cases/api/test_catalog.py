import pytest

from cases import services
from evidence.services import Actor
from tests.conftest import error_of
from tests.factories import attach, sight

pytestmark = pytest.mark.django_db


def test_brands_and_ip_rights(api, brand, personas):
    assert [b["name"] for b in api.viewer.get("/api/v1/brands/").json()] == ["Lumora"]
    assert api.outsider.get(f"/api/v1/brands/{brand.pk}/").status_code == 404
    assert api.agent.post("/api/v1/brands/", {"name": "Other"}, format="json").status_code == 403
    created = api.manager.post("/api/v1/brands/", {"name": "Northwind", "rights_owner": "NW GmbH"}, format="json")
    assert created.status_code == 201, created.json()
    duplicate = api.manager.post("/api/v1/brands/", {"name": "Northwind"}, format="json")
    assert "name" in error_of(duplicate)["fields"]
    right = api.manager.post(
        f"/api/v1/brands/{brand.pk}/ip-rights/",
        {"kind": "trademark", "registration_number": "6123456", "office": "USPTO", "mark_text": "LUMORA"},
        format="json",
    )
    assert right.status_code == 201, right.json()
    assert api.viewer.get(f"/api/v1/brands/{brand.pk}/ip-rights/").json()[0]["mark_text"] == "LUMORA"


def test_attach_storefront_and_read_it_with_cases_sightings_and_links(api, case, personas):
    attached = api.agent.post(
        f"/api/v1/cases/{case.pk}/storefronts/",
        {"seller_id": "a1szhaoyunlai01", "name": "深圳市好运来贸易有限公司"},
        format="json",
    )
    assert attached.status_code == 201, attached.json()
    storefront = attached.json()["storefront"]
    assert storefront["seller_id"] == "A1SZHAOYUNLAI01"
    assert storefront["storefront_url"] == "https://www.amazon.com/s?me=A1SZHAOYUNLAI01"
    sighting = api.agent.post(
        f"/api/v1/cases/{case.pk}/sightings/",
        {"seller_id": "A2YIWUBESTDEAL7", "price": "16.49", "currency": "USD", "fulfillment": "FBA", "buy_box": True},
        format="json",
    )
    assert sighting.status_code == 201, sighting.json()
    other = attach(case, 9)
    sight(case, other)
    from cases.models import Storefront

    services.operator_link(
        storefronts=list(Storefront.objects.filter(seller_id__in=["A1SZHAOYUNLAI01", "A2YIWUBESTDEAL7"])),
        reason="phone",
        detail="Same phone on both seller profiles",
        actor=Actor.of_user(personas.agent),
    )
    detail = api.viewer.get(f"/api/v1/storefronts/{storefront['id']}/").json()
    assert detail["cases"][0]["reference"] == case.reference
    assert detail["linked_accounts"][0]["reason"] == "phone"
    assert api.viewer.get("/api/v1/storefronts/", {"q": "好运来"}).json()["results"][0]["id"] == storefront["id"]
    assert api.outsider.get(f"/api/v1/storefronts/{storefront['id']}/").status_code == 404
    sightings = api.viewer.get(f"/api/v1/cases/{case.pk}/sightings/").json()["results"]
    assert {s["seller_id"] for s in sightings} == {"A2YIWUBESTDEAL7", other.seller_id}
    invalid = api.agent.post(f"/api/v1/cases/{case.pk}/storefronts/", {"seller_id": "nope"}, format="json")
    assert error_of(invalid)["fields"]["seller_id"][0]["code"] == "invalid_seller_id"


def test_storefront_profile_update(api, case):
    storefront = attach(case, 1)
    response = api.agent.patch(
        f"/api/v1/storefronts/{storefront.pk}/",
        {"business_name": "Shenzhen Haoyunlai Trading Co., Ltd.", "phone": "+86 755 0000 0000"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["business_name"] == "Shenzhen Haoyunlai Trading Co., Ltd."
    assert api.viewer.patch(f"/api/v1/storefronts/{storefront.pk}/", {"phone": "1"}, format="json").status_code == 403


def test_schema_and_docs(client, personas):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/cases/{id}/transition/" in schema.content
    assert b"bearerToken" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
