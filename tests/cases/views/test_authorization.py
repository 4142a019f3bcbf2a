"""Every page and action of the web app, tried by people who must not get through.

Someone of another team gets 404 from every address that names one of this team's rows,
whether they read or write; a viewer of the team reads but every write is refused and
changes nothing.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from cases import services
from cases.models import Dossier
from cases.services.dossiers import dossier_request
from cases.urls import urlpatterns
from evidence.models import AuditEvent
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, png_bytes

pytestmark = pytest.mark.django_db

# Pages about the person themselves, or lists already limited to the person's teams.
NOT_TEAM_ROWS = {
    "dashboard",
    "home",
    "case_list",
    "notifications",
    "brand_list",
    "preferences",
    "language_switch",
    "api_tokens",
    "webhooks",
    "team_settings",
    "team_invitations",
    "invitation_accept",
}


@pytest.fixture
def rows(personas: Any) -> dict[str, int]:
    manager = Actor.of_user(personas.manager)
    brand = BrandFactory(team=personas.team)
    right = services.ip_right_create(
        brand=brand,
        kind="trademark",
        actor=manager,
        registration_number="6123456",
        certificate=io.BytesIO(png_bytes()),
        certificate_name="certificate.png",
    )
    case = CaseFactory(brand=brand)
    storefront = attach(case, 1, name="Shop")
    evidence = add_evidence(case)
    test_buy = services.test_buy_record(
        case=case,
        storefront=storefront,
        order_id="111-1234567-1234567",
        order_date=timezone.localdate(),
        actor=manager,
    )
    warning = services.warning_record(
        case=case, storefront=storefront, text="Please stop.", channel="ask_a_question", actor=manager
    )
    submission = services.submission_record(
        case=case, channel="report_infringement", submitted_on=timezone.localdate(), actor=manager
    )
    dossier: Dossier = dossier_request(case=case, actor=manager)
    return {
        "case": case.pk,
        "brand": brand.pk,
        "right": right.pk,
        "storefront": storefront.pk,
        "evidence": evidence.pk,
        "test_buy": test_buy.pk,
        "warning": warning.pk,
        "submission": submission.pk,
        "dossier": dossier.pk,
    }


def _kwargs(pattern: URLPattern, rows: dict[str, int]) -> dict[str, Any]:
    route = str(pattern.pattern)
    first = route.split("/")[0]
    owner = {"cases": "case", "brands": "brand", "storefronts": "storefront"}[first]
    second = {
        "evidence": "evidence",
        "test-buys": "test_buy",
        "warnings": "warning",
        "submissions": "submission",
        "dossiers": "dossier",
    }
    kwargs: dict[str, Any] = {}
    for name in pattern.pattern.converters:
        if name == "case_pk":
            kwargs[name] = rows["case"]
        elif name == "right_pk":
            kwargs[name] = rows["right"]
        elif name == "kind":
            kwargs[name] = "pdf"
        elif name == "pk" and "case_pk" in pattern.pattern.converters:
            kwargs[name] = rows[second[route.split("/")[2]]]
        else:
            kwargs[name] = rows[owner]
    return kwargs


TEAM_PAGES = [p for p in urlpatterns if isinstance(p, URLPattern) and p.name not in NOT_TEAM_ROWS]


def test_every_address_naming_a_team_row_is_listed():
    assert all(p.pattern.converters for p in TEAM_PAGES)
    assert {p.name for p in urlpatterns if p.pattern.converters} - {p.name for p in TEAM_PAGES} == {"invitation_accept"}


@pytest.mark.parametrize("pattern", TEAM_PAGES, ids=lambda p: p.name)
def test_another_team_gets_not_found_reading_and_writing(client, personas, rows, pattern):
    url = reverse(f"cases:{pattern.name}", kwargs=_kwargs(pattern, rows))
    before = AuditEvent.objects.count()
    client.force_login(personas.outsider)
    # 405 says only that the address takes no GET, the same for every row and none.
    assert client.get(url).status_code in {404, 405}
    assert client.post(url, {"status": "closed", "reason": "x", "body": "x", "text": "x"}).status_code in {404, 405}
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("pattern", TEAM_PAGES, ids=lambda p: p.name)
def test_a_viewer_reads_but_cannot_write(client, personas, rows, pattern):
    url = reverse(f"cases:{pattern.name}", kwargs=_kwargs(pattern, rows))
    before = AuditEvent.objects.count()
    client.force_login(personas.viewer)
    answer = client.post(
        url,
        {"status": "closed", "reason": "x", "body": "x", "text": "x", "name": "x", "kind": "screenshot"},
        headers={"accept": "text/html"},
    )
    assert answer.status_code < 500
    assert AuditEvent.objects.count() == before, (pattern.name, answer.status_code)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("api_tokens", {"revoke": "²"}),
        ("webhooks", {"action": "delete", "endpoint": "²"}),
        ("team_invitations", {"action": "revoke", "invitation": "١٢"}),
    ],
)
def test_digits_of_other_scripts_are_not_row_ids(client, personas, name, data):
    client.force_login(personas.manager)
    assert client.post(reverse(f"cases:{name}"), data).status_code == 404
