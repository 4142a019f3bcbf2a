"""The role matrix: for every endpoint, what each persona gets."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import add_evidence, attach, png_bytes

pytestmark = pytest.mark.django_db

READ, AGENT_WRITE, MANAGER_WRITE = "read", "agent", "manager"


def png_file():
    out = io.BytesIO(png_bytes(color=(1, 2, 3)))
    out.name = "shot.png"
    return out


@pytest.fixture
def world(brand, case, personas, settings):
    settings.ALLOW_PRIVATE_URLS = True
    storefront = attach(case, 1)
    evidence = add_evidence(case)
    from cases import services
    from evidence.services import Actor

    manager = Actor.of_user(personas.manager)
    test_buy = services.test_buy_record(
        case=case,
        storefront=storefront,
        order_id="112-1234567-1234567",
        order_date=timezone.localdate(),
        actor=manager,
    )
    submission = services.submission_record(
        case=case, channel="report_infringement", submitted_on=timezone.localdate(), actor=manager
    )
    endpoint, _ = services.webhooks.webhook_endpoint_create(
        team=personas.team, url="http://127.0.0.1:9/x", events=["dossier.ready"], actor=manager
    )
    return {
        "brand": brand,
        "case": case,
        "storefront": storefront,
        "evidence": evidence,
        "test_buy": test_buy,
        "submission": submission,
        "endpoint": endpoint,
    }


def endpoints(w):
    c, today = w["case"].pk, timezone.localdate().isoformat()
    return [
        (READ, "get", "/api/v1/cases/", None),
        (READ, "get", f"/api/v1/cases/{c}/", None),
        (READ, "get", f"/api/v1/cases/{c}/activity/", None),
        (READ, "get", f"/api/v1/cases/{c}/storefronts/", None),
        (READ, "get", f"/api/v1/cases/{c}/sightings/", None),
        (READ, "get", f"/api/v1/cases/{c}/evidence/", None),
        (READ, "get", f"/api/v1/cases/{c}/test-buys/", None),
        (READ, "get", f"/api/v1/cases/{c}/warnings/", None),
        (READ, "get", f"/api/v1/cases/{c}/submissions/", None),
        (READ, "get", f"/api/v1/evidence/{w['evidence'].pk}/", None),
        (READ, "get", f"/api/v1/evidence/{w['evidence'].pk}/download/", None),
        (READ, "get", f"/api/v1/test-buys/{w['test_buy'].pk}/", None),
        (READ, "get", f"/api/v1/submissions/{w['submission'].pk}/", None),
        (READ, "get", "/api/v1/brands/", None),
        (READ, "get", f"/api/v1/brands/{w['brand'].pk}/", None),
        (READ, "get", f"/api/v1/brands/{w['brand'].pk}/ip-rights/", None),
        (READ, "get", "/api/v1/storefronts/", None),
        (READ, "get", f"/api/v1/storefronts/{w['storefront'].pk}/", None),
        (AGENT_WRITE, "post", "/api/v1/cases/", {"brand": w["brand"].pk, "asin": "B0ROLE0001", "marketplace": "FR"}),
        (AGENT_WRITE, "patch", f"/api/v1/cases/{c}/", {"title": "renamed"}),
        (AGENT_WRITE, "post", f"/api/v1/cases/{c}/transition/", {"status": "investigating"}),
        (AGENT_WRITE, "post", f"/api/v1/cases/{c}/storefronts/", {"seller_id": "A1ROLESELLER001"}),
        (AGENT_WRITE, "post", f"/api/v1/cases/{c}/sightings/", {"storefront": w["storefront"].pk}),
        (AGENT_WRITE, "post", f"/api/v1/cases/{c}/evidence/", "upload"),
        (
            AGENT_WRITE,
            "post",
            f"/api/v1/cases/{c}/test-buys/",
            {"storefront": w["storefront"].pk, "order_id": "113-1234567-1234567", "order_date": today},
        ),
        (AGENT_WRITE, "patch", f"/api/v1/test-buys/{w['test_buy'].pk}/", {"comparison_notes": "x"}),
        (
            AGENT_WRITE,
            "post",
            f"/api/v1/cases/{c}/warnings/",
            {"storefront": w["storefront"].pk, "text": "Please stop.", "channel": "email"},
        ),
        (AGENT_WRITE, "post", f"/api/v1/cases/{c}/submissions/", {"channel": "seller_support", "submitted_on": today}),
        (AGENT_WRITE, "patch", f"/api/v1/submissions/{w['submission'].pk}/", {"outcome": "accepted"}),
        (AGENT_WRITE, "patch", f"/api/v1/storefronts/{w['storefront'].pk}/", {"phone": "+86 1"}),
        (AGENT_WRITE, "post", f"/api/v1/evidence/{w['evidence'].pk}/withdraw/", {"reason": "duplicate"}),
        (MANAGER_WRITE, "post", "/api/v1/brands/", {"name": "Another"}),
        (MANAGER_WRITE, "patch", f"/api/v1/brands/{w['brand'].pk}/", {"contact_name": "Dana"}),
        (MANAGER_WRITE, "post", f"/api/v1/brands/{w['brand'].pk}/ip-rights/", {"kind": "patent"}),
        (MANAGER_WRITE, "post", "/api/v1/webhooks/", {"url": "http://127.0.0.1:9/y", "events": ["case.created"]}),
        (MANAGER_WRITE, "patch", f"/api/v1/webhooks/{w['endpoint'].pk}/", {"description": "Jira"}),
        (READ, "get", f"/api/v1/webhooks/{w['endpoint'].pk}/deliveries/", None),
    ]


def call(client, method, url, body):
    if body == "upload":
        return client.post(url, {"file": png_file(), "kind": "screenshot"}, format="multipart")
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize("persona", ["viewer", "agent", "manager", "outsider"])
def test_role_matrix(api, world, persona):
    client = getattr(api, persona)
    rank = {"viewer": 0, "agent": 1, "manager": 2}
    needed = {READ: 0, AGENT_WRITE: 1, MANAGER_WRITE: 2}
    for level, method, url, body in endpoints(world):
        response = call(client, method, url, body)
        top_level_list = method == "get" and url in {"/api/v1/cases/", "/api/v1/brands/", "/api/v1/storefronts/"}
        if persona == "outsider":
            if top_level_list:
                data = response.json()
                rows = data["results"] if isinstance(data, dict) else data
                assert rows == [], (url, rows)
            elif url in {"/api/v1/brands/", "/api/v1/webhooks/"}:
                assert response.status_code in {201, 403}, (method, url, response.status_code)
            else:
                assert response.status_code == 404, (method, url, response.status_code)
        elif rank[persona] >= needed[level]:
            assert response.status_code < 300, (persona, method, url, response.status_code, response.content[:300])
        else:
            assert response.status_code == 403, (persona, method, url, response.status_code)


def test_webhook_list_is_empty_for_others(api, world):
    assert api.outsider.get("/api/v1/webhooks/").json()["results"] == []


def test_schema_validates_as_openapi_3(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "openapi: 3" in out.read_text()
