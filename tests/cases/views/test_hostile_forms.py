"""Every text field the web forms write, sent every hostile payload: stored as typed, or an error by the field.

The same decisions as the API (tests/cases/api/test_hostile_text.py), with the same limits: a text
the API refuses, the form refuses too, and the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import (
    ApiToken,
    AuthorizedSeller,
    Capture,
    Comment,
    Evidence,
    IPRight,
    Submission,
    TestBuy,
    UserPreferences,
    Warning,
    WarningTemplate,
    WatchItem,
    WebhookEndpoint,
)
from tests.cases.hostile_world import Reader, World, audit_count, current, newest
from tests.factories import png_bytes
from tests.support.hostile import each_payload

pytestmark = pytest.mark.django_db

Write = Callable[[World, str], tuple[Any, Reader]]
# How every form shows an error: next to its field, or (few) at the top of the form.
ERROR = re.compile(r'class="(field-error|error|message error)"')


@dataclass(frozen=True)
class WebField:
    write: Write
    kind: Literal["text", "format"] = "text"
    limit: int | None = None
    prepare: Callable[[World], Any] | None = None


def _post(world: World, name: str, args: list[Any], data: dict[str, Any]) -> Any:
    return world.web.post(reverse(name, args=args), data)


def _brand(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        brand = world.brand
        brand.refresh_from_db()
        fields = ("name", "rights_owner", "contact_name", "contact_email", "contact_phone", "contact_address")
        data = {f"brand-{field}": getattr(brand, field) for field in fields}
        data.update({"action": "details", f"brand-{name}": value, "brand-amazon_is_authorized": "on"})
        return _post(world, "cases:brand_settings", [brand.pk], data), current(brand, name)

    return write


def _seller(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(AuthorizedSeller, name, brand=world.brand)
        data = {"action": "add_seller", "seller-marketplace": "US", "seller-seller_id": world.fresh_seller_id()}
        data[f"seller-{name}"] = value
        return _post(world, "cases:brand_settings", [world.brand.pk], data), reader

    return write


def _ip_right(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(IPRight, name, brand=world.brand)
        data = {"kind": "trademark", "status": "registered", name: value}
        return _post(world, "cases:ip_right_add", [world.brand.pk], data), reader

    return write


def _title(world: World, value: str) -> tuple[Any, Reader]:
    data = {"title": value, "priority": "normal", "assignee": ""}
    return _post(world, "cases:case_edit", [world.case.pk], data), current(world.case, "title")


def _close(world: World, value: str) -> tuple[Any, Reader]:
    case = world.prepared
    data = {"status": "closed", "reason": value}
    return _post(world, "cases:case_transition", [case.pk], data), current(case, "closed_reason")


def _comment(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(Comment, "body", case=world.case)
    return _post(world, "cases:comment_create", [world.case.pk], {"body": value}), reader


def _new_test_buy(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(TestBuy, name, case=world.case)
        data = {
            "storefront": world.storefront.pk,
            "order_id": f"333-1234567-{next(world.numbers):07d}",
            "order_date": timezone.localdate().isoformat(),
            "verdict": "pending",
            "price_paid": "5.00",
            "currency": "USD",
            name: value,
        }
        return _post(world, "cases:test_buy_create", [world.case.pk], data), reader

    return write


def _test_buy_notes(world: World, value: str) -> tuple[Any, Reader]:
    data = {"verdict": "pending", "comparison_notes": value}
    response = _post(world, "cases:test_buy_edit", [world.case.pk, world.test_buy.pk], data)
    return response, current(world.test_buy, "comparison_notes")


def _warning(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(Warning, "text", case=world.case)
    data = {"storefront": world.prepared.pk, "language": "en", "text": value, "channel": "ask_a_question"}
    return _post(world, "cases:warning_send", [world.case.pk], data), reader


def _sent_warning(world: World) -> Warning:
    return services.warning_record(
        case=world.case, storefront=world.fresh_storefront(), text="Stop", channel="email", actor=world.actor
    )


def _reply(world: World, value: str) -> tuple[Any, Reader]:
    warning = world.prepared
    response = _post(world, "cases:warning_reply", [world.case.pk, warning.pk], {"reply": value})
    return response, current(warning, "reply")


def _submission(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(Submission, name, case=world.case)
        data = {
            "channel": "report_a_violation",
            "submitted_on": timezone.localdate().isoformat(),
            "asins": "B0C1HJ4K2L",
            "ip_right": "",
            name: value,
        }
        response = _post(world, "cases:submission_create", [world.case.pk], data)
        return response, (lambda: (reader() or [None])[0]) if name == "asins" else reader

    return write


def _outcome(world: World, value: str) -> tuple[Any, Reader]:
    data = {"outcome": "rejected", "outcome_reason": value}
    response = _post(world, "cases:submission_outcome", [world.case.pk, world.submission.pk], data)
    return response, current(world.submission, "outcome_reason")


def _upload(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(Evidence, name, case=world.case)
        data = {"file": SimpleUploadedFile("shot.png", png_bytes(), "image/png"), "kind": "screenshot", name: value}
        return world.web.post(reverse("cases:evidence_upload", args=[world.case.pk]), data), reader

    return write


def _withdraw(world: World, value: str) -> tuple[Any, Reader]:
    item = world.prepared
    response = _post(world, "cases:evidence_withdraw", [world.case.pk, item.pk], {"reason": value})
    return response, current(item, "withdrawn_reason")


def _capture(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(Capture, "url", case=world.case)
    return _post(world, "cases:capture_request", [world.case.pk], {"url": value}), reader


def _webhook(name: str) -> Write:
    def write(world: World, value: str) -> tuple[Any, Reader]:
        reader = newest(WebhookEndpoint, name, team=world.personas.team)
        data = {
            "action": "create",
            "team": world.personas.team.pk,
            "url": "http://127.0.0.1:9/hook",
            "events": ["case.created"],
            "description": "",
            name: value,
        }
        return world.web.post(reverse("cases:webhooks"), data), reader

    return write


def _token(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(ApiToken, "name", user=world.personas.manager)
    return world.web.post(reverse("cases:api_tokens"), {"name": value}), reader


def _letter(world: World, value: str) -> tuple[Any, Reader]:
    def reader() -> Any:
        found = WarningTemplate.objects.filter(team=world.personas.team, kind="first_warning", language="en").first()
        return None if found is None else found.body

    data = {"kind": "first_warning", "language": "en", "body": value}
    return _post(world, "cases:brand_letters", [world.brand.pk], data), reader


def _watch(world: World, value: str) -> tuple[Any, Reader]:
    reader = newest(WatchItem, "asin", brand=world.brand)
    data = {"action": "add", "asin": value, "marketplace": "US", "interval_minutes": ""}
    return _post(world, "cases:brand_watch", [world.brand.pk], data), reader


def _time_zone(world: World, value: str) -> tuple[Any, Reader]:
    def reader() -> Any:
        found = UserPreferences.objects.filter(user=world.personas.manager).first()
        return None if found is None else found.time_zone

    return world.web.post(reverse("cases:preferences"), {"language": "", "time_zone": value}), reader


WEB_FIELDS: dict[str, WebField] = {
    "Brand.name": WebField(_brand("name"), limit=200),
    "Brand.rights_owner": WebField(_brand("rights_owner"), limit=200),
    "Brand.contact_name": WebField(_brand("contact_name"), limit=200),
    "Brand.contact_phone": WebField(_brand("contact_phone"), limit=50),
    "Brand.contact_address": WebField(_brand("contact_address"), limit=2000),
    "Brand.contact_email": WebField(_brand("contact_email"), kind="format"),
    "AuthorizedSeller.name": WebField(_seller("name"), limit=200),
    "AuthorizedSeller.seller_id": WebField(_seller("seller_id"), kind="format"),
    "IPRight.registration_number": WebField(_ip_right("registration_number"), limit=100),
    "IPRight.office": WebField(_ip_right("office"), limit=100),
    "IPRight.mark_text": WebField(_ip_right("mark_text"), limit=200),
    "IPRight.classes": WebField(_ip_right("classes"), limit=100),
    "Case.title": WebField(_title, limit=300),
    "Case.closed_reason": WebField(_close, limit=5000, prepare=World.fresh_case),
    "Comment.body": WebField(_comment, limit=10000),
    "TestBuy.order_id": WebField(_new_test_buy("order_id"), kind="format"),
    "TestBuy.currency": WebField(_new_test_buy("currency"), kind="format"),
    "TestBuy.comparison_notes": WebField(_test_buy_notes, limit=20000),
    "Warning.text": WebField(_warning, limit=20000, prepare=World.fresh_storefront),
    "Warning.reply": WebField(_reply, limit=20000, prepare=_sent_warning),
    "Submission.amazon_ref": WebField(_submission("amazon_ref"), limit=100),
    "Submission.asins": WebField(_submission("asins"), kind="format"),
    "Submission.outcome_reason": WebField(_outcome, limit=5000),
    "Evidence.description": WebField(_upload("description"), limit=10000),
    "Evidence.source_url": WebField(_upload("source_url"), kind="format"),
    "Evidence.withdrawn_reason": WebField(_withdraw, limit=5000, prepare=World.fresh_evidence),
    "Capture.url": WebField(_capture, kind="format"),
    "WebhookEndpoint.url": WebField(_webhook("url"), kind="format"),
    "WebhookEndpoint.description": WebField(_webhook("description"), limit=200),
    "ApiToken.name": WebField(_token, limit=100),
    "WarningTemplate.body": WebField(_letter, limit=20000),
    "WatchItem.asin": WebField(_watch, kind="format"),
    "UserPreferences.time_zone": WebField(_time_zone, kind="format"),
}


def _expect(world: World, name: str, spec: WebField, value: str, *, stored: bool) -> None:
    world.prepared = spec.prepare(world) if spec.prepare is not None else None
    audit = audit_count()
    response, read = spec.write(world, value)
    assert response.status_code < 500, (name, value[:40])
    if stored:
        # Most forms redirect; a new token or webhook shows its secret once instead.
        assert response.status_code in (200, 302), (name, value[:40], response.status_code)
        assert not ERROR.search(response.content.decode()), (name, value[:40], ERROR.findall(response.content.decode()))
        assert read() == value, (name, value[:40])
        return
    assert response.status_code in (200, 400), (name, value[:40], response.status_code)
    assert ERROR.search(response.content.decode()), (name, value[:40])
    assert read() != value
    assert audit_count() == audit, "a refused form leaves no audit row"


@pytest.mark.parametrize("name", sorted(WEB_FIELDS))
def test_hostile_text_is_stored_as_typed_or_refused_next_to_the_field(hostile_world, name):
    world = hostile_world
    spec = WEB_FIELDS[name]
    each_payload(
        kind=spec.kind, limit=spec.limit, expect=lambda value, stored: _expect(world, name, spec, value, stored=stored)
    )
