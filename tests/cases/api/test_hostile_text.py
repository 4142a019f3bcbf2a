"""Every text field the API writes, sent every hostile payload: stored byte for byte, or a 400 naming the field.

Never a 500, never half a write: a refused request leaves the row and the audit trail as they were.
tests/cases/test_hostile_text.py checks that this table and the web forms' cover every text field.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from django.utils import timezone

from cases.models import Case as CaseModel
from cases.models import (
    Evidence,
    IPRight,
    Sighting,
    SpApiCredential,
    TestBuy,
    Warning,
    WarningTemplate,
    WatchItem,
    WebhookEndpoint,
)
from cases.models import Storefront as StorefrontModel
from cases.models import Submission as SubmissionModel
from tests.cases.hostile_world import Reader, World, audit_count, current, newest
from tests.factories import png_bytes
from tests.support.hostile import MARKUP, each_payload

pytestmark = pytest.mark.django_db

Write = Callable[[World, str], tuple[Any, Reader]]


@dataclass(frozen=True)
class ApiField:
    write: Write
    # "text" stores what it is given; "format" refuses anything that is not an ASIN, a URL...
    kind: Literal["text", "format"] = "text"
    # The longest text the field takes, the same as its web form's.
    limit: int | None = None
    # The field's name in the error, when it differs from the model's.
    error_field: str = ""
    # Makes what one write needs (a case to close, a storefront to warn) before it is counted.
    prepare: Callable[[World], Any] | None = None


def _patch(url: str, name: str, read: Callable[[World], Reader]) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = read(world)
        return world.api.manager.patch(url.format(w=world), {name: value}, format="json"), reader

    return write


def brand_field(name: str) -> Write:
    return _patch("/api/v1/brands/{w.brand.pk}/", name, lambda w: current(w.brand, name))


def storefront_field(name: str) -> Write:
    return _patch("/api/v1/storefronts/{w.storefront.pk}/", name, lambda w: current(w.storefront, name))


def ip_right_field(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(IPRight, name, brand=world.brand)
        body = {"kind": "trademark", name: value}
        return world.api.manager.post(f"/api/v1/brands/{world.brand.pk}/ip-rights/", body, format="multipart"), reader

    return write


def evidence_field(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(Evidence, name, case=world.case)
        body = {"file": io.BytesIO(png_bytes()), "kind": "screenshot", name: value}
        return world.api.manager.post(f"/api/v1/cases/{world.case.pk}/evidence/", body, format="multipart"), reader

    return write


def _withdraw(world: World, value: str) -> tuple[Any, Reader]:
    item = world.prepared
    response = world.api.manager.post(f"/api/v1/evidence/{item.pk}/withdraw/", {"reason": value}, format="json")
    return response, current(item, "withdrawn_reason")


def _close(world: World, value: str) -> tuple[Any, Reader]:
    case = world.prepared
    body = {"status": "closed", "reason": value}
    return world.api.manager.post(f"/api/v1/cases/{case.pk}/transition/", body, format="json"), current(
        case, "closed_reason"
    )


_case_title = _patch("/api/v1/cases/{w.case.pk}/", "title", lambda w: current(w.case, "title"))


def _external_ref(world: World, value: str) -> tuple[Any, Reader]:
    reader = current(world.case, "external_refs")
    response = world.api.manager.patch(f"/api/v1/cases/{world.case.pk}/", {"external_refs": [value]}, format="json")
    return response, lambda: (reader() or [None])[0]


def _open(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(CaseModel, "asin", brand=world.brand)
    body = {"brand": world.brand.pk, "asin": value, "marketplace": "US"}
    return world.api.manager.post("/api/v1/cases/", body, format="json"), reader


def _attach(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(StorefrontModel, "seller_id", team=world.personas.team)
    url = f"/api/v1/cases/{world.case.pk}/storefronts/"
    return world.api.manager.post(url, {"seller_id": value}, format="json"), reader


def _sighting_currency(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(Sighting, "currency", case=world.case)
    body = {"storefront": world.storefront.pk, "price": "9.99", "currency": value}
    return world.api.manager.post(f"/api/v1/cases/{world.case.pk}/sightings/", body, format="json"), reader


def _test_buy(name: str, value_of: Callable[[str], dict[str, Any]]) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = current(world.test_buy, name)
        return world.api.manager.patch(f"/api/v1/test-buys/{world.test_buy.pk}/", value_of(value), format="json"), (
            reader
        )

    return write


def _order_id(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(TestBuy, "order_id", case=world.case)
    body = {"storefront": world.storefront.pk, "order_id": value, "order_date": timezone.localdate().isoformat()}
    return world.api.manager.post(f"/api/v1/cases/{world.case.pk}/test-buys/", body, format="json"), reader


def _test_buy_currency(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(TestBuy, "currency", case=world.case)
    body = {
        "storefront": world.storefront.pk,
        "order_id": f"222-1234567-{next(world.numbers):07d}",
        "order_date": timezone.localdate().isoformat(),
        "price_paid": "5.00",
        "currency": value,
    }
    return world.api.manager.post(f"/api/v1/cases/{world.case.pk}/test-buys/", body, format="json"), reader


def _warning(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(Warning, name, case=world.case)
        body = {"storefront": world.prepared.pk, "text": "Stop", "channel": "ask_a_question", name: value}
        return world.api.manager.post(f"/api/v1/cases/{world.case.pk}/warnings/", body, format="json"), reader

    return write


def _submission_create(name: str, value_of: Callable[[str], Any]) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(SubmissionModel, name, case=world.case)
        today = timezone.localdate().isoformat()
        body = {"channel": "report_a_violation", "submitted_on": today, name: value_of(value)}
        response = world.api.manager.post(f"/api/v1/cases/{world.case.pk}/submissions/", body, format="json")
        return response, (lambda: (reader() or [None])[0]) if name == "asins" else reader

    return write


def _submission_update(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = current(world.submission, name)
        body = {"outcome": "rejected", name: value}
        return world.api.manager.patch(f"/api/v1/submissions/{world.submission.pk}/", body, format="json"), reader

    return write


def _webhook(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(WebhookEndpoint, name, team=world.personas.team)
        body = {"url": "http://127.0.0.1:9/hook", "events": ["case.created"], name: value}
        return world.api.manager.post("/api/v1/webhooks/", body, format="json"), reader

    return write


def _template(world: World, value: str) -> tuple[Any, Reader]:
    def reader() -> Any:
        found = WarningTemplate.objects.filter(team=world.personas.team, kind="first_warning", language="en").first()
        return None if found is None else found.body

    body = {"kind": "first_warning", "language": "en", "body": value}
    return world.api.manager.post("/api/v1/warning-templates/", body, format="json"), reader


def _watch(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(WatchItem, "asin", brand=world.brand)
    body = {"asin": value, "marketplace": "US"}
    return world.api.manager.post(f"/api/v1/brands/{world.brand.pk}/watch/", body, format="json"), reader


def _sp_api(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        def read() -> Any:
            found = SpApiCredential.objects.filter(brand=world.brand).first()
            return None if found is None else getattr(found, name)

        body = {
            "selling_partner_id": "A3TH9S8BH6GOGM",
            "region": "na",
            "client_id": "amzn1.application-oa2-client.abc",
            "client_secret": "secret",
            "refresh_token": "Atzr|token",
            name: value,
        }
        return world.api.manager.put(f"/api/v1/brands/{world.brand.pk}/sp-api/", body, format="json"), read

    return write


def _capture(world: World, value: str) -> tuple[Any, Reader]:
    from cases.models import Capture

    reader = newest(Capture, "url", case=world.case)
    return world.api.manager.post(f"/api/v1/cases/{world.case.pk}/captures/", {"url": value}, format="json"), reader


API_FIELDS: dict[str, ApiField] = {
    "Brand.name": ApiField(brand_field("name"), limit=200),
    "Brand.rights_owner": ApiField(brand_field("rights_owner"), limit=200),
    "Brand.contact_name": ApiField(brand_field("contact_name"), limit=200),
    "Brand.contact_phone": ApiField(brand_field("contact_phone"), limit=50),
    "Brand.contact_address": ApiField(brand_field("contact_address"), limit=2000),
    "Brand.contact_email": ApiField(brand_field("contact_email"), kind="format"),
    "IPRight.registration_number": ApiField(ip_right_field("registration_number"), limit=100),
    "IPRight.office": ApiField(ip_right_field("office"), limit=100),
    "IPRight.mark_text": ApiField(ip_right_field("mark_text"), limit=200),
    "IPRight.classes": ApiField(ip_right_field("classes"), limit=100),
    "Case.title": ApiField(_case_title, limit=300),
    "Case.external_refs": ApiField(_external_ref, limit=200, error_field="external_refs"),
    "Case.closed_reason": ApiField(_close, limit=5000, error_field="reason", prepare=World.fresh_case),
    "Case.asin": ApiField(_open, kind="format"),
    "Storefront.name": ApiField(storefront_field("name"), limit=300),
    "Storefront.business_name": ApiField(storefront_field("business_name"), limit=300),
    "Storefront.business_address": ApiField(storefront_field("business_address"), limit=2000),
    "Storefront.phone": ApiField(storefront_field("phone"), limit=50),
    "Storefront.seller_id": ApiField(_attach, kind="format"),
    "Sighting.currency": ApiField(_sighting_currency, kind="format"),
    "Evidence.description": ApiField(evidence_field("description"), limit=10000),
    "Evidence.source_url": ApiField(evidence_field("source_url"), kind="format"),
    "Evidence.withdrawn_reason": ApiField(_withdraw, limit=5000, error_field="reason", prepare=World.fresh_evidence),
    "TestBuy.order_id": ApiField(_order_id, kind="format"),
    "TestBuy.currency": ApiField(_test_buy_currency, kind="format"),
    "TestBuy.comparison_notes": ApiField(_test_buy("comparison_notes", lambda v: {"comparison_notes": v}), limit=20000),
    "Warning.text": ApiField(_warning("text"), limit=20000, prepare=World.fresh_storefront),
    "Warning.language": ApiField(_warning("language"), kind="format", prepare=World.fresh_storefront),
    "Submission.amazon_ref": ApiField(_submission_create("amazon_ref", str), limit=100),
    "Submission.asins": ApiField(_submission_create("asins", lambda v: [v]), kind="format"),
    "Submission.outcome_reason": ApiField(_submission_update("outcome_reason"), limit=5000),
    "WebhookEndpoint.url": ApiField(_webhook("url"), kind="format"),
    "WebhookEndpoint.description": ApiField(_webhook("description"), limit=200),
    "WarningTemplate.body": ApiField(_template, limit=20000),
    "WatchItem.asin": ApiField(_watch, kind="format"),
    "SpApiCredential.selling_partner_id": ApiField(_sp_api("selling_partner_id"), kind="format"),
    "SpApiCredential.client_id": ApiField(_sp_api("client_id"), limit=200),
    "Capture.url": ApiField(_capture, kind="format"),
}


def _refused(response: Any, spec: ApiField, name: str) -> bool:
    assert response.status_code < 500, response.content[:500]
    if response.status_code < 300:
        return False
    assert response.status_code == 400, (response.status_code, response.content[:500])
    fields = response.json()["error"]["fields"]
    wanted = spec.error_field or name.split(".")[1]
    assert any(key == wanted or key.startswith(f"{wanted}.") for key in fields), fields
    return True


def _expect(world: World, name: str, spec: ApiField, value: str, *, stored: bool) -> None:
    world.prepared = spec.prepare(world) if spec.prepare is not None else None
    audit = audit_count()
    response, read = spec.write(world, value)
    refused = _refused(response, spec, name)
    if stored:
        assert not refused, (name, value[:40], response.content[:300])
        assert read() == value, (name, value[:40])
    else:
        assert refused, (name, value[:40], response.content[:300])
        assert read() != value
        assert audit_count() == audit, "a refused write leaves no audit row"


@pytest.mark.parametrize("name", sorted(API_FIELDS))
def test_hostile_text_is_stored_as_given_or_refused_by_field(hostile_world, name):
    world = hostile_world
    spec = API_FIELDS[name]
    each_payload(
        kind=spec.kind, limit=spec.limit, expect=lambda value, stored: _expect(world, name, spec, value, stored=stored)
    )


def test_names_with_brand_and_case_rows_read_back_in_the_api_as_sent(hostile_world):
    world = hostile_world
    value = MARKUP["rtl"] + MARKUP["script"]
    url = f"/api/v1/storefronts/{world.storefront.pk}/"
    assert world.api.manager.patch(url, {"name": value}, format="json").status_code == 200
    body = world.api.manager.get(url).json()
    assert body["name"] == value
