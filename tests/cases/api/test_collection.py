import copy
import json
import uuid
from pathlib import Path

import pytest

from cases.models import Case, OfferNotification, Sighting, SpApiCredential
from cases.services.watch import watch_add
from evidence.models import AuditEvent
from evidence.sealing import unseal
from tests.conftest import error_of
from tests.factories import manager_of, seller_id

pytestmark = pytest.mark.django_db
REFERENCE = Path(__file__).resolve().parents[2] / "support" / "sp_api"
ASIN = "B0C1HJ4K2L"


def notification(*sellers: str, notification_id: str | None = None, subscriber: str = "A3TH9S8BH6GOGM") -> dict:
    """Amazon's example notification, for our listing, with these sellers' offers."""
    document = json.loads((REFERENCE / "AnyOfferChangedNotification.json").read_text())["examples"][0]
    document = copy.deepcopy(document)
    document["NotificationMetadata"]["NotificationId"] = notification_id or str(uuid.uuid4())
    body = document["Payload"]["AnyOfferChangedNotification"]
    body["SellerId"] = subscriber
    body["OfferChangeTrigger"]["ASIN"] = ASIN
    template = body["Offers"][0]
    template.pop("IsBuyBoxWinner", None)  # as real deliveries often do
    body["Offers"] = [{**template, "SellerId": s} for s in sellers]
    body["Summary"]["NumberOfOffers"] = [
        {"Condition": "new", "FulfillmentChannel": "Merchant", "OfferCount": len(sellers)}
    ]
    return document


def test_watch_list_add_change_remove(api, brand):
    url = f"/api/v1/brands/{brand.pk}/watch/"
    assert api.agent.post(url, {"asin": ASIN, "marketplace": "US"}, format="json").status_code == 403
    created = api.manager.post(url, {"asin": ASIN, "marketplace": "US", "interval_minutes": 30}, format="json")
    assert created.status_code == 201, created.content
    item = created.json()
    assert (item["asin"], item["marketplace"], item["interval_minutes"]) == (ASIN, "US", 30)
    again = api.manager.post(url, {"asin": ASIN, "marketplace": "US"}, format="json")
    assert again.status_code == 400
    assert error_of(again)["fields"]["asin"][0]["code"] == "duplicate"
    bad = api.manager.post(url, {"asin": "nope", "marketplace": "XX", "interval_minutes": 1}, format="json")
    assert set(error_of(bad)["fields"]) == {"marketplace", "interval_minutes"}
    assert [row["asin"] for row in api.viewer.get(url).json()["results"]] == [ASIN]
    assert api.outsider.get(url).status_code == 404
    changed = api.manager.patch(f"{url}{item['id']}/", {"interval_minutes": 240}, format="json")
    assert changed.json()["interval_minutes"] == 240
    assert api.outsider.delete(f"{url}{item['id']}/").status_code == 404
    assert api.manager.delete(f"{url}{item['id']}/").status_code == 204
    assert api.viewer.get(url).json()["results"] == []


def test_sp_api_secrets_go_in_and_never_come_out(api, brand):
    url = f"/api/v1/brands/{brand.pk}/sp-api/"
    assert api.manager.get(url).status_code == 404
    body = {
        "selling_partner_id": "A3TH9S8BH6GOGM",
        "region": "na",
        "client_id": "amzn1.application-oa2-client.abc",
        "client_secret": "amzn1.oa2-cs.v1.supersecret",
        "refresh_token": "Atzr|IwEBIsecret",
    }
    assert api.agent.put(url, body, format="json").status_code == 403
    stored = api.manager.put(url, body, format="json")
    assert stored.status_code == 200, stored.content
    shown = api.viewer.get(url)
    assert "secret" not in shown.content.decode().lower().replace("client_secret", "")
    assert "Atzr" not in shown.content.decode()
    credential = SpApiCredential.objects.get()
    assert "supersecret" not in credential.client_secret_sealed
    assert unseal(credential.refresh_token_sealed) == "Atzr|IwEBIsecret"
    # The audit row never holds the secrets.
    audit = json.dumps(list(AuditEvent.objects.filter(action__startswith="sp_api").values("before", "after")))
    assert "supersecret" not in audit
    assert "Atzr" not in audit
    assert api.outsider.get(url).status_code == 404
    assert api.manager.delete(url).status_code == 204
    assert not SpApiCredential.objects.exists()


def test_notifications_over_https_are_processed_once(api, brand, personas, django_capture_on_commit_callbacks):
    watch_add(brand=brand, asin=ASIN, marketplace="US", actor=manager_of(personas.team))
    url = "/api/v1/sp-api/notifications/"
    document = notification(seller_id(1), seller_id(2))
    with django_capture_on_commit_callbacks(execute=True):
        first = api.agent.post(url, document, format="json")
    assert first.status_code == 202, first.content
    assert first.json() == {"accepted": 1, "duplicates": 0}
    with django_capture_on_commit_callbacks(execute=True):
        again = api.agent.post(url, document, format="json")
    assert again.json() == {"accepted": 0, "duplicates": 1}
    case = Case.objects.get(asin=ASIN)
    assert Sighting.objects.filter(case=case).count() == 2
    assert OfferNotification.objects.get().status == "done"


def test_notifications_reach_only_the_posting_users_teams(api, brand, personas, django_capture_on_commit_callbacks):
    watch_add(brand=brand, asin=ASIN, marketplace="US", actor=manager_of(personas.team))
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.outsider.post("/api/v1/sp-api/notifications/", notification(seller_id(1)), format="json")
    assert answer.status_code == 202
    assert not Case.objects.exists()
    assert OfferNotification.objects.get().status == "ignored"
    assert (
        api.viewer.post("/api/v1/sp-api/notifications/", notification(seller_id(1)), format="json").status_code == 403
    )


def test_eventbridge_envelopes_and_lists_are_accepted(api, brand, personas, django_capture_on_commit_callbacks):
    watch_add(brand=brand, asin=ASIN, marketplace="US", actor=manager_of(personas.team))
    envelope = {"version": "0", "detail-type": "AnyOfferChanged", "detail": notification(seller_id(3))}
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.agent.post("/api/v1/sp-api/notifications/", [envelope, notification(seller_id(4))], format="json")
    assert answer.json() == {"accepted": 2, "duplicates": 0}
    assert Sighting.objects.count() == 2


def test_a_bad_notification_is_refused_and_nothing_is_stored(api):
    document = notification(seller_id(1))
    del document["NotificationMetadata"]["NotificationId"]
    answer = api.agent.post("/api/v1/sp-api/notifications/", [notification(seller_id(2)), document], format="json")
    assert answer.status_code == 400
    assert "NotificationId" in error_of(answer)["fields"]["body"][0]["message"]
    assert not OfferNotification.objects.exists()


def test_capture_request_validates_the_address(api, case, settings):
    url = f"/api/v1/cases/{case.pk}/captures/"
    for address, code in [
        ("ftp://example.com/x", "invalid_url"),
        ("http://169.254.169.254/latest/meta-data/", "unsafe_url"),
        ("http://[::ffff:127.0.0.1]/", "unsafe_url"),
        ("http://localhost:8000/admin/", "unsafe_url"),
    ]:
        answer = api.agent.post(url, {"url": address}, format="json")
        assert answer.status_code == 400, address
        assert error_of(answer)["fields"]["url"][0]["code"] == code, address
    assert api.viewer.post(url, {"url": "https://www.amazon.com/dp/B0C1HJ4K2L"}, format="json").status_code == 403
    assert api.outsider.post(url, {"url": "https://www.amazon.com/dp/B0C1HJ4K2L"}, format="json").status_code == 404


def test_an_absurd_price_does_not_hold_up_other_notifications(api, brand, personas, django_capture_on_commit_callbacks):
    watch_add(brand=brand, asin=ASIN, marketplace="US", actor=manager_of(personas.team))
    absurd = notification(seller_id(1))
    absurd["Payload"]["AnyOfferChangedNotification"]["Offers"][0]["ListingPrice"]["Amount"] = 1e15
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.agent.post("/api/v1/sp-api/notifications/", [absurd, notification(seller_id(2))], format="json")
    assert answer.status_code == 202
    assert set(OfferNotification.objects.values_list("status", flat=True)) == {"done"}
    prices = dict(Sighting.objects.values_list("storefront__seller_id", "price"))
    assert prices[seller_id(1)] is None
    assert prices[seller_id(2)] is not None


def test_outsiders_get_404_before_their_input_is_read(api, brand):
    answer = api.outsider.post(f"/api/v1/brands/{brand.pk}/watch/", {"asin": "bad"}, format="json")
    assert answer.status_code == 404
    assert api.outsider.put(f"/api/v1/brands/{brand.pk}/sp-api/", {}, format="json").status_code == 404


def test_a_capture_not_yet_loaded_matches_the_schema(api, case, monkeypatch, conforms):
    monkeypatch.setattr("cases.services.captures._check_url", lambda url: url)
    monkeypatch.setattr("cases.tasks.capture_run_task.delay", lambda capture_id: None)
    created = api.agent.post(f"/api/v1/cases/{case.pk}/captures/", {"url": "https://www.amazon.com/dp/B0C1HJ4K2L"})
    assert created.status_code == 202, created.json()
    answer = api.agent.get(f"/api/v1/captures/{created.json()['id']}/")
    assert answer.json()["final_url"] == ""
    conforms(answer)
